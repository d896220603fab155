"""The case library's index: every case with its scenario, its observed outcomes and the parameters it shares.

One YAML file lists the library's cases; a case is added by one entry. Each entry names the case's
scenario and observed-outcomes files (relative to the index), its type (time-limited or open-ended),
and whether the flagship's calibration targets count it. The index also names the *shared*
parameters: the generic mechanism parameters that every case's scenario has and that a calibration
may carry from one case to another (leave-one-case-out, :mod:`sim.analysis.transfer`). A shared
parameter has one ``path`` in every case, or a case names the path that plays its role in its own
scenario (``parameters:``), where ids differ between cases (an event, a leverage or an expiry named
after the case), or ``null`` where nothing in the case plays that role.

Problems print like a scenario's: ``file:line: field.path: message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from sim.scenario.checks import duplicate_ids
from sim.scenario.errors import Problem, ScenarioError, did_you_mean
from sim.scenario.fields import Strict
from sim.scenario.loader import load_case, named, problem_at, read, validate
from sim.scenario.observed import Observed, load_observed
from sim.scenario.parameters import uncertain
from sim.scenario.schema import ID, Scenario
from sim.scenario.targets import CEASEFIRE_TYPES, load_targets


class SharedParameter(Strict):
    """A mechanism parameter every case has, calibrated across cases."""

    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    path: str | None = Field(None, description="its parameter path in every case (a case may name its own instead)")


class LibraryCase(Strict):
    """A case of the library: its files, its type, and the paths of the shared parameters it names itself."""

    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    scenario: str = Field(min_length=1, description="the case's scenario file, as of its start (relative to the index)")
    observed: str = Field(min_length=1, description="its observed-outcomes file (relative to the index)")
    type: Literal[CEASEFIRE_TYPES] = Field(
        description="time_limited (it ends at an expiry unless extended) or open_ended"
    )
    flagship_target: bool = Field(False, description="the flagship's calibration targets count this case")
    parameters: dict[str, str | None] = Field(
        default_factory=dict,
        description="shared parameter id -> its path in this case's scenario (null: the case has nothing in its role)",
    )


class Library(Strict):
    """The index of the case library."""

    name: str = Field(min_length=1)
    description: str = ""
    flagship_targets: str | None = Field(
        None, description="the flagship's targets file (relative to the index): each case's flagship_target is checked"
    )
    shared: list[SharedParameter] = Field(min_length=1)
    cases: list[LibraryCase] = Field(min_length=2)

    def path_of(self, case: LibraryCase, shared: SharedParameter) -> str | None:
        """The path of a shared parameter in a case's scenario (the case's own, else the library's)."""
        return case.parameters.get(shared.id, shared.path)

    def incoherences(self) -> list[tuple[str, str]]:
        """Cross-field problems as (dotted path, message)."""
        out = duplicate_ids([c.id for c in self.cases], "cases", "case")
        out += duplicate_ids([s.id for s in self.shared], "shared", "shared parameter")
        ids = [s.id for s in self.shared]
        for i, case in enumerate(self.cases):
            for name in case.parameters:
                if name not in ids:
                    msg = f"not a shared parameter{did_you_mean(name, ids, f' (one of: {", ".join(ids)})')}"
                    out.append((f"cases.{i}.parameters.{name}", msg))
            for s in self.shared:
                if s.id not in case.parameters and s.path is None:
                    msg = f"'{s.id}' has no library-wide path: give its path in this case's scenario (or null)"
                    out.append((f"cases.{i}.parameters", msg))
        return out


@dataclass
class Case:
    """A library case read in full: its entry, scenario, observed outcomes and shared parameters' paths."""

    entry: LibraryCase
    scenario: Scenario
    scenario_path: Path
    observed: Observed
    params: list[str]  # the paths of the shared parameters the case has, in the index's order


def load_library(path: str | Path) -> tuple[Library, list[Case]]:
    """The validated index and its cases read in full; raise :class:`ScenarioError` listing every problem (those of
    the index on its own lines, those of a case's files on theirs)."""
    path = Path(path)
    data, where = read(path, kind="a case library index")
    library = validate(data, where, str(path), Library, Library.incoherences)
    problems, own, cases = [], [], []  # the case files' problems, and the index's own
    at = lambda field, msg: own.append(problem_at(where, str(path), field, msg))
    for i, entry in enumerate(library.cases):
        files = {f: path.parent / getattr(entry, f) for f in ("scenario", "observed")}
        for field, file in files.items():
            if not file.is_file():
                at(f"cases.{i}.{field}", f"no such file: {file}")
        if any(not f.is_file() for f in files.values()):
            continue
        try:
            spec, observed = load_case(files["scenario"]), load_observed(files["observed"])
        except ScenarioError as exc:
            problems += exc.problems
            continue
        if observed.case != entry.id:
            at(f"cases.{i}.observed", f"{files['observed']} observes case '{observed.case}', not '{entry.id}'")
        params = [library.path_of(entry, s) for s in library.shared]
        dists = list(uncertain(spec))
        for j, (s, p) in enumerate(zip(library.shared, params, strict=True)):
            if p is not None and p not in dists:
                field = f"cases.{i}.parameters.{s.id}" if s.id in entry.parameters else f"shared.{j}.path"
                at(field, f"'{p}' is not an uncertain parameter of {files['scenario']}{did_you_mean(p, dists)}")
        cases.append(Case(entry, spec, files["scenario"], observed, [p for p in params if p is not None]))
    if library.flagship_targets is not None:
        own += _flagship_problems(library, path, where)
    problems += named(own, data)
    if problems:
        raise ScenarioError(problems)
    return library, cases


def _flagship_problems(library: Library, path: Path, where) -> list[Problem]:
    """Each case's ``flagship_target`` against the cases the flagship's targets file counts."""
    file = path.parent / library.flagship_targets
    if not file.is_file():
        return [problem_at(where, str(path), "flagship_targets", f"no such file: {file}")]
    counted = {c.id for c in load_targets(file)[0].cases}
    out = []
    for i, case in enumerate(library.cases):
        if case.flagship_target != (case.id in counted):
            counts = case.id in counted
            msg = (f"{file} {'counts' if counts else 'does not count'} case '{case.id}' among the flagship's targets: "
                   f"set flagship_target: {str(counts).lower()}")  # fmt: skip
            out.append(problem_at(where, str(path), f"cases.{i}.flagship_target", msg))
    return out
