"""The shipped scenarios: each loads and runs, and each variant moves the odds the way its story says.

Variants are compared with the baseline on the same seed and run count. The two-proportion
z-test treats the two batches as independent; common random numbers make them positively
correlated, so the test is conservative.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from sim.batch.runner import run_batch
from sim.scenario.loader import load

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
VARIANTS = [f for f in FILES if f.name != "baseline.yaml"]
RUNS = 4000
Z_STRICT = 3.72  # one-sided p < 1e-4

# variant -> (outcome, direction its story moves P(outcome) against the baseline)
STORIES = {
    "remains_recovered": [("transition", +1)],
    "us_pressure": [("transition", +1)],
    "palestinian_consensus": [("transition", +1)],
    "spoiler_wave": [("collapse", +1), ("transition", -1)],
    "coalition_crisis": [("transition", -1)],
}


def shares(name: str) -> dict[str, float]:
    scenario = load(SCENARIOS / f"{name}.yaml")
    df = run_batch(scenario, runs=RUNS, seed=scenario.meta.seed)
    return df["outcome"].value_counts(normalize=True).to_dict()


def z_score(p1: float, p2: float, n: int) -> float:
    """Two-proportion z statistic for p1 - p2, both from n runs (pooled variance)."""
    pooled = (p1 + p2) / 2
    return (p1 - p2) / math.sqrt(max(pooled * (1 - pooled) * 2 / n, 1e-12))


@pytest.fixture(scope="module")
def baseline() -> dict[str, float]:
    return shares("baseline")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario_validates_and_runs(path):
    scenario = load(path)
    df = run_batch(scenario, runs=200, seed=1)
    assert len(df) == 200
    assert set(df["outcome"]) <= {"transition", "collapse", "stalemate"}


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.stem)
def test_variant_extends_baseline_under_its_own_name(path):
    raw = yaml.safe_load(path.read_text())
    assert raw["extends"] == "baseline.yaml"
    assert load(path).meta.name != load(SCENARIOS / "baseline.yaml").meta.name


def test_every_variant_has_a_story_to_check():
    assert {p.stem for p in VARIANTS} == set(STORIES)


def test_baseline_is_not_a_foregone_conclusion(baseline):
    assert 0.15 < baseline.get("transition", 0) < 0.85
    assert baseline.get("stalemate", 0) > 0.01
    assert baseline.get("collapse", 0) > 0.01


@pytest.mark.parametrize(
    "variant, outcome, direction",
    [(v, o, d) for v, moves in STORIES.items() for o, d in moves],
    ids=lambda x: str(x),
)
def test_variant_moves_the_odds_its_story_says(baseline, variant, outcome, direction):
    p_variant, p_base = shares(variant).get(outcome, 0.0), baseline.get(outcome, 0.0)
    z = direction * z_score(p_variant, p_base, RUNS)
    assert z > Z_STRICT, f"P({outcome}) {variant} {p_variant:.3f} vs baseline {p_base:.3f}: z = {z:.1f}"
