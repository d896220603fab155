"""The actors (sim.engine.agents): a principal's answer and its reason, leverage, and who is engaged.

Each test builds a small model, sets the block arrays an agent reads, and calls the agent directly,
one run per case, so every case is checked in the same call.
"""

from __future__ import annotations

import numpy as np
from helpers import actor, scenario, uniform

from sim.engine.agents import Broker, Mediator, Principal, Stakeholder
from sim.engine.model import NegotiationModel
from sim.engine.outcomes import OFFER, PRECONDITION, RED_LINE, TRANSITION

ISSUES = ("a", "b")
EVEN = {"a": 0.5, "b": 0.5}


def model(runs: int, **sections) -> NegotiationModel:
    actors = [
        actor("p", {"a": 0, "b": 0}, EVEN),
        actor("q", {"a": 100, "b": 100}, EVEN),
        actor("us", {"a": 50, "b": 50}, EVEN, role="broker"),
        actor("egypt", {"a": 50, "b": 50}, EVEN, role="mediator"),
        actor("eu", {"a": 50, "b": 50}, EVEN, role="stakeholder"),
    ]
    return NegotiationModel(scenario(ISSUES, actors, **sections), range(runs))


def agent(m: NegotiationModel, ident: str):
    return next(a for a in m.agents if a.spec.id == ident)


# ------------------------------------------------------------------ Principal.respond
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
    "world": {"flags": {"f0": False, "f1": False, "f2": False}},
}
# One run per case: (package, threshold, p_first met, p_second met, expected accept, reason, ref)
CASES = [
    ((50, 70), 0.99, -1, -1, False, PRECONDITION, 1),  # everything wrong: the first open precondition speaks
    ((50, 70), 0.99, 3, -1, False, PRECONDITION, 2),  # the first met, the second still open
    ((50, 70), 0.99, 3, 4, False, RED_LINE, 1),  # both red lines crossed: the first in scenario order
    ((50, 10), 0.99, 3, 4, False, RED_LINE, 2),  # only the cap on a
    ((30, 60), 0.99, 3, 4, False, OFFER, -1),  # on both red lines (allowed) but short of the threshold
    ((10, 10), 0.90, 3, 4, True, 0, -1),  # worth exactly 0.9 to p: accepted
    ((10, 10), 0.95, 3, 4, False, OFFER, -1),
]


def test_a_principal_answers_with_the_reason_that_outranks_the_others():
    m = model(len(CASES), **RESPONDING)
    p = agent(m, "p")
    assert isinstance(p, Principal) and p.red_lines == [1, 2] and p.preconditions == [1, 2]
    package = np.array([c[0] for c in CASES], dtype=float)
    threshold = np.array([c[1] for c in CASES])
    m.precondition_met[:, 1] = [c[2] for c in CASES]
    m.precondition_met[:, 2] = [c[3] for c in CASES]
    accept, reason, ref = p.respond(package, threshold, 1)
    assert accept.tolist() == [c[4] for c in CASES]
    assert reason.tolist() == [c[5] for c in CASES]
    assert ref.tolist() == [c[6] for c in CASES]


def test_a_waived_precondition_no_longer_blocks_and_another_actors_precondition_never_does():
    m = model(3, **RESPONDING)
    m.precondition_waived[:, 1] = [2, 2, -1]
    m.precondition_met[:, 2] = [5, 5, 5]
    # q's own precondition is open in every run: it does not concern p
    accept, reason, ref = agent(m, "p").respond(np.full((3, 2), 10.0), np.array([0.5, 0.5, 0.5]), 6)
    assert accept.tolist() == [True, True, False]
    assert reason.tolist() == [0, 0, PRECONDITION] and ref.tolist() == [-1, -1, 1]
    accept, reason, ref = agent(m, "q").respond(np.full((3, 2), 90.0), np.zeros(3), 6)
    assert reason.tolist() == [PRECONDITION] * 3 and ref.tolist() == [0] * 3


def test_the_reason_refs_name_the_scenarios_items():
    m = model(len(CASES), **RESPONDING)
    m.precondition_met[:, 1] = [c[2] for c in CASES]
    m.precondition_met[:, 2] = [c[3] for c in CASES]
    _, reason, ref = agent(m, "p").respond(np.array([c[0] for c in CASES], float), np.array([c[1] for c in CASES]), 1)
    items = {PRECONDITION: m.spec.preconditions, RED_LINE: m.spec.red_lines}
    named = [items[r][j].id if r in items else None for r, j in zip(reason, ref, strict=True)]
    assert named == ["p_first", "p_second", "p_cap_b", "p_cap_a", None, None, None]


