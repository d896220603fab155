"""The actors (sim.engine.agents): a principal's answer to a proposal and its reason (the gate's
preconditions, red lines on the issues on the table, what it holds out for, its domestic veto players),
leverage with its costs and credibility, guarantees, bridging packages, and who is engaged.

Each test builds a small model, sets the block arrays an agent reads, and calls the agent directly,
one run per case, so every case is checked in the same call.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import actor, scenario, uniform

from sim.engine import preconditions, rules
from sim.engine.agents import ROLE_CLASSES, Broker, Mediator, Principal, Spoiler, Stakeholder, ThirdParty
from sim.engine.columns import OFFER, PRECONDITION, RATIFICATION, RED_LINE
from sim.engine.model import NegotiationModel
from sim.engine.proposals import Proposal

ISSUES = ("a", "b")
EVEN = {"a": 0.5, "b": 0.5}
ACTORS = ("p", "q", "us", "egypt", "eu", "cell")
P, Q, US, EGYPT, EU = range(5)


def model(runs: int, **sections) -> NegotiationModel:
    """Principals p (ideal 0) and q (100), a broker, a mediator and a stakeholder (50), and a spoiler."""
    actors = [
        actor("p", {"a": 0, "b": 0}, EVEN),
        actor("q", {"a": 100, "b": 100}, EVEN),
        actor("us", {"a": 50, "b": 50}, EVEN, role="broker"),
        actor("egypt", {"a": 50, "b": 50}, EVEN, role="mediator"),
        actor("eu", {"a": 50, "b": 50}, EVEN, role="stakeholder"),
        actor("cell", {}, {}, role="spoiler"),
    ]
    return NegotiationModel(scenario(ISSUES, actors, **sections), range(runs))


def agent(m: NegotiationModel, ident: str):
    return next(a for a in m.agents if a.actor.id == ident)


def proposal(m: NegotiationModel, package, on_table=None, rows=None, gate=True, phase=0) -> Proposal:
    """A proposal of ``package`` (one row per run in ``rows``, default the whole block) on the issues ``on_table``
    (default all), for the gate of ``phase`` (or, ``gate=False``, the issues still open inside a phase)."""
    rows = np.arange(m.block_size) if rows is None else np.asarray(rows)
    k, n_actors, n_issues = len(rows), len(m.spec.actors), len(ISSUES)
    on = np.ones((k, n_issues), dtype=bool) if on_table is None else np.asarray(on_table, dtype=bool)
    return Proposal(
        kind="gate" if gate else "open",
        rows=rows,
        on_table=on,
        parties=np.zeros((k, n_actors), dtype=bool),
        phase=np.broadcast_to(phase, k).astype(int),
        rule=np.zeros(k, dtype=np.int8),
        low=np.zeros((k, n_issues)),
        high=np.full((k, n_issues), 100.0),
        salience=m.salience[rows],
        bonus=np.zeros((k, n_actors)),
        contested=np.zeros((m.block_size, n_issues), dtype=bool),
        package=np.asarray(package, dtype=float),
        width=np.zeros((k, n_issues)),
    )


def worth(m: NegotiationModel, who: int, package) -> np.ndarray:
    """What ``package`` is worth to actor ``who`` (its utility, without bias or guarantees)."""
    return rules.utility(np.asarray(package, dtype=float), m.ideal[0, who], m.salience[0, who])


def answers(m: NegotiationModel, blocked=None, reason=None, shortfall=None, issues=None) -> dict:
    """The last round's answers, as the model hands them to the actors (default: nobody said no)."""
    n, a = m.block_size, len(m.spec.actors)
    return {
        "blocked": np.zeros((n, a), dtype=bool) if blocked is None else np.asarray(blocked, dtype=bool),
        "reason": np.zeros((n, a), dtype=np.int8) if reason is None else np.asarray(reason, dtype=np.int8),
        "shortfall": np.zeros((n, a)) if shortfall is None else np.asarray(shortfall, dtype=float),
        "issues": np.ones((n, a, len(ISSUES)), dtype=bool) if issues is None else np.asarray(issues, dtype=bool),
    }


