"""Two kinds of uncertainty: Monte Carlo error against the spread due to uncertain assumptions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import scenario
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.analysis import uncertainty
from sim.analysis.summary_text import summary_text, uncertainty_lines
from sim.briefing.outputs import write_outputs
from sim.scenario.loader import load


@given(st.floats(0.01, 0.99), st.integers(20, 300), st.integers(10, 100))
def test_identical_points_have_no_spread(p, points, runs):
    spread = uncertainty.between(np.full(points, round(p * runs) / runs), runs)
    assert spread["sd"] == 0 and spread["low"] == spread["high"] == pytest.approx(spread["mean"])


def test_binomial_noise_is_not_read_as_spread():
    rng = np.random.default_rng(1)
    estimates = rng.binomial(50, 0.3, size=400) / 50  # one probability under every set of assumptions
    spread = uncertainty.between(estimates, 50)
    assert spread["sd"] < 0.02 and spread["share_of_variance"] < 0.02
    assert spread["high"] - spread["low"] < 0.05  # the raw estimates' 10-90% range is about 0.16


def test_spread_between_assumptions_is_recovered():
    rng = np.random.default_rng(2)
    truth = rng.beta(2, 5, size=400)  # p(theta) under 400 sets of assumptions, sd about 0.16
    spread = uncertainty.between(rng.binomial(50, truth) / 50, 50)
    assert spread["sd"] == pytest.approx(truth.std(), rel=0.1)
    assert spread["low"] == pytest.approx(np.quantile(truth, 0.1), abs=0.03)
    assert spread["high"] == pytest.approx(np.quantile(truth, 0.9), abs=0.03)
    assert spread["share_of_variance"] == pytest.approx(truth.var() / (truth.mean() * (1 - truth.mean())), rel=0.15)


@pytest.mark.parametrize(
    ("runs", "points"), [(999, 0), (1_000, 20), (5_000, 100), (10_000, 200), (10**6, 200)]
)  # fmt: skip
def test_the_design_is_no_larger_than_the_batch(runs, points):
    assert uncertainty.spread_design(runs)[0] == points


def test_baseline_separates_the_two_kinds(tmp_path):
    base = load("scenarios/baseline.yaml")
    folder = sim.run_batch(base, tmp_path / "b", runs=2_000, seed=5, workers=1)
    result = write_outputs(folder)
    spread = json.loads((folder / "summary.json").read_text())["uncertainty"]
    assert spread == json.loads(json.dumps(result["uncertainty"]))
    assert (spread["points"], spread["runs_per_point"]) == (40, 50)
    rows = spread["outcomes"]
    for name, row in rows.items():
        p = result["probabilities"][name]
        assert row["monte_carlo"] == pytest.approx((p["high"] - p["low"]) / 2)
        # the nested design averages over the same assumptions as the batch
        assert row["assumptions"]["mean"] == pytest.approx(p["p"], abs=0.06)
    assert sum(r["assumptions"]["mean"] for r in rows.values()) == pytest.approx(1.0)
    declared = rows["declared"]["assumptions"]
    # at 2,000 runs the declaration's Monte Carlo error is a point or two; which assumptions hold moves it by tens
    assert declared["sd"] > 5 * rows["declared"]["monte_carlo"]
    assert declared["low"] < result["probabilities"]["declared"]["p"] < declared["high"]
    assert "two kinds of uncertainty (40 sets of assumptions x 50 runs)" in summary_text(result)


def test_scenario_without_uncertain_parameters_says_why():
    spec = scenario()
    spread = uncertainty.two_kinds(spec, {}, 10_000, 1)
    assert spread == {"points": 0, "why": "no uncertain parameters"}
    assert "not estimated (no uncertain parameters)" in "\n".join(uncertainty_lines(spread))
