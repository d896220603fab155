"""What the app may read and write: only under the folders it was started with.

A path typed into the page is taken relative to one of those folders; an absolute path, or one
that leads outside (``../``, a symbolic link), is refused with a one-line message, as is a name the
file system cannot hold (a control character, a name too long).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sim.batch.errors import ResultsError
from sim.batch.folder import SCENARIO, ResultsFolder
from sim.scenario.errors import ScenarioError

TARGET, RESULTS, VARIANTS = "NEGSIM_APP_TARGET", "NEGSIM_APP_RESULTS", "NEGSIM_APP_VARIANTS"  # negsim app -> page
NAME_MAX = 255  # bytes in one file name (Linux, macOS)
SEEDS = 2**63  # a root seed is a whole number below this (the engine's 64-bit integers)


class AppError(ValueError):
    """Input the page cannot act on; ``str()`` is the one-line message it shows."""


def message(exc: Exception) -> str:
    """The one-line message for a problem, as the command line prints it (``file:line: field: message``)."""
    if isinstance(exc, ScenarioError):
        return str(exc.problems[0]) if len(exc.problems) == 1 else f"{exc.problems[0]} (+{len(exc.problems) - 1} more)"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


EXPECTED = (AppError, ScenarioError, ResultsError)  # the project's own refusals, each one line


def shown(path: Path) -> str:
    """``path`` as the page names it: relative to the working directory when under it (no long temporary
    prefixes in the header), else with ``~`` for the home folder."""
    path, here, home = Path(path), Path.cwd().resolve(), Path.home().resolve()
    if path.is_relative_to(here):
        return str(path.relative_to(here)) or "."
    if path.is_relative_to(home):
        return str(Path("~") / path.relative_to(home))
    return str(path)


def whole(value, what: str, low: int = 0, high: int = SEEDS) -> int:
    """``value`` (a number, or text typed into the page) as a whole number in [low, high), or an
    :class:`AppError` saying the range."""
    if isinstance(value, str):
        try:
            value = int(value.strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise AppError(f"{what} {value.strip()[:40]!r}: not a whole number") from None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise AppError(f"{what} {value!r}: give a whole number from {low:,} to {high - 1:,}")
    return value


def inside(root: Path, typed: str, what: str = "path") -> Path:
    """``typed`` as a path under ``root`` (resolved), or an :class:`AppError` if it would lead elsewhere."""
    text = typed.strip()
    if not text:
        raise AppError(f"{what}: give a name inside {shown(root)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise AppError(f"{what} {text!r}: a name cannot hold control characters")
    if any(len(part.encode()) > NAME_MAX for part in Path(text).parts):
        raise AppError(f"{what}: a name of {len(text):,} characters is too long (at most {NAME_MAX} bytes per name)")
    if Path(text).is_absolute() or text.startswith("~"):
        raise AppError(f"{what} {text!r}: give a path inside {shown(root)}, not an absolute one")
    base = root.resolve()
    try:
        path = (base / text).resolve()
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links
        raise AppError(f"{what} {text!r}: cannot be followed ({exc})") from None
    if not path.is_relative_to(base):
        raise AppError(f"{what} {text!r}: outside {shown(root)} (the app reads and writes only there)")
    return path


def batch_holding(path: Path) -> Path | None:
    """The results folder ``path`` lies in (or is), if any."""
    return next((p for p in (path, *path.parents) if ResultsFolder.holds_results(p)), None)


@dataclass(frozen=True)
class Places:
    """The scenario the app was started with, the results folders it browses and the folder variants go to."""

    scenario: Path | None
    results: Path
    variants: Path
    batch: Path | None = None  # the results folder the app was started on

    def results_folder(self, typed: str) -> Path:
        return inside(self.results, typed, "results folder")

    def variant_file(self, typed: str) -> Path:
        """Where a variant named ``typed`` would be saved: a YAML file in an existing folder under
        :attr:`variants`, outside any results folder."""
        name = typed.strip()
        if len(name.encode()) > NAME_MAX - len(".yaml"):  # with the suffix it would be too long
            raise AppError(
                f"variant file: a name of {len(name):,} characters is too long (at most {NAME_MAX - 5} bytes)"
            )
        if name and not name.endswith((".yaml", ".yml")):
            name += ".yaml"
        path = inside(self.variants, name, "variant file")
        if not path.parent.is_dir():
            raise AppError(f"variant file {typed.strip()!r}: {shown(path.parent)} is not a folder")
        if path.is_dir():
            raise AppError(f"variant file {typed.strip()!r}: {shown(path)} is a folder")
        holder = batch_holding(path.parent)
        if holder is not None:
            raise AppError(
                f"variant file {typed.strip()!r}: inside the results folder {shown(holder)} (a save never changes "
                "a batch's files)"
            )
        return path


def started_on(target: Path | None, results: Path | None, variants: Path | None) -> None:
    """Refuse, in one line, what ``negsim app`` cannot start on."""
    if target is not None and not target.exists():
        raise AppError(f"{target}: no such scenario file or results folder")
    if target is not None and target.is_dir() and not ResultsFolder.holds_results(target):
        raise AppError(f"{target}: a folder without meta.json is not a results folder (give one, or a scenario file)")
    if results is not None and not results.is_dir():
        raise AppError(f"{results}: no such results folder")
    if variants is not None and not variants.is_dir():
        raise AppError(f"{variants}: no such folder for variants")
    folder = places_for(target, results, variants).variants
    if batch_holding(folder) is not None:
        raise AppError(f"{folder}: inside a results folder; give --variants a folder of scenarios")


def places_for(target: Path | None, results: Path | None = None, variants: Path | None = None) -> Places:
    """The places for ``negsim app [TARGET]``: a scenario file (variants beside it), or a results folder (its
    scenario.yaml; variants in the working directory)."""
    if target is not None and target.is_dir():
        folder = target.resolve()
        return Places(
            folder / SCENARIO, (results or folder.parent).resolve(), (variants or Path.cwd()).resolve(), folder
        )
    scenario = target.resolve() if target else None
    return Places(
        scenario,
        (results or Path("results")).resolve(),
        (variants or (scenario.parent if scenario else Path.cwd())).resolve(),
    )


def from_environment() -> Places:
    """The places ``negsim app`` passed to the page's process."""
    found = {k: os.environ.get(k) for k in (TARGET, RESULTS, VARIANTS)}
    target, results, variants = (Path(v) if v else None for v in found.values())
    return places_for(target, results, variants)