def test_each_role_has_its_class_and_agents_are_in_scenario_order():
    m = model(2)
    assert [a.actor.id for a in m.agents] == list(ACTORS) and [a.index for a in m.agents] == list(range(6))
    kinds = (Principal, Principal, Broker, Mediator, Stakeholder, Spoiler)
    assert [type(a) for a in m.agents] == list(kinds)
    assert {role: cls.__name__ for role, cls in ROLE_CLASSES.items()} == {
        "principal": "Principal",
        "broker": "Broker",
        "mediator": "Mediator",
        "stakeholder": "Stakeholder",
        "spoiler": "Spoiler",
    }
    assert all(isinstance(agent(m, who), ThirdParty) for who in ("us", "egypt", "eu"))
    assert not isinstance(agent(m, "cell"), ThirdParty) and [a.actor.id for a in m.principals] == ["p", "q"]


# ------------------------------------------------------------------ Principal.respond
def answered(principal, proposal: Proposal, value, round_: int):
    """(accept, reason, ref) of a principal's answer to a point proposal under consent."""
    answer = principal.respond(proposal, value, proposal.package, proposal.package, round_)
    reason, ref = answer.reason(gated=proposal.gate)
    return reason == 0, reason, ref


RESPONDING = {
    "red_lines": [
        {"id": "q_floor", "actor": "q", "issue": "a", "min": 40},
        {"id": "p_cap_b", "actor": "p", "issue": "b", "max": 60},
        {"id": "p_cap_a", "actor": "p", "issue": "a", "max": 30},
    ],
    "preconditions": [
        {"id": "q_first", "actor": "q", "flag": "f0"},
        {"id": "p_first", "actor": "p", "flag": "f1"},
        {"id": "p_second", "actor": "p", "flag": "f2"},
    ],
    "veto_players": [
        {"id": "q_wing", "principal": "q", "bounds": {"b": {"min": 90}}},
        {"id": "p_hawks", "principal": "p", "bounds": {"a": {"max": 20}}, "when": {"unless": ["election"]}},
    ],
    "world": {"flags": {"f0": False, "f1": False, "f2": False, "election": False}},
}
ALL, ONLY_A = (True, True), (True, False)
# One run per case: (package, on the table, threshold, p_first met, p_second met, election held,
#                    expected accept, reason, ref)
CASES = [
    ((50, 70), ALL, 0.99, -1, -1, False, False, PRECONDITION, 1),  # everything wrong: the first open precondition
    ((50, 70), ALL, 0.99, 3, -1, False, False, PRECONDITION, 2),  # the first met, the second still open
    ((50, 70), ALL, 0.99, 3, 4, False, False, RED_LINE, 1),  # both red lines crossed: the first in scenario order
    ((50, 10), ALL, 0.99, 3, 4, False, False, RED_LINE, 2),  # only the cap on a
    ((50, 70), ONLY_A, 0.5, 3, 4, False, False, RED_LINE, 2),  # b's cap does not count: b is not on the table
    ((20, 70), ONLY_A, 0.5, 3, 4, False, True, 0, -1),  # nothing on the table crossed: accepted
    ((30, 60), ALL, 0.99, 3, 4, False, False, OFFER, -1),  # on both red lines (allowed) but short of the threshold
    ((10, 10), ALL, 0.90, 3, 4, False, True, 0, -1),  # worth exactly 0.9 to p: accepted
    ((10, 10), ALL, 0.95, 3, 4, False, False, OFFER, -1),
    ((25, 10), ALL, 0.5, 3, 4, False, False, RATIFICATION, 1),  # p would, its hawks refuse a above 20
    ((25, 10), ALL, 0.99, 3, 4, False, False, OFFER, -1),  # p itself says no first
    ((25, 10), ALL, 0.5, 3, 4, True, True, 0, -1),  # after the election the hawks hold no veto
    ((25, 10), ONLY_A, 0.5, -1, 4, False, False, PRECONDITION, 1),  # a precondition outranks a domestic veto
]


def respond_cases(m: NegotiationModel, who: str = "p", rows=None, **kw):
    rows = np.arange(len(CASES)) if rows is None else np.asarray(rows)
    cases = [CASES[r] for r in rows]
    m.threshold[rows, P] = [c[2] for c in cases]
    m.precondition_met[rows, 1] = [c[3] for c in cases]
    m.precondition_met[rows, 2] = [c[4] for c in cases]
    m.world.flags[rows, m.world.flag("election")] = [c[5] for c in cases]
    package = np.array([c[0] for c in cases], dtype=float)
    on_table = [c[1] for c in cases]
    return answered(agent(m, who), proposal(m, package, on_table, rows, **kw), worth(m, P, package), 1)


