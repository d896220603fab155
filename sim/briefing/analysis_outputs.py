"""What the analysis commands leave in their output folder: tables as CSV and JSON, texts and figures.

A table is written as ``<name>.csv`` and ``<name>.json`` (its ``attrs`` beside its rows); figures go into
``figures/`` as PNG and SVG. An output folder that already holds files is kept unless it may be overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.calibrate import write_result
from sim.analysis.compare import abm_rows
from sim.analysis.discover import discovery_text
from sim.batch.errors import ResultsError
from sim.batch.folder import FIGURES, atomic_write
from sim.briefing import analysis_figures
from sim.briefing.style import save


def output_folder(folder: Path, overwrite: bool) -> Path:
    """The folder an analysis writes into; one that already holds files is refused unless ``overwrite``."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())) and not overwrite:
        raise ResultsError(f"{folder}: already holds files (use --overwrite to replace them, or choose another --out)")
    return folder


def write_table(folder: Path, name: str, table: pd.DataFrame, index: bool = False) -> None:
    """``name.csv`` and ``name.json`` (the table's attrs plus its rows) in ``folder``."""
    rows = (table.reset_index() if index else table).astype(object)
    atomic_write(folder / f"{name}.csv", rows.to_csv(index=False))
    records = rows.where(rows.notna(), None).to_dict(orient="records")
    atomic_write(folder / f"{name}.json", json.dumps({**table.attrs, "rows": records}, indent=2, default=float))


def write_sweep(folder: Path, table: pd.DataFrame, swings: pd.DataFrame | None = None) -> None:
    """A sweep's table and figure, and with several fields the tornado of their swings."""
    write_table(folder, "sweep", table)
    save(analysis_figures.sweep_figure(table, table.attrs), folder / FIGURES, "sweep")
    if swings is not None:
        write_table(folder, "tornado", swings)
        save(analysis_figures.tornado_figure(swings, swings.attrs), folder / FIGURES, "tornado")


def write_indices(folder: Path, indices: pd.DataFrame, method: str) -> None:
    """Sobol or Morris indices as ``indices.csv``/``.json`` and the figure ``<method>``."""
    write_table(folder, "indices", indices, index=True)
    save(analysis_figures.indices_figure(indices, indices.attrs), folder / FIGURES, method)


def write_comparison(folder: Path, table: pd.DataFrame) -> None:
    """A comparison's table, and the figure of the agent-based items' probabilities (when there are any)."""
    write_table(folder, "compare", table)
    abm = abm_rows(table)
    if len(abm):
        save(analysis_figures.comparison_figure(abm.reset_index(drop=True), table.attrs), folder / FIGURES, "compare")


def write_discovery(folder: Path, found: dict) -> None:
    """``discover.json``, ``discover.txt`` (the text and CART's tree) and the figure of scenario discovery."""
    atomic_write(folder / "discover.json", json.dumps(found, indent=2, default=float))
    atomic_write(folder / "discover.txt", discovery_text(found) + "\n" + found["cart"]["tree"])
    save(analysis_figures.discovery_figure(found), folder / FIGURES, "discovery")


def write_calibration(folder: Path, result: dict, prior: dict[str, np.ndarray]) -> None:
    """A calibration's posterior and result, and the figure of prior against posterior (``prior``: draws)."""
    write_result(folder, result)
    save(analysis_figures.calibration_figure(result, prior), folder / FIGURES, "calibration")
