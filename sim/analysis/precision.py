"""Run until the headline probabilities are known to a stated precision.

A batch grows in stages. After each, the 95% Wilson intervals of P(declared), P(collapse) and
P(stalemate) are read from the folder; if one is still wider than ±``target``, the batch is grown
to the run count that the observed proportions say is needed, in steps of an eighth of the first
stage (at least one step more), up to ``max_runs``. Runs keep their indices, so the folder holds
exactly what a fixed batch of its final size holds, and the final size depends only on the
scenario, the seed, the first stage and the target, not on the workers or the block size.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from sim.analysis.intervals import Z95
from sim.analysis.summary import probabilities
from sim.batch.folder import ResultsFolder, write_meta
from sim.batch.runner import Execution, run_batch
from sim.engine.columns import OUTCOME_ORDER
from sim.scenario.schema import Scenario

MAX_RUNS = 1_000_000


def half_widths(counts: dict) -> dict[str, float]:
    """Half the width of each headline outcome's 95% Wilson interval."""
    return {name: (counts[name]["high"] - counts[name]["low"]) / 2 for name in OUTCOME_ORDER}


def runs_needed(p: float, target: float) -> int:
    """Runs for a 95% interval of about ±``target`` around a proportion near ``p`` (normal approximation)."""
    p = min(max(p, 1e-3), 1 - 1e-3)
    return math.ceil(Z95**2 * p * (1 - p) / target**2)


def next_size(counts: dict, runs: int, target: float, step: int, max_runs: int) -> int:
    """The next stage's run count: what the observed proportions need, in whole steps, at least one more."""
    need = max(runs_needed(counts[name]["p"], target) for name in OUTCOME_ORDER)
    return min(max_runs, max(runs + step, -(-math.ceil(1.05 * need) // step) * step))


def run_to_precision(
    scenario: Scenario,
    out: Path,
    target: float,
    *,
    max_runs: int | None = None,
    first: int | None = None,
    execution: Execution | None = None,
    **options,
) -> dict:
    """Grow a batch in ``out`` until every headline interval is within ±``target`` or ``max_runs`` is reached.

    ``first`` is the first stage's size (default: the scenario's ``meta.runs``); the batch is played as
    ``execution`` (or the :class:`~sim.batch.runner.Execution` fields given as ``options``) says. Returns the
    stopping record, also written into ``meta.json`` as ``precision`` for the summary.
    """
    how = replace(execution or Execution(), **options)
    max_runs = max_runs or MAX_RUNS
    runs = min(first or scenario.meta.runs, max_runs)
    if how.resume and ResultsFolder.holds_results(out):
        begun = ResultsFolder.open(out).meta
        runs, stages = begun["runs"], begun.get("precision", {}).get("stages", [])
        run_batch(scenario, out, execution=replace(how, overwrite=False))
    else:
        stages = []
        run_batch(scenario, out, runs=runs, execution=replace(how, resume=False))
    how = replace(how, resume=True, overwrite=False)
    step = max(1, (stages or [runs])[0] // 8)
    while True:
        stages = [*stages, runs] if not stages or stages[-1] != runs else stages
        counts = probabilities(ResultsFolder.open(out).runs(["outcome"]))
        widths = half_widths(counts)
        reached = all(w <= target for w in widths.values())
        if reached or runs >= max_runs:
            break
        _record(out, target, max_runs, stages, widths, None)  # a batch killed while growing resumes from here
        runs = next_size(counts, runs, target, step, max_runs)
        run_batch(scenario, out, runs=runs, grow=True, execution=how)
    why = (
        f"every headline interval within ±{target:g} after {runs:,} runs"
        if reached
        else f"stopped at the cap of {max_runs:,} runs with "
        + ", ".join(f"{n} ±{w:.4f}" for n, w in widths.items() if w > target)
        + f" still wider than ±{target:g}"
    )
    return _record(out, target, max_runs, stages, widths, why)


def _record(out: Path, target: float, max_runs: int, stages: list[int], widths: dict, why: str | None) -> dict:
    meta = ResultsFolder.open(out).meta
    meta["precision"] = {"target": target, "max_runs": max_runs, "stages": stages, "half_widths": widths, "why": why}
    write_meta(out, meta)
    return meta["precision"]
