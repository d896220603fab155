"""The notebooks run end to end on small batches (NEGSIM_RUNS) and write only under NEGSIM_OUT."""

from __future__ import annotations

import json
import math
import re
from html import escape
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from helpers import assert_image, assert_standard_figures, pdf_pages, svg_texts
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RUNS = 300


def repo_state() -> dict[Path, int]:
    """Every file under the folders a notebook could write to inside the repo, with its mtime."""
    return {p: p.stat().st_mtime_ns for base in (ROOT / "results", NOTEBOOKS) for p in base.rglob("*")}


@pytest.fixture
def execute(tmp_path, monkeypatch):
    """Run a notebook with NEGSIM_RUNS/NEGSIM_OUT set; return its executed cells' text outputs."""
    monkeypatch.setenv("NEGSIM_RUNS", str(RUNS))
    monkeypatch.setenv("NEGSIM_OUT", str(tmp_path))

    def run(name: str) -> str:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        before = repo_state()
        # "python3" is this interpreter's ipykernel: jupyter_client replaces the spec's "python" with
        # sys.executable, and supplies the native spec itself when none is installed.
        NotebookClient(
            nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
        assert repo_state() == before, "the notebook wrote inside the repo although NEGSIM_OUT was set"
        return "\n".join(
            o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
        )

    return run


def runs_in(folder: Path) -> int:
    return json.loads((folder / "meta.json").read_text())["runs"]


def outcomes_in(folder: Path) -> pd.Series:
    """The outcome of every run in a results folder, read straight from its chunks, by run index."""
    runs = pd.concat(
        pd.read_parquet(p, columns=["run", "outcome"]) for p in sorted((folder / "runs").glob("*.parquet"))
    )
    return runs.set_index("run")["outcome"].astype(str).sort_index()


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float, float]:
    """The share k/n and its 95% Wilson score interval, from the formula."""
    centre, half = (k + z**2 / 2) / (n + z**2), z * math.sqrt(k * (n - k) / n + z**2 / 4) / (n + z**2)
    return k / n, centre - half, centre + half


def test_exploration_runs_the_baseline_and_plots_the_slices(execute, tmp_path):
    text = execute("exploration")
    assert runs_in(tmp_path / "baseline") == RUNS
    assert f"{RUNS} runs of Gaza phase two - baseline" in text
    outcomes = outcomes_in(tmp_path / "baseline")
    assert outcomes.index.tolist() == list(range(RUNS))
    table = {
        m[1]: [float(x) for x in m.groups()[1:]]
        for m in re.finditer(r"^(\w+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", text, re.M)
    }
    for outcome in ("transition", "collapse", "stalemate"):
        k = int((outcomes == outcome).sum())
        assert table[outcome] == [round(x, 3) for x in wilson(k, RUNS)] + [k], outcome
    titles = {"quintiles": "What moves the odds of a transition", "parameter_spread": "Which assumptions move the odds"}
    for name, title in titles.items():
        assert_image(tmp_path / "exploration" / f"{name}.png")
        assert title in svg_texts(tmp_path / "exploration" / f"{name}.svg")
    assert "leverage.us_on_israel_after_summit.strength" in text


@pytest.mark.slow
def test_briefing_compares_two_scenarios_and_exports_figures_and_reports(execute, tmp_path):
    text = execute("briefing")
    out = tmp_path / "briefing"
    transition = {}
    for key in ("baseline", "us_pressure"):
        assert runs_in(out / key) == RUNS
        outcomes = outcomes_in(out / key)
        transition[key] = outcomes.eq("transition").to_numpy(float)
        p, low, high = wilson(int(transition[key].sum()), RUNS)
        name = yaml.safe_load((out / key / "scenario.yaml").read_text())["meta"]["name"]
        assert f"{p:.1%} [{low:.1%}, {high:.1%}]" in text, key  # the notebook's table
        report = " ".join((out / key / "report.html").read_text().split())
        claim = f"in {100 * p:.1f}% ({100 * low:.1f}%–{100 * high:.1f}%) of runs"
        assert f"<title>{escape(name)}</title>" in report and f"Briefing from {RUNS:,} simulated runs" in report
        assert claim in report, key
        pdf = " ".join(" ".join(pdf_pages(out / key / "report.pdf")).split())
        assert name in pdf and claim in pdf and f"Briefing from {RUNS:,} simulated runs" in pdf, key
        summary = json.loads((out / key / "summary.json").read_text())
        assert_standard_figures(out / "figures", summary, prefix=f"{key}-")
    d = transition["us_pressure"] - transition["baseline"]  # the same runs, paired
    assert f"US pressure changes P(transition) by {100 * d.mean():+.1f} percentage points" in text
    assert_image(out / "figures" / "comparison.png", min_width=800)
    assert {"How the negotiation ends", "When phase two is declared"} <= set(
        svg_texts(out / "figures" / "comparison.svg")
    )
