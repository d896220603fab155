"""The forecast record: ``negsim run --forecast-log`` files forecasts; ``negsim score`` reads them; ``negsim compare``
says which changed assumptions or events moved the numbers between two of them."""

from __future__ import annotations

import json
import multiprocessing
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis import attribution
from sim.analysis import forecast_log as log
from sim.analysis import score as scoring
from sim.analysis.summary import probabilities
from sim.batch.errors import ResultsError
from sim.batch.runner import run_batch
from sim.scenario.edit import changed
from sim.scenario.loader import dump, load, validate
from sim.scenario.observed import load_observed

ROOT = Path(__file__).resolve().parents[1]
NEGSIM = Path(sys.executable).with_name("negsim")
CASE = ROOT / "scenarios" / "reference" / "gaza_2025_01.yaml"
OBSERVED = ROOT / "observed" / "gaza_2025_01.yaml"
RUNS = 600
QUESTION = "Does phase two of the January 2025 ceasefire begin?"
# A later view of the January 2025 case: the war less likely to resume at phase one's expiry, more US pressure, a
# summit, and an event that needs the summit's flag (so it cannot be made alone), a relabelled issue and a new basis
# (no numbers move).
LATER = f"""\
extends: {CASE}
issues:
  - id: hostages
    label: The remaining living hostages
expiries:
  - id: phase_one_expires
    probability: {{dist: uniform, low: 0.1, high: 0.5}}
    basis: {{probability: "assumption: a later reading"}}
events:
  - id: summit
    label: a summit in Washington
    at_round: 3
    probability: 0.5
    effects: {{set: [summit_held]}}
  - id: summit_incident
    label: an incident after the summit
    rate: 0.2
    when: {{requires: [summit_held]}}
    collapse: 0.05
leverage:
  - id: us_on_israel
    strength: {{dist: uniform, low: 0.01, high: 0.04}}
"""


def negsim(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEGSIM), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """Two forecasts of one question filed by ``negsim run``: the case as built, then the later view."""
    base = tmp_path_factory.mktemp("log")
    later = base / "later.yaml"
    later.write_text(LATER)
    path = base / "forecasts.jsonl"
    folders = [base / "earlier-run", base / "later-run"]
    for scenario, folder in zip((CASE, later), folders, strict=True):
        done = negsim(
            "run", scenario, "--runs", RUNS, "--out", folder, "--quiet", "--forecast-log", path, "--question", QUESTION
        )
        assert done.returncode == 0, done.stderr
        assert f"forecast filed in {path}" in done.stdout
    return path, folders, later


def test_run_files_the_headline_probabilities_with_hash_seed_runs_and_date(logged):
    path, folders, _ = logged
    entries, skipped = log.read(path)
    assert not skipped and [e["line"] for e in entries] == [1, 2]
    for e, folder in zip(entries, folders, strict=True):
        summary = json.loads((folder / "summary.json").read_text())
        meta = json.loads((folder / "meta.json").read_text())
        assert e["question"] == QUESTION and e["runs"] == RUNS and e["seed"] == meta["seed"] == 20250119
        assert e["scenario_hash"] == meta["scenario_hash"]
        for outcome, p in e["probabilities"].items():
            assert p == pytest.approx({k: summary["probabilities"][outcome][k] for k in ("p", "low", "high")})
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", e["filed"])
        assert validate(yaml.safe_load(e["scenario_yaml"])).meta.name == summary["scenario"]
    assert entries[0]["scenario_hash"] != entries[1]["scenario_hash"]


def test_score_reads_the_log_as_it_reads_the_folders(logged):
    path, folders, _ = logged
    observed = load_observed(OBSERVED)
    entries, _ = log.read(path)
    for e, folder in zip(entries, folders, strict=True):
        from_log = scoring.score(log.forecast(path, e), observed).drop(columns="forecast")
        from_folder = scoring.score(scoring.from_folder(folder), observed).drop(columns="forecast")
        assert from_log.equals(from_folder)
    # the observed file's question is the case's scenario name: the log's forecasts were filed under another
    done = negsim("score", "--forecast-log", path, "--observed", OBSERVED)
    assert done.returncode == 2 and f"no forecast of {observed.question!r}" in done.stderr
    assert repr(QUESTION) in done.stderr


def test_score_with_the_log_scores_each_forecast_of_the_question(logged, tmp_path):
    path, _, _ = logged
    data = yaml.safe_load(OBSERVED.read_text())
    data["question"] = QUESTION
    (tmp_path / "ceasefires.yaml").write_text((ROOT / "observed" / "ceasefires.yaml").read_text())
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(data))
    done = negsim("score", "--forecast-log", path, "--observed", tmp_path / "case.yaml")
    assert done.returncode == 0, done.stderr
    assert f"{path}:1 (" in done.stdout and f"{path}:2 (" in done.stdout
    assert "mean scores, pooled over 2 forecasts, 6 events" in done.stdout


