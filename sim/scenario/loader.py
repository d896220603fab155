"""Reading scenario files: YAML with line numbers, ``extends:`` with deep merge, clear errors.

Every problem becomes a :class:`Problem` printed as ``file:line: field.path: message``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario import mechanisms
from sim.scenario.checks import incoherences
from sim.scenario.digest import scenario_digests, scored_cases
from sim.scenario.distributions import Beta, Choice, Normal, Triangular, Uniform
from sim.scenario.errors import Problem, ScenarioError, did_you_mean
from sim.scenario.hindsight import hindsight
from sim.scenario.parameters import field_at, holds, join
from sim.scenario.schema import Scenario

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 8


class _Where(dict):
    """Maps a dotted path to (file, line) for the YAML node that gave it."""


def _compose(path: Path, origin: tuple[str, int, str]) -> yaml.Node | None:
    """Parse ``path``; a file that cannot be opened is reported at ``origin`` (file, line, field)."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # bounded, so a device or a runaway file cannot exhaust memory
    except FileNotFoundError:
        raise ScenarioError([Problem(*origin, f"file not found: {path}")]) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise ScenarioError(
            [Problem(*origin, f"cannot read {path} ({getattr(exc, 'strerror', None) or exc})")]
        ) from None
    if len(raw) > MAX_BYTES:
        raise ScenarioError([Problem(str(path), 1, "", f"file is larger than {MAX_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(str(path), line, "", f"not valid UTF-8 (byte {exc.start})")]) from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([Problem(str(path), line, "", f"invalid YAML: {yaml_words(what)}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(str(path), 1, "", "invalid YAML: nested too deeply")]) from None


# PyYAML's wording of the commonest slips, and what they mean to someone writing a scenario
YAML_WORDS = {
    "expected <block end>": "this line is indented differently from the keys or items around it",
    "did not find expected key": "this line is indented differently from the keys around it",
    "did not find expected '-' indicator": "this list item is indented differently from the items above it",
    "could not find expected ':'": "a key without ':' (or a line that continues the one above at the wrong indent)",
    "mapping values are not allowed here": "a ':' inside a value (put text with ': ' in quotes) or a key indented "
    "under a value",
    "that cannot start any token": "a character YAML cannot start a value with (a tab: indent with spaces; "
    "'@' or '`': put the text in quotes)",
    "expected ',' or ']'": "a list in [ ] that is not closed, or text with ':' in it that needs quotes",
    "expected ',' or '}'": "a mapping in { } that is not closed, or text with ':' in it that needs quotes",
    "found unexpected end of stream": "a quote that is never closed",
    "found undefined alias": "an alias (*name) with no anchor (&name) before it",
}


def yaml_words(problem: str) -> str:
    """A YAML parser's problem in the validator's words (the parser's own if it is not a common one)."""
    return next((words for phrase, words in YAML_WORDS.items() if phrase in problem), problem)


def _to_data(node: yaml.Node, file: str, where: _Where, path: str = "", budget: list[int] | None = None) -> Any:
    """Turn a composed node into plain data, recording each path's line; bounded against alias bombs."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise ScenarioError([Problem(file, node.start_mark.line + 1, path, "document too large (alias expansion?)")])
    where[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise ScenarioError([Problem(file, k.start_mark.line + 1, path, "mapping keys must be plain names")])
            key = k.value
            if key in out:
                raise ScenarioError([Problem(file, k.start_mark.line + 1, join(path, key), "duplicate key")])
            out[key] = _to_data(v, file, where, join(path, key), budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(v, file, where, join(path, str(i)), budget) for i, v in enumerate(node.value)]
    try:
        return yaml.SafeLoader(" ").construct_object(node) if node.tag != "tag:yaml.org,2002:str" else node.value
    except (yaml.YAMLError, ValueError) as exc:  # unknown tags, impossible dates, over-long integers
        what = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(file, node.start_mark.line + 1, path, f"invalid value: {what}")]) from None


def _merge(base: Any, over: Any, moves: dict[str, str], opath: str = "", mpath: str = "") -> Any:
    """Deep-merge ``over`` onto ``base``: mappings by key, lists of objects by ``id``, else replace.

    ``moves`` records where each child list item landed (child path -> merged path).
    """
    if isinstance(base, dict) and isinstance(over, dict) and "dist" not in over:  # a distribution replaces
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v, moves, join(opath, k), join(mpath, k)) if k in base else v
        return out
    if isinstance(base, list) and isinstance(over, list) and all(_has_id(x) for x in base + over):
        out = list(base)
        index = {x["id"]: i for i, x in enumerate(base)}
        for j, item in enumerate(over):
            i = index.get(item["id"], len(out))
            moves[join(opath, str(j))] = join(mpath, str(i))
            if i < len(out):
                out[i] = _merge(base[i], item, moves, join(opath, str(j)), join(mpath, str(i)))
            else:
                out.append(item)
        return out
    return over


def _has_id(x: Any) -> bool:
    return isinstance(x, dict) and isinstance(x.get("id"), str)


def _moved(path: str, moves: dict[str, str]) -> str:
    best = max((p for p in moves if path == p or path.startswith(p + ".")), key=len, default=None)
    return path if best is None else moves[best] + path[len(best) :]


def read(
    path: str | Path,
    _chain: tuple[Path, ...] = (),
    _origin: tuple[str, int, str] | None = None,
    kind: str = "a scenario",
) -> tuple[dict, _Where]:
    """Read a scenario file (or another input file, ``kind``) into merged plain data (``extends:`` resolved)
    and its line map."""
    path = Path(path)
    node = _compose(path, _origin or (str(path), 0, ""))
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, resolved))
        raise ScenarioError([Problem(str(path), 1, "extends", f"extends cycle: {cycle}")])
    if len(_chain) >= MAX_DEPTH:
        raise ScenarioError([Problem(str(path), 1, "extends", f"extends nested deeper than {MAX_DEPTH}")])
    where = _Where()
    data = _to_data(node, str(path), where) if node is not None else None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), 1, "", f"{kind} must be a YAML mapping")])
    parent = data.pop("extends", None)
    if parent is None:
        return data, where
    if not isinstance(parent, str):
        raise ScenarioError([Problem(str(path), where["extends"][1], "extends", "must be a file name")])
    base, merged_where = read(
        path.parent / parent, (*_chain, resolved), (str(path), where["extends"][1], "extends"), kind
    )
    moves: dict[str, str] = {}
    merged = _merge(base, data, moves)
    for p, loc in where.items():
        merged_where[_moved(p, moves)] = loc
    return merged, merged_where


# What a scenario file must say itself (the schema's defaults serve scenarios built in code): no silent date or seed.
REQUIRED_META = {
    "start_date": "the date of round 0 (e.g. 2024-11-27)",
    "seed": "the root seed of the runs' random streams (any whole number, e.g. the start date as 20241127)",
}


def load(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raise :class:`ScenarioError` listing every problem."""
    return read_scenario(path)[0]


def read_scenario(path: str | Path) -> tuple[Scenario, dict, _Where]:
    """A scenario file validated (a file must give the ``meta`` fields a scenario built in code may leave out), with
    its data as read and where each field is in the file."""
    data, where = read(path)
    meta = data.get("meta")
    unsaid = [k for k in REQUIRED_META if isinstance(meta, dict) and k not in meta]
    missing = [problem_at(where, str(path), f"meta.{k}", f"required: {REQUIRED_META[k]}") for k in unsaid]
    try:
        scenario = validate(data, where, str(path))
    except ScenarioError as exc:
        raise ScenarioError(missing + exc.problems) from None
    if missing:
        raise ScenarioError(missing)
    return scenario, data, where


def load_case(path: str | Path) -> Scenario:
    """Load a scenario file as :func:`load` does; if it is a case file (one an observed-outcomes file scores),
    check that its events and expiries take nothing from after its start (:mod:`sim.scenario.hindsight`)."""
    scenario, data, where = read_scenario(path)
    found = hindsight_problems(path, scenario, where)
    if found:
        raise ScenarioError(named(found, data))
    return scenario


def hindsight_problems(path: str | Path, scenario: Scenario, where: _Where) -> list[Problem]:
    """What a case file takes from after its start (none for a file no observed-outcomes file scores)."""
    if Path(path).stem not in scored_cases(Path(path)):
        return []
    claims, _ = scenario_digests(Path(path))
    return [problem_at(where, str(path), p, msg) for p, msg in hindsight(scenario, claims)]


def validate(
    data: dict,
    where: _Where | None = None,
    file: str = "<scenario>",
    schema: type[Any] = Scenario,
    checks: Callable[[Any], list[tuple[str, str]]] = incoherences,
) -> Any:
    """``data`` as a ``schema`` instance (a scenario unless another input file's schema is named, with the
    ``checks`` across its fields that give (dotted path, message) for each incoherence); raise
    :class:`ScenarioError` listing every problem."""
    where = where if where is not None else _Where()
    try:
        checked = schema.model_validate(data)
    except ValidationError as exc:
        found = _problems_from(exc, data, where, file, schema) + _checked_anyway(exc, data, where, file, schema, checks)
        raise ScenarioError(named(found, data)) from None
    found = checks(checked)
    if schema is Scenario and checked.mechanisms and not found:
        found = mechanisms.problems(checked, data)
    problems = [problem_at(where, file, path, msg) for path, msg in found]
    if problems:
        raise ScenarioError(named(problems, data))
    return checked


def _checked_anyway(exc: ValidationError, data: dict, where, file: str, schema: type, checks) -> list[Problem]:
    """The checks across fields, run despite errors in single fields: on a copy of ``data`` without the fields in
    error (when each can be left at its default), each problem away from those fields. All problems are then told
    at once: a misspelt ``dist:`` does not hide an unknown actor."""
    repaired = copy.deepcopy(data)
    bad = [[x for x in err["loc"] if not _is_union_tag(x)] for err in exc.errors()]
    for loc in bad:
        node = repaired
        for part in loc[:-1]:
            node = node[part] if isinstance(node, dict) and part in node else _item(node, part)
        if not isinstance(node, dict):
            return []
        node.pop(loc[-1], None)
    try:
        checked = schema.model_validate(repaired)
    except ValidationError:
        return []
    paths = [".".join(map(str, loc)) for loc in bad]
    far = [(p, msg) for p, msg in checks(checked) if not any(p.startswith(b) or b.startswith(p) for b in paths)]
    return [problem_at(where, file, p, msg) for p, msg in far]


def _item(node: Any, part: Any) -> Any:
    """The list item at ``part``, or None (so that the caller gives up on a path it cannot follow)."""
    if isinstance(node, list) and isinstance(part, int | str) and str(part).isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def named(problems: list[Problem], data: Any) -> list[Problem]:
    """Name list items by their ``id`` in field paths (``actors.israel.reservation``, not ``actors.0…``)."""
    out = []
    for p in problems:
        node, parts = data, []
        for part in p.path.split(".") if p.path else []:
            item = node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None
            if item is not None:
                ident = item.get("id") if isinstance(item, dict) else None
                parts.append(ident if isinstance(ident, str) and re.fullmatch(r"[a-z][a-z0-9_]*", ident) else part)
                node = item
            else:
                parts.append(part)
                node = node.get(part) if isinstance(node, dict) else None
        out.append(Problem(p.file, p.line, ".".join(parts), p.message))
    return out


def problem_at(where: _Where, file: str, path: str, message: str) -> Problem:
    """A problem at a dotted path, on the line of the nearest node the file has for it."""
    probe = path
    while probe not in where and probe:
        probe = probe.rpartition(".")[0]
    f, line = where.get(probe, (file, 1))
    return Problem(f, line, path, message)


def _problems_from(exc: ValidationError, data: dict, where: _Where, file: str, schema: type) -> list[Problem]:
    seen, out = set(), []
    errors = exc.errors()
    locs = [[str(x) for x in err["loc"] if not _is_union_tag(x)] for err in errors]
    paths = [".".join(loc) for loc in locs]
    for err, loc, path in zip(errors, locs, paths, strict=True):
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown key{_suggest(loc, data, schema)}"
        elif err["type"] == "union_tag_invalid":
            message = "unknown distribution (use uniform, normal, beta, triangular or choice)"
        elif err["type"] == "union_tag_not_found":
            message = "a distribution needs 'dist:' (uniform, normal, beta, triangular or choice)"
        key = (path, message)
        covered = sum(p == path or p.startswith(f"{path}.") for p in paths) > 1  # another error speaks for it
        if key not in seen and not _shadowed(err, covered):
            seen.add(key)
            out.append(problem_at(where, file, path, message))
    return out


def _is_union_tag(x: Any) -> bool:
    return x in ("uniform", "normal", "beta", "triangular", "choice", "float", "function-after[_check(), Uniform]") or (
        isinstance(x, str) and x.startswith(("function-after", "tagged-union"))
    )


def _shadowed(err: dict, covered: bool) -> bool:
    """A number-or-distribution field reports both branches: keep the one the input was meant for.

    An error no other error covers (``meta: 3``, a distribution as a distribution's bound) always stays.
    """
    if isinstance(err.get("input"), dict):
        return covered and err["type"] in ("float_type", "float_parsing")
    return covered and err["type"] in ("model_attributes_type", "dict_type", "model_type")


def _suggest(loc: list[str], data: dict, schema: type) -> str:
    model = _distribution_at(loc[:-1], data) or _model_at(loc[:-1], schema)
    if model is None:
        return ""
    names = [f.alias or n for n, f in model.model_fields.items()]
    return did_you_mean(loc[-1], names, f" (expected one of: {', '.join(names)})")


def _distribution_at(loc: list[str], data: Any) -> type[BaseModel] | None:
    """The distribution class a mapping at ``loc`` names with its ``dist:`` key, if any."""
    for part in loc:
        try:
            data = data[int(part)] if isinstance(data, list) else data[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    dist = data.get("dist") if isinstance(data, dict) else None
    return next((d for d in (Uniform, Normal, Beta, Triangular, Choice) if d.__name__.lower() == dist), None)


def _model_at(loc: list[str], schema: type) -> type[BaseModel] | None:
    """The pydantic model under ``schema`` at ``loc`` (list items and the keys of a mapping of objects, such as
    ``bounds.<issue>``, passed over)."""
    if not loc:
        return schema
    field = field_at(".".join(loc), schema)
    return holds(field.annotation)[1] if field is not None else None


def dump(scenario: Scenario) -> str:
    """The resolved scenario as YAML (round-trips through :func:`validate`)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
