"""Forecasting from a later state (``as_of``): a run resumed from the state an ordinary run reached
continues exactly as that run did; what is declared stays declared; an impossible state is refused
on its line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.batch.runner import run_batch
from sim.cli import app
from sim.engine.columns import column
from sim.engine.model import NegotiationModel
from sim.engine.tables import run_table
from sim.scenario.loader import load, validate
from tests.helpers import actor, uniform

ROOT = Path(__file__).resolve().parents[1]
AS_OF = ROOT / "scenarios" / "as_of_january.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
EVEN = {"a": 0.4, "b": 0.3, "c": 0.3}

# Two time-based principals, a precondition met by an event, talks opened by another, incidents that can
# collapse the ceasefire, two phases (the first defers an issue) and a milestone: every kind of state.
RESUMABLE = {
    "meta": {"name": "resumable", "start_date": "2025-12-15", "horizon": 24, "seed": 7},
    "issues": [{"id": i, "label": f"issue {i}", "low": "none", "high": "all"} for i in "abc"],
    "actors": [
        actor(
            "p",
            {"a": 10, "b": 20, "c": 0},
            EVEN,
            reservation=uniform(0.2, 0.5),
            concession={"strategy": "boulware", "exponent": uniform(0.3, 0.9), "deadline": uniform(3, 12)},
        ),
        actor(
            "q",
            {"a": 90, "b": 80, "c": 100},
            EVEN,
            reservation=uniform(0.2, 0.5),
            concession={"strategy": "linear", "deadline": uniform(3, 12)},
        ),
    ],
    "preconditions": [{"id": "ready", "actor": "p", "flag": "found"}],
    "phases": [
        {"id": "one", "gate": {"consent": ["p", "q"], "settle": ["a"], "defer": ["b"]}},
        {"id": "two", "gate": {"consent": ["p", "q"], "settle": ["c"], "after": "one", "preconditions": []}},
    ],
    "world": {"flags": {"found": False, "open": False}},
    "events": [
        {"id": "opening", "hazard": 0.4, "effects": {"set": ["open"]}},
        {"id": "search", "hazard": 0.25, "effects": {"set": ["found"]}},
        {"id": "incident", "rate": 0.3, "collapse": 0.04},
    ],
    "milestones": [{"id": "built", "issues": ["a"], "phase": "one", "hazard": 0.3}],
    "risk": {"hazard": 0.005, "stall_after": 3, "stall_growth": 0.2, "stall_cap": 3, "agreement_factor": 0.8},
    "protocol": {"rule": "nash", "opens_when": {"requires": ["open"]}},
}


def state_after(spec, rounds: int, runs: int):
    """A model of ``runs`` runs played ``rounds`` rounds, and the round the talks opened in each (-1: not yet)."""
    model = NegotiationModel(spec, range(runs))
    opened = np.full(runs, -1)
    for t in range(1, rounds + 1):
        model.step()
        opened = np.where((opened < 0) & model.talks_open, t, opened)
    return model, opened


def as_of_of(model, opened, r: int, played: int) -> dict:
    """The ``as_of`` section describing run ``r`` of ``model`` after ``played`` rounds."""
    spec, world = model.spec, model.world
    flag_names = [f for f in world.flag_names if f not in ("talks_open", "stalled", "collapsed")]
    flags = {f: bool(world.flags[r, world.flag(f)]) for f in flag_names if f in spec.world.flags}
    events = {
        e.id: {"round": int(world.first_round[r, j]), "count": int(world.count[r, j])}
        for j, e in enumerate(spec.events)
        if world.first_round[r, j] >= 0
    }
    met = {
        p.id: {"met": int(model.precondition_met[r, j])}
        for j, p in enumerate(spec.preconditions)
        if model.precondition_met[r, j] >= 0
    }
    declared = {
        ph.id: int(model.declared_round[r, h]) for h, ph in enumerate(model.phases) if model.declared_round[r, h] >= 0
    }
    consented = {
        ph.id: int(model.consented_round[r, h]) for h, ph in enumerate(model.phases) if model.consented_round[r, h] >= 0
    }
    agreed = {
        i: {"round": int(model.agreed_round[r, k]), "value": float(model.agreed_value[r, k])}
        for k, i in enumerate(spec.issue_ids())
        if model.agreed_round[r, k] >= 0
    }
    done = {
        m.id: int(model.milestone_round[r, k])
        for k, m in enumerate(spec.milestones)
        if model.milestone_round[r, k] >= 0
    }
    out = {
        "round": played,
        "flags": flags,
        "events": events,
        "preconditions": met,
        "declared": declared,
        "consented": consented,
        "agreed": agreed,
        "milestones": done,
    }
    if opened[r] >= 0:
        out["talks_opened"] = int(opened[r])
    return out


@pytest.mark.parametrize("played", [3, 8, 12])
def test_resuming_from_the_state_a_run_reached_continues_that_run(played):
    """Run by run: the state an ordinary run reached after ``played`` rounds, given as ``as_of``, plays on to
    exactly the same results (every column: outcome, rounds, values agreed, events, reasons)."""
    spec = validate(copy.deepcopy(RESUMABLE))
    runs = 120
    full = run_table(NegotiationModel(spec, range(runs)).run())
    model, opened = state_after(spec, played, runs)
    live = np.flatnonzero(model.live)
    kinds = {"declared": 0, "open": 0}
    for r in live:
        data = copy.deepcopy(RESUMABLE)
        data["as_of"] = as_of_of(model, opened, r, played)
        kinds["declared"] += bool(data["as_of"]["declared"])
        kinds["open"] += "talks_opened" in data["as_of"]
        resumed = run_table(NegotiationModel(validate(data), [r]).run())
        pd.testing.assert_frame_equal(
            resumed.reset_index(drop=True),
            full.iloc[[r]].reset_index(drop=True),
            check_categorical=False,
            obj=f"run {r} resumed after round {played}",
        )
    assert len(live) > 60 and kinds["open"] > 20  # the check covers many states
    if played >= 8:
        assert kinds["declared"] > 5


def test_a_phase_declared_already_stays_declared_and_counts_from_the_start():
    data = copy.deepcopy(RESUMABLE)
    data["as_of"] = {
        "round": 5,
        "talks_opened": 1,
        "flags": {"found": True, "open": True},
        "events": {"opening": {"round": 1}, "search": {"round": 2}},
        "preconditions": {"ready": {"met": 2}},
        "declared": {"one": 4},
        "agreed": {"a": {"round": 4, "value": 55.0}},
    }
    df = run_batch(validate(data), runs=400)
    assert (df[column("phase_round", "one")] == 4).all()
    assert (df["outcome"] == "declared").all() and (df["round"] == 4).all()
    assert (df[column("agreed_value", "a")] == 55.0).all()
    assert df["date"].eq(pd.Timestamp("2025-12-15") + pd.Timedelta(days=28)).all()  # round 4 from the start
    later = df[column("agreed_round", "b")]
    assert (later[later >= 0] > 5).all() and (later >= 0).mean() > 0.2  # the deferred issue goes on from round 6
    assert (df[column("phase_round", "two")].pipe(lambda s: s[s >= 0]) > 5).all()
    assert (df["collapse_round"].pipe(lambda s: s[s >= 0]) > 5).all()


def test_the_january_variant_starts_where_its_file_says():
    spec = load(AS_OF)
    assert spec.start_round == 3 and spec.meta.date_of(3).isoformat() == "2026-01-05"
    df = run_batch(spec, runs=1000, seed=1)
    assert (df["round"] > 3).all()
    assert (df[column("event_round", "trump_netanyahu_summit")] == 2).all()
    assert (df[column("event_round", "us_israel_understandings")] == 3).all()
    assert (df[column("event_count", "us_israel_understandings")] == 1).all()  # it does not happen again
    assert (df["reason"] != "talks never opened").all() and (df[column("precondition", "remains")] != "met").any()


def write(tmp_path, as_of: dict, base: Path = BASELINE) -> Path:
    path = tmp_path / "state.yaml"
    path.write_text(yaml.safe_dump({"extends": str(base), "meta": {"name": "state"}, "as_of": as_of}))
    return path


OPEN = {"round": 8, "talks_opened": 3, "events": {"trump_netanyahu_summit": {"round": 2}}}
BAD = [  # (a scenario without as_of plays from round 1 as it always has: tests/test_golden.py pins that)
    ({"round": 0}, "as_of.round", "greater than or equal to 1"),
    ({"round": 26}, "as_of.round", "round 26 is not before the horizon (26)"),
    ({"date": "2026-01-07"}, "as_of.date", "falls between rounds 3 (2026-01-05) and 4 (2026-01-12)"),
    ({"date": "2025-12-01"}, "as_of.date", "is before the scenario's start"),
    ({"round": 4, "date": "2026-01-12"}, "as_of", "give exactly one of round, date"),
    (
        {**OPEN, "flags": {"remains_recoverd": True}},
        "as_of.flags.remains_recoverd",
        "unknown flag 'remains_recoverd' (did you mean 'remains_recovered'?)",
    ),
    ({**OPEN, "flags": {"talks_open": True}}, "as_of.flags.talks_open", "set by the engine: give as_of.talks_opened"),
    ({**OPEN, "flags": {"collapsed": True}}, "as_of.flags.collapsed", "nothing left to forecast"),
    ({**OPEN, "events": {"summit": {"round": 2}}}, "as_of.events.summit", "unknown event 'summit'"),
    (
        {**OPEN, "events": {"trump_netanyahu_summit": {"round": 9}}},
        "as_of.events.trump_netanyahu_summit.round",
        "round 9 is after the last round played (8)",
    ),
    (
        {**OPEN, "events": {"trump_netanyahu_summit": {"round": 2, "count": 2}}},
        "as_of.events.trump_netanyahu_summit.count",
        "it happens once (only an event with a rate repeats)",
    ),
    (
        {**OPEN, "preconditions": {"remains": {"met": 5}}},
        "as_of.preconditions.remains.met",
        "its flag 'remains_recovered' is not set",
    ),
    (
        {**OPEN, "preconditions": {"remains": {"waived": 2}}},
        "as_of.preconditions.remains.waived",
        "cannot be waived before round 3",
    ),
    ({**OPEN, "flags": {"remains_recovered": True}}, "as_of.preconditions", "say when precondition 'remains' was met"),
    ({**OPEN, "declared": {"phase_three": 5}}, "as_of.declared.phase_three", "unknown phase 'phase_three'"),
    (
        {
            **OPEN,
            "declared": {"phase_two": 6},
            "preconditions": {"remains": {"waived": 5}},
            "agreed": {"governance": {"round": 6, "value": 70}},
        },
        "as_of.declared.phase_two",
        "its gate settles force: give it in as_of.agreed",
    ),
    (
        {
            **OPEN,
            "declared": {"phase_two": 6},
            "agreed": {"governance": {"round": 6, "value": 70}, "force": {"round": 6, "value": 60}},
        },
        "as_of.declared.phase_two",
        "precondition 'remains' was neither met nor waived by then",
    ),
    (
        {**OPEN, "declared": {"phase_two": 2}, "preconditions": {"remains": {"waived": 2}}},
        "as_of.declared.phase_two",
        "before the talks opened",
    ),
    (
        {**OPEN, "agreed": {"weapons": {"round": 5, "value": 60}}},
        "as_of.agreed.weapons.round",
        "no phase had it on the table then",
    ),
    (
        {**OPEN, "agreed": {"weapons": {"round": 5, "value": 160}}},
        "as_of.agreed.weapons.value",
        "must lie in [0, 100] (got 160)",
    ),
    (
        {**OPEN, "agreed": {"wepons": {"round": 5, "value": 60}}},
        "as_of.agreed.wepons",
        "unknown issue 'wepons' (did you mean 'weapons'?)",
    ),
    (
        {**OPEN, "milestones": {"committee_governing": 7}},
        "as_of.milestones.committee_governing",
        "before governance was agreed",
    ),
    ({**OPEN, "pressure": {"isreal": 0.1}}, "as_of.pressure.isreal", "unknown actor 'isreal'"),
    ({**OPEN, "talks_opened": 9}, "as_of.talks_opened", "round 9 is after the last round played (8)"),
]


@pytest.mark.parametrize("as_of, path, message", BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_an_impossible_state_is_refused_on_its_line(tmp_path, as_of, path, message):
    file = write(tmp_path, as_of)
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    hit = [line for line in lines if f": {path}: " in line and message in line]
    assert hit, lines
    assert all(line.startswith(f"{file}:") and ": " in line for line in lines)
    assert "Traceback" not in result.output


def test_a_state_that_every_check_accepts(tmp_path):
    as_of = {
        **OPEN,
        "flags": {"remains_recovered": True},
        "preconditions": {"remains": {"met": 5}},
        "events": {"trump_netanyahu_summit": {"round": 2}, "remains_recovered": {"round": 5}},
        "declared": {"phase_two": 7},
        "agreed": {"governance": {"round": 7, "value": 72}, "force": {"round": 7, "value": 60}},
    }
    spec = load(write(tmp_path, as_of))
    df = run_batch(spec, runs=300, seed=2)
    assert (df["outcome"] == "declared").all()
    assert (df[column("milestone_round", "committee_governing")].pipe(lambda s: s[s >= 0]) > 8).all()
    assert (df[column("event_count", "remains_recovered")] == 1).all()


def test_the_summary_says_where_play_resumed(tmp_path):
    result = CliRunner().invoke(app, ["run", str(AS_OF), "--runs", "300", "--out", str(tmp_path / "r"), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == ("as of round 3 (2026-01-05): play resumes in round 4; rounds count from 2025-12-15, "
                        "as in a run from the start")  # fmt: skip
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["as_of"] == {"round": 3, "date": "2026-01-05", "start": "2025-12-15"}
    assert summary["declaration_round"]["q1"] > 3
