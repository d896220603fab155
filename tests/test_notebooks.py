"""The notebooks run end to end on small batches (NEGSIM_RUNS) and write only under NEGSIM_OUT."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from helpers import assert_image, pdf_pages
from nbclient import NotebookClient

from sim.batch.runner import load_results

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


@pytest.mark.slow
def test_exploration_runs_the_baseline_and_plots_the_slices(execute, tmp_path):
    text = execute("exploration")
    folder = tmp_path / "baseline"
    assert runs_in(folder) == RUNS
    assert f"{RUNS} runs of Gaza phase two - baseline" in text
    p = json.loads((folder / "summary.json").read_text())["probabilities"]["declared"]
    assert f"P(declared) {p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]" in text
    df = load_results(folder)
    for issue in ("governance", "weapons", "force", "withdrawal", "truce"):  # from the agreed.* columns
        assert f"P(agreed {issue}) {(df[f'agreed.{issue}.round'] >= 0).mean():.3f}" in text
    for name in ("quintiles", "parameter_spread"):
        assert_image(tmp_path / "exploration" / f"{name}.png")
        assert b"<svg" in (tmp_path / "exploration" / f"{name}.svg").read_bytes()[:2000]
    assert "leverage.us_on_israel_after_summit.strength" in text


@pytest.mark.slow
def test_briefing_compares_two_scenarios_and_exports_figures_and_reports(execute, tmp_path):
    text = execute("briefing")
    out = tmp_path / "briefing"
    runs = {}
    for key in ("baseline", "us_pressure"):
        assert runs_in(out / key) == RUNS
        summary = json.loads((out / key / "summary.json").read_text())
        declared = summary["probabilities"]["declared"]
        shown = f"{100 * declared['low']:.1f}% – {100 * declared['high']:.1f}%"  # as the reports' tables show it
        assert summary["scenario"] in (out / key / "report.html").read_text()
        assert shown in (out / key / "report.html").read_text()
        assert shown in " ".join(" ".join(pdf_pages(out / key / "report.pdf")).split())
        for figure in ("outcomes", "declaration_curve", "agreements", "blocking", "packages", "positions"):
            copied = out / "figures" / f"{key}-{figure}.png"
            assert_image(copied)
            assert copied.read_bytes() == (out / key / "figures" / f"{figure}.png").read_bytes()
        runs[key] = load_results(out / key).sort_values("run", ignore_index=True)
    assert_image(out / "figures" / "comparison.png")
    for what, hit in (
        ("P(declared)", lambda df: df["outcome"] == "declared"),
        ("P(agreed weapons)", lambda df: df["agreed.weapons.round"] >= 0),
    ):  # the paired differences printed are those of the runs written
        d = hit(runs["us_pressure"]).mean() - hit(runs["baseline"]).mean()
        assert f"US pressure changes {what} by {100 * d:+.1f} percentage points" in text
