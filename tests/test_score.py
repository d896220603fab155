"""Scoring forecasts against what happened (``negsim score``), on the reference cases and their observed files."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scoringrules
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis import score as scoring
from sim.analysis.intervals import wilson_interval
from sim.batch.runner import load_results
from sim.scenario.errors import ScenarioError
from sim.scenario.observed import load_observed

ROOT = Path(__file__).resolve().parents[1]
NEGSIM = Path(sys.executable).with_name("negsim")
CASES = ("gaza_2025_01", "gaza_2023_11")
RUNS = 1000
PROBLEM_LINE = re.compile(r"^[^:\s]+:\d+: \S+: .+$")


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEGSIM), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600)


def observed_file(case: str) -> Path:
    return ROOT / "observed" / f"{case}.yaml"


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """The two reference cases run at RUNS runs each, through the command line."""
    base = tmp_path_factory.mktemp("score")
    out = {}
    for case in CASES:
        out[case] = base / case
        done = negsim("run", f"scenarios/reference/{case}.yaml", "--runs", RUNS, "--out", out[case], "--quiet")
        assert done.returncode == 0, done.stderr
    return out


def variant(tmp_path: Path, case: str, edit) -> Path:
    """A copy of a case's observed file (its reference class beside it) changed by ``edit(data)``."""
    data = yaml.safe_load(observed_file(case).read_text())
    edit(data)
    (tmp_path / "ceasefires.yaml").write_text((ROOT / "observed" / "ceasefires.yaml").read_text())
    path = tmp_path / f"{case}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- the scores themselves -------------------------------------------------------------------------------------


def test_scores_match_a_hand_checked_case():
    """Brier (p - y)^2 and log -ln(p or 1 - p), worked by hand; a certain miss is infinite, not clipped."""
    brier, log = scoring.losses([0.8, 0.3, 0.5, 0.0, 1.0, 0.0], [1, 0, 1, 1, 1, 0])
    assert brier == pytest.approx([0.04, 0.09, 0.25, 1.0, 0.0, 0.0])
    assert log[:3] == pytest.approx([0.22314355, 0.35667494, 0.69314718])
    assert np.isinf(log[3]) and log[3] > 0
    assert log[4] == 0 and log[5] == 0
    assert log[:3] == pytest.approx(scoringrules.log_score(np.array([1.0, 0, 1]), np.array([0.8, 0.3, 0.5])))


@given(st.floats(0, 1), st.booleans())
def test_scores_are_the_textbook_formulas(p, happened):
    brier, log = scoring.losses([p], [happened])
    assert brier[0] == pytest.approx((p - happened) ** 2)
    hit = p if happened else 1 - p
    assert (np.isinf(log[0]) and hit == 0) or log[0] == pytest.approx(-math.log(hit), rel=1e-9)


def test_base_rates_leave_the_scored_case_out():
    january = load_observed(observed_file("gaza_2025_01"))
    rates = {e.id: january.base_rate(e) for e in january.events}
    # collapse within 12 weeks: November 2023 (week 1) yes; Lebanon and 2014 no; January 2025 itself left out
    assert rates["ceasefire_collapsed"] == (1, 3, ["gaza_2023_11", "lebanon_2024_11", "gaza_2014_08"])
    assert rates["phase_two_declared"][:2] == (0, 3)
    assert rates["phase_one_completed"] == (1, 2, ["gaza_2023_11", "lebanon_2024_11"])
    november = load_observed(observed_file("gaza_2023_11"))
    rates = {e.id: november.base_rate(e) for e in november.events}
    # collapse within 2 weeks: January 2025 collapsed in week 8.3, so not within 2; none of the others did
    assert rates["fighting_resumed"] == (0, 3, ["gaza_2025_01", "lebanon_2024_11", "gaza_2014_08"])
    assert rates["truce_extended"] == (1, 2, ["gaza_2025_01", "lebanon_2024_11"])
    for observed in (january, november):
        assert all(observed.case not in observed.base_rate(e)[2] for e in observed.events)