def test_a_principal_answers_with_the_reason_that_outranks_the_others():
    m = model(len(CASES), **RESPONDING)
    p = agent(m, "p")
    assert isinstance(p, Principal) and p.red_lines == [1, 2] and p.veto_players == [1]
    assert agent(m, "q").red_lines == [0] and agent(m, "q").veto_players == [0]
    accept, reason, ref = respond_cases(m)
    assert accept.tolist() == [c[6] for c in CASES]
    assert reason.tolist() == [c[7] for c in CASES]
    assert ref.tolist() == [c[8] for c in CASES]


def test_a_principal_answers_for_the_runs_of_the_proposal_only():
    m = model(len(CASES), **RESPONDING)
    rows = np.array([9, 0, 7, 4])
    accept, reason, ref = respond_cases(m, rows=rows)
    assert accept.tolist() == [CASES[r][6] for r in rows] and reason.tolist() == [CASES[r][7] for r in rows]
    assert ref.tolist() == [CASES[r][8] for r in rows]


def test_the_reason_refs_name_the_scenarios_items():
    m = model(len(CASES), **RESPONDING)
    _, reason, ref = respond_cases(m)
    items = {PRECONDITION: m.spec.preconditions, RED_LINE: m.spec.red_lines, RATIFICATION: m.spec.veto_players}
    named = [items[r][j].id if r in items else None for r, j in zip(reason, ref, strict=True)]
    assert named == [
        *("p_first", "p_second", "p_cap_b", "p_cap_a", "p_cap_a", None, None, None, None),
        *("p_hawks", None, None, "p_first"),
    ]


def test_a_waived_precondition_no_longer_blocks_and_another_actors_precondition_never_does():
    m = model(3, **RESPONDING)
    m.precondition_waived[:, 1] = [2, 2, -1]
    m.precondition_met[:, 2] = [5, 5, 5]
    m.threshold[:, [P, Q]] = 0.5
    # q's own precondition is open in every run: it does not concern p
    package = np.full((3, 2), 10.0)
    accept, reason, ref = answered(agent(m, "p"), proposal(m, package), worth(m, P, package), 6)
    assert accept.tolist() == [True, True, False]
    assert reason.tolist() == [0, 0, PRECONDITION] and ref.tolist() == [-1, -1, 1]
    package = np.full((3, 2), 95.0)
    accept, reason, ref = answered(agent(m, "q"), proposal(m, package), worth(m, Q, package), 6)
    assert reason.tolist() == [PRECONDITION] * 3 and ref.tolist() == [0] * 3


def test_a_gate_applies_only_its_own_preconditions_and_issues_inside_a_phase_none():
    phases = [
        {"id": "committee", "gate": {"consent": ["p", "q"], "settle": ["a"], "defer": ["b"], "preconditions": []}},
        {
            "id": "arms",
            "gate": {"consent": ["p", "q"], "settle": ["b"], "after": "committee", "preconditions": ["p_second"]},
        },
    ]
    m = model(3, phases=phases, **RESPONDING)
    m.threshold[:, P] = 0.5
    package = np.full((3, 2), 10.0)
    value = worth(m, P, package)
    accept, reason, ref = answered(agent(m, "p"), proposal(m, package, phase=[0, 1, 1]), value, 4)
    assert accept.tolist() == [True, False, False] and reason.tolist() == [0, PRECONDITION, PRECONDITION]
    assert ref.tolist() == [-1, 2, 2]  # p_first applies to neither gate
    accept, _, _ = answered(agent(m, "p"), proposal(m, package, gate=False), value, 4)
    assert accept.all()  # deferred issues are negotiated inside a declared phase: no gate, no preconditions
    assert preconditions.pending(m, np.arange(3), P, np.array([0, 1, 1])).tolist() == [-1, 2, 2]


