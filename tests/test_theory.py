"""Classic bargaining results as special cases of the engine, each pinned against its closed form.

Scenarios are built in code and played by the real :class:`NegotiationModel`; the reference
solutions (Rubinstein's split, the Nash bargaining solution, the weighted compromise) are
computed here independently of :mod:`sim.engine.rules` wherever the rule under test would otherwise
be checked against itself.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from sim.engine import rules
from sim.engine.columns import DECLARED
from sim.engine.model import NegotiationModel
from sim.scenario.loader import validate

ISSUES = ("a", "b", "c")


def scenario(issues, actors, rule, horizon=26, red_lines=(), **protocol):
    return validate(
        {
            "meta": {"name": "theory", "horizon": horizon, "seed": 11},
            "issues": [{"id": i, "label": i, "low": "0", "high": "100"} for i in issues],
            "actors": actors,
            "red_lines": list(red_lines),
            "protocol": {"rule": rule, **protocol},
        }
    )


def actor(id_, position, salience, role="principal", **fields):
    return {"id": id_, "role": role, "position": position, "salience": salience, **fields}


def box(model, run):
    """The packages the principals' red lines allow in ``run``: (low, high) per issue."""
    low, high = model.box(np.ones((model.block_size, len(model.spec.actors)), dtype=bool))
    return low[run], high[run]


def uniform(low, high):
    return {"dist": "uniform", "low": low, "high": high}


def utilities(package, ideals, saliences):
    """Both principals' utilities (..., 2) of ``package``, written out from the definition."""
    return np.stack(
        [1 - np.sum(s * np.abs(package - x), axis=-1) / 100 for x, s in zip(ideals, saliences, strict=True)], axis=-1
    )


def nash_by_search(ideals, saliences, disagreement, low, high):
    """The Nash bargaining solution's utilities, found by search rather than from the frontier.

    Only packages between the principals' best points in the box are efficient (moving an issue
    towards that interval helps both), and there both utilities are affine, so the log Nash
    product is smooth and concave: a grid search finds the basin, a bounded quasi-Newton step
    polishes it.
    """
    best = np.clip(ideals, low, high)
    lo, hi = best.min(axis=0), best.max(axis=0)
    axes = [np.linspace(a, b, 41) for a, b in zip(lo, hi, strict=True)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(lo))
    surplus = utilities(grid, ideals, saliences) - disagreement
    product = np.where((surplus > 0).all(axis=-1), surplus.prod(axis=-1), -np.inf)
    assert np.isfinite(product.max()), "no package beats both disagreement values"

    def loss(x):
        s = utilities(x, ideals, saliences) - disagreement
        return -np.sum(np.log(np.maximum(s, 1e-300)))

    fit = optimize.minimize(
        loss,
        grid[np.argmax(product)],
        method="L-BFGS-B",
        bounds=list(zip(lo, hi, strict=True)),
        options={"ftol": 1e-15, "gtol": 1e-12},
    )
    return utilities(fit.x, ideals, saliences)


# ----------------------------------------------------------------- Rubinstein
def rubinstein(d1, d2, first):
    """A pie split between a (wants 0) and b (wants 100) by subgame-perfect alternating offers."""

    def side(id_, ideal, patience):
        return actor(
            id_,
            {"pie": ideal},
            {"pie": 1},
            reservation=0,
            concession={"strategy": "subgame_perfect", "patience": patience},
        )

    return scenario(["pie"], [side("a", 0, d1), side("b", 100, d2)], "alternating", horizon=400, first_proposer=first)


def check_rubinstein(d1, d2, first):
    model = NegotiationModel(rubinstein(d1, d2, first), range(2)).run()
    assert np.all(model.outcome == DECLARED) and np.all(model.end_round == 1)
    share_b = model.agreed_value[:, 0] / 100
    proposer_share = 1 - share_b if first == "a" else share_b
    own, other = (d1, d2) if first == "a" else (d2, d1)
    np.testing.assert_allclose(proposer_share, (1 - other) / (1 - own * other), atol=1e-6)


@pytest.mark.parametrize("first", ["a", "b"])
@pytest.mark.parametrize("d1, d2", [(0.9, 0.9), (0.9, 0.6), (0.5, 0.8), (0.95, 0.95), (0.99, 0.2)])
def test_rubinstein_immediate_agreement_at_the_subgame_perfect_split(d1, d2, first):
    check_rubinstein(d1, d2, first)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.sampled_from(["a", "b"]))
def test_rubinstein_for_drawn_patience(d1, d2, first):
    check_rubinstein(d1, d2, first)


# ----------------------------------------------------------------- Zeuthen
@pytest.mark.parametrize("n_issues", [2, 3])
def test_zeuthen_concessions_reach_the_nash_solution(n_issues):
    """Each run draws its own positions, saliences and reservations; a red line cuts the box.

    With Zeuthen's rule the side with less to lose concedes one step, so neither side ever
    concedes past its Nash utility by more than one step: each gets at least u* - step.
    """
    step = 0.002
    issues = ISSUES[:n_issues]

    def side(id_):
        return actor(
            id_,
            {i: uniform(0, 100) for i in issues},
            {i: uniform(0.1, 1) for i in issues},
            reservation=uniform(0.05, 0.35),
            concession={"strategy": "zeuthen", "step": step},
        )

    red_line = {"id": "floor", "actor": "p", "issue": "a", "min": 30}
    spec = scenario(issues, [side("p"), side("q")], "alternating", horizon=520, red_lines=[red_line])
    model = NegotiationModel(spec, range(40)).run()
    assert np.all(model.outcome == DECLARED)
    for r in range(40):
        ideals, sal = model.ideal[r], model.salience[r]
        nash = nash_by_search(ideals, sal, model.reservation[r], *box(model, r))
        agreed = utilities(model.agreed_value[r], ideals, sal)
        assert model.agreed_value[r, 0] >= 30
        assert np.all(agreed >= nash - step - 1e-5), (r, agreed, nash)


