"""A scenario's parameters by dotted path: their values, the uncertain ones (its distributions), the schema
field each path names and the unit it is in.

Parameters are named by dotted paths that use ids for list items, e.g.
``actors.israel.reservation`` or ``events.remains_recovered.hazard``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.distributions import BaseDistribution
from sim.scenario.fields import ISSUE_SCALE, Strict
from sim.scenario.schema import Issue, Scenario


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


def field_at(path: str, schema: type[BaseModel] = Scenario) -> FieldInfo | None:
    """The schema field a dotted path names, list items (by id or index) and mapping keys passed over, or None:
    ``actors.israel.position.force`` -> ``Actor.position``, ``veto_players.0.bounds.force.max`` -> ``Bound.max``."""
    found, model, keys = None, schema, 0
    for part in path.split("."):
        if keys:  # an item of the list, or a key of the mapping, the field before holds
            keys -= 1
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()} if model is not None else {}
        found = fields.get(part)
        if found is None:
            return None
        keys, model = holds(found.annotation)
    return found


def holds(annotation: Any) -> tuple[int, type[Strict] | None]:
    """How many lists or mappings a field's type nests (``dict[str, dict[str, float]]``: 2), and the scenario
    object inside them, if any (a number or a distribution is none)."""
    if get_origin(annotation) in (list, dict):
        depth, model = holds(get_args(annotation)[-1])
        return depth + 1, model
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return 0, annotation
    for arg in get_args(annotation):  # ``X | None``, ``Annotated[X, ...]``
        depth, model = holds(arg)
        if depth or model is not None:
            return depth, model
    return 0, None


def unit_of(scenario: Scenario, path: str) -> str:
    """What the number at ``path`` is in: its field's unit from the schema, a number on an issue's axis in the
    issue's own words (``0 = no force, 100 = force with an enforcement mandate``); "" if no field has the path."""
    field = field_at(path)
    unit = (field.json_schema_extra or {}).get("unit", "") if field is not None else ""
    issue = _issue_of(scenario, path) if unit == ISSUE_SCALE else None
    return f"0 = {issue.low}, 100 = {issue.high}" if issue is not None else unit


def _issue_of(scenario: Scenario, path: str) -> Issue | None:
    """The issue a path's number lies on: one the path names, or its red line's."""
    parts = path.split(".")
    issues = {i.id: i for i in scenario.issues}
    if parts[0] == "red_lines":
        return issues.get(next((r.issue for r in scenario.red_lines if r.id == parts[1]), ""))
    return next((issues[p] for p in parts if p in issues), None)
