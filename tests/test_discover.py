"""Scenario discovery (``negsim discover``) on real results folders: PRIM's box and trajectory, CART's leaves,
in the scenario's words, checked against the runs themselves; bad folders and outcomes refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.batch.runner import load_results, run_batch
from sim.cli import app
from sim.engine.columns import column
from sim.scenario.loader import load
from tests.helpers import assert_image, scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
WING = "veto_players.military_wing.bounds.force.max"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """3,000 runs of the baseline, as a results folder."""
    return run_batch(load(BASELINE), tmp_path_factory.mktemp("b") / "baseline", runs=3000, workers=1)


def discover(folder: Path, out: Path, *options: str):
    result = CliRunner().invoke(app, ["discover", str(folder), "--out", str(out), *options])
    return result, (json.loads((out / "discover.json").read_text()) if result.exit_code == 0 else None)


def inside(runs: pd.DataFrame, limits: list[dict]) -> np.ndarray:
    """The runs whose sampled parameters lie in a box."""
    keep = np.ones(len(runs), dtype=bool)
    for rule in limits:
        values = runs[column("param", rule["parameter"])]
        keep &= (values >= rule["low"]) & (values <= rule["high"])
    return keep


def test_the_box_where_phase_two_is_likeliest_is_found_and_told_in_words(baseline, tmp_path):
    result, found = discover(baseline, tmp_path / "d")
    assert result.exit_code == 0, result.output
    runs = load_results(baseline)
    declared = (runs["outcome"] == "declared").to_numpy()
    assert found["base_rate"] == pytest.approx(declared.mean())
    box = found["box"]
    limits = {rule["parameter"]: rule for rule in box["limits"]}
    # the armed wing's limit on the force's mandate dominates the Sobol ranking: the box asks for a high one
    assert WING in limits and limits[WING]["low"] > 60 and limits[WING]["high"] == pytest.approx(80, abs=0.1)
    assert all(q is None or q <= 0.05 for rule in box["limits"] for q in rule["qp"])
    kept = inside(runs, box["limits"])  # the reported statistics are those of the runs in the box
    assert box["density"] == pytest.approx(declared[kept].mean())
    assert box["coverage"] == pytest.approx(declared[kept].sum() / declared.sum())
    assert box["mass"] == pytest.approx(kept.mean())
    assert box["density"] > 1.25 * found["base_rate"] and box["coverage"] >= 0.5
    steps = pd.DataFrame(found["trajectory"])  # peeling trades coverage for density
    assert steps["coverage"].iloc[0] == 1 and steps["density"].iloc[0] == pytest.approx(found["base_rate"])
    peel = steps[steps["mass"].diff().fillna(-1) < 0]
    assert (peel["coverage"].diff().dropna() <= 1e-12).all() and peel["density"].iloc[-1] > 1.5 * found["base_rate"]
    text = result.stdout
    assert "Hamas's military wing: bounds max (International stabilization force): at least" in text
    assert "0 = no force, 100 = force with an enforcement mandate" in text
    assert "<- chosen" in text and "CART leaves" in text
    leaves = found["cart"]["leaves"]
    assert leaves[0]["density"] > box["density"] and leaves[0]["mass"] >= 0.05 - 1e-9
    top = runs[inside(runs, leaves[0]["rules"])]
    assert leaves[0]["density"] == pytest.approx((top["outcome"] == "declared").mean())
    tree = (tmp_path / "d" / "discover.txt").read_text()
    assert "|--- Hamas's military wing" in tree or "|   |--- Hamas's military wing" in tree
    assert_image(tmp_path / "d" / "figures" / "discovery.png")


def test_an_issue_agreement_is_an_outcome_too(baseline, tmp_path):
    result, found = discover(baseline, tmp_path / "d", "--outcome", "agreed:weapons", "--min-coverage", "0.3")
    assert result.exit_code == 0, result.output
    runs = load_results(baseline)
    agreed = (runs[column("agreed_round", "weapons")] >= 0).to_numpy()
    assert found["base_rate"] == pytest.approx(agreed.mean())
    assert found["box"]["density"] == pytest.approx(agreed[inside(runs, found["box"]["limits"])].mean())
    assert found["box"]["density"] > found["base_rate"]


def test_outcomes_are_named_as_sensitivity_names_them(baseline, tmp_path):
    result, _ = discover(baseline, tmp_path / "d", "--outcome", "agreed:wepons")
    assert result.exit_code == 2 and "did you mean 'agreed:weapons'?" in result.stderr
    assert not (tmp_path / "d" / "discover.json").exists()


def test_bad_folders_are_refused_in_one_line(baseline, tmp_path):
    missing, _ = discover(tmp_path / "nowhere", tmp_path / "d1")
    assert missing.exit_code == 2 and "no such results folder" in missing.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in Path(baseline).iterdir():
        if p.is_file():
            (broken / p.name).write_bytes(p.read_bytes())
    (broken / "runs").mkdir()
    (broken / "runs" / "chunk-00000.parquet").write_bytes(b"PAR1 not really")
    result, _ = discover(broken, tmp_path / "d2")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    folder = run_batch(scenario(), tmp_path / "fixed", runs=50, workers=1)  # no distributions: nothing sampled
    result, _ = discover(folder, tmp_path / "d3")
    assert result.exit_code == 2 and "sampled no uncertain parameters: nothing to discover" in result.stderr


def test_a_point_prediction_is_not_a_batch(tmp_path):
    folder = tmp_path / "eum"
    run = CliRunner().invoke(app, ["run", str(BASELINE), "--model", "compromise", "--out", str(folder)])
    assert run.exit_code == 0, run.output
    result, _ = discover(folder, tmp_path / "d")
    assert result.exit_code == 2 and "point prediction" in result.stderr


def test_a_range_covers_what_a_structural_alternative_set(baseline, tmp_path):
    """Half the baseline's runs hold the risk of collapse flat whatever the talks do (stall growth set to 0, off its
    prior of 0.05–0.25): the range a limit is told against must include it, or a box reads 'at least 0.025 of 0.05'."""
    result, found = discover(baseline, tmp_path / "d", "--outcome", "collapse")
    assert result.exit_code == 0, result.output
    runs = load_results(baseline)
    for rule in [*found["box"]["limits"], *(r for leaf in found["cart"]["leaves"] for r in leaf["rules"])]:
        values = runs[column("param", rule["parameter"])]
        assert rule["range"][0] <= values.min() and rule["range"][1] >= values.max(), rule
    assert any(rule["range"][0] == 0 for rule in found["box"]["limits"] if "stall" in rule["parameter"])
