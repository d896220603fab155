"""A scenario's uncertain parameters: find every distribution, draw it per run, read values back.

Parameters are named by dotted paths that use ids for list items, e.g.
``actors.israel.reservation`` or ``events.remains_recovered.hazard``.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from pydantic import BaseModel

from sim.engine import streams
from sim.scenario.distributions import _Dist
from sim.scenario.schema import Scenario

SAMPLE_STREAM = streams.key("parameters")


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, leaf) for every numeric leaf and distribution in a scenario."""
    if isinstance(node, _Dist) or isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node
    elif isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            if name != "basis":
                yield from walk(getattr(node, name), _join(path, field.alias or name))
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, _join(path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, _join(path, getattr(v, "id", None) or str(i)))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def uncertain(scenario: Scenario) -> dict[str, _Dist]:
    """The scenario's distributions by parameter path."""
    return {p: v for p, v in walk(scenario) if isinstance(v, _Dist)}


class Values:
    """Read numbers from a scenario for a block of runs: fixed numbers as floats, drawn ones as arrays.

    Each uncertain parameter's value for run *i* is a pure function of (seed, i, path), unless
    ``overrides`` gives it (by path, one value per run), e.g. for a sensitivity design.
    """

    def __init__(self, scenario: Scenario, seed: int, runs: np.ndarray, overrides: dict | None = None):
        dists = uncertain(scenario)
        unknown = set(overrides or {}) - set(dists)
        if unknown:
            raise KeyError(f"not an uncertain parameter of the scenario: {', '.join(sorted(unknown))}")
        self._ids = {id(dist): path for path, dist in dists.items()}
        given = overrides or {}
        self.drawn = {path: np.broadcast_to(np.asarray(given[path], dtype=float), len(runs)) if path in given
                      else dist.ppf(streams.uniform(seed, runs, SAMPLE_STREAM, streams.key(path)))
                      for path, dist in dists.items()}

    def __call__(self, value: Any, default: float = 0.0):
        if value is None:
            return default
        if isinstance(value, _Dist):
            return self.drawn[self._ids[id(value)]]
        return float(value)
