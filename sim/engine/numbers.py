"""A scenario's numbers for a block of runs: fixed numbers as floats, uncertain ones drawn per run, and
the fields a structural mechanism switches read per run from the alternative each run drew."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from sim.engine import streams
from sim.scenario.distributions import BaseDistribution
from sim.scenario.mechanisms import Switch, weights
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

SAMPLE_STREAM = streams.key("parameters")
MECHANISM_STREAM = streams.key("mechanism")


class Numbers:
    """Read numbers from a scenario for a block of runs: fixed numbers as floats, drawn ones as arrays.

    Each uncertain parameter's value for run *i* is a pure function of (seed, i, path), unless
    ``overrides`` gives it (by path, one value per run), e.g. for a sensitivity design. Each run draws
    one alternative of every mechanism (``alternative``: mechanism id -> the index of the alternative
    in each run) from a stream of its own; a :class:`~sim.scenario.mechanisms.Switch` then reads as
    that alternative's value (a number, drawn like any other, or a category: :meth:`category`).
    """

    def __init__(self, scenario: Scenario, seed: int, run_ids: np.ndarray, overrides: dict | None = None):
        dists = uncertain(scenario)
        unknown = set(overrides or {}) - set(dists)
        if unknown:
            raise KeyError(f"not an uncertain parameter of the scenario: {', '.join(sorted(unknown))}")
        self.alternative = {
            m.id: np.searchsorted(
                np.cumsum(weights(m))[:-1],
                streams.uniform(seed, run_ids, MECHANISM_STREAM, streams.key(m.id)),
                side="right",
            )
            for m in scenario.mechanisms
        }
        self._order = {m.id: [a.id for a in m.alternatives] for m in scenario.mechanisms}
        self._dists = dists
        self._ids = {id(dist): path for path, dist in dists.items()}
        given = overrides or {}
        self._values, self._categories = {}, {}
        self.drawn = {}  # the runs' values of the scenario's uncertain parameters, by path (a switched number too, if
        # a distribution gives it under some alternative): the results' ``param.*`` columns
        for path, dist in dists.items():
            if not isinstance(dist, Switch):
                self._values[path] = self.drawn[path] = self._given_or_drawn(dist, given, seed, run_ids, path)
                continue
            order, pick = self._order[dist.mechanism], self.alternative[dist.mechanism]
            if dist.numeric:  # the base value is the scenario's own (or a design's); alternatives that set it, theirs
                base = self._given_or_drawn(dist.base, given, seed, run_ids, path)
                by = [self._draw(dist.values[a], seed, run_ids, path) if a in dist.values else base for a in order]
                self._values[path] = np.choose(pick, [np.broadcast_to(v, len(run_ids)) for v in by]).astype(float)
                if any(not np.isscalar(v) for v in by):
                    self.drawn[path] = self._values[path]
            else:
                self._categories[path] = np.array([dist.value(a) for a in order], dtype=object)[pick]

    def _given_or_drawn(self, value, given: dict, seed: int, run_ids: np.ndarray, path: str):
        if path in given:
            return np.broadcast_to(np.asarray(given[path], dtype=float), len(run_ids))
        return self._draw(value, seed, run_ids, path)

    @staticmethod
    def _draw(value, seed: int, run_ids: np.ndarray, path: str):
        if isinstance(value, BaseDistribution):
            return value.ppf(streams.uniform(seed, run_ids, SAMPLE_STREAM, streams.key(path)))
        return float(value)

    def __call__(self, value: Any, default: float = 0.0):
        if value is None:
            return default
        if isinstance(value, BaseDistribution):
            return self._values[self._ids[id(value)]]
        return float(value)

    def category(self, value: Any):
        """A category field (a declaration rule, a flag of a precondition): as written, or, where a mechanism
        switches it, an array of each run's value."""
        if isinstance(value, Switch):
            return self._categories[self._ids[id(value)]]
        return value

    def alternatives(self, mechanism: str) -> np.ndarray:
        """The id of the alternative each run drew for ``mechanism``."""
        return np.array(self._order[mechanism], dtype=object)[self.alternative[mechanism]]

    def __deepcopy__(self, memo):
        """A copy that knows the copied scenario's distributions (they are found by identity)."""
        new = copy.copy(self)
        new._dists = {path: copy.deepcopy(dist, memo) for path, dist in self._dists.items()}
        new._ids = {id(dist): path for path, dist in new._dists.items()}
        new._values = copy.deepcopy(self._values, memo)
        new.drawn = {path: new._values[path] for path in self.drawn}
        new._categories = copy.deepcopy(self._categories, memo)
        return new
