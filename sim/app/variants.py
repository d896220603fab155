"""Variant files: a what-if saved as a scenario that ``extends:`` the one the app works on.

A save never destroys: it never replaces the scenario the variant extends (nor what that one
extends), a file of a results folder or anything outside the folder the app saves variants in
(:meth:`sim.app.places.Places.variant_file`); an existing file is replaced only when asked again, and
the question names the files that extend it. A save is atomic: the text is written to a temporary
file beside the target, validated there (its ``extends:`` resolves as the saved file's will), then
renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel

from sim.app.places import AppError, batch_holding, shown
from sim.app.whatif import assumptions, checked, knobs
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import MAX_BYTES, load
from sim.scenario.schema import Scenario

MARK = "# A what-if saved by negsim app."
EXTENDS = re.compile(r"^extends:[ \t]*(['\"]?)(?P<name>[^'\"#\n]+?)\1[ \t]*(#.*)?$", re.MULTILINE)
SCANNED = 5_000  # YAML files looked at for what extends a file


def variant_data(
    spec: Scenario, data: dict, extends: str, pins: dict[str, float], choices: dict[str, str] | None = None
) -> dict:
    """A variant that ``extends:`` the scenario file and fixes each pinned parameter and each chosen assumption,
    with its basis."""
    pins, choices = checked(spec, pins), choices or {}
    if not pins and not choices:
        raise AppError("nothing to save: move a slider or choose an assumption first")
    knob = {k.path: k for k in knobs(spec)}
    assumption = {a.path: a for a in assumptions(spec)}
    said = [f"{knob[p].label} = {v:g}" for p, v in pins.items()]
    said += [f"{assumption[p].label}: {v}" for p, v in choices.items()]
    variant: dict = {
        "extends": extends,
        "meta": {"name": f"{spec.meta.name} - what-if", "description": "Saved from negsim app: " + "; ".join(said)},
    }
    for path, value in pins.items():
        why = f"what-if in negsim app: fixed at {value:g} (the scenario draws it from {knob[path].distribution})"
        _place(variant, spec, data, path, value, why)
    for path, option in choices.items():
        why = f"what-if in negsim app: assumed {option} (the scenario assumes {assumption[path].current})"
        _place(variant, spec, data, path, option, why)
    return variant


def _place(variant: dict, spec: Scenario, data: dict, path: str, value: float | str, basis: str) -> None:
    """Set ``path`` in ``variant`` as a deep merge onto ``data`` expects it (list items as ``{id: ...}``), with
    ``basis`` in the ``basis:`` of the nearest object that has one."""
    parts = path.split(".")
    obj, node, out, holder = spec, data, variant, None
    for depth, part in enumerate(parts[:-1]):
        obj = _child(obj, part)
        if isinstance(node, list):
            node = next(x for x in node if isinstance(x, dict) and x.get("id") == part)
            found = next((x for x in out if x.get("id") == part), None)
            if found is None:
                found = {"id": part}
                out.append(found)
            out = found
        else:
            node = node.get(part, {})
            out = out.setdefault(part, [] if isinstance(node, list) else {})
        if isinstance(obj, BaseModel) and "basis" in type(obj).model_fields:
            holder = (out, ".".join(parts[depth + 1 :]))
    out[parts[-1]] = value
    if holder is not None:
        holder[0].setdefault("basis", {})[holder[1]] = basis


def _child(obj, part: str):
    """One step down a parameter path in the validated scenario (fields by alias, list items by id)."""
    if isinstance(obj, BaseModel):
        name = next((n for n, f in type(obj).model_fields.items() if (f.alias or n) == part), part)
        return getattr(obj, name)
    if isinstance(obj, list):
        return next(x for x in obj if getattr(x, "id", None) == part)
    return obj[part]


def variant_text(variant: dict) -> str:
    return f"{MARK}\n" + yaml.safe_dump(variant, sort_keys=False, allow_unicode=True, width=110)


# ------------------------------------------------------------------ what a save may touch
def extended(path: Path) -> list[Path]:
    """The files ``path`` extends, nearest first (resolved; a file that cannot be read ends the chain)."""
    chain: list[Path] = []
    here = path.resolve()
    while len(chain) < 16:
        parent = _extends(here)
        if parent is None or parent in chain or parent == path.resolve():
            return chain
        chain.append(parent)
        here = parent
    return chain


def _extends(path: Path) -> Path | None:
    try:
        with path.open("rb") as f:
            text = f.read(MAX_BYTES).decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    found = EXTENDS.search(text)
    return (path.parent / found["name"].strip()).resolve() if found else None


def dependents(path: Path, folder: Path) -> list[Path]:
    """The YAML files under ``folder`` (results folders and hidden folders left aside) that extend ``path``,
    directly or through others."""
    target, out, seen = path.resolve(), [], 0
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and batch_holding(Path(here) / d) is None)
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")) or name.startswith("."):
                continue
            seen += 1
            candidate = Path(here) / name
            if candidate.resolve() != target and target in extended(candidate):
                out.append(candidate)
            if seen >= SCANNED:
                return out
    return out


def protected(path: Path, base: Path) -> None:
    """Refuse (AppError) a save over the scenario the variant extends, or over a file that one extends."""
    chain = [base.resolve(), *extended(base)]
    if path.resolve() == chain[0]:
        raise AppError(f"{path.name}: the scenario this what-if extends; a save never replaces it (choose a new name)")
    if path.resolve() in chain:
        raise AppError(
            f"{path.name}: {base.name} extends it (through its extends: chain); a save never replaces it "
            "(choose a new name)"
        )


@dataclass(frozen=True)
class Replacing:
    """An existing file a save would replace, told before it is: what it is and which files extend it."""

    path: Path
    kind: str
    dependents: tuple[Path, ...]

    def question(self) -> str:
        if not self.dependents:
            extended_by = "no file extends it"
        else:
            names = ", ".join(shown(p) for p in self.dependents[:5])
            more = f" and {len(self.dependents) - 5} more" if len(self.dependents) > 5 else ""
            extended_by = (
                f"{len(self.dependents)} file{'s' if len(self.dependents) > 1 else ''} extend it ({names}{more}) "
                "and would then extend the what-if"
            )
        return f"{shown(self.path)} already exists ({self.kind}); {extended_by}. Replace it?"


def replacing(path: Path, folder: Path) -> Replacing:
    """What replacing ``path`` (an existing file) would touch, for the question the page asks."""
    try:
        with path.open("rb") as f:
            first = f.readline().decode("utf-8", errors="replace").strip()
    except OSError:
        first = ""
    kind = "a what-if saved by negsim app" if first == MARK else "a scenario file"
    return Replacing(path, kind, tuple(dependents(path, folder)))


def save(path: Path, text: str, replace: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically once it validates as a scenario there; an existing file is kept
    (FileExistsError) unless ``replace``. An invalid variant or a file-system error is an AppError (one line),
    and leaves nothing behind."""
    tmp = path.with_name(f".{path.name}.saving-{secrets.token_hex(4)}.yaml")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            load(tmp)
        except ScenarioError as exc:
            problem = exc.problems[0]
            raise AppError(f"{shown(path)}: the variant does not validate: {problem.path}: {problem.message}") from None
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists, even if it appeared a moment ago
    except OSError as exc:
        if isinstance(exc, FileExistsError) and not replace:
            raise FileExistsError(f"{path}: already exists") from None
        raise AppError(f"{shown(path)}: cannot save ({exc.strerror or type(exc).__name__})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path