def test_compare_breaks_the_difference_down_by_parameter(logged, tmp_path):
    """Each change alone moves the numbers by what playing the earlier scenario with that change alone shows;
    the changes that cannot be made alone and the interactions make up the rest of the total."""
    path, _, later = logged
    done = negsim("compare", "--forecast-log", path, "--out", tmp_path / "moved")
    assert done.returncode == 0, done.stderr
    table = json.loads((tmp_path / "moved" / "moved.json").read_text())
    rows = {r["change"]: r for r in table["rows"]}
    assert set(rows) == {
        "expiries.phase_one_expires.probability",
        "events.summit",
        "events.summit_incident",
        "leverage.us_on_israel.strength",
        "(interaction)",
        "(total)",
    }, "a relabelled issue and a new basis move no number and are not listed"
    before = yaml.safe_load(dump(load(CASE)))
    base = probabilities(run_batch(load(CASE), runs=RUNS, seed=20250119))
    changes = attribution.changes(before, yaml.safe_load(dump(load(later))))
    change = next(c for c in changes if "phase_one_expires" in c.path)
    alone = probabilities(run_batch(validate(changed(before, change.path, change.new)), runs=RUNS, seed=20250119))
    for o in ("declared", "collapse", "stalemate"):
        assert rows["expiries.phase_one_expires.probability"][f"d_{o}"] == pytest.approx(alone[o]["p"] - base[o]["p"])
        later_p = probabilities(run_batch(load(later), runs=RUNS, seed=20250119))[o]["p"]
        assert rows["(total)"][f"d_{o}"] == pytest.approx(later_p - base[o]["p"])
        parts = sum(r[f"d_{o}"] or 0 for k, r in rows.items() if k != "(total)")
        assert parts == pytest.approx(rows["(total)"][f"d_{o}"])
    hazard = rows["expiries.phase_one_expires.probability"]
    assert hazard["d_collapse"] < -0.1, "a war less likely to resume: fewer collapses"
    assert 0 < hazard["margin_collapse"] < abs(hazard["d_collapse"]) / 5, "paired runs: a narrow margin"
    assert "Monte Carlo margin (95%, paired runs)" in done.stdout
    assert rows["events.summit_incident"]["d_declared"] is None
    assert "cannot be made alone: events.summit_incident.when.requires" in rows["events.summit_incident"]["note"]
    lines = done.stdout.splitlines()
    hazard = next(x for x in lines if x.startswith("phase one ends without phase two and the war resumes: probability"))
    assert f"{rows['expiries.phase_one_expires.probability']['d_collapse']:+.3f}" in hazard
    assert "uniform(low 0.3, high 0.9) -> uniform(low 0.1, high 0.5)" in hazard
    assert any(x.startswith("events: a summit in Washington") and x.endswith("added") for x in lines)
    assert f"{RUNS:,} runs at seed 20250119 for every scenario" in done.stdout


def test_compare_by_parameter_on_two_results_folders_agrees_with_the_log(logged, tmp_path):
    path, folders, _ = logged
    for args, out in ((["--forecast-log", path], "a"), ([*folders, "--by-parameter"], "b")):
        done = negsim("compare", *args, "--out", tmp_path / out)
        assert done.returncode == 0, done.stderr
    a = json.loads((tmp_path / "a" / "moved.json").read_text())["rows"]
    b = json.loads((tmp_path / "b" / "moved.json").read_text())["rows"]
    assert a == b


@pytest.mark.parametrize("name", ["coalition_veto", "spoiler_wave", "us_pressure", "turkey_excluded_from_force"])
def test_all_changes_made_one_after_another_give_the_later_scenario(name):
    """On the baseline and its variants: the changes found, made in turn, leave nothing that moves a number."""
    before = yaml.safe_load(dump(load(ROOT / "scenarios" / "baseline.yaml")))
    after = yaml.safe_load(dump(load(ROOT / "scenarios" / f"{name}.yaml")))
    found = attribution.changes(before, after)
    assert found
    for change in found:
        before = changed(before, change.path, change.new)
    assert attribution.changes(before, after) == []
    validate(before)


