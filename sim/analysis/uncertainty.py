"""Two kinds of uncertainty in a headline probability.

A batch samples every uncertain parameter afresh in each run, so its P(declared) averages over the
assumptions. Its Wilson interval is **Monte Carlo error**: it narrows as runs are added. How much
the probability itself depends on which assumptions hold is a different quantity, which more runs
do not narrow. It is estimated here with a nested design: ``points`` sets of assumptions (a Latin
hypercube over the uncertain parameters' quantiles), each played ``runs_per_point`` times with its
own run indices, and the law of total variance,

    p (1 - p) = E[p(θ) (1 - p(θ))] + Var[p(θ)],

where p(θ) is the probability under assumptions θ. The between-assumption variance is the
observed variance of the points' estimates less their binomial noise; the range reported is that of
the estimates shrunk towards the mean by the share of their spread that is not noise.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from sim.analysis.design import at_quantiles, frequencies
from sim.engine.columns import OUTCOME_ORDER
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

RUNS_PER_POINT = 50
MAX_RUNS = 10_000
MIN_POINTS = 20


def spread_design(runs: int) -> tuple[int, int]:
    """(points, runs per point) of the nested design beside a batch of ``runs``: at most the batch's own
    size and ``MAX_RUNS``; (0, 0) where that leaves fewer than ``MIN_POINTS`` points."""
    points = min(runs, MAX_RUNS) // RUNS_PER_POINT
    return (points, RUNS_PER_POINT) if points >= MIN_POINTS else (0, 0)


def between(estimates: np.ndarray, runs_per_point: int) -> dict:
    """Mean, between-assumption standard deviation and 10%-90% range from per-point estimates (points,)."""
    mean = float(estimates.mean())
    observed = float(estimates.var(ddof=1))
    noise = float(np.mean(estimates * (1 - estimates))) / (runs_per_point - 1)
    var = max(observed - noise, 0.0)
    shrunk = mean + np.sqrt(var / observed) * (estimates - mean) if observed > 0 else estimates
    low, high = np.quantile(shrunk, [0.1, 0.9])
    return {
        "mean": mean,
        "sd": float(np.sqrt(var)),
        "low": float(low),
        "high": float(high),
        "share_of_variance": var / (mean * (1 - mean)) if 0 < mean < 1 else 0.0,
    }


def two_kinds(scenario: Scenario, probabilities: dict, runs: int, seed: int) -> dict:
    """Monte Carlo error of the batch's headline probabilities beside their spread across assumptions.

    ``probabilities`` holds the batch's own estimates with their Wilson intervals ({outcome: {"p", "low",
    "high"}}); the nested design replays ``seed`` with run indices of its own and leaves the batch alone.
    """
    points, per_point = spread_design(runs)
    dists = uncertain(scenario)
    if not points or not dists:
        why = "no uncertain parameters" if not dists else f"needs a batch of at least {MIN_POINTS * RUNS_PER_POINT:,}"
        return {"points": 0, "why": why}
    unit = qmc.LatinHypercube(d=len(dists), seed=seed).random(points)
    values = {p: at_quantiles(d, unit[:, j]) for j, (p, d) in enumerate(dists.items())}
    played = frequencies(scenario, values, per_point, seed, ["declared", "collapse"], distinct=True)
    estimates = {"declared": played[:, 0], "collapse": played[:, 1], "stalemate": 1 - played.sum(axis=1)}
    out = {"points": points, "runs_per_point": per_point, "outcomes": {}}
    for name in OUTCOME_ORDER:
        p = probabilities[name]
        out["outcomes"][name] = {
            "p": p["p"],
            "monte_carlo": (p["high"] - p["low"]) / 2,
            "assumptions": between(estimates[name], per_point),
        }
    return out
