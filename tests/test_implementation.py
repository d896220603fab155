"""Implementation as its own process: milestones against timetables and deadlines, extensions, partial compliance,
monitors whose reports are disputed, missed deadlines that collapse the ceasefire, and renewable agreements a party
leaves. Each test contrasts a case where what it pins happens with one where it cannot."""

from pathlib import Path

import numpy as np
import pytest
from helpers import actor, scenario

import sim
from sim.analysis.summary_text import summary_text
from sim.briefing.assumptions import assumptions
from sim.briefing.document import Table
from sim.briefing.report import key_numbers_section
from sim.briefing.wording import day, pct
from sim.engine.columns import DONE, EXTENDED, MILESTONE_STATUSES, MISSED, PARTIAL, PENDING
from sim.scenario.errors import ScenarioError

EXAMPLE = Path(__file__).parent.parent / "scenarios" / "examples" / "withdrawal_deadline.yaml"
AGREED = 2  # the round the issue is agreed in every run of :func:`agreed_soon`
RUNS = 400


def agreed_soon(milestones, horizon=30, **sections):
    """Two principals 20 apart who concede within two rounds: issue ``a`` is agreed in round 2 of every run."""
    conceding = {"strategy": "linear", "deadline": 2}
    principals = [
        actor("p", {"a": 40}, {"a": 1}, reservation=0.0, concession=conceding),
        actor("q", {"a": 60}, {"a": 1}, reservation=0.0, concession=conceding, budget=1.0),
    ]
    return scenario(actors=principals, horizon=horizon, milestones=milestones, **sections)


def played(spec, runs=RUNS, seed=3):
    return sim.run_table(sim.simulate(spec, runs=runs, seed=seed))


def milestone(**fields):
    return {"id": "w", "label": "withdrawal", "issues": ["a"], **fields}


def test_nothing_before_its_earliest_round():
    """The old constant hazard did a step a timetable rules out before round 10 in its first rounds; not now."""
    before = played(agreed_soon([milestone(hazard=0.3)]))["milestone.w.round"]
    assert (before.between(0, 9)).mean() > 0.2 and AGREED < before[before >= 0].min() < 10
    after = played(agreed_soon([milestone(hazard=0.3, earliest=10)]))["milestone.w.round"]
    assert after[after >= 0].min() == 10 and (after >= 10).mean() > 0.9 and not after.between(0, 9).any()


def test_deadline_counts_from_the_agreement_and_status_is_recorded():
    runs = played(agreed_soon([milestone(hazard=0.3, deadline=4)]))
    status, when = runs["milestone.w.status"], runs["milestone.w.round"]
    assert set(status) == {DONE, MISSED}
    assert (runs["milestone.w.due"] == AGREED + 4).all()
    assert (when[status == DONE] <= AGREED + 4).all() and (when[status == MISSED] == -1).all()
    assert abs((status == MISSED).mean() - 0.7**4) < 0.07  # four chances at 0.3 after the agreement
    no_deadline = played(agreed_soon([milestone(hazard=0.3)]))
    assert "milestone.w.status" not in no_deadline and "milestone.w.due" not in no_deadline


def test_an_extension_granted_then_the_milestone_done():
    extensions = {"by": ["q"], "rounds": 5, "probability": 1.0, "cost": {"pressure": {"p": 0.2}}}
    runs = played(agreed_soon([milestone(hazard=0.2, deadline=3, extensions=extensions)]))
    status, when, due = runs["milestone.w.status"], runs["milestone.w.round"], runs["milestone.w.due"]
    extended = status == EXTENDED
    assert extended.mean() > 0.2
    assert ((when[extended] > AGREED + 3) & (when[extended] <= AGREED + 8)).all()
    assert (due[extended] == AGREED + 8).all() and (due[status == DONE] == AGREED + 3).all()
    assert (runs["pressure.p"][extended] > 0).all() and (runs["pressure.p"][status == DONE] == 0).all()
    refused = played(agreed_soon([milestone(hazard=0.2, deadline=3, extensions={**extensions, "probability": 0})]))
    assert EXTENDED not in set(refused["milestone.w.status"])
    unpaid = played(agreed_soon([milestone(hazard=0.2, deadline=3, extensions={**extensions, "capital": 2.0})]))
    assert EXTENDED not in set(unpaid["milestone.w.status"])  # q's budget (1) cannot pay for one


