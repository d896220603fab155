"""Structural uncertainty: mechanisms whose alternatives set fields, one alternative drawn per run.

A scenario's ``mechanisms`` name what the sources cannot decide (how a phase is declared, whether a
precondition freezes concessions, where the talks start from). Each alternative sets fields by dotted
path; every alternative must give a valid scenario on its own. What the engine plays is the scenario
:func:`switched`: at every path some alternative sets, a :class:`Switch` holds the value under each
alternative, and each run reads the value of the alternative it drew (from its own stream, so a run's
alternative depends only on the seed and the run).

Only fields the engine reads run by run can switch: numbers (fixed or distributions) and the categories
in :data:`CATEGORIES` (a phase's declaration rule, whether a precondition freezes concessions or can be
waived, whether talks are open or a text signed at the start).
"""

from __future__ import annotations

import copy
import re
import weakref
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario.checks import incoherences
from sim.scenario.distributions import BaseDistribution
from sim.scenario.parameters import walk
from sim.scenario.schema import Alternative, Mechanism, Scenario

CATEGORIES = (
    re.compile(r"^phases\.[a-z][a-z0-9_]*\.gate\.rule$"),
    re.compile(r"^preconditions\.[a-z][a-z0-9_]*\.(freezes_concessions|waivable)$"),
    re.compile(r"^start\.(talks_open|signed)$"),
)


class Switch(BaseDistribution):
    """A field whose value depends on the alternative a run drew for ``mechanism``: ``values`` maps the alternatives
    that set it to their value there (a number, a distribution or a category); under the others it is ``base``, the
    scenario's own value."""

    mechanism: str
    base: Any
    values: dict[str, Any]

    def value(self, alternative: str) -> Any:
        return self.values.get(alternative, self.base)

    def support(self) -> tuple[float, float]:
        lows, highs = zip(*(_support(v) for v in (self.base, *self.values.values())), strict=True)
        return min(lows), max(highs)

    @property
    def numeric(self) -> bool:
        values = (self.base, *self.values.values())
        return all(isinstance(v, BaseDistribution | int | float) and not isinstance(v, bool) for v in values)


def _support(value: Any) -> tuple[float, float]:
    return value.support() if isinstance(value, BaseDistribution) else (float(value), float(value))


def weights(mechanism: Mechanism) -> list[float]:
    """The alternatives' weights, normalised to sum to 1."""
    total = sum(float(a.weight) for a in mechanism.alternatives)
    return [float(a.weight) / total for a in mechanism.alternatives]


def overlay(data: dict, alternative: Alternative) -> dict:
    """Scenario ``data`` (plain, as read) with ``alternative``'s fields set and no mechanisms of its own."""
    out = copy.deepcopy(data)
    out.pop("mechanisms", None)
    for path, value in alternative.set.items():
        _set(out, path.split("."), copy.deepcopy(value))
    return out


def _set(node: Any, parts: list[str], value: Any) -> None:
    """Set a dotted path in plain data: list items by ``id``, missing mapping keys created on the way (a name the
    schema does not know is then reported by validation, at its path)."""
    part, rest = parts[0], parts[1:]
    if isinstance(node, list):
        ids = [x.get("id") if isinstance(x, dict) else None for x in node]
        if part not in ids:
            raise KeyError(f"no item with id '{part}'" + (f" (here: {', '.join(i for i in ids if i)})" if ids else ""))
        key: Any = ids.index(part)
    elif isinstance(node, dict):
        key = part
    else:
        raise KeyError(f"'{part}' is below a value, not a section")
    if not rest:
        node[key] = value
        return
    if isinstance(node, dict) and key not in node:
        node[key] = {}
    _set(node[key], rest, value)


def switchable(path: str, value: Any) -> bool:
    """Whether the engine can read ``path`` run by run: a number, or one of the categories it switches."""
    return isinstance(value, BaseDistribution | int | float) or any(p.match(path) for p in CATEGORIES)


