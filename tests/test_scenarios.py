"""The shipped scenarios: each loads and runs, and each variant moves the odds the way its story says.

A variant is played with the baseline's seed and run count, so run *i* of both meets the same random
numbers (common random numbers). The comparison is paired, run by run (McNemar): of the runs where
the two disagree about an event, ``c`` reach it only under the variant and ``b`` only under the
baseline; z = (c - b) / sqrt(b + c). A story holds when z, in the direction the story says, exceeds
2.33 (one-sided p < 0.01).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.batch.runner import run_batch
from sim.engine.columns import OUTCOME_ORDER, column
from sim.scenario.loader import load

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
VARIANTS = [f for f in FILES if f.name != "baseline.yaml"]
RUNS = 6000
Z = 2.33  # one-sided p < 0.01

# What a run reaches, as a boolean per run of a results table.
EVENTS = {
    "declared": lambda df: df["outcome"] == "declared",
    "collapse": lambda df: df["outcome"] == "collapse",
    "collapse after a declaration": lambda df: (df["outcome"] == "declared") & (df["collapse_round"] >= 0),
    "weapons agreed": lambda df: df[column("agreed_round", "weapons")] >= 0,
    "far-right partners block": lambda df: df["blocker"] == "far_right_partners",
    "talks never opened": lambda df: df["reason"] == "talks never opened",
}

# variant -> [(event, direction its story moves P(event) against the baseline)]
STORIES = {
    "remains_recovered": [("declared", +1)],
    "us_pressure": [("declared", +1)],
    "palestinian_consensus": [("weapons agreed", +1)],
    "spoiler_wave": [("collapse", +1), ("declared", -1)],
    "coalition_crisis": [("declared", -1)],
    "coalition_veto": [("declared", -1), ("far-right partners block", +1)],
    "spoiler_campaign": [("collapse after a declaration", +1)],
    "turkey_excluded_from_force": [("declared", -1)],
    "as_of_january": [("collapse", -1), ("talks never opened", -1)],  # three weeks on, no collapse, talks open
}


@functools.cache
def played(name: str) -> pd.DataFrame:
    """``RUNS`` runs of a shipped scenario at the baseline's seed, in run order."""
    seed = load(SCENARIOS / "baseline.yaml").meta.seed
    return run_batch(load(SCENARIOS / f"{name}.yaml"), runs=RUNS, seed=seed).sort_values("run", ignore_index=True)


def paired_z(base: np.ndarray, variant: np.ndarray) -> tuple[float, int, int]:
    """McNemar's z for a paired difference in P(event): (z, b, c) with b = only the baseline, c = only the variant."""
    b = int(np.sum(base & ~variant))
    c = int(np.sum(variant & ~base))
    return ((c - b) / math.sqrt(b + c) if b + c else 0.0), b, c


def test_paired_z_counts_only_the_runs_that_disagree():
    base = np.array([True, True, False, False, True, False])
    variant = np.array([True, False, True, True, True, True])
    z, b, c = paired_z(base, variant)
    assert (b, c) == (1, 3) and z == pytest.approx(2 / 2)
    assert paired_z(base, base) == (0.0, 0, 0)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario_validates_and_runs(path):
    scenario = load(path)
    df = run_batch(scenario, runs=200, seed=1)
    assert df["run"].tolist() == list(range(200))
    assert set(df["outcome"]) <= set(OUTCOME_ORDER)
    assert df["round"].between(1, scenario.meta.horizon).all()
    for issue in scenario.issue_ids():  # an issue is agreed only in a run with a declaration
        agreed = df[column("agreed_round", issue)] >= 0
        assert (df.loc[agreed, "outcome"] == "declared").all(), issue


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.stem)
def test_variant_extends_baseline_under_its_own_name(path):
    raw = yaml.safe_load(path.read_text())
    assert raw["extends"] == "baseline.yaml"
    assert load(path).meta.name != load(SCENARIOS / "baseline.yaml").meta.name


def test_every_variant_has_a_story_to_check():
    assert {p.stem for p in VARIANTS} == set(STORIES)
    assert {e for moves in STORIES.values() for e, _ in moves} <= set(EVENTS)


def test_baseline_is_not_a_foregone_conclusion():
    shares = played("baseline")["outcome"].value_counts(normalize=True)
    assert 0.05 < shares.get("declared", 0) < 0.95
    assert shares.get("stalemate", 0) > 0.01
    assert shares.get("collapse", 0) > 0.01


@pytest.mark.parametrize(
    "variant, event", [(v, e) for v, moves in STORIES.items() for e, _ in moves], ids=lambda x: str(x)
)
def test_variant_moves_the_odds_its_story_says(variant, event):
    direction = dict(STORIES[variant])[event]
    base, other = (EVENTS[event](played(name)).to_numpy() for name in ("baseline", variant))
    z, b, c = paired_z(base, other)
    assert direction * z > Z, (
        f"P({event}) {variant} {other.mean():.3f} vs baseline {base.mean():.3f}: "
        f"{c} runs only under the variant, {b} only under the baseline, z = {z:+.1f}"
    )


def test_a_vetoed_mediator_never_offers_its_guarantee():
    """Israel's veto of Turkey's role on the force voids the Turkish contingent guarantee in every run,
    which the baseline offers in a good share of its runs."""
    offered = column("guarantee_round", "turkish_contingent")
    assert (played("baseline")[offered] >= 0).mean() > 0.1
    assert (played("turkey_excluded_from_force")[offered] == -1).all()
