"""Stop at a precision: a batch grown in stages until the headline intervals are narrow enough."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis import precision
from sim.batch.runner import load_results
from sim.scenario.loader import load

ROOT = Path(__file__).resolve().parents[1]
NEGSIM = Path(sys.executable).with_name("negsim")


def negsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEGSIM), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def small_baseline(tmp_path: Path, runs: int = 400) -> Path:
    """The baseline with a first stage of ``runs``, as a variant file a user would write."""
    path = tmp_path / "small.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\nmeta:\n  runs: {runs}\n")
    return path


def test_runs_needed_is_the_normal_approximation():
    assert precision.runs_needed(0.5, 0.005) == 38_415  # 1.96^2 x 0.25 / 0.005^2
    assert precision.runs_needed(0.0, 0.01) == precision.runs_needed(0.001, 0.01)  # never zero runs
    counts = {n: {"p": p} for n, p in (("declared", 0.16), ("collapse", 0.33), ("stalemate", 0.51))}
    assert precision.next_size(counts, 10_000, 0.005, 1_250, 10**6) == 41_250  # 1.05 x 38,408, in whole steps
    assert precision.next_size(counts, 10_000, 0.5, 1_250, 10**6) == 11_250  # at least one more step
    assert precision.next_size(counts, 10_000, 0.005, 1_250, 20_000) == 20_000  # never beyond the cap


def test_a_grown_batch_holds_what_a_fixed_batch_of_its_size_holds(tmp_path):
    base = load("scenarios/baseline.yaml")
    folder = sim.run_batch(base, tmp_path / "g", runs=700, seed=3, block_size=300, workers=1)
    sim.run_batch(base, folder, runs=1_600, seed=3, resume=True, grow=True, workers=2)  # the partial block replays
    grown = load_results(folder).sort_values("run").reset_index(drop=True)
    fixed = sim.run_batch(base, runs=1_600, seed=3).sort_values("run").reset_index(drop=True)
    pd.testing.assert_frame_equal(grown[fixed.columns], fixed, check_exact=True, check_categorical=False)
    assert json.loads((folder / "meta.json").read_text())["runs"] == 1_600


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_stops_once_every_interval_is_narrow_enough(tmp_path, workers):
    out = tmp_path / "p"
    done = negsim("run", str(small_baseline(tmp_path)), "--precision", "0.02", "--workers", workers,
                  "--out", str(out), "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    record = summary["precision"]
    assert record["stages"][0] == 400 and record["stages"][-1] == summary["runs"] > 400
    assert all(w <= 0.02 for w in record["half_widths"].values())
    assert all((p["high"] - p["low"]) / 2 <= 0.02 for p in summary["probabilities"].values())
    assert f"every headline interval within ±0.02 after {summary['runs']:,} runs" in done.stdout
    # the same runs as a fixed batch of the final size: the stopping point does not depend on the workers
    fixed = sim.run_batch(load(out / "scenario.yaml"), runs=summary["runs"])
    assert summary["probabilities"]["declared"]["k"] == int((fixed["outcome"] == "declared").sum())
    assert summary["runs"] == 2_450  # the same final size on 1 and 2 workers (steps of 400 / 8)


def test_cli_says_when_the_cap_stops_it(tmp_path):
    out = tmp_path / "c"
    done = negsim("run", str(small_baseline(tmp_path)), "--precision", "0.005", "--runs", "900", "--out", str(out),
                  "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "meta.json").read_text())["precision"]
    assert record["stages"] == [400, 900]
    assert record["why"].startswith("stopped at the cap of 900 runs with declared ±")
    assert "still wider than ±0.005" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--precision", "0"], "--precision"),
        (["--precision", "0.01", "--block-size", "100"], "--block-size: not with --precision"),
        (["--precision", "0.01", "--model", "median"], "--precision"),
    ],
)
def test_bad_precision_is_one_line(tmp_path, args, message):
    done = negsim("run", "scenarios/baseline.yaml", "--out", str(tmp_path / "x"), *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()