def test_decision_noise_is_drawn_per_run_and_round_whatever_the_block():
    actors = [
        actor("p", {"a": 0}, {"a": 1}, noise=0.2),
        actor("q", {"a": 100}, {"a": 1}),
    ]
    spec = scenario(("a",), actors)
    m = NegotiationModel(spec, range(2000))
    p = m.principals[0]
    package, threshold = np.full((2000, 1), 50.0), np.full(2000, 0.5)  # worth exactly 0.5 without noise
    accept, reason, _ = p.respond(package, threshold, 1)
    assert 0.45 < accept.mean() < 0.55 and set(reason[~accept]) == {OFFER}
    again, _, _ = p.respond(package, threshold, 1)
    later, _, _ = p.respond(package, threshold, 2)
    assert again.tolist() == accept.tolist() and later.tolist() != accept.tolist()
    alone = NegotiationModel(spec, [1234]).principals[0].respond(package[:1], threshold[:1], 1)[0]
    assert alone[0] == accept[1234]


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


def pressed(m: NegotiationModel, who: str, round_: int, blocked: np.ndarray) -> np.ndarray:
    """The pressure one call of ``who``'s press adds, runs x actors."""
    before = m.pressure.copy()
    agent(m, who).press(round_, blocked)
    return m.pressure - before


def test_leverage_on_block_presses_only_where_the_target_blocked():
    m = model(4, **LEVERS)
    blocked = np.zeros((4, 5), dtype=bool)
    blocked[:, 0] = [True, False, True, False]  # p blocked in runs 0 and 2
    blocked[:, 1] = True
    added = pressed(m, "us", 1, blocked)  # round 1: the 'always' lever is not yet active
    np.testing.assert_allclose(added[:, 0], [0.1, 0, 0.1, 0])
    assert not added[:, 1:].any()


def test_leverage_always_presses_whether_or_not_the_target_blocked_within_its_window():
    m = model(4, **LEVERS)
    blocked = np.zeros((4, 5), dtype=bool)
    added = pressed(m, "us", 2, blocked)
    np.testing.assert_allclose(added[:, 1], 0.05)
    assert not added[:, 0].any()
    np.testing.assert_allclose(pressed(m, "us", 9, blocked)[:, 1], 0.05)
    np.testing.assert_allclose(m.pressure[:, 1], 0.1)  # pressure accumulates


def test_leverage_within_when_needs_its_flags_and_its_rounds():
    m = model(6, **LEVERS)
    blocked = np.ones((6, 5), dtype=bool)
    summit = np.array([True, True, True, False, False, False])
    m.world.flags[:, m.world.flag("summit")] = summit
    strength = m.values.drawn["leverage.egypt_on_q.strength"]
    assert len(np.unique(strength)) == 6 and ((strength >= 0.01) & (strength <= 0.03)).all()
    np.testing.assert_allclose(pressed(m, "egypt", 3, blocked)[:, 1], np.where(summit, strength, 0))
    assert not pressed(m, "egypt", 4, blocked).any()  # past until_round


def test_leverage_stops_when_a_run_has_ended():
    m = model(3, **LEVERS)
    m.outcome[:] = [TRANSITION, 0, 0]
    blocked = np.ones((3, 5), dtype=bool)
    added = pressed(m, "us", 5, blocked)
    np.testing.assert_allclose(added[:, 0], [0, 0.1, 0.1])
    np.testing.assert_allclose(added[:, 1], [0, 0.05, 0.05])


def test_actors_without_leverage_press_nobody():
    m = model(3, **LEVERS)
    for who in ("p", "q", "eu"):
        assert not agent(m, who).levers
        assert not pressed(m, who, 3, np.ones((3, 5), dtype=bool)).any()


# ------------------------------------------------------------------ engaged
def test_only_principals_wait_for_their_own_preconditions():
    m = model(4, **RESPONDING)
    m.precondition_met[:, 1] = [1, 1, -1, -1]
    m.precondition_waived[:, 2] = [2, -1, 2, -1]
    assert agent(m, "p").engaged().tolist() == [True, False, False, False]
    assert agent(m, "p").unmet_precondition().tolist() == [-1, 2, 1, 1]
    assert not agent(m, "q").engaged().any()  # q's precondition is open everywhere
    m.precondition_met[:, 0] = 1
    assert agent(m, "q").engaged().all()
    for who, kind in (("us", Broker), ("egypt", Mediator), ("eu", Stakeholder)):
        assert isinstance(agent(m, who), kind) and agent(m, who).engaged().tolist() == [True] * 4