# ----------------------------------------------------------------- Nash rule
@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 100), min_size=4, max_size=4),
    st.floats(0.02, 0.98),
    st.floats(0.02, 0.98),
    st.floats(0, 0.7),
    st.floats(0, 0.7),
)
def test_nash_point_beats_every_package_on_a_grid(position, w1, w2, d1, d2):
    ideals = np.array(position).reshape(2, 2)
    sal = np.array([[w1, 1 - w1], [w2, 1 - w2]])
    d = np.array([d1, d2])
    package, u, feasible = rules.nash_point(*rules.frontier(ideals[0], ideals[1], sal[0], sal[1]), d)
    np.testing.assert_allclose(u, utilities(package, ideals, sal), atol=1e-9)
    assert np.all((package >= 0) & (package <= 100))
    axis = np.linspace(0, 100, 401)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    surplus = utilities(grid, ideals, sal) - d
    own = u - d
    if (surplus > 0).all(axis=-1).any():
        assert feasible
        best = np.where((surplus > 0).all(axis=-1), surplus.prod(axis=-1), -np.inf).max()
        assert own.prod() >= best - 1e-12
    elif not feasible:
        assert own.min() >= surplus.min(axis=-1).max() - 1e-12


def test_without_a_feasible_package_the_nash_rule_maximises_the_smaller_surplus():
    # the case hypothesis found: both want 0 on issue a; on b, surpluses 0.375 - 0.0075 b and -0.4575 + 0.00875 b
    ideals, sal, d = np.array([[0, 0], [0, 88.0]]), np.array([[0.25, 0.75], [0.125, 0.875]]), np.array([0.625, 0.6875])
    package, u, feasible = rules.nash_point(*rules.frontier(ideals[0], ideals[1], sal[0], sal[1]), d)
    b = (0.375 + 0.4575) / (0.0075 + 0.00875)  # where the two surpluses are equal
    assert not feasible
    np.testing.assert_allclose(u - d, [0.375 - 0.0075 * b] * 2, atol=1e-9)
    np.testing.assert_allclose(package, [0, b], atol=1e-6)


def test_engine_tables_and_agrees_on_the_nash_point():
    def side(id_, position, salience):
        return actor(
            id_, position, salience, reservation=uniform(0.1, 0.4), concession={"strategy": "linear", "deadline": 15}
        )

    spec = scenario(
        ISSUES[:2],
        [
            side("p", {"a": 10, "b": uniform(50, 90)}, {"a": 0.5, "b": 0.5}),
            side("q", {"a": uniform(60, 100), "b": 5}, {"a": 0.4, "b": 0.6}),
            actor("m", {"a": 50, "b": 50}, {"a": 0.5, "b": 0.5}, role="mediator"),
        ],
        "nash",
        horizon=20,
        red_lines=[{"id": "cap", "actor": "q", "issue": "b", "max": 40}],
    )
    model = NegotiationModel(spec, range(30))
    model.step()
    tabled = model.tabled.copy()
    model.run()
    assert np.all(model.outcome == DECLARED)
    for r in range(30):
        ideals, sal, d = model.ideal[r, :2], model.salience[r, :2], model.reservation[r, :2]
        nash = nash_by_search(ideals, sal, d, *box(model, r))
        for package in (tabled[r], model.agreed_value[r]):
            assert package[1] <= 40
            u = utilities(package, ideals, sal)
            assert np.prod(u - d) >= np.prod(nash - d) - 1e-12
            np.testing.assert_allclose(u, nash, atol=1e-5)


# ----------------------------------------------------------------- weighted compromise
@pytest.mark.parametrize("at_table", [[], ["israel", "hamas", "us"]])
def test_first_package_is_the_capability_salience_weighted_compromise(at_table):
    hardline = {"strategy": "hardline"}
    people = [
        ("israel", "principal", 0.9, {"a": 90, "b": 80, "c": 20}, {"a": 0.5, "b": 0.3, "c": 0.2}),
        ("hamas", "principal", 0.5, {"a": 10, "b": 30, "c": 95}, {"a": 0.2, "b": 0.2, "c": 0.6}),
        ("us", "broker", 1.0, {"a": 70, "b": 60, "c": 50}, {"a": 0.4, "b": 0.4, "c": 0.2}),
        ("egypt", "mediator", 0.6, {"a": 40, "b": 45, "c": 70}, {"a": 0.1, "b": 0.6, "c": 0.3}),
    ]
    actors = [
        actor(i, pos, sal, role=role, capability=c, **({"concession": hardline} if role == "principal" else {}))
        for i, role, c, pos, sal in people
    ]
    model = NegotiationModel(scenario(ISSUES, actors, "compromise", at_table=at_table), range(3))
    model.step()
    seated = [p for p in people if not at_table or p[0] in at_table]
    expected = [
        sum(c * sal[i] * pos[i] for _, _, c, pos, sal in seated) / sum(c * sal[i] for _, _, c, _, sal in seated)
        for i in ISSUES
    ]
    np.testing.assert_allclose(model.tabled, np.tile(expected, (3, 1)), rtol=1e-12)
    if not at_table:
        assert expected[0] == pytest.approx(
            (0.9 * 0.5 * 90 + 0.5 * 0.2 * 10 + 1 * 0.4 * 70 + 0.6 * 0.1 * 40)
            / (0.9 * 0.5 + 0.5 * 0.2 + 1 * 0.4 + 0.6 * 0.1)
        )