def test_a_principal_judges_the_value_it_is_given_against_what_it_holds_out_for():
    """The model values the package (utility, guarantees, the run's bias); the principal compares."""
    m = model(4)
    m.threshold[:, P] = [0.6, 0.6, 0.0, 1.0]
    package = np.full((4, 2), 50.0)
    accept, reason, _ = answered(agent(m, "p"), proposal(m, package), np.array([0.6, 0.6 - 1e-6, 0.0, 0.99]), 1)
    assert accept.tolist() == [True, False, True, False] and reason.tolist() == [0, OFFER, 0, OFFER]


def test_decision_noise_is_a_per_run_trait_drawn_whatever_the_block():
    """v1 drew acceptance noise afresh each round inside respond; v2 draws a bias per run and actor once,
    which the model adds to every value it hands a principal."""
    actors = [
        actor("p", {"a": 0}, {"a": 1}, noise=0.2),
        actor("q", {"a": 100}, {"a": 1}),
        actor("r", {"a": 40}, {"a": 1}, noise=0.2),
    ]
    spec = scenario(("a",), actors, horizon=4)
    m = NegotiationModel(spec, range(2000))
    bias = m.bias.copy()
    assert abs(bias[:, 0].std() - 0.2) < 0.02 and abs(bias[:, 0].mean()) < 0.02 and not bias[:, 1].any()
    assert abs(np.corrcoef(bias[:, 0], bias[:, 2])[0, 1]) < 0.1  # each actor its own stream
    for _ in range(3):
        m.step()
        for k in (0, 1, 2):
            u = rules.utility(m.tabled, m.ideal[:, k], m.salience[:, k])
            np.testing.assert_allclose(m.value[:, k] - u, bias[:, k], atol=1e-12)  # the same bias every round
    np.testing.assert_array_equal(m.bias, bias)
    alone = NegotiationModel(spec, [1234]).bias
    np.testing.assert_array_equal(alone[0], bias[1234])


# ------------------------------------------------------------------ leverage
LEVERS = {
    "leverage": [
        {"id": "us_on_p", "from": "us", "to": "p", "strength": 0.1},
        {"id": "us_on_q", "from": "us", "to": "q", "strength": 0.05, "on": "always", "when": {"from_round": 2}},
        {
            "id": "egypt_on_q",
            "from": "egypt",
            "to": "q",
            "strength": uniform(0.01, 0.03),
            "when": {"until_round": 3, "requires": ["summit"]},
        },
    ],
    "world": {"flags": {"summit": False}},
}


def talking(m: NegotiationModel) -> NegotiationModel:
    m.talks_open[:] = True
    return m


def pressed(m: NegotiationModel, who: str, round_: int, blocked: np.ndarray) -> np.ndarray:
    """The pressure one call of ``who``'s press adds, runs x actors."""
    before = m.pressure.copy()
    agent(m, who).press(round_, answers(m, blocked=blocked))
    return m.pressure - before


def test_leverage_on_block_presses_only_where_the_target_blocked():
    m = talking(model(4, **LEVERS))
    blocked = np.zeros((4, 6), dtype=bool)
    blocked[:, P] = [True, False, True, False]  # p blocked in runs 0 and 2
    blocked[:, Q] = True
    added = pressed(m, "us", 1, blocked)  # round 1: the 'always' lever is not yet active
    np.testing.assert_allclose(added[:, P], [0.1, 0, 0.1, 0])
    assert not added[:, 1:].any()


def test_leverage_always_presses_whether_or_not_the_target_blocked_within_its_window():
    m = talking(model(4, **LEVERS))
    blocked = np.zeros((4, 6), dtype=bool)
    added = pressed(m, "us", 2, blocked)
    np.testing.assert_allclose(added[:, Q], 0.05)
    assert not added[:, P].any()
    np.testing.assert_allclose(pressed(m, "us", 9, blocked)[:, Q], 0.05)
    np.testing.assert_allclose(m.pressure[:, Q], 0.1)  # pressure accumulates


def test_leverage_within_when_needs_its_flags_and_its_rounds():
    m = talking(model(6, **LEVERS))
    blocked = np.ones((6, 6), dtype=bool)
    summit = np.array([True, True, True, False, False, False])
    m.world.flags[:, m.world.flag("summit")] = summit
    strength = m.numbers.drawn["leverage.egypt_on_q.strength"]
    assert len(np.unique(strength)) == 6 and ((strength >= 0.01) & (strength <= 0.03)).all()
    np.testing.assert_allclose(pressed(m, "egypt", 3, blocked)[:, Q], np.where(summit, strength, 0))
    assert not pressed(m, "egypt", 4, blocked).any()  # past until_round