@pytest.mark.parametrize("counts", [True, False])
def test_a_partial_milestone_counted_or_not(counts):
    """Never done in full: by its deadline a share is done, which counts as carried out only if the scenario says."""
    fields = {"hazard": 0.0, "deadline": 3, "partial": 0.6, "partial_counts": counts}
    consequence = {"on_missed": {"effects": {"pressure": {"q": 0.3}}}}
    spec = agreed_soon([milestone(**fields, **consequence), {"id": "next", "issues": ["a"], "hazard": 1.0,
                                                              "requires": ["w"]}])  # fmt: skip
    runs = played(spec, runs=50)
    assert (runs["milestone.w.status"] == PARTIAL).all()
    if counts:
        assert (runs["milestone.w.round"] == AGREED + 3).all() and (runs["milestone.next.round"] == AGREED + 4).all()
        assert (runs["pressure.q"] == 0).all()
    else:
        assert (runs["milestone.w.round"] == -1).all() and (runs["milestone.next.round"] == -1).all()
        assert (runs["pressure.q"] > 0).all()


def test_a_collapse_after_a_missed_deadline():
    missed = {"hazard": 0.0, "deadline": 3, "on_missed": {"collapse": 1.0}}
    runs = played(agreed_soon([milestone(**missed)]))
    assert (runs["milestone.w.status"] == MISSED).all() and (runs["outcome"] == "declared").all()
    assert (runs["collapse_round"] == AGREED + 3).all() and (runs["collapse_cause"] == "w_missed").all()
    partly = played(agreed_soon([milestone(**missed, partial=0.75)]))  # collapse scaled by the share not done
    assert abs((partly["collapse_cause"] == "w_missed").mean() - 0.25) < 0.07
    kept = played(agreed_soon([milestone(hazard=0.0, deadline=3)]))
    assert (kept["collapse_round"] == -1).all()


def test_a_monitor_disputes_reports():
    base = {"hazard": 0.5, "deadline": 6, "monitor": "q"}
    undisputed = played(agreed_soon([milestone(**base)]))
    delayed = played(agreed_soon([milestone(**base, dispute=0.5)]))
    never = played(agreed_soon([milestone(**base, dispute=1.0)]))
    assert (never["milestone.w.round"] == -1).all() and (never["milestone.w.status"] == MISSED).all()
    done = lambda runs: runs["milestone.w.round"][runs["milestone.w.round"] >= 0]
    assert done(delayed).mean() > done(undisputed).mean() + 0.5
    missed = played(agreed_soon([milestone(**base, dispute=0.5, disputed="missed")]))
    status, when = missed["milestone.w.status"], missed["milestone.w.round"]
    assert 0.3 < (status == MISSED).mean() < 0.7 and (when[status == MISSED] == -1).all()


def test_sequencing_unilateral_steps_and_flags_that_follow():
    """A step one party takes alone opens at round 0; a step that requires it follows it; an event and a phase's
    precondition wait for its flag."""
    steps = [
        {"id": "first", "issues": ["a"], "hazard": 0.3, "unilateral": True},
        {"id": "then", "issues": ["a"], "hazard": 1.0, "requires": ["first"]},
    ]
    events = [{"id": "talks", "hazard": 1.0, "when": {"requires": ["done_first"]}}]
    runs = played(agreed_soon(steps, events=events))
    first, then = runs["milestone.first.round"], runs["milestone.then.round"]
    assert (first >= 1).all() and (first < AGREED).mean() > 0.2  # before any agreement
    assert (then == np.maximum(first, AGREED) + 1).all()
    assert (runs["event.talks.round"] == first + 1).all()


def test_a_party_leaves_a_renewable_agreement():
    renewal = {"id": "mandate", "at_round": 3, "every": 4, "probability": 0.0, "leave": {"q": 0.3}}
    runs = played(agreed_soon([], expiries=[renewal]))
    left = runs["collapse_cause"] == "mandate"
    assert set(runs["collapse_round"][left]) <= {3, 7, 11, 15, 19, 23, 27} and (runs["collapse_round"][left] > 3).any()
    assert (runs["expiry.mandate.left"][left] == "q").all() and (runs["expiry.mandate.left"][~left] == "").all()
    assert abs(left.mean() - (1 - 0.7**7)) < 0.07  # seven renewals by the horizon
    stays = played(agreed_soon([], expiries=[{**renewal, "leave": {}}]))
    assert (stays["collapse_round"] == -1).all() and "expiry.mandate.left" not in stays


