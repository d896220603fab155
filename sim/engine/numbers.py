"""A scenario's numbers for a block of runs: fixed numbers as floats, uncertain ones drawn per run."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from sim.engine import streams
from sim.scenario.distributions import BaseDistribution
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

SAMPLE_STREAM = streams.key("parameters")


class Numbers:
    """Read numbers from a scenario for a block of runs: fixed numbers as floats, drawn ones as arrays.

    Each uncertain parameter's value for run *i* is a pure function of (seed, i, path), unless
    ``overrides`` gives it (by path, one value per run), e.g. for a sensitivity design.
    """

    def __init__(self, scenario: Scenario, seed: int, run_ids: np.ndarray, overrides: dict | None = None):
        dists = uncertain(scenario)
        unknown = set(overrides or {}) - set(dists)
        if unknown:
            raise KeyError(f"not an uncertain parameter of the scenario: {', '.join(sorted(unknown))}")
        self._dists = dists
        self._ids = {id(dist): path for path, dist in dists.items()}
        given = overrides or {}
        self.drawn = {
            path: np.broadcast_to(np.asarray(given[path], dtype=float), len(run_ids))
            if path in given
            else dist.ppf(streams.uniform(seed, run_ids, SAMPLE_STREAM, streams.key(path)))
            for path, dist in dists.items()
        }

    def __call__(self, value: Any, default: float = 0.0):
        if value is None:
            return default
        if isinstance(value, BaseDistribution):
            return self.drawn[self._ids[id(value)]]
        return float(value)

    def __deepcopy__(self, memo):
        """A copy that knows the copied scenario's distributions (they are found by identity)."""
        new = copy.copy(self)
        new._dists = {path: copy.deepcopy(dist, memo) for path, dist in self._dists.items()}
        new._ids = {id(dist): path for path, dist in new._dists.items()}
        new.drawn = copy.deepcopy(self.drawn, memo)
        return new