def test_leverage_waits_for_talks_to_open_stops_at_a_collapse_and_goes_on_in_a_declared_phase():
    m = model(4, **LEVERS)
    m.talks_open[:] = [False, True, True, True]
    m.collapse_round[1] = 3
    m.declared_round[2, 0] = 2  # a declared phase: deferred issues are still negotiated
    added = pressed(m, "us", 5, np.ones((4, 6), dtype=bool))
    np.testing.assert_allclose(added[:, P], [0, 0, 0.1, 0.1])
    np.testing.assert_allclose(added[:, Q], [0, 0, 0.05, 0.05])


def test_actors_without_leverage_press_nobody():
    m = talking(model(3, **LEVERS))
    for who in ("p", "q", "eu", "cell"):
        assert not agent(m, who).levers
        assert not pressed(m, who, 3, np.ones((3, 6), dtype=bool)).any()
    assert [k for k, _ in agent(m, "us").levers] == [0, 1] and [k for k, _ in agent(m, "egypt").levers] == [2]


def test_pressing_costs_budget_and_pressure_not_followed_through_loses_credibility():
    lever = {
        "id": "us_on_p",
        "from": "us",
        "to": "p",
        "strength": 0.1,
        "cost": 0.4,
        "credibility": 0.8,
        "follow_through": 0.2,
        "erosion": 0.5,
    }
    m = talking(model(4, leverage=[lever]))
    m.budget[:, US] = [1.0, 0.5, 0.3, 0.0]
    blocked = np.ones((4, 6), dtype=bool)
    # run 0 presses and follows through; run 1 presses but cannot follow through; runs 2 and 3 cannot press
    np.testing.assert_allclose(pressed(m, "us", 1, blocked)[:, P], [0.08, 0.08, 0, 0])
    np.testing.assert_allclose(m.budget[:, US], [0.4, 0.1, 0.3, 0.0])
    np.testing.assert_allclose(m.credibility[:, 0], [0.8, 0.4, 0.8, 0.8])
    # run 0 can press once more but not follow through; run 1 can no longer press: its credibility stays
    np.testing.assert_allclose(pressed(m, "us", 2, blocked)[:, P], [0.08, 0, 0, 0])
    np.testing.assert_allclose(m.budget[:, US], [0.0, 0.1, 0.3, 0.0], atol=1e-12)
    np.testing.assert_allclose(m.credibility[:, 0], [0.4, 0.4, 0.8, 0.8])
    assert not m.budget[:, [P, Q, EGYPT, EU]].any()


def test_pressure_scaled_by_distance_weakens_as_the_target_comes_closer():
    lever = {"id": "egypt_on_q", "from": "egypt", "to": "q", "strength": 0.1, "scaled_by_distance": True}
    m = talking(model(3, leverage=[lever]))
    np.testing.assert_allclose(m.lever_distance[:, 0], 0.5)  # q starts 50 points from egypt on both issues
    m.ideal[1, Q] = [75, 75]  # half as far
    m.ideal[2, Q] = [100, 0]  # as far, on the other side of egypt on b
    np.testing.assert_allclose(pressed(m, "egypt", 1, np.ones((3, 6), dtype=bool))[:, Q], [0.1, 0.05, 0.1])


# ------------------------------------------------------------------ guarantees
GUARANTEES = {
    "guarantees": [
        {"id": "us_security", "from": "us", "to": "p", "issues": ["a"], "value": 0.1, "cost": 1},
        {"id": "egypt_aid", "from": "egypt", "to": "q", "issues": ["b"], "value": 0.05},
        {"id": "eu_funds", "from": "eu", "to": "q", "issues": ["b"], "value": 0.05},
    ],
    "vetoes": [{"by": "q", "of": "egypt", "issue": "b"}],
}
# One run per case for us_security: (p's reason, p's shortfall, p's issues, us's budget, expected round offered)
OFFERS = [
    (OFFER, 0.05, ALL, 2.0, 4),  # it said no for want of 0.05 on a package touching a: offered, paid
    (OFFER, 0.1, ONLY_A, 1.0, 4),  # the shortfall is exactly what it is worth
    (OFFER, 0.15, ALL, 2.0, -1),  # a shortfall larger than the guarantee is worth
    (RED_LINE, 0.05, ALL, 2.0, -1),  # a red line, not the offer's value, stopped it
    (OFFER, 0.05, (False, True), 2.0, -1),  # the package did not touch its issue
    (OFFER, 0.05, ALL, 0.5, -1),  # the broker cannot pay
    (0, 0.0, ALL, 2.0, -1),  # p said yes
]


