"""The figures' one style: colours, fonts, a footer with scenario, runs, seed and date, and saving as PNG and SVG.

Every figure negsim draws (:mod:`sim.briefing.plots`, :mod:`sim.briefing.analysis_figures`, the notebooks)
is made in :data:`STYLE`, footed by :func:`footer` and written by :func:`save`.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import matplotlib
import matplotlib.ticker
from matplotlib.figure import Figure

from sim.batch.folder import atomic_write

COLOURS = {"declared": "#2a9d8f", "collapse": "#e76f51", "stalemate": "#8d99ae"}
INK = "#264653"
PERCENT = matplotlib.ticker.PercentFormatter(1.0)
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 160,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "svg.fonttype": "none",
}


def footer(fig, about: dict, extra: str = "", runs: str = "") -> None:
    """Scenario name, run count (or ``runs`` as given), seed and date along the bottom edge; ``about`` is a
    summary, or an analysis's description of itself (a table's ``attrs``), with ``scenario``, ``runs`` and ``seed``."""
    parts = [
        about.get("scenario", ""),
        runs or f"{about.get('runs', 0):,} runs",
        f"seed {about.get('seed')}",
        dt.date.today().isoformat(),
        "negsim",
    ]
    if extra:
        parts.insert(1, extra)
    text = fig.text(0.01, 0.01, "", fontsize=7.5, color="#666666", ha="left", va="bottom")
    lines = [""]
    for part in map(str, parts):  # as many parts a line as fit the figure's width, so no line widens the picture
        text.set_text(f"{lines[-1]}  |  {part}" if lines[-1] else part)
        if lines[-1] and text.get_window_extent().x1 > 0.99 * fig.bbox.width:
            lines.append(part)
        else:
            lines[-1] = text.get_text()
    text.set_text("\n".join(lines))


def fit_left(fig, ax, pad: float = 0.12, least: float = 3.0) -> None:
    """Move the axes' left edge so that its tick labels start ``pad`` inches from the figure's left edge, widening
    the figure if fewer than ``least`` inches would be left for the axes."""
    width, height = fig.get_size_inches()
    labels = ax.get_tightbbox().transformed(fig.dpi_scale_trans.inverted())
    room = ax.get_position().x0 * width - labels.x0 + pad  # inches left of the axes that the labels need
    right = (1 - ax.get_position().x1) * width
    if width - room - right < least:
        width = room + right + least
        fig.set_size_inches(width, height)
    fig.subplots_adjust(left=room / width)


def new_figure(width=7.0, height=4.0):
    """A figure of one panel in the style, with room for a title above and the footer below."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height))
        ax = fig.subplots()
    fig.subplots_adjust(bottom=0.2, top=0.88, left=0.12, right=0.97)
    return fig, ax


def panel_grid(n: int, width: float, height: float, columns: int = 3, xlabel: str = "", **kw):
    """``n`` panels in rows of ``columns``; ``xlabel`` goes under the lowest panel of each column."""
    cols = min(n, columns)
    rows = -(-n // cols)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width * cols + 0.8, height * rows + 1.1))
        axes = fig.subplots(rows, cols, squeeze=False, **kw)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes.flat[:n]):
        if xlabel and i + cols >= n:
            ax.set_xlabel(xlabel)
            ax.tick_params(labelbottom=True)
    return fig, list(axes.flat[:n])


def set_margins(fig, top: float = 0.85, bottom: float = 0.8, left: float = 0.75, right: float = 0.2) -> None:
    """Fixed margins in inches (title and legend above, axis label and footer below)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(top=1 - top / h, bottom=bottom / h, left=left / w, right=1 - right / w)


def save(fig, folder: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``name.png`` and ``name.svg`` in ``folder`` (atomically)."""
    paths = []
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        with matplotlib.rc_context(STYLE):  # the style's resolution and SVG text apply when saving
            fig.savefig(buf, format=fmt, bbox_inches="tight")
        paths.append(folder / f"{name}.{fmt}")
        atomic_write(paths[-1], buf.getvalue())
    return paths
