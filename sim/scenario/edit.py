"""Editing a scenario by dotted path: set fields of its data (as read from YAML) and validate it again, or
make one change between two versions of it.

Paths name list items by ``id`` (``actors.israel.reservation``), as :mod:`sim.scenario.parameters` does; a
path that names nothing is a :class:`~sim.scenario.errors.ScenarioError` on the line of the file where the
path stops matching.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, NamedTuple

from sim.scenario.errors import Problem, ScenarioError, did_you_mean
from sim.scenario.loader import read, validate
from sim.scenario.parameters import walk
from sim.scenario.schema import Scenario

ABSENT = object()  # no value: a key or list item removed, or one not there before it was added


class Source(NamedTuple):
    """Scenario data with the line map and file name its problems are reported against."""

    data: dict
    where: dict
    file: str


def source(path_or_data: str | Path | dict | Source) -> Source:
    """Scenario data to edit: read from a file (with its line map for errors), or given as data."""
    if isinstance(path_or_data, Source):
        return path_or_data
    if isinstance(path_or_data, dict):
        return Source(path_or_data, {}, "<scenario>")
    data, where = read(path_or_data)
    return Source(data, where, str(path_or_data))


def set_field(data: dict, path: str, value: Any, where: dict | None = None, file: str = "<scenario>") -> None:
    """Set the field at dotted ``path`` in scenario ``data`` (list items by ``id``), in place.

    A field the file leaves at its schema default (e.g. a broker's ``reservation``) may be set too;
    any other missing name raises :class:`ScenarioError` naming the path.
    """
    parts = path.split(".")
    node, located = data, ""
    for depth, part in enumerate(parts):
        if isinstance(node, list):
            ids = [x.get("id") if isinstance(x, dict) else None for x in node]
            if part not in ids:
                raise _no_field(path, part, [i for i in ids if i], where, file, located)
            key: Any = ids.index(part)
        elif isinstance(node, dict):
            if part not in node and not _left_at_default(data, path):
                raise _no_field(path, part, list(node), where, file, located)
            key = part
        else:
            raise _no_field(path, part, [], where, file, located)
        if depth == len(parts) - 1:
            node[key] = value
        else:
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node, located = node[key], f"{located}.{key}".lstrip(".")


def _left_at_default(data: dict, path: str) -> bool:
    """Whether ``path`` is a numeric field of the scenario that the file leaves at its default."""
    return path in dict(walk(validate(copy.deepcopy(data))))


def _no_field(path: str, part: str, options: list[str], where, file: str, located: str) -> ScenarioError:
    hint = did_you_mean(part, options, f" (here: {', '.join(options)})" if options else "")
    line = (where or {}).get(located, (file, 1))
    return ScenarioError([Problem(line[0], line[1], path, f"no such field: nothing called '{part}'{hint}")])


def edited(src: Source, changes: dict[str, Any] | None = None) -> Scenario:
    """The validated scenario with each field of ``changes`` (dotted path -> value) set, the source's own
    scenario without any; errors name the file and the field."""
    data = copy.deepcopy(src.data)
    for path, value in (changes or {}).items():
        set_field(data, path, value, src.where, src.file)
    return validate(data, src.where, src.file)


def changed(data: dict, path: str, value: Any) -> dict:
    """A copy of scenario ``data`` with the value at dotted ``path`` (list items by id) replaced, added, or
    removed when ``value`` is :data:`ABSENT`: one change between two versions of a scenario, made alone."""
    out = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = next(x for x in node if x["id"] == part) if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        index = next((k for k, x in enumerate(node) if x["id"] == last), None)
        if value is ABSENT:
            node.pop(index)
        elif index is None:
            node.append(copy.deepcopy(value))
        else:
            node[index] = copy.deepcopy(value)
    elif value is ABSENT:
        node.pop(last, None)
    else:
        node[last] = copy.deepcopy(value)
    return out
