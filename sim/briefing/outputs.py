"""What a finished batch leaves for its readers: the summary (JSON and text) and the figures."""

from __future__ import annotations

import json
from pathlib import Path

from sim.analysis import uncertainty
from sim.analysis.summary import summarize_folder
from sim.analysis.summary_text import summary_text
from sim.batch.folder import SUMMARY_JSON, SUMMARY_TEXT, ResultsFolder, atomic_write
from sim.briefing import plots
from sim.briefing.style import save
from sim.engine.columns import reason_words
from sim.scenario.labels import Names


def write_outputs(folder: str | Path | ResultsFolder, workers: int | None = None) -> dict:
    """Summarise a complete results folder and draw its figures; returns the summary.

    The runs are read chunk by chunk, in ``workers`` processes (default: all cores from 50,000 runs), only
    the columns the summary needs: memory stays flat however many runs the folder holds.
    """
    results = ResultsFolder.open(folder)
    meta, scenario = results.meta, results.scenario
    result, counts = summarize_folder(results, meta, scenario, workers)
    result["uncertainty"] = uncertainty.two_kinds(scenario, result["probabilities"], meta["runs"], meta["seed"])
    atomic_write(results / SUMMARY_JSON, json.dumps(result, indent=2, default=float))
    atomic_write(results / SUMMARY_TEXT, summary_text(result))
    names = Names(scenario)
    draw = {
        "outcomes": lambda: plots.outcome_figure(result),
        "declaration_curve": lambda: plots.declaration_curve_figure(
            result, scenario.meta.start_date, scenario.meta.round_days
        ),
        "agreements": lambda: plots.agreements_figure(result),
        "mechanisms": lambda: plots.mechanisms_figure(result),
        "blocking": lambda: plots.blocking_figure(
            result,
            {**names.actors, **names.veto_players},
            {row["reason"]: reason_words(row["reason"], names) for row in result["blocking"]},
        ),
        "packages": lambda: plots.package_figure(
            counts,
            result,
            [(i.id, i.label, i.low, i.high) for i in scenario.issues],
            [(r.id, r.issue, names.red_lines[r.id]) for r in scenario.red_lines],
        ),
        "positions": lambda: plots.fan_figure(
            results.trajectories(),
            result,
            names.issues,
            actors=[a.id for a in scenario.seated],
            names=names.actors,
            scales={i.id: (i.low, i.high) for i in scenario.issues},
        ),
    }
    for name in drawn_figures(scenario, meta):
        save(draw[name](), results.figures, name)
    return result


def drawn_figures(scenario, meta: dict) -> list[str]:
    """The figures a results folder has: those the scenario asks for that its data allow."""
    possible = {"positions": bool(meta.get("trajectories")), "mechanisms": bool(scenario.mechanisms)}
    return [f for f in scenario.outputs.figures if possible.get(f, True)]
