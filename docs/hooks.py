"""MkDocs hooks: the scenario reference and the CLI reference, written at build time from the code itself.

The scenario reference walks the pydantic objects of :mod:`sim.scenario.schema` (each field's type, default, range,
unit and meaning, from :mod:`sim.scenario.fields`); the CLI reference walks the click commands behind the typer app
(each command's usage, help and options). Both become pages of the site without a file in the repository.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
import typer.main
from mkdocs.structure.files import File
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.scenario.distributions import BaseDistribution
from sim.scenario.fields import Range
from sim.scenario.schema import Scenario

SCENARIO_PAGE = "reference/scenario.md"
CLI_PAGE = "reference/cli.md"


def on_files(files, config):
    """Add the generated reference pages to the site."""
    for uri, text in ((SCENARIO_PAGE, scenario_reference()), (CLI_PAGE, cli_reference())):
        files.append(File.generated(config, uri, content=text))
    return files


def on_page_content(html, page, config, files):
    """Docstrings cite names with Sphinx roles (``:class:`X```), which mkdocstrings leaves as text: keep the name."""
    return SPHINX_ROLE.sub(r"\1", html)


SPHINX_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):(<code>)")


# The scenario reference.


def scenario_reference() -> str:
    """Markdown: every object of the scenario language, top to bottom, a table of its fields each."""
    parts = [
        "# Scenario reference",
        "",
        "Generated from the schema (`sim/scenario/schema.py`) when the site is built. Every object of a scenario "
        "file, from the top down as a file nests them: each field's type, default, the range a number must lie "
        "in, its unit and what it means. *number* is a number or a distribution "
        "(`{dist: uniform, low, high}`, `normal`, `beta`, `triangular`, `choice`): see "
        "[Concepts](../concepts.md#numbers-and-distributions). A field without a default is required.",
        "",
    ]
    for model in objects(Scenario):
        about = _first_paragraph(model)
        parts += [f"## {model.__name__}", "", *([about, ""] if about else [])]
        parts += ["| field | type | default | range | unit | meaning |", "|---|---|---|---|---|---|"]
        fields = sorted(model.model_fields.items(), key=lambda kv: kv[0] == "basis")  # its sources last
        for name, field in fields:
            cells = (
                f"`{field.alias or name}`",
                type_name(field.annotation),
                default_of(field),
                range_of(field),
                (field.json_schema_extra or {}).get("unit", "") if isinstance(field.json_schema_extra, dict) else "",
                field.description or "",
            )
            parts.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        parts.append("")
    return "\n".join(parts)


def objects(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The scenario objects reachable from ``model``, each once, in the order their fields name them."""
    seen: list[type[BaseModel]] = []

    def visit(m: type[BaseModel]) -> None:
        if m in seen or issubclass(m, BaseDistribution):
            return
        seen.append(m)
        for field in m.model_fields.values():
            for inner in _models_in(field.annotation):
                visit(inner)

    visit(model)
    return seen


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def type_name(annotation: Any) -> str:
    """A field's type in the words of a scenario file: number, integer, text, list of ..., one of ..."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        if any(isinstance(a, type) and issubclass(a, BaseDistribution) for a in _flat(kept)):
            return "number"
        return " or ".join(type_name(a) for a in kept)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"{type_name(args[0])} → {type_name(args[1])}"
    names = {str: "text", int: "integer", float: "number", bool: "true/false", object: "any value"}
    if annotation in names:
        return names[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _flat(args) -> list:
    return [b for a in args for b in ([a] if not get_args(a) else _flat(get_args(a)))]


def default_of(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default if field.default_factory is None else field.default_factory()
    if value in (None, [], {}, ""):
        return "—"
    if isinstance(value, BaseModel):
        return "see object"
    return f"`{value}`"


def range_of(field) -> str:
    """The interval a field's number must lie in: a ranged number's, or an integer's bounds."""
    found = [m for m in [*field.metadata, *_metadata(field.annotation)] if isinstance(m, Range)]
    if found:
        return f"{_number(found[0].lo)} – {_number(found[0].hi)}"
    lo = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    lo = next((f"> {m.gt}" for m in field.metadata if isinstance(m, annotated_types.Gt)), lo)
    hi = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    hi = next((m.lt - 1 for m in field.metadata if isinstance(m, annotated_types.Lt)), hi)  # integers
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"≥ {_number(lo)}"
    return f"≤ {_number(hi)}" if lo is None else f"{_number(lo)} – {_number(hi)}"


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _metadata(annotation: Any) -> list:
    """Every ``Annotated`` metadata item inside a type, however deeply nested (``dict[str, ranged(0, 1)]``)."""
    found = list(getattr(annotation, "__metadata__", ()))
    return found + [m for arg in get_args(annotation) for m in _metadata(arg)]


def _first_paragraph(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    if model.__module__.startswith("pydantic") or not doc.strip():
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


# The CLI reference.


def cli_reference() -> str:
    """Markdown: every negsim command, its usage, what it does, its arguments and options."""
    root = typer.main.get_command(typer_app())
    parts = [
        "# Command-line reference",
        "",
        "Generated from the `negsim` command (`sim/cli.py`) when the site is built. "
        f"{root.help} Every command exits with code 2 on bad input, printing one line per problem.",
        "",
    ]
    ctx = typer.Context(root, info_name="negsim")
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        sub = typer.Context(command, info_name=name, parent=ctx)
        usage = re.sub(
            r"[{\[]([a-z_]+)[}\]]", lambda m: m.group(1).upper(), command.get_usage(sub).replace("Usage: ", "")
        )
        parts += [f"## negsim {name}", "", "```", usage, "```", ""]
        parts += [command.help or "", ""]
        rows = [_param_row(p, sub) for p in command.params if p.name != "help"]
        if rows:
            parts += ["| argument or option | takes | default | what it does |", "|---|---|---|---|", *rows, ""]
    return "\n".join(parts)


def typer_app():
    from sim.cli import app

    return app


def _param_row(param, ctx) -> str:
    argument = param.param_type_name == "argument"
    names = param.name.upper() if argument else " / ".join(param.opts + param.secondary_opts)
    help_text = getattr(param, "help", "") or ""
    default = "required" if param.required else ("—" if param.default in (None, (), []) else f"`{param.default}`")
    return f"| `{_cell(names)}` | {_kind(param)} | {_cell(default)} | {_cell(help_text)} |"


def _kind(param) -> str:
    """What a parameter takes, in words: a flag, an integer at least 1, one of given choices, a path, text."""
    annotation, repeated = param.type_descriptor.annotation, False
    if get_origin(annotation) is list:
        annotation, repeated = get_args(annotation)[0], True
    if annotation is bool:
        return "flag"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        word = " \\| ".join(f"`{e.value}`" for e in annotation)
    else:
        words = {int: "integer", float: "number", str: "text", Path: "path"}
        word = words.get(annotation, getattr(annotation, "__name__", str(annotation)))
        if annotation in (int, float) and getattr(param, "min", None) is not None:
            word += f" ≥ {param.min:g}"
    return f"{word}, repeatable" if repeated else word
