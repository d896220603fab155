"""The world state (sim.engine.world): flags, time windows, the three triggers, milestones, and draws
keyed by run so that a run's events do not depend on the block it is played in."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario

from sim.engine.values import Values
from sim.engine.world import WorldState
from sim.scenario.schema import When

SEED = 20251215


def world(events=(), flags=None, runs=100, seed=SEED, run_ids=None):
    """A WorldState for a scenario with ``events`` and declared ``flags``, over ``runs`` runs (or ``run_ids``)."""
    spec = scenario(events=list(events), world={"flags": flags or {}}, horizon=30)
    ids = np.arange(runs) if run_ids is None else np.asarray(run_ids, dtype=np.int64)
    return WorldState(spec, Values(spec, seed, ids), ids)


def play(state: WorldState, rounds, live=None, negotiating=None, seed=SEED) -> dict:
    """Play ``rounds``; returns {(round, event id): (fired, collapsed)} for every event drawn."""
    n = len(state.run_ids)
    live = np.ones(n, dtype=bool) if live is None else live
    negotiating = np.ones(n, dtype=bool) if negotiating is None else negotiating
    return {
        (r, event.id): (fired.copy(), collapsed.copy())
        for r in rounds
        for _, event, fired, collapsed in state.happen(seed, r, live, negotiating)
    }


def flag(state: WorldState, name: str) -> np.ndarray:
    return state.flags[:, state.flag(name)].copy()


def within(share: float, p: float, n: int, sigmas: float = 5) -> bool:
    """Whether an observed share is within ``sigmas`` binomial standard errors of ``p``."""
    return abs(share - p) <= sigmas * np.sqrt(p * (1 - p) / n)


# ------------------------------------------------------------------ flags
def test_flags_start_as_declared_and_events_set_and_unset_them():
    attack = {"id": "attack", "at_round": 2, "effects": {"set": ["crisis"], "unset": ["ceasefire"]}}
    state = world([attack], flags={"ceasefire": True, "talks": False}, runs=6)
    assert state.flags_names == ["ceasefire", "talks", "crisis", "transition"]
    assert flag(state, "ceasefire").all() and not flag(state, "crisis").any() and not flag(state, "transition").any()
    live = np.array([True, True, True, False, False, True])
    fired, _ = play(state, [1], live=live)[(1, "attack")]
    assert not fired.any() and flag(state, "ceasefire").all() and (state.first_round == -1).all()
    play(state, [2], live=live)
    assert flag(state, "crisis").tolist() == live.tolist()
    assert flag(state, "ceasefire").tolist() == (~live).tolist()
    assert not flag(state, "talks").any()  # an untouched flag stays as declared
    assert state.first_round[:, 0].tolist() == [2, 2, 2, -1, -1, 2]
    assert state.count[:, 0].tolist() == live.astype(int).tolist()


def test_an_event_that_unsets_a_flag_stops_an_event_that_requires_it():
    truce = {"id": "truce_ends", "at_round": 2, "effects": {"unset": ["truce"]}}
    aid = {"id": "aid", "rate": 5, "when": {"requires": ["truce"]}}
    state = world([truce, aid], flags={"truce": True}, runs=50)
    first = play(state, [1])[(1, "aid")][0]
    assert first.mean() > 0.9 and (state.count[:, 1] > 0).tolist() == first.tolist()
    # events are drawn in scenario order: in round 2 the truce ends before aid is drawn
    assert not any(key[1] == "aid" for key in play(state, range(2, 8)))
    assert not flag(state, "truce").any() and (state.first_round[:, 1] == np.where(first, 1, -1)).all()


# ------------------------------------------------------------------ time windows
@pytest.mark.parametrize("round_", [0, 1, 5, 9])
def test_active_is_false_outside_the_window_whatever_the_flags(round_):
    state = world(flags={"a": True, "b": False}, runs=4)
    assert state.active(When(from_round=2, until_round=4, requires=["a"], unless=["b"]), round_) is False


def test_active_inside_the_window_needs_every_required_flag_and_no_excluded_one():
    state = world(flags={"a": False, "b": False, "c": False}, runs=8)
    for k, name in enumerate("abc"):  # the 8 runs hold every combination of a, b, c
        state.flags[:, state.flag(name)] = (np.arange(8) >> k) & 1
    a, b, c = (flag(state, name) for name in "abc")
    when = When(from_round=2, until_round=4, requires=["a", "b"], unless=["c"])
    for round_ in (2, 3, 4):
        assert state.active(when, round_).tolist() == (a & b & ~c).tolist()
    assert state.active(When(requires=["a"]), 100).tolist() == a.tolist()  # no until_round: open-ended
    assert state.active(When(unless=["a", "c"]), 0).tolist() == (~a & ~c).tolist()
    assert state.active(When(), 7) is True


def test_an_event_fires_only_inside_its_window():
    summit = {"id": "summit", "hazard": 1.0, "when": {"from_round": 3, "until_round": 5, "requires": ["invited"]}}
    state = world([summit], flags={"invited": False}, runs=10)
    state.flags[:5, state.flag("invited")] = True
    play(state, range(1, 9))
    assert state.first_round[:, 0].tolist() == [3] * 5 + [-1] * 5


# ------------------------------------------------------------------ triggers
def test_a_scheduled_event_happens_at_its_round_with_its_probability():
    n = 20_000
    state = world([{"id": "vote", "at_round": 3, "probability": 0.3}], runs=n)
    drawn = play(state, range(1, 8))
    assert {r for r, _ in drawn if drawn[(r, "vote")][0].any()} == {3}
    fired = state.first_round[:, 0] == 3
    assert within(fired.mean(), 0.3, n)
    assert set(np.unique(state.first_round[:, 0])) == {-1, 3}
    assert state.count[:, 0].tolist() == fired.astype(int).tolist()


def test_a_hazard_fires_at_most_once_with_geometric_timing():
    n, h = 20_000, 0.2
    state = world([{"id": "found", "hazard": h}], runs=n)
    play(state, range(1, 11))
    first = state.first_round[:, 0]
    assert state.count[:, 0].max() == 1
    assert ((state.count[:, 0] == 1) == (first >= 0)).all()
    for k in (1, 3, 10):
        assert within(((first >= 1) & (first <= k)).mean(), 1 - (1 - h) ** k, n), k
    assert first.min() == -1 and first.max() == 10


def test_a_boost_multiplies_the_hazard_where_its_flag_is_set_and_caps_it_at_one():
    n = 20_000
    found = {"id": "found", "hazard": 0.1, "boost": {"searching": 3}}
    sure = {"id": "sure", "hazard": 0.5, "boost": {"searching": 4}}
    state = world([found, sure], flags={"searching": False}, runs=n)
    searching = np.arange(n) % 2 == 0
    state.flags[:, state.flag("searching")] = searching
    play(state, [1])
    hit = state.first_round[:, 0] == 1
    assert within(hit[searching].mean(), 0.3, n // 2) and within(hit[~searching].mean(), 0.1, n // 2)
    sure_hit = state.first_round[:, 1] == 1
    assert sure_hit[searching].all() and within(sure_hit[~searching].mean(), 0.5, n // 2)


def test_a_rate_event_recurs_with_poisson_counts():
    n, rate, rounds = 20_000, 0.5, 4
    state = world([{"id": "incident", "rate": rate}], runs=n)
    play(state, range(1, rounds + 1))
    count, first = state.count[:, 0], state.first_round[:, 0]
    mean = rate * rounds
    assert abs(count.mean() - mean) < 5 * np.sqrt(mean / n)
    assert abs(count.var() - mean) < 0.1 * mean  # Poisson: variance equals mean
    assert count.max() > rounds  # several occurrences in one round
    assert within((first == 1).mean(), 1 - np.exp(-rate), n)
    assert ((count > 0) == (first >= 0)).all()


def test_collapse_needs_the_event_and_a_run_still_negotiating():
    n = 400
    certain = {"id": "raid", "rate": 1.0, "collapse": 1.0}
    harmless = {"id": "protest", "rate": 1.0}
    state = world([certain, harmless], runs=n)
    negotiating = np.arange(n) % 3 != 0
    drawn = play(state, [1], negotiating=negotiating)
    fired, collapsed = drawn[(1, "raid")]
    assert 0 < fired.mean() < 1
    assert collapsed.tolist() == (fired & negotiating).tolist()
    assert not drawn[(1, "protest")][1].any()


def test_each_occurrence_may_collapse_the_truce():
    n, c = 40_000, 0.3
    state = world([{"id": "raid", "rate": 1.5, "collapse": c}], runs=n)
    fired, collapsed = play(state, [1])[(1, "raid")]
    k = state.count[:, 0]
    for occurrences in (1, 2, 3):
        runs = k == occurrences
        assert within(collapsed[runs].mean(), 1 - (1 - c) ** occurrences, int(runs.sum())), occurrences
    assert not collapsed[~fired].any()


def test_runs_not_live_draw_no_events():
    state = world([{"id": "raid", "rate": 3.0}, {"id": "vote", "at_round": 1}], runs=10)
    live = np.arange(10) < 4
    play(state, [1, 2], live=live)
    assert (state.count[~live] == 0).all() and (state.first_round[~live] == -1).all()
    assert (state.count[live] > 0).all()


# ------------------------------------------------------------------ milestones
def test_a_milestone_happens_only_after_the_transition_flag_is_set():
    committee = {"id": "committee", "hazard": 1.0, "milestone": True, "effects": {"set": ["governing"]}}
    state = world([committee], runs=10)
    assert play(state, [1, 2]) == {}  # no run has a transition: nothing is even drawn
    declared = np.arange(10) % 3 == 0
    state.flags[:, state.flag("transition")] = declared
    play(state, [3])
    assert state.first_round[:, 0].tolist() == np.where(declared, 3, -1).tolist()
    assert flag(state, "governing").tolist() == declared.tolist()


# ------------------------------------------------------------------ draws keyed by run
EVENTS = [
    {"id": "found", "hazard": 0.15, "boost": {"searching": 2}},
    {"id": "incident", "rate": 0.4, "collapse": 0.2},
    {"id": "vote", "at_round": 4, "probability": 0.5, "effects": {"set": ["searching"]}},
]


def history(run_ids, seed=SEED) -> dict[str, np.ndarray]:
    """Twelve rounds of EVENTS for ``run_ids``: every record, one row per run, rows in run order."""
    state = world(EVENTS, run_ids=run_ids, seed=seed)
    rounds = range(1, 13)
    drawn = play(state, rounds, seed=seed)
    none = np.zeros(len(state.run_ids), dtype=bool)
    collapsed = np.stack([drawn.get((r, "incident"), (none, none))[1] for r in rounds], axis=1)
    order = np.argsort(state.run_ids)
    records = {"first": state.first_round, "count": state.count, "flags": state.flags, "collapsed": collapsed}
    return {k: v[order] for k, v in records.items()}


def test_a_runs_events_do_not_depend_on_its_block():
    whole = history(np.arange(300))
    assert whole["count"][:, 1].sum() > 100 and whole["collapsed"].any() and whole["flags"].any()
    shuffled = np.random.default_rng(5).permutation(300)[:100]
    for block in (np.arange(100, 200), shuffled, np.array([150])):
        part = history(block)
        for key, records in whole.items():
            np.testing.assert_array_equal(records[np.sort(block)], part[key], err_msg=key)


def test_another_seed_gives_other_events():
    ids = np.arange(2000)
    first, other = history(ids)["first"], history(ids, seed=SEED + 1)["first"]
    assert (first != other).any(axis=1).mean() > 0.3
