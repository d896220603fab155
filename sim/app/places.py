"""What the app may read and write: only under the folders it was started with.

A path typed into the page is taken relative to one of those folders; an absolute path, or one
that leads outside (``../``, a symbolic link), is refused with a one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.batch.errors import ResultsError
from sim.scenario.errors import ScenarioError

TARGET, RESULTS = "NEGSIM_APP_TARGET", "NEGSIM_APP_RESULTS"  # how negsim app tells the page its folders


class AppError(ValueError):
    """Input the page cannot act on; ``str()`` is the one-line message it shows."""


def message(exc: Exception) -> str:
    """The one-line message for a problem, as the command line prints it (``file:line: field: message``)."""
    if isinstance(exc, ScenarioError):
        return str(exc.problems[0]) if len(exc.problems) == 1 else f"{exc.problems[0]} (+{len(exc.problems) - 1} more)"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


EXPECTED = (AppError, ScenarioError, ResultsError)  # what the page reports in a line; anything else is a bug


def inside(root: Path, typed: str, what: str = "path") -> Path:
    """``typed`` as a path under ``root`` (resolved), or an :class:`AppError` if it would lead elsewhere."""
    text = typed.strip()
    if not text:
        raise AppError(f"{what}: give a name inside {root}")
    if Path(text).is_absolute() or text.startswith("~"):
        raise AppError(f"{what} {text!r}: give a path inside {root}, not an absolute one")
    base = root.resolve()
    path = (base / text).resolve()
    if not path.is_relative_to(base):
        raise AppError(f"{what} {text!r}: outside {root} (the app reads and writes only there)")
    return path


@dataclass(frozen=True)
class Places:
    """The scenario the app was started with, its folder (variants are saved there) and the results folder."""

    scenario: Path | None
    results: Path

    @property
    def scenarios(self) -> Path:
        return self.scenario.parent if self.scenario else self.results

    def results_folder(self, typed: str) -> Path:
        return inside(self.results, typed, "results folder")

    def variant_file(self, typed: str) -> Path:
        name = typed.strip()
        return inside(
            self.scenarios, name if name.endswith((".yaml", ".yml")) or not name else f"{name}.yaml", "variant file"
        )


def places_for(target: Path | None, results: Path | None = None) -> Places:
    """The places for ``negsim app [TARGET]``: a scenario file, or a results folder (its scenario.yaml)."""
    if target is not None and target.is_dir():
        return Places(target / "scenario.yaml", (results or target.parent).resolve())
    return Places(target.resolve() if target else None, (results or Path("results")).resolve())