def test_observed_files_follow_the_reference_file():
    """Every event resolves on the dates that shared/reference/ceasefires.md gives."""
    january = {e.id: e for e in load_observed(observed_file("gaza_2025_01")).events}
    assert january["ceasefire_collapsed"].happened_on == dt.date(2025, 3, 18)
    assert not january["phase_two_declared"].happened
    november = {e.id: e for e in load_observed(observed_file("gaza_2023_11")).events}
    assert november["truce_extended"].happened_on == dt.date(2023, 11, 27)
    assert november["fighting_resumed"].happened_on == dt.date(2023, 12, 1)
    assert not november["broader_deal"].happened


def test_a_folder_is_scored_on_its_own_runs(folders):
    """Each probability is the share of runs that reached the result by the event's date, counted here
    straight from the run table."""
    folder = folders["gaza_2025_01"]
    table = scoring.score(scoring.from_folder(folder), load_observed(observed_file("gaza_2025_01")))
    df = load_results(folder)
    start = dt.date(2025, 1, 19)
    columns = {"ceasefire_collapsed": "collapse_round", "phase_two_declared": "phase.phase_two.round"}
    columns["phase_one_completed"] = "event.phase_one_completed.round"
    for row in table.to_dict(orient="records"):
        rounds = df[columns[row["event"]]]
        by = (dt.date.fromisoformat(row["by"]) - start).days // 7
        k = int(((rounds >= 0) & (rounds <= by)).sum())
        assert row["p_model"] == k / RUNS
        assert (row["p_model_low"], row["p_model_high"]) == tuple(map(float, wilson_interval(k, RUNS)))
        y = row["happened"]
        assert row["brier_model"] == pytest.approx((row["p_model"] - y) ** 2)
        assert row["brier_half"] == 0.25 and row["log_half"] == pytest.approx(math.log(2))
    assert table.set_index("event").loc["ceasefire_collapsed", "p_base"] == pytest.approx(1 / 3)