def test_a_guarantee_is_offered_once_where_it_closes_the_gap_on_its_issues_and_the_source_can_pay():
    m = model(len(OFFERS) + 1, **GUARANTEES)
    n = m.block_size
    assert m.guarantee_void.tolist() == [False, True, False]  # q vetoed egypt's role on b
    assert [g for g, _ in agent(m, "us").guarantees] == [0] and [g for g, _ in agent(m, "eu").guarantees] == [2]
    reason, shortfall = np.zeros((n, 6), dtype=np.int8), np.zeros((n, 6))
    issues = np.ones((n, 6, 2), dtype=bool)
    reason[:-1, P] = [c[0] for c in OFFERS]
    shortfall[:-1, P] = [c[1] for c in OFFERS]
    issues[:-1, P] = [c[2] for c in OFFERS]
    m.budget[:, US] = [*(c[3] for c in OFFERS), 2.0]
    reason[-1, P], shortfall[-1, P], m.collapse_round[-1] = OFFER, 0.05, 2  # a collapsed run: nothing offered
    reason[:, Q], shortfall[:, Q] = OFFER, 0.01  # q would take egypt's aid or the EU's funds
    said = answers(m, blocked=reason > 0, reason=reason, shortfall=shortfall, issues=issues)
    budget = m.budget.copy()
    for who in ("us", "egypt", "eu"):
        agent(m, who).guarantee(4, said)
    expected = [*(c[4] for c in OFFERS), -1]
    assert m.guarantee_round[:, 0].tolist() == expected
    np.testing.assert_allclose(m.budget[:, US], budget[:, US] - np.where(np.array(expected) >= 0, 1.0, 0.0))
    assert (m.guarantee_round[:, 1] == -1).all()  # vetoed: never offered
    assert m.guarantee_round[:, 2].tolist() == [4] * (n - 1) + [-1]
    agent(m, "us").guarantee(5, said)  # once only
    assert m.guarantee_round[:, 0].tolist() == expected
    np.testing.assert_allclose(m.budget[:, US], budget[:, US] - np.where(np.array(expected) >= 0, 1.0, 0.0))


def test_a_third_party_acts_by_pressing_and_guaranteeing_a_principal_only_by_pressing():
    lever = {"id": "us_on_p", "from": "us", "to": "p", "strength": 0.1}
    m = talking(model(2, leverage=[lever], **GUARANTEES))
    m.budget[:, US] = 5.0
    reason = np.zeros((2, 6), dtype=np.int8)
    reason[:, P] = OFFER
    shortfall = np.full((2, 6), 0.05)
    said = answers(m, blocked=reason > 0, reason=reason, shortfall=shortfall)
    agent(m, "us").act(3, said)
    np.testing.assert_allclose(m.pressure[:, P], 0.1)
    assert (m.guarantee_round[:, 0] == 3).all()
    assert not hasattr(agent(m, "p"), "guarantee") and not hasattr(agent(m, "cell"), "guarantee")
    agent(m, "p").act(4, said)
    agent(m, "cell").act(4, said)
    np.testing.assert_allclose(m.pressure[:, P], 0.1)


