"""The installed ``negsim`` command end to end, on real files, as a user types it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from helpers import assert_image

from sim.batch.runner import load_results

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "scenarios/baseline.yaml"
NEGSIM = Path(sys.executable).with_name("negsim")
RUNS = 800
FIGURES = ("outcomes", "declaration_curve", "agreements", "mechanisms", "blocking", "packages", "positions")
OUTCOME_ROW = re.compile(r"^(declared|collapse|stalemate)\s+(\d\.\d{3})\s+\[(\d\.\d{3}), (\d\.\d{3})\]$", re.M)
PROBLEM_LINE = re.compile(r"^[^:]+:\d+: \S.*: .+$")


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEGSIM), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) -> SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "baseline"
    done = negsim("run", BASELINE, "--runs", str(RUNS), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return out, done


def test_run_writes_the_whole_results_folder(baseline_run):
    out, _done = baseline_run
    for name in ("summary.json", "summary.txt", "scenario.yaml", "meta.json"):
        assert (out / name).stat().st_size > 0, name
    for figure in FIGURES:
        assert_image(out / "figures" / f"{figure}.png")
        assert b"<svg" in (out / "figures" / f"{figure}.svg").read_bytes()[:2000], figure
    assert list((out / "runs").glob("chunk-*.parquet"))
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["runs"], meta["status"]) == (RUNS, "complete")
    assert len(load_results(out)) == RUNS
    assert yaml.safe_load((out / "scenario.yaml").read_text())["meta"]["name"] == meta["scenario"]
    assert sorted(p.stem for p in (out / "figures").glob("*.png")) == sorted(FIGURES)
    df = load_results(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["probabilities"]["declared"]["k"] == int((df["outcome"] == "declared").sum())
    assert [a["k"] for a in summary["agreements"]] == [
        int((df[f"agreed.{i}.round"] >= 0).sum()) for i in ("governance", "weapons", "force", "withdrawal", "truce")
    ]


def test_printed_probabilities_are_those_of_summary_json(baseline_run):
    out, done = baseline_run
    printed = {m[1]: tuple(float(x) for x in m.groups()[1:]) for m in OUTCOME_ROW.finditer(done.stdout)}
    summary = json.loads((out / "summary.json").read_text())["probabilities"]
    assert set(printed) == {"declared", "collapse", "stalemate"}, done.stdout
    for outcome, (p, low, high) in printed.items():
        expected = summary[outcome]
        assert (p, low, high) == tuple(round(expected[k], 3) for k in ("p", "low", "high")), outcome
    assert done.stdout.startswith((out / "summary.txt").read_text())
    assert done.stdout.rstrip().endswith(f"results: {out}")
    assert done.stderr == ""


@pytest.mark.slow
def test_same_seed_gives_identical_numbers(baseline_run, tmp_path):
    out, _ = baseline_run
    again = negsim("run", BASELINE, "--runs", str(RUNS), "--out", str(tmp_path / "again"), "--quiet")
    assert again.returncode == 0, again.stderr
    first, second = (json.loads((folder / "summary.json").read_text()) for folder in (out, tmp_path / "again"))
    assert first["probabilities"] == second["probabilities"]
    pd.testing.assert_frame_equal(load_results(out), load_results(tmp_path / "again"))


def test_an_existing_results_folder_is_left_untouched(baseline_run):
    out, _ = baseline_run
    before = fingerprint(out)
    refused = negsim("run", BASELINE, "--runs", "300", "--out", str(out), "--quiet")
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 1 and "already holds results" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert fingerprint(out) == before


@pytest.mark.slow
def test_resume_on_a_finished_batch_changes_no_runs(baseline_run):
    out, done = baseline_run
    runs_before = {k: v for k, v in fingerprint(out).items() if k.startswith("runs/")}
    resumed = negsim("run", BASELINE, "--runs", str(RUNS), "--out", str(out), "--quiet", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert {k: v for k, v in fingerprint(out).items() if k.startswith("runs/")} == runs_before
    assert OUTCOME_ROW.findall(resumed.stdout) == OUTCOME_ROW.findall(done.stdout)


def test_summary_recomputes_the_printed_summary(baseline_run):
    out, _ = baseline_run
    shown = negsim("summary", str(out))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (out / "summary.txt").read_text() + "\n"


def test_validate_accepts_every_shipped_scenario():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.yaml"))
    done = negsim("validate", *files)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{f}: ok" for f in files]


def test_validate_names_each_problem_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / BASELINE).read_text()
    bad.write_text(text.replace("capability: 0.9", "capability: 9").replace("  horizon: 26", "  horizn: 26"))
    done = negsim("validate", BASELINE, str(bad))
    assert done.returncode == 2
    assert done.stdout.splitlines() == [f"{BASELINE}: ok"]
    lines = done.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) and line.startswith(f"{bad}:") for line in lines), lines
    assert any("actors.israel.capability: must lie in [0, 1] (got 9)" in line for line in lines), lines
    assert any("meta.horizn: unknown key (did you mean 'horizon'?)" in line for line in lines), lines
    line_of = {n + 1: line for n, line in enumerate(bad.read_text().splitlines())}
    for line in lines:
        assert re.search(r"capability|horizn", line_of[int(line.split(":")[1])]), line


def test_a_missing_scenario_is_one_line_and_no_results_folder(tmp_path):
    done = negsim("run", str(tmp_path / "nowhere.yaml"), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "file not found" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_schema_is_a_json_schema_that_accepts_the_baseline_and_rejects_a_bad_file():
    done = negsim("schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {
        "meta",
        "issues",
        "actors",
        "red_lines",
        "preconditions",
        "phases",
        "leverage",
        "guarantees",
        "vetoes",
        "veto_players",
        "events",
        "milestones",
        "risk",
        "protocol",
    } <= set(schema["properties"])
    validator = jsonschema.Draft202012Validator(schema)
    data = json.loads(json.dumps(yaml.safe_load((ROOT / BASELINE).read_text()), default=str))
    assert not [e.message for e in validator.iter_errors(data)]
    data["actors"][0]["capability"] = "high"
    assert not validator.is_valid(data)


def test_schema_accepts_the_variants_as_editors_see_them():
    """A variant file (extends: plus a few overrides) must not be flagged by an editor using the schema."""
    validator = jsonschema.Draft202012Validator(json.loads(negsim("schema").stdout))
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        assert not [e.message for e in validator.iter_errors(data)], path.name


def _numeric(node: dict) -> bool:
    """Whether a property's schema can hold a number: itself, as one branch of a union, or inside a list or
    a mapping (positions by issue, shifts by actor and issue)."""
    return (
        node.get("type") in ("number", "integer")
        or any(_numeric(branch) for branch in node.get("anyOf", []) + node.get("oneOf", []))
        or any(isinstance(node.get(k), dict) and _numeric(node[k]) for k in ("items", "additionalProperties"))
    )


def test_schema_says_what_every_number_means_and_its_unit():
    schema = json.loads(negsim("schema").stdout)
    objects = {"Scenario": schema, **schema["$defs"]}
    numbers = {(name, field): prop for name, obj in objects.items()
               for field, prop in obj.get("properties", {}).items() if _numeric(prop)}  # fmt: skip
    some = {("Actor", "position"), ("Actor", "capability"), ("Bound", "max"), ("Effects", "position"),
            ("Meta", "seed"), ("Uniform", "low"), ("Choice", "weights")}  # fmt: skip
    assert len(numbers) > 70 and some <= set(numbers)
    assert ("Actor", "role") not in numbers and ("Leverage", "scaled_by_distance") not in numbers
    bare = [f"{name}.{field}" for (name, field), prop in numbers.items()
            if not prop.get("description") or not prop.get("unit")]  # fmt: skip
    assert not bare, f"numbers without a description or a unit: {bare}"
    assert numbers[("Actor", "reservation")]["unit"] == "utility (0-1)"
    assert numbers[("Event", "hazard")]["unit"] == "chance a round"


@pytest.mark.slow
def test_an_analysis_does_not_replace_earlier_output_without_asking(tmp_path):
    out = tmp_path / "cmp"
    first = negsim("compare", BASELINE, "scenarios/us_pressure.yaml", "--runs", "200", "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = negsim("compare", BASELINE, "scenarios/remains_recovered.yaml", "--runs", "200", "--out", str(out))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1 and "--overwrite" in again.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    forced = negsim(
        "compare", BASELINE, "scenarios/remains_recovered.yaml", "--runs", "200", "--out", str(out), "--overwrite"
    )
    assert forced.returncode == 0 and "remains_recovered" in forced.stdout
