"""A results folder in the page: its summary, its figures, and its runs sliced by a sampled parameter."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion
from sim.analysis.summary import summarize
from sim.batch.folder import ResultsFolder
from sim.engine.columns import SUCCESS, idents
from sim.scenario.labels import Names
from sim.scenario.schema import Scenario

LISTED = 200  # results folders offered in the page


@dataclass
class Results:
    """A complete results folder, read and checked: its scenario, meta, runs and summary."""

    folder: ResultsFolder
    scenario: Scenario
    meta: dict
    runs: pd.DataFrame
    summary: dict

    @property
    def figures(self) -> list[tuple[str, bytes]]:
        """The folder's PNG figures (name, bytes): regular files inside the folder only, never a symbolic link
        (it could lead anywhere on the machine)."""
        folder = Path(self.folder.figures)
        if folder.is_symlink() or not folder.is_dir():
            return []
        out = []
        for png in sorted(folder.glob("*.png")):
            try:
                fd = os.open(png, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:  # a symbolic link (ELOOP), or gone
                continue
            with os.fdopen(fd, "rb") as f:
                if os.fstat(f.fileno()).st_size <= 20_000_000:
                    out.append((png.stem, f.read()))
        return out

    def parameters(self) -> dict[str, str]:
        """The sampled parameters that can slice the runs: column -> words."""
        names = Names(self.scenario)
        return {f"param.{p}": names.field(p) for p in idents(self.runs.columns, "param")}


def open_results(folder: Path) -> Results:
    """Read a results folder (ResultsError or ScenarioError, one line each, when it is missing or damaged)."""
    opened = ResultsFolder.open(folder)
    runs = opened.runs()
    return Results(opened, opened.scenario, opened.meta, runs, summarize(runs, opened.meta, opened.scenario))


def results_folders(root: Path) -> list[str]:
    """The results folders under ``root`` (two levels down at most), by their path from it."""
    out = []
    for here, dirs, _ in os.walk(root):
        depth = len(Path(here).relative_to(root).parts)
        if depth and ResultsFolder.holds_results(here):
            out.append(str(Path(here).relative_to(root)))
            dirs[:] = []
            if len(out) >= LISTED:
                break
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < 2 else []
    return sorted(out)


def sliced(runs: pd.DataFrame, column: str, bins: int = 4) -> pd.DataFrame:
    """P(declared) with its Wilson interval in ``bins`` equal-count bins of a sampled parameter."""
    values = runs[column].to_numpy()
    declared = (runs["outcome"] == SUCCESS).to_numpy()
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = []
    for b in range(max(len(edges) - 1, 1)):
        inside = which == b
        rows.append(
            {
                "from": float(edges[b]),
                "to": float(edges[min(b + 1, len(edges) - 1)]),
                **proportion(int(declared[inside].sum()), int(inside.sum())),
            }
        )
    return pd.DataFrame(rows)