# ------------------------------------------------------------------ bridging packages
@pytest.fixture(scope="module")
def bridging():
    """p cares most about a, q about b; three third parties with the three drafting rules, a broker who
    would rather give a to q and b to p."""
    actors = [
        actor("p", {"a": 0, "b": 0}, {"a": 0.8, "b": 0.2}),
        actor("q", {"a": 100, "b": 100}, {"a": 0.3, "b": 0.7}),
        actor("us", {"a": 90, "b": 10}, EVEN, role="broker", bridging="own"),
        actor("egypt", {"a": 50, "b": 50}, EVEN, role="mediator", bridging="nash"),
        actor("eu", {"a": 50, "b": 50}, EVEN, role="stakeholder", bridging="maximin"),
    ]
    protocol = {"rule": "bridging", "tabled_by": ["us", "egypt", "eu"]}
    m = NegotiationModel(scenario(ISSUES, actors, protocol=protocol), range(3))
    frontier = rules.frontier(m.ideal[:, P], m.ideal[:, Q], m.salience[:, P], m.salience[:, Q])
    thresholds = np.array([[0.3, 0.3], [0.5, 0.2], [0.9, 0.9]])  # zones of agreement in runs 0 and 1, none in 2
    drafts = {who: agent(m, who).bridge(frontier, thresholds, proposal(m, np.zeros((3, 2)))) for who in ACTORS[2:5]}
    return m, frontier, thresholds, drafts


def test_a_nash_or_maximin_bridging_package_is_the_rules_point_on_the_frontier(bridging):
    m, frontier, thresholds, drafts = bridging
    assert [agent(m, who).actor.bridging for who in ("us", "egypt", "eu")] == ["own", "nash", "maximin"]
    np.testing.assert_allclose(drafts["egypt"], rules.nash_point(*frontier, thresholds)[0])
    np.testing.assert_allclose(drafts["eu"], rules.maximin_point(*frontier, thresholds)[0])
    u = np.stack([rules.utility(drafts["eu"], m.ideal[:, k], m.salience[:, k]) for k in (P, Q)], -1)
    np.testing.assert_allclose(u[:, 0] - thresholds[:, 0], u[:, 1] - thresholds[:, 1], atol=1e-9)  # equal surpluses
    nash = np.stack([rules.utility(drafts["egypt"], m.ideal[:, k], m.salience[:, k]) for k in (P, Q)], -1)
    assert np.all(np.prod(nash[:2] - thresholds[:2], -1) >= np.prod(u[:2] - thresholds[:2], -1) - 1e-12)


def test_a_broker_drafting_for_itself_picks_its_best_package_inside_the_zone_else_the_maximin_one(bridging):
    m, _, thresholds, drafts = bridging
    own = drafts["us"]
    u = np.stack([rules.utility(own, m.ideal[:, k], m.salience[:, k]) for k in (P, Q)], -1)
    assert np.all(u[:2] >= thresholds[:2] - 1e-9)  # inside the zone where there is one

    def mine(package):
        return rules.utility(package, m.ideal[:, US], m.salience[:, US])

    assert np.all(mine(own)[:2] >= mine(drafts["egypt"])[:2] - 1e-9)
    assert np.all(mine(own)[:2] >= mine(drafts["eu"])[:2] - 1e-9)
    assert np.any(mine(own)[:2] > mine(drafts["egypt"])[:2] + 0.01)  # and it makes a difference
    np.testing.assert_allclose(own[2], drafts["eu"][2])  # no zone: the maximin package


# ------------------------------------------------------------------ engaged
def test_a_precondition_gates_the_act_and_freezes_concessions_only_where_the_scenario_says_so():
    m = model(4, **RESPONDING)
    m.precondition_met[:, 1] = [1, 1, -1, -1]
    m.precondition_waived[:, 2] = [2, -1, 2, -1]
    assert agent(m, "p").engaged().all() and agent(m, "q").engaged().all()  # open preconditions: still conceding
    # the first of p's preconditions still open, for the default phase's gate (which applies all of them)
    assert preconditions.pending(m, np.arange(4), P, np.zeros(4, dtype=int)).tolist() == [-1, 2, 1, 1]
    frozen = {**RESPONDING, "preconditions": [{**p, "freezes_concessions": True} for p in RESPONDING["preconditions"]]}
    m = model(4, **frozen)
    m.precondition_met[:, 1] = [1, 1, -1, -1]
    m.precondition_waived[:, 2] = [2, -1, 2, -1]
    assert agent(m, "p").engaged().tolist() == [True, False, False, False]
    assert not agent(m, "q").engaged().any()  # q's precondition is open everywhere
    m.precondition_met[:, 0] = 1
    assert agent(m, "q").engaged().all()
    for who, kind in (("us", Broker), ("egypt", Mediator), ("eu", Stakeholder), ("cell", Spoiler)):
        assert isinstance(agent(m, who), kind) and agent(m, who).engaged().tolist() == [True] * 4