def test_compare_by_parameter_on_two_scenario_files(tmp_path):
    """The baseline against its strong-US-pressure variant: US pressure after the summit moves P(declared) most."""
    done = negsim(
        "compare", "scenarios/baseline.yaml", "scenarios/us_pressure.yaml", "--by-parameter", "--runs", 1000,
        "--out", tmp_path / "moved",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "moved" / "moved.json").read_text())["rows"]
    changes = [r for r in rows if not r["change"].startswith("(")]
    assert {r["change"] for r in changes} == {
        "preconditions.remains.waiver_pressure",
        "leverage.us_on_israel_after_summit.strength",
        "events.trump_netanyahu_summit.probability",
    }
    top = max(changes, key=lambda r: r["d_declared"])
    assert top["change"] == "leverage.us_on_israel_after_summit.strength" and top["d_declared"] > 0.1
    assert "1,000 runs at seed 20251215 for every scenario" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--forecast-log", "nowhere.jsonl"], "nowhere.jsonl: no such forecast log"),
        (["--by-parameter", "scenarios/baseline.yaml"], "compares two results folders or scenario files"),
        (["--by-parameter", "scenarios/baseline.yaml", "scenarios/nowhere.yaml"], "scenarios/nowhere.yaml:0:"),
    ],
)
def test_bad_comparisons_are_one_line(args, message):
    done = negsim("compare", *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_bad_entries_are_one_line(logged, tmp_path):
    path, _, _ = logged
    done = negsim("compare", "--forecast-log", path, "--entry", 1, "--entry", 7)
    assert done.returncode == 2 and f"{path}: no forecast on line(s) 7" in done.stderr
    other = tmp_path / "other.jsonl"
    first, second = path.read_text().splitlines()
    other.write_text(first + "\n" + second.replace(json.dumps(QUESTION), '"Another question?"') + "\n")
    done = negsim("compare", "--forecast-log", other, "--entry", 1, "--entry", 2)
    assert done.returncode == 2 and "lines 1 and 2 answer different questions" in done.stderr, done.stderr
    one = tmp_path / "one.jsonl"
    one.write_text(path.read_text().splitlines()[0] + "\n")
    done = negsim("compare", "--forecast-log", one)
    assert done.returncode == 2 and "needs two forecasts of" in done.stderr and "(it has 1)" in done.stderr
    done = negsim("run", CASE, "--model", "compromise", "--forecast-log", tmp_path / "x.jsonl")
    assert done.returncode == 2 and "--forecast-log" in done.stderr and "only for --model abm" in done.stderr


# --- appending never corrupts what is there --------------------------------------------------------------------

RECORD = st.fixed_dictionaries(
    {
        "question": st.text(min_size=1, max_size=30),
        "filed": st.just("2026-01-01T00:00:00+00:00"),
        "scenario": st.text(max_size=20),
        "scenario_hash": st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
        "seed": st.integers(0, 2**63 - 1),
        "runs": st.integers(1, 10**9),
        "start_date": st.just("2025-01-19"),
        "round_days": st.integers(1, 366),
        "reached": st.dictionaries(st.sampled_from(["collapse", "declared"]), st.lists(st.integers(0, 10), max_size=5)),
    }
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORD, min_size=1, max_size=4), new=RECORD, cut=st.floats(0, 1))
def test_an_append_after_a_torn_write_keeps_every_whole_entry(tmp_path, records, new, cut):
    """A crash can leave the last line unfinished; the next append starts on a line of its own, every entry
    written whole before stays readable, and the torn line is named, not read."""
    path = tmp_path / "log.jsonl"
    path.unlink(missing_ok=True)
    for record in records:
        log.append(path, record)
    raw = path.read_bytes()
    lines = raw.split(b"\n")[:-1]
    torn = int(cut * len(lines[-1]))
    path.write_bytes(raw[: len(raw) - len(lines[-1]) - 1 + torn])  # the last entry cut short
    log.append(path, new)
    entries, skipped = log.read(path)
    kept = records[:-1] if torn < len(lines[-1]) else records
    assert [{k: e[k] for k in new} for e in entries] == [*kept, new]
    assert len(skipped) == (0 < torn < len(lines[-1]))


def _append_many(path: str, worker: int) -> None:
    for k in range(40):
        log.append(path, {"question": f"q{worker}", "filed": f"{k:04d}", **dict.fromkeys(log.REQUIRED[2:], 0)})


def test_appends_from_two_processes_at_once_are_all_whole(tmp_path):
    path = tmp_path / "log.jsonl"
    workers = [multiprocessing.get_context("fork").Process(target=_append_many, args=(path, w)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    entries, skipped = log.read(path)
    assert not skipped and len(entries) == 80
    for w in range(2):
        assert [e["filed"] for e in entries if e["question"] == f"q{w}"] == [f"{k:04d}" for k in range(40)]


def test_a_file_that_is_not_a_log_is_left_alone(tmp_path):
    other = tmp_path / "notes.yaml"
    other.write_text("case: x\n")
    with pytest.raises(ResultsError, match="not a forecast log"):
        log.append(other, {"question": "q"})
    assert other.read_text() == "case: x\n"


def test_run_refuses_a_file_that_is_not_a_log_before_running(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes\n")
    done = negsim("run", CASE, "--runs", 50, "--out", tmp_path / "out", "--forecast-log", notes)
    assert done.returncode == 2 and f"{notes}: not a forecast log" in done.stderr and "Traceback" not in done.stderr
    assert notes.read_text() == "meeting notes\n" and not (tmp_path / "out").exists()
