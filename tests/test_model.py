"""The model's second version: phases and gates, strategic third parties, domestic veto players and
risk that responds to the talks. Each mechanism is shown to change the answer, every outcome a
scenario allows is reachable from the first round its conditions can hold, nothing depends on the
horizon or the order of actors in the file, and bargaining theory stays a special case."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.engine import rules
from sim.engine.columns import COLLAPSED, DECLARED, RATIFICATION, STALEMATE
from sim.engine.model import NegotiationModel
from sim.scenario.loader import read, validate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))


def issue(i):
    return {"id": i, "label": i, "low": "0", "high": "100"}


def principal(id_, position, salience, **fields):
    return {"id": id_, "role": "principal", "position": position, "salience": salience, **fields}


def third(id_, position, salience, role="mediator", **fields):
    return {"id": id_, "role": role, "position": position, "salience": salience, **fields}


def build(actors, issues=("a", "b"), horizon=10, **sections):
    data = {
        "meta": {"name": "constructed", "horizon": horizon, "seed": 5},
        "issues": [issue(i) for i in issues],
        "actors": actors,
        **sections,
    }
    return validate(data)


def play(spec, runs=20, **kw):
    return NegotiationModel(spec, range(runs), **kw).run()


SAME = {"a": 30, "b": 70}
EVEN = {"a": 0.5, "b": 0.5}
TWO_ALIKE = [principal("p", SAME, EVEN), principal("q", SAME, EVEN)]
PHASE = {"id": "two", "gate": {"consent": ["p", "q"], "settle": ["a"], "defer": ["b"]}}


# ----------------------------------------------------------------- every outcome reachable from its first round
def test_a_declaration_comes_in_round_1_when_every_gate_condition_already_holds():
    model = play(build(TWO_ALIKE, phases=[PHASE]))
    assert np.all(model.outcome == DECLARED)
    assert np.all(model.declared_round[:, 0] == 1)
    np.testing.assert_array_equal(model.agreed_round[:, 0], 1)
    np.testing.assert_allclose(model.agreed_value[:, 0], 30)


def test_a_deferred_issue_is_agreed_in_the_round_after_the_declaration_and_its_milestone_the_round_after():
    milestone = {"id": "done", "issues": ["b"], "phase": "two", "hazard": 1.0}
    model = play(build(TWO_ALIKE, phases=[PHASE], milestones=[milestone]))
    np.testing.assert_array_equal(model.agreed_round[:, 1], 2)
    np.testing.assert_allclose(model.agreed_value[:, 1], 70)
    np.testing.assert_array_equal(model.milestone_round[:, 0], 3)


@pytest.mark.parametrize("round_", [1, 2, 5, 10])
def test_a_collapse_can_come_in_any_round(round_):
    war = {"id": "war", "at_round": round_, "collapse": 1.0}
    apart = [principal("p", {"a": 0, "b": 0}, EVEN), principal("q", {"a": 100, "b": 100}, EVEN)]
    model = play(build(apart, events=[war]))
    assert np.all(model.outcome == COLLAPSED) and np.all(model.collapse_round == round_)


def test_a_declared_phase_can_still_collapse_and_the_outcome_stays_declared():
    war = {"id": "war", "at_round": 3, "collapse": 1.0}
    model = play(build(TWO_ALIKE, phases=[PHASE], events=[war]))
    assert np.all(model.outcome == DECLARED) and np.all(model.collapse_round == 3)
    table = sim.run_table(model)
    assert set(table["outcome"]) == {"declared"} and (table["collapse_round"] == 3).all()


def test_the_risk_of_collapse_grows_while_talks_stall_and_falls_with_agreements():
    apart = [principal("p", {"a": 0, "b": 0}, EVEN), principal("q", {"a": 100, "b": 100}, EVEN)]
    calm = {"hazard": 0.02}
    stalling = {"hazard": 0.02, "stall_after": 2, "stall_growth": 1.0, "stall_cap": 5}
    p_calm = (play(build(apart, risk=calm, horizon=30), runs=3000).outcome == COLLAPSED).mean()
    p_stall = (play(build(apart, risk=stalling, horizon=30), runs=3000).outcome == COLLAPSED).mean()
    assert p_stall > p_calm + 0.2
    agreeing = {"hazard": 0.05, "agreement_factor": 0.1}
    late = (play(build(TWO_ALIKE, phases=[PHASE], risk=agreeing, horizon=30), runs=3000).collapse_round >= 0).mean()
    never = play(build(TWO_ALIKE, phases=[PHASE], risk={"hazard": 0.05}, horizon=30), runs=3000).collapse_round >= 0
    assert late < never.mean() / 2


def test_talks_that_never_open_say_so():
    gated = {"opens_when": {"requires": ["ready"]}}
    model = play(build(TWO_ALIKE, protocol=gated, world={"flags": {"ready": False}}))
    assert np.all(model.outcome == STALEMATE)
    assert set(sim.run_table(model)["reason"]) == {"talks never opened"}


# ----------------------------------------------------------------- nothing depends on the horizon or the file's order
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_what_happens_by_round_26_is_the_same_under_horizons_26_and_52(path):
    data, _ = read(path)
    runs = 1500
    outcome = {}
    for horizon in (26, 52):
        longer = copy.deepcopy(data)
        longer["meta"]["horizon"] = horizon
        model = NegotiationModel(validate(longer), range(runs))
        model.run()
        first = model.declared_round[:, 0]
        outcome[horizon] = (
            np.where((first >= 0) & (first <= 26), first, -1),
            np.where((model.collapse_round >= 0) & (model.collapse_round <= 26), model.collapse_round, -1),
        )
    np.testing.assert_array_equal(outcome[26][0], outcome[52][0])
    np.testing.assert_array_equal(outcome[26][1], outcome[52][1])


def test_the_order_of_actors_in_the_file_does_not_change_the_answer():
    data, _ = read(SCENARIOS / "baseline.yaml")
    shuffled = copy.deepcopy(data)
    shuffled["actors"] = shuffled["actors"][::-1]
    shuffled["red_lines"] = shuffled["red_lines"][::-1]
    a = sim.run_table(NegotiationModel(validate(data), range(3000)).run())
    b = sim.run_table(NegotiationModel(validate(shuffled), range(3000)).run())
    assert (a["outcome"] == b["outcome"]).mean() > 0.999
    assert (a["round"] == b["round"]).mean() > 0.999


# ----------------------------------------------------------------- every principal and veto player can block
def test_in_the_baseline_every_principal_and_every_domestic_veto_player_blocks_in_some_runs():
    spec = sim.load_scenario(SCENARIOS / "baseline.yaml")
    table = sim.run_batch(spec, runs=6000)
    blockers = set(table.loc[table["outcome"] != "declared", "blocker"])
    parties = {a.id for a in spec.principals} | {v.id for v in spec.veto_players}
    assert parties <= blockers, parties - blockers


def test_a_domestic_veto_player_refuses_what_its_principal_would_accept_until_it_loses_its_veto():
    """Its terms (a at least 50) never meet the other side's red line (a at most 40): the drafters keep to the red
    lines, the veto player refuses, and once an event ends its veto the same package passes."""
    player = {"id": "hawks", "principal": "p", "bounds": {"a": {"min": 50}}, "when": {"unless": ["reshuffle"]}}
    cap = {"id": "cap", "actor": "q", "issue": "a", "max": 40}
    reshuffle = {"id": "reshuffle", "at_round": 4, "effects": {"set": ["reshuffle"]}}
    model = play(build(TWO_ALIKE, veto_players=[player], red_lines=[cap], events=[reshuffle]))
    assert np.all(model.declared_round[:, 0] == 4)
    held = play(build(TWO_ALIKE, veto_players=[player], red_lines=[cap], world={"flags": {"reshuffle": False}}))
    assert np.all(held.outcome == STALEMATE) and np.all(held.reason == RATIFICATION)
    table = sim.run_table(held)
    assert set(table["blocker"]) == {"hawks"} and table["veto_player.hawks.unmet"].all()


# ----------------------------------------------------------------- third parties act, and their actions matter
def apart_with(**fields):
    p = principal("p", {"a": 20, "b": 20}, EVEN, reservation=0.2, concession={"strategy": "hardline"})
    q = principal("q", {"a": 80, "b": 80}, EVEN, reservation=0.2, concession={"strategy": "linear", "deadline": 4})
    return [p, q, third("m", {"a": 50, "b": 50}, EVEN, **fields)]


def test_pressure_needs_a_budget_and_loses_credibility_when_it_cannot_be_followed_through():
    lever = {"id": "push", "from": "m", "to": "p", "strength": 0.05, "cost": 1, "follow_through": 1, "erosion": 0.5}
    rich = play(build(apart_with(budget=100), leverage=[lever]))
    poor = play(build(apart_with(budget=3), leverage=[lever]))
    assert np.all(rich.outcome == DECLARED)
    assert np.all(poor.outcome == STALEMATE)
    assert np.all(poor.budget[:, 2] < 1) and np.all(rich.pressure[:, 0] > poor.pressure[:, 0])
    half = play(build(apart_with(budget=4), leverage=[{**lever, "follow_through": 2}]), runs=1)
    assert half.credibility[0, 0] < 1.0  # pressed once it could no longer pay to follow through


def test_a_guarantee_is_offered_once_paid_for_and_closes_a_small_gap():
    p = principal("p", {"a": 20, "b": 20}, EVEN, reservation=0.0, concession={"strategy": "linear", "deadline": 200})
    q = principal("q", {"a": 20, "b": 20}, EVEN)
    spec_data = {
        "leverage": [],
        "guarantees": [{"id": "cover", "from": "m", "to": "p", "issues": ["a", "b"], "value": 0.3, "cost": 4}],
    }
    offset = [p, {**q, "position": {"a": 40, "b": 40}}, third("m", SAME, EVEN, budget=10)]
    with_guarantee = play(build(offset, **spec_data))
    without = play(build(offset, **{**spec_data, "guarantees": []}))
    assert np.all(with_guarantee.guarantee_round[:, 0] >= 1)
    assert np.all(with_guarantee.budget[:, 2] == 6)
    assert (
        with_guarantee.declared_round[:, 0].max()
        < np.where(without.declared_round[:, 0] < 0, 99, without.declared_round[:, 0]).min()
    )
    vetoed = play(build(offset, **spec_data, vetoes=[{"by": "q", "of": "m", "issue": "a"}]))
    assert np.all(vetoed.guarantee_round < 0)


def test_a_convened_meeting_happens_when_its_conditions_hold_and_the_convener_can_pay():
    meeting = {"id": "summit", "convened_by": "m", "cost": 5, "when": {"from_round": 3}, "effects": {"set": ["met"]}}
    rich = play(build(apart_with(budget=6), events=[meeting]))
    poor = play(build(apart_with(budget=4), events=[meeting]))
    assert np.all(rich.world.first_round[:, 0] == 3) and np.all(rich.budget[:, 2] == 1)
    assert np.all(poor.world.first_round[:, 0] == -1)


def test_a_summit_moves_the_brokers_own_position_and_with_it_the_package_it_tables():
    p = principal("p", {"a": 0, "b": 0}, EVEN, reservation=0.3, concession={"strategy": "linear", "deadline": 1})
    q = principal("q", {"a": 100, "b": 100}, EVEN, reservation=0.3, concession={"strategy": "linear", "deadline": 1})
    broker = third("u", {"a": 20, "b": 20}, EVEN, role="broker", bridging="own")
    protocol = {"rule": "bridging", "tabled_by": ["u"]}
    summit = {"id": "summit", "at_round": 1, "effects": {"align": {"u": {"toward": "q", "share": 1.0}}}}
    plain = play(build([p, q, broker], protocol=protocol))
    leaning = play(build([p, q, broker], protocol=protocol, events=[summit]))
    assert np.all(leaning.ideal[:, 2] == 100)
    np.testing.assert_allclose(plain.agreed_value.sum(axis=1), 60)  # the zone's end nearest the broker's own view
    np.testing.assert_allclose(leaning.agreed_value.sum(axis=1), 140)  # the other end, once it leans toward q


# ----------------------------------------------------------------- red lines, relaxed only at a cost
def test_incompatible_red_lines_hold_the_issue_until_one_is_relaxed_under_pressure_at_a_recorded_cost():
    lines = [
        {"id": "floor", "actor": "p", "issue": "b", "min": 70, "relax": {"to": 40, "audience_cost": 0.1}},
        {"id": "cap", "actor": "q", "issue": "b", "max": 60},
    ]
    push = {"id": "push", "from": "m", "to": "p", "strength": 0.05, "on": "always"}
    conceding = {"concession": {"strategy": "linear", "deadline": 4}, "reservation": 0.5}
    actors = [{**a, **conceding} for a in TWO_ALIKE] + [third("m", SAME, EVEN)]
    held = play(build(actors, phases=[PHASE], red_lines=lines))
    assert np.all(held.agreed_round[:, 1] == -1) and np.all(held.relaxed_round[:, 0] == -1)
    assert set(sim.run_table(held)["open_reason"]) == {"red lines incompatible: b"}
    relaxed = play(build(actors, phases=[PHASE], red_lines=lines, leverage=[push]))
    assert np.all(relaxed.relaxed_round[:, 0] > 0) and np.all(relaxed.agreed_round[:, 1] > relaxed.relaxed_round[:, 0])
    np.testing.assert_allclose(relaxed.audience_cost[:, 0], 0.1)


# ----------------------------------------------------------------- concession on its own clock
def test_a_responsive_principal_concedes_faster_when_the_other_side_concedes():
    def pair(other):
        p = principal(
            "p",
            {"a": 0, "b": 0},
            EVEN,
            reservation=0.2,
            concession={"strategy": "responsive", "deadline": 40, "reciprocity": 1.0},
        )
        q = principal("q", {"a": 100, "b": 100}, EVEN, reservation=0.2, concession=other)
        model = NegotiationModel(build([p, q], horizon=6), range(1))
        for _ in range(5):
            model.step()
        return model.share[0, 0]

    assert pair({"strategy": "linear", "deadline": 5}) > pair({"strategy": "hardline"}) + 0.1


def test_acceptance_noise_is_a_trait_of_the_run_not_a_fresh_draw_each_round():
    noisy = [principal("p", SAME, EVEN, noise=0.1), principal("q", SAME, EVEN)]
    model = play(build(noisy, horizon=3), runs=200)
    bias = model.bias[:, 0]
    assert bias.std() > 0.05
    assert np.all(model.bias[:, 1] == 0)
    again = NegotiationModel(build(noisy, horizon=3), range(200)).bias[:, 0]
    np.testing.assert_array_equal(bias, again)


# ----------------------------------------------------------------- bargaining theory: Nash with log-rolling
def nash_by_grid(ideals, saliences, disagreement, step=0.25):
    """The Nash bargaining solution over two issues by brute force on a grid."""
    grid = np.stack(np.meshgrid(np.arange(0, 100 + step, step), np.arange(0, 100 + step, step)), -1).reshape(-1, 2)
    u = np.stack([1 - np.abs(grid - x) @ s / 100 for x, s in zip(ideals, saliences, strict=True)], -1)
    product = np.where((u > disagreement).all(-1), np.prod(u - disagreement, -1), -1)
    return grid[np.argmax(product)], u[np.argmax(product)]


def test_a_bridging_package_drafted_by_the_nash_product_is_the_nash_solution_and_log_rolls():
    """With thresholds at the reservation values, the mediator's Nash bridging package is the Nash
    bargaining solution; with opposite saliences each issue goes (mostly) to the side that cares more."""
    p = principal(
        "p", {"a": 0, "b": 0}, {"a": 0.8, "b": 0.2}, reservation=0.3, concession={"strategy": "linear", "deadline": 1}
    )
    q = principal(
        "q",
        {"a": 100, "b": 100},
        {"a": 0.3, "b": 0.7},
        reservation=0.2,
        concession={"strategy": "linear", "deadline": 1},
    )
    mediator = third("m", {"a": 50, "b": 50}, EVEN, bridging="nash")
    model = play(build([p, q, mediator], protocol={"rule": "bridging", "tabled_by": ["m"]}), runs=3)
    assert np.all(model.declared_round[:, 0] == 2)
    _package, u = nash_by_grid(
        [np.zeros(2), np.full(2, 100.0)], [np.array([0.8, 0.2]), np.array([0.3, 0.7])], np.array([0.3, 0.2])
    )
    got = np.stack([rules.utility(model.agreed_value, model.ideal[:, k], model.salience[:, k]) for k in (0, 1)], -1)
    np.testing.assert_allclose(got, np.tile(u, (3, 1)), atol=2e-3)
    assert np.all(model.agreed_value[:, 0] < 50) and np.all(model.agreed_value[:, 1] > 50)
    np.testing.assert_allclose(np.prod(got - [0.3, 0.2], -1), np.prod(u - [0.3, 0.2]), rtol=1e-2)