def alternatives(scenario: Scenario, data: dict | None = None) -> dict[tuple[str, str], Scenario]:
    """Each (mechanism, alternative) as a validated scenario of its own (from ``data``, the scenario's plain form,
    when given). Raises ValueError naming the alternative and the problem."""
    if data is None:
        data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    out = {}
    for m in scenario.mechanisms:
        for a in m.alternatives:
            where = f"mechanisms.{m.id}.alternatives.{a.id}"
            try:
                played = Scenario.model_validate(overlay(data, a))
            except KeyError as exc:
                raise ValueError(f"{where}.set: {exc.args[0]}") from None
            except ValidationError as exc:
                first = exc.errors()[0]
                raise ValueError(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
            for path, msg in incoherences(played):
                raise ValueError(f"{where}: {path}: {msg}")
            out[(m.id, a.id)] = played
    return out


def problems(scenario: Scenario, data: dict) -> list[tuple[str, str]]:
    """What makes the scenario's mechanisms unplayable, as (dotted path, message)."""
    out: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for m in scenario.mechanisms:
        seen = set()
        for a in m.alternatives:
            if a.id in seen:
                out.append((f"mechanisms.{m.id}.alternatives.{a.id}", f"duplicate alternative '{a.id}'"))
            seen.add(a.id)
            for path in a.set:
                if owner.setdefault(path, m.id) != m.id:
                    why = f"mechanism '{owner[path]}' sets it too: a field can depend on one mechanism only"
                    out.append((f"mechanisms.{m.id}.alternatives.{a.id}.set.{path}", why))
        if sum(float(a.weight) for a in m.alternatives) <= 0:
            out.append((f"mechanisms.{m.id}.alternatives", "the weights must have a positive sum"))
    if out:
        return out
    try:
        played = alternatives(scenario, data)
    except ValueError as exc:
        path, _, msg = str(exc).partition(": ")
        return [(path, msg)]
    for (m_id, a_id), alt in played.items():
        leaves = dict(walk(alt)) | _categories(alt)
        a = next(x for x in next(m for m in scenario.mechanisms if m.id == m_id).alternatives if x.id == a_id)
        for path in a.set:
            if path not in leaves or not switchable(path, leaves[path]):
                out.append((f"mechanisms.{m_id}.alternatives.{a_id}.set.{path}",
                            "cannot vary from run to run: only numbers, a phase's declaration rule, whether a "
                            "precondition freezes concessions or is waivable, and whether talks are open or a text "
                            "signed at the start can"))  # fmt: skip
    return out


def _categories(scenario: Scenario) -> dict[str, Any]:
    """The switchable categories of a scenario by path."""
    out: dict[str, Any] = {}
    for p in scenario.phases:
        out[f"phases.{p.id}.gate.rule"] = p.gate.rule
    for p in scenario.preconditions:
        out[f"preconditions.{p.id}.freezes_concessions"] = p.freezes_concessions
        out[f"preconditions.{p.id}.waivable"] = p.waivable
    out["start.talks_open"] = scenario.start.talks_open
    out["start.signed"] = scenario.start.signed
    return out


_SWITCHED: dict[int, Scenario] = {}  # a scenario's switched copy, while the scenario lives


def switched(scenario: Scenario) -> Scenario:
    """The scenario the engine plays: itself without mechanisms; with them, a copy holding a :class:`Switch` at every
    path an alternative sets (kept with the scenario: computed once)."""
    if not scenario.mechanisms:
        return scenario
    if id(scenario) in _SWITCHED:
        return _SWITCHED[id(scenario)]
    played = alternatives(scenario)
    base = dict(walk(scenario)) | _categories(scenario)
    out = scenario.model_copy(deep=True)
    for m in scenario.mechanisms:
        paths = dict.fromkeys(p for a in m.alternatives for p in a.set)
        for path in paths:
            leaves = {
                a.id: dict(walk(played[(m.id, a.id)])) | _categories(played[(m.id, a.id)]) for a in m.alternatives
            }
            values = {a.id: leaves[a.id][path] for a in m.alternatives if path in a.set}
            unset = [a.id for a in m.alternatives if path not in a.set]
            own = base[path] if path in base else leaves[unset[0] if unset else m.alternatives[0].id][path]
            _install(out, path.split("."), Switch(mechanism=m.id, base=own, values=values))
    _SWITCHED[id(scenario)] = out
    weakref.finalize(scenario, _SWITCHED.pop, id(scenario), None)
    return out


def _install(node: Any, parts: list[str], value: Any) -> None:
    """Put ``value`` at a dotted path inside a validated scenario (objects by field alias, list items by id)."""
    part, rest = parts[0], parts[1:]
    if isinstance(node, BaseModel):
        name = next((n for n, f in type(node).model_fields.items() if (f.alias or n) == part), part)
        if rest:
            _install(getattr(node, name), rest, value)
        else:
            object.__setattr__(node, name, value)
    elif isinstance(node, list):
        _install(next(x for x in node if getattr(x, "id", None) == part), rest, value)
    elif isinstance(node, dict):
        if rest:
            _install(node[part], rest, value)
        else:
            node[part] = value