def test_the_command_scores_both_reference_cases_pooled(folders):
    done = negsim(
        "score", folders["gaza_2025_01"], folders["gaza_2023_11"],
        "--observed", observed_file("gaza_2025_01"), "--observed", observed_file("gaza_2023_11"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "mean scores, pooled over 2 forecasts, 6 events" in out
    for case in CASES:  # both case files were written after their outcomes were known
        assert f"(case {case}; in-sample: its scenario was written after the outcome was known)" in out
    assert "in-sample: 6 of the 6 events are scored on cases written after their outcomes were known" in out
    tables = [scoring.score(scoring.from_folder(folders[c]), load_observed(observed_file(c))) for c in CASES]
    summary = scoring.mean_scores(pd.concat(tables, ignore_index=True)).set_index("forecaster")
    model = summary.loc["the model"]
    assert re.search(rf"the model\s+{model['brier']:.3f}\s+{model['log']:.3f}\n", out)
    assert re.search(r"50% on everything\s+0\.250\s+0\.693\n", out)
    # November 2023: no other case collapsed within 2 weeks, yet it did: the base rate's certain miss is shown
    assert re.search(r"base rate \(leave-one-out\)\s+\d\.\d{3}\s+inf\s+certain and wrong on 1: fighting_resumed", out)
    assert "reliability: needs at least 30 scored events (has 6)" in out
    for label in ("ceasefire collapsed within 12 weeks", "truce extended at least once before its four days ran out"):
        assert re.search(
            rf"{re.escape(label)}\s+yes \(on \d{{4}}-\d\d-\d\d\)\s+\d\.\d{{3}} \[\d\.\d{{3}}, \d\.\d{{3}}\]", out
        )


def test_a_certain_forecast_that_went_the_other_way_is_infinite(folders, tmp_path):
    """The January 2025 scenario rules out phase two within 8 weeks; had it happened, the log score says so."""

    def happened(data):
        event = next(e for e in data["events"] if e["id"] == "phase_two_declared")
        event.pop("not_happened_by")
        event["happened_on"] = dt.date(2025, 3, 10)

    path = variant(tmp_path, "gaza_2025_01", happened)
    table = scoring.score(scoring.from_folder(folders["gaza_2025_01"]), load_observed(path))
    row = table.set_index("event").loc["phase_two_declared"]
    assert row["p_model"] == 0 and np.isinf(row["log_model"]) and row["brier_model"] == 1
    summary = scoring.mean_scores(table).set_index("forecaster").loc["the model"]
    assert np.isinf(summary["log"]) and summary["certain_wrong_events"] == "phase_two_declared"
    done = negsim("score", folders["gaza_2025_01"], "--observed", path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"the model\s+\d\.\d{3}\s+inf\s+certain and wrong on 1: phase_two_declared", done.stdout)


def test_a_reliability_table_from_30_events(folders, tmp_path):
    """Ten forecasts of three events each: the table's bins hold all 30, each with its observed frequency."""
    pairs = [("gaza_2025_01", folders["gaza_2025_01"]), ("gaza_2023_11", folders["gaza_2023_11"])] * 5
    args = [str(f) for _, f in pairs] + [x for c, _ in pairs for x in ("--observed", str(observed_file(c)))]
    done = negsim("score", *args, "--out", tmp_path / "scored")
    assert done.returncode == 0, done.stderr
    assert "reliability of the model's probabilities" in done.stdout
    scored = pd.read_csv(tmp_path / "scored" / "score.csv")
    assert len(scored) == 30
    assert scored["resolution"].str.startswith("Large-scale fighting resumes").sum() == 5
    table = scoring.reliability(scored)
    assert table["events"].sum() == 30
    for r in table.to_dict(orient="records"):
        lo, hi = (float(x) for x in r["bin"].split("-"))
        inside = scored[(scored["p_model"] >= lo) & ((scored["p_model"] < hi) | (hi == 1.0))]
        assert r["events"] == len(inside) and r["observed"] == pytest.approx(inside["happened"].mean())
        assert re.search(rf"{r['bin']}\s+{r['events']}\s+{r['mean_p']:.3f}\s+{r['observed']:.3f}", done.stdout)
    assert scoring.reliability(scored.head(29)) is None


# --- bad input ---------------------------------------------------------------------------------------------------


def set_event(event_id: str, **fields):
    def edit(data):
        event = next(e for e in data["events"] if e["id"] == event_id)
        for key, value in fields.items():
            if value is None:
                event.pop(key, None)
            else:
                event[key] = value

    return edit


BAD = {
    "unknown key": (set_event("ceasefire_collapsed", hapened_on="2025-03-18"), "events.ceasefire_collapsed.hapened_on",
                    "unknown key (did you mean 'happened_on'?)"),
    "both outcomes": (set_event("ceasefire_collapsed", not_happened_by="2025-04-13"),
                      "events.ceasefire_collapsed.happened_on", "give either happened_on or not_happened_by"),
    "happened after by": (set_event("ceasefire_collapsed", happened_on="2025-05-01"),
                          "events.ceasefire_collapsed.happened_on", "must lie between the start date"),
    "not by before by": (set_event("phase_two_declared", not_happened_by="2025-02-01"),
                         "events.phase_two_declared.not_happened_by", "must be on or after by"),
    "bad result": (set_event("ceasefire_collapsed", result="collapsed"), "events.ceasefire_collapsed.result",
                   "'collapsed' is not one of: declared, declared:<phase>"),
    "unknown reference": (set_event("ceasefire_collapsed", reference="colapse"),
                          "events.ceasefire_collapsed.reference", "(did you mean 'collapse'?)"),
    "a class outcome both timed and yes/no": (
        lambda d: d.update(reference_class={"cases": [{"id": "gaza_2014_08", "outcomes": {"collapse": False}}]}),
        "reference_class.cases.gaza_2014_08.outcomes.collapse", "timed in case gaza_2023_11: give it so"),
    "an impossible date": (set_event("ceasefire_collapsed", by="2025-02-30"), "events.ceasefire_collapsed.by",
                           "day value is outside expected range"),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD)
def test_a_bad_observed_file_is_one_line_on_its_line(name, folders, tmp_path):
    edit, path, message = BAD[name]
    file = variant(tmp_path, "gaza_2025_01", edit)
    done = negsim("score", folders["gaza_2025_01"], "--observed", file)
    assert done.returncode == 2 and not done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert PROBLEM_LINE.match(lines[0]) and f": {path}: " in lines[0] and message in lines[0], lines[0]
    line = int(lines[0].split(":")[1])
    assert path.rpartition(".")[2] in file.read_text().splitlines()[line - 1] or name == "both outcomes"


def test_events_the_forecast_cannot_answer_are_named_on_their_lines(folders, tmp_path):
    """A result the scenario does not have, and a date past its horizon: both against the results folder."""
    edit = lambda d: (set_event("phase_two_declared", result="declared:phase_three")(d),
                      set_event("ceasefire_collapsed", by="2025-06-01")(d))  # fmt: skip
    file = variant(tmp_path, "gaza_2025_01", edit)
    done = negsim("score", folders["gaza_2025_01"], "--observed", file)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and all(PROBLEM_LINE.match(x) for x in lines), lines
    assert "events.phase_two_declared.result: " in lines[0] and "records no 'declared:phase_three'" in lines[0]
    assert "events.ceasefire_collapsed.by: after the forecast's horizon (2025-04-13)" in lines[1]
    with pytest.raises(ScenarioError):
        scoring.score(scoring.from_folder(folders["gaza_2025_01"]), load_observed(file))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--observed", "observed/gaza_2025_01.yaml"], "results folders (one per --observed file) or a --forecast-log"),
        (["results/nowhere", "--observed", "observed/nowhere.yaml"], "observed/nowhere.yaml:0: (file): file not found"),
        (["results/nowhere", "--observed", "observed/gaza_2025_01.yaml"], "results/nowhere: no such results folder"),
        (["a", "b", "--observed", "observed/gaza_2025_01.yaml"], "2 results folder(s) but 1 observed file(s)"),
        (["results/x"], "at least one --observed file"),
        (["--forecast-log", "observed/ceasefires.yaml", "--observed", "observed/gaza_2025_01.yaml"],
         "no forecast of 'Gaza ceasefire of January 2025"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line(args, message):
    done = negsim("score", *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_validate_checks_observed_files(tmp_path):
    done = negsim("validate", "--observed", observed_file("gaza_2025_01"), observed_file("gaza_2023_11"))
    assert done.returncode == 0 and done.stdout.count(": ok") == 2, done.stderr
    bad = variant(tmp_path, "gaza_2023_11", set_event("broader_deal", reference="follow_up"))
    done = negsim("validate", "--observed", bad)
    assert done.returncode == 2 and ": events.broader_deal.reference: no case of the reference class" in done.stderr
    done = negsim("validate", observed_file("gaza_2025_01"))  # read as a scenario: it is not one
    assert done.returncode == 2 and "unknown key" in done.stderr


def test_malformed_yaml_and_a_broken_results_folder(folders, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("case: gaza_2025_01\nevents: [\n")
    done = negsim("score", folders["gaza_2025_01"], "--observed", bad)
    assert done.returncode == 2 and re.match(rf"^{re.escape(str(bad))}:\d+: \(file\): invalid YAML", done.stderr)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text(json.dumps({**json.loads((folders["gaza_2025_01"] / "meta.json").read_text())}))
    done = negsim("score", broken, "--observed", observed_file("gaza_2025_01"))
    assert done.returncode == 2 and "Traceback" not in done.stderr and str(broken) in done.stderr, done.stderr
