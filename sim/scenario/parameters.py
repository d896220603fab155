"""A scenario's parameters by dotted path, and the uncertain ones among them (its distributions).

Parameters are named by dotted paths that use ids for list items, e.g.
``actors.israel.reservation`` or ``events.remains_recovered.hazard``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from sim.scenario.distributions import BaseDistribution
from sim.scenario.schema import Scenario


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, leaf) for every numeric leaf and distribution in a scenario."""
    if isinstance(node, BaseDistribution) or (isinstance(node, (int, float)) and not isinstance(node, bool)):
        yield path, node
    elif isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            if name != "basis":
                yield from walk(getattr(node, name), join(path, field.alias or name))
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, join(path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, join(path, getattr(v, "id", None) or str(i)))


def join(path: str, key: str) -> str:
    """A dotted path one level down: ``join("actors", "israel")`` -> ``actors.israel``."""
    return f"{path}.{key}" if path else key


def uncertain(scenario: Scenario) -> dict[str, BaseDistribution]:
    """The scenario's distributions by parameter path."""
    return {p: v for p, v in walk(scenario) if isinstance(v, BaseDistribution)}
