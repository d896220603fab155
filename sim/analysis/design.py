"""Design points: a scenario played with its uncertain parameters set point by point.

A design sets some uncertain parameters to one value per point (e.g. quantiles of their distributions
mapped through the inverse CDF, :func:`at_quantiles`); each point is played ``runs_per_point`` times and
what is counted is how often a measure (``declared``, ``collapse``, ``agreed:<issue>``,
``implemented:<milestone>``: :func:`sim.engine.columns.measures`) is reached. Sensitivity indices,
calibration, the spread across assumptions and scenario discovery are all built on it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.analysis.errors import AnalysisError
from sim.engine import columns, tables
from sim.engine.model import NegotiationModel
from sim.scenario.errors import did_you_mean
from sim.scenario.schema import Scenario

BLOCK_RUNS = 20_000
EDGE = 1e-9


class DesignError(AnalysisError):
    """A design that cannot be run as asked (the message says why)."""


def at_quantiles(dist, unit: np.ndarray) -> np.ndarray:
    """A distribution's values at quantiles ``unit`` (kept off 0 and 1, where some supports are infinite)."""
    return dist.ppf(np.clip(unit, EDGE, 1 - EDGE))


def checked(scenario: Scenario, measure: str) -> str:
    """``measure`` if the scenario can reach it (see :func:`sim.engine.columns.measures`), else a DesignError."""
    known = columns.measures(scenario)
    if measure not in known:
        raise DesignError(f"--outcome {measure!r}: not an outcome of {scenario.meta.name}"
                          f"{did_you_mean(measure, known, ' (one of: ' + ', '.join(known) + ')')}")  # fmt: skip
    return measure


def frequencies(scenario: Scenario, values: dict[str, np.ndarray], runs_per_point: int, seed: int | None,
                measures: list[str], distinct: bool = False) -> np.ndarray:  # fmt: skip
    """How often each of ``measures`` is reached by the horizon (points x measures) at design points that set the
    uncertain parameters ``values`` (path -> one value per point); the others are drawn per run as usual (see
    :func:`played`)."""
    reached = lambda model: np.column_stack([tables.measure(model, m) for m in measures])
    return played(scenario, values, runs_per_point, seed, reached, distinct)


def played(scenario: Scenario, values: dict[str, np.ndarray], runs_per_point: int, seed: int | None,
           count: Callable[[NegotiationModel], np.ndarray], distinct: bool = False) -> np.ndarray:  # fmt: skip
    """The share of runs at each design point for which each column of ``count`` (a played model -> runs x k
    booleans) holds: points x k.

    Points are played in blocks of about ``BLOCK_RUNS`` runs; every point replays run indices
    0..runs_per_point-1, so points differ only in their parameters, unless ``distinct``: then point j
    plays its own run indices (j*R..(j+1)*R-1), so the runs' other randomness is independent between
    points.
    """
    points = len(next(iter(values.values())))
    per_block = max(1, BLOCK_RUNS // runs_per_point)
    blocks = []
    for start in range(0, points, per_block):
        block = slice(start, min(start + per_block, points))
        n = block.stop - block.start
        overrides = {p: np.repeat(v[block], runs_per_point) for p, v in values.items()}
        runs = np.arange(start * runs_per_point, block.stop * runs_per_point) if distinct else (
            np.tile(np.arange(runs_per_point), n))  # fmt: skip
        model = NegotiationModel(scenario, runs, seed=seed, overrides=overrides)
        model.run()
        hits = np.asarray(count(model), dtype=float)
        blocks.append(hits.reshape(n, runs_per_point, -1).mean(axis=1))
    return np.concatenate(blocks)