@pytest.mark.parametrize(
    ("fields", "path", "says"),
    [
        ({"extensions": {"by": ["q"], "rounds": 2}}, "milestones.w.extensions", "needs a deadline"),
        ({"deadline": 3, "dispute": 0.2}, "milestones.w.dispute", "only with a monitor"),
        ({"requires": ["w"]}, "milestones.w.requires", "wait on itself"),
        ({"requires": ["wx"]}, "milestones.w.requires.0", "unknown milestone 'wx'"),
        ({"deadline": 3, "monitor": "nobody"}, "milestones.w.monitor", "unknown actor 'nobody'"),
    ],
)
def test_bad_milestones_are_refused(fields, path, says):
    with pytest.raises(ScenarioError) as error:
        agreed_soon([milestone(hazard=0.3, **fields)])
    assert path in str(error.value) and says in str(error.value)


def test_statuses_code_their_labels():
    assert [MILESTONE_STATUSES[c] for c in (PENDING, DONE, PARTIAL, EXTENDED, MISSED)] == [
        "pending", "done", "partial", "extended", "missed"
    ]  # fmt: skip


def test_the_example_reports_each_ending_with_its_date():
    """The example's withdrawal ends done, extended or partial, its deployment done or missed; the summary counts
    each with its median round, and the text and the report print them."""
    spec = sim.load_scenario(EXAMPLE)
    runs = played(spec, runs=600, seed=5)
    summary = sim.summarize(runs, {"seed": 5}, spec)
    found = {m["milestone"]: m["status"] for m in summary["milestones"]}
    for mid, endings in (("withdrawal", ("done", "extended", "partial")), ("deployment", ("done", "missed"))):
        status = runs[f"milestone.{mid}.status"].map(dict(enumerate(MILESTONE_STATUSES)))
        assert sum(p["k"] for p in found[mid].values()) == len(runs)
        for label in endings:
            hit = (status == label).to_numpy()
            assert found[mid][label]["k"] == hit.sum() > 0
            ended = np.where(
                runs[f"milestone.{mid}.round"] >= 0, runs[f"milestone.{mid}.round"], runs[f"milestone.{mid}.due"]
            )
            assert found[mid][label]["rounds"]["median"] == np.quantile(ended[hit], 0.5, method="inverted_cdf")
    extended = found["withdrawal"]["extended"]
    assert f"extended (median round {extended['rounds']['median']:g})" in summary_text(summary)
    tables = [x for x in key_numbers_section(spec, summary) if isinstance(x, Table) and "Ended" in x.header]
    rows = {(r[0], r[1]): r for r in tables[0].rows}
    row = rows[("withdrawal completed", "extended")]
    assert row[2] == pct(extended["p"]) and row[4] == day(extended["rounds"]["median_date"])
    listed = next(x for x in assumptions(spec) if isinstance(x, Table) and x.header[0] == "Milestone")
    follows = dict(r[:2] for r in listed.rows)
    assert (
        "due 8 rounds after\nup to 1 extension(s) of 4 rounds by Mediator, Host state"
        in follows["withdrawal completed\n(withdrawal)"]
    )


def test_a_deadline_resumed_as_of_a_later_round_counts_from_the_agreement():
    as_of = {"round": 3, "talks_opened": 1, "declared": {"agreement": 2}, "agreed": {"a": {"value": 50, "round": 2}}}
    runs = played(agreed_soon([milestone(hazard=0.0, deadline=3)], as_of=as_of), runs=20)
    assert (runs["milestone.w.due"] == 5).all() and (runs["milestone.w.status"] == MISSED).all()
    steps = [milestone(hazard=0.5), {"id": "then", "issues": ["a"], "hazard": 0.5, "requires": ["w"]}]
    with pytest.raises(ScenarioError, match="before 'w' was done"):
        agreed_soon(steps, as_of={**as_of, "milestones": {"then": 3}})


def test_a_missed_deadline_adds_to_the_breakdown_hazard():
    late = played(agreed_soon([milestone(hazard=0.0, deadline=3, on_missed={"hazard": 0.2})]))
    collapsed = late["collapse_round"] >= 0
    assert (late["collapse_cause"][collapsed] == "breakdown").all() and (late["collapse_round"][collapsed] > 5).all()
    assert abs(collapsed.mean() - (1 - 0.8**25)) < 0.05  # rounds 6 to 30
    assert (played(agreed_soon([milestone(hazard=0.0, deadline=3)]))["collapse_round"] == -1).all()
