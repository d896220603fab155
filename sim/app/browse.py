"""A results folder in the page: its summary, its figures, and its runs sliced by a sampled parameter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion
from sim.analysis.summary import summarize
from sim.batch.folder import read_meta
from sim.batch.runner import load_results
from sim.engine.columns import SUCCESS, idents
from sim.scenario.labels import Names
from sim.scenario.loader import load
from sim.scenario.schema import Scenario


@dataclass
class Results:
    """A complete results folder, read and checked: its scenario, meta, runs and summary."""

    folder: Path
    scenario: Scenario
    meta: dict
    runs: pd.DataFrame
    summary: dict

    @property
    def figures(self) -> list[Path]:
        return sorted((self.folder / "figures").glob("*.png"))

    def parameters(self) -> dict[str, str]:
        """The sampled parameters that can slice the runs: column -> words."""
        names = Names(self.scenario)
        return {f"param.{p}": names.field(p) for p in idents(self.runs.columns, "param")}


def open_results(folder: Path) -> Results:
    """Read a results folder (ResultsError or ScenarioError, one line each, when it is missing or damaged)."""
    meta = read_meta(folder)
    scenario = load(folder / "scenario.yaml")
    runs = load_results(folder)
    return Results(folder, scenario, meta, runs, summarize(runs, meta, scenario))


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
