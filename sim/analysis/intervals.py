"""Honest Monte Carlo uncertainty: Wilson intervals for a proportion, Newcombe's for a difference of independent
proportions, and a paired difference with McNemar's test for runs matched one to one."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def wilson_interval(successes, n, z: float = Z95):
    """Wilson score interval for a binomial proportion; broadcasts over arrays."""
    successes, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(np.minimum(centre - half, p), 0, 1), np.clip(np.maximum(centre + half, p), 0, 1)


def proportion(successes: int, n: int) -> dict:
    low, high = wilson_interval(successes, n)
    return {
        "p": successes / n if n else float("nan"),
        "low": float(low),
        "high": float(high),
        "k": int(successes),
        "n": int(n),
    }


def difference(k1: int, n1: int, k2: int, n2: int) -> dict:
    """p2 - p1 with Newcombe's 95% interval, and the two-sided p-value of the pooled z-test."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson_interval(k1, n1), wilson_interval(k2, n2)
    diff = p2 - p1
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = diff / se if se > 0 else 0.0
    return {
        "diff": diff,
        "low": diff - math.hypot(p2 - l2, u1 - p1),
        "high": diff + math.hypot(u2 - p2, p1 - l1),
        "p_value": float(special.erfc(abs(z) / math.sqrt(2))),
    }


def paired_difference(first: np.ndarray, second: np.ndarray) -> dict:
    """P(second) - P(first) over the same runs (two boolean arrays matched run by run), with a Wald 95% interval
    for paired proportions and McNemar's two-sided p-value (exact binomial on the discordant runs when fewer than
    25 differ, else the chi-square with continuity correction)."""
    n = len(first)
    only_first, only_second = int(np.sum(first & ~second)), int(np.sum(~first & second))
    diff = (only_second - only_first) / n
    se = math.sqrt(max(only_first + only_second - n * diff**2, 0.0)) / n
    discordant = only_first + only_second
    if discordant == 0:
        p_value = 1.0
    elif discordant < 25:
        p_value = min(1.0, 2 * float(stats.binom.cdf(min(only_first, only_second), discordant, 0.5)))
    else:
        chi2 = max(abs(only_second - only_first) - 1, 0) ** 2 / discordant
        p_value = float(special.erfc(math.sqrt(chi2 / 2)))
    return {"diff": diff, "low": diff - Z95 * se, "high": diff + Z95 * se, "p_value": p_value}
