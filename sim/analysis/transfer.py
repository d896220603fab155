"""Leave-one-case-out calibration across the case library: does a calibration carry from some cases to another?

For each case of the library (:mod:`sim.scenario.library`) the other cases are the reference class. What
their observed files say happened, by the reference-class outcome each event names (its ``reference``:
``collapse``, ``follow_on``...), makes the targets (:class:`~sim.scenario.targets.Targets`: k of n cases,
Jeffreys' mean and standard deviation). The left-out case's shared parameters are calibrated to them by
ABC-SMC (:func:`sim.analysis.calibrate.calibrate`, seeded by the case's seed), each target counted as the
case's own observed event asks it: its result by its date. The case is then played on new runs (seed + 1)
with its posterior (each run takes a particle by weight, from its own named stream) and with its priors,
and each observed event is scored (:func:`sim.analysis.score.losses`) for four forecasters: the
calibrated model, the uncalibrated model, 50%, and the base rate of the other cases (Jeffreys' mean of k
of n, the value the calibration aims at; 0.5 when no other case observes the outcome).

A case the flagship is calibrated to is scored here only with itself left out of the targets, as every
case is. The measure is of transfer between cases, not of forecasting skill: cases written after their
outcomes were known are in-sample however the calibration is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.calibrate import Settings, calibrate, write_result
from sim.analysis.design import BLOCK_RUNS, played
from sim.analysis.score import Forecast, last_round, losses, mean_scores, reached_by_round, result_columns, score
from sim.engine import streams
from sim.engine.model import NegotiationModel
from sim.engine.tables import run_table
from sim.scenario.library import Case, Library
from sim.scenario.observed import Event, Observed
from sim.scenario.schema import Scenario
from sim.scenario.targets import Case as ReferenceCase
from sim.scenario.targets import Target, Targets

FORECASTERS = {
    "calibrated": "calibrated on the other cases",
    "prior": "uncalibrated (the scenario's priors)",
    "half": "50% on everything",
    "base": "base rate of the other cases",
}
SHORT = {"calibrated": "calibrated", "prior": "prior", "half": "50%", "base": "base rate"}
TRANSFER = "leave-one-case-out measures whether a calibration transfers between cases, not forecasting skill"
IN_SAMPLE = "every case here was written after its outcome was known (in-sample)"
SMALL = Settings(population=30, generations=3, runs_per_point=100, predictive_draws=20)
FORECAST_RUNS = 2000


def outcomes(observed: Observed) -> dict[str, bool]:
    """What a case's observed file says happened, by reference-class outcome (an outcome that several events
    name happened if any of them did)."""
    out: dict[str, bool] = {}
    for e in observed.events:
        out[e.reference] = out.get(e.reference, False) or e.happened
    return out


def reference_cases(cases: list[Case], left: Case) -> list[ReferenceCase]:
    """Every case but ``left``, as a reference class's cases."""
    return [ReferenceCase(id=c.entry.id, label=c.entry.label, type=c.entry.type, observed=outcomes(c.observed))
            for c in cases if c.entry.id != left.entry.id]  # fmt: skip


def targets_without(library: Library, cases: list[Case], left: Case) -> tuple[Targets | None, list[Event]]:
    """The targets for ``left`` from the other cases (one per event of ``left`` whose outcome another case
    observes; None if there is none) and the events they stand for, in order."""
    others = reference_cases(cases, left)
    seen = {name for c in others for name in c.observed}
    asked = [e for e in left.observed.events if e.reference in seen]
    if not asked:
        return None, []
    goals = [Target(outcome=e.reference, label=e.label) for e in asked]
    targets = Targets(name=f"{library.name} without {left.entry.id}", reference=f"the library's cases but "
                      f"{left.entry.id}", cases=others, targets=goals)  # fmt: skip
    assert left.entry.id not in {c.id for c in targets.cases}, "a case is never its own target"
    return targets, asked


def base_rate(others: list[ReferenceCase], reference: str) -> tuple[float, str]:
    """Jeffreys' mean of how often ``reference`` happened in the other cases, and the count it rests on."""
    seen = [(c.id, c.observed[reference]) for c in others if reference in c.observed]
    hits = sum(h for _, h in seen)
    return (hits + 0.5) / (len(seen) + 1), f"{hits}/{len(seen)} ({', '.join(i for i, _ in seen) or 'none'})"


def reached_by(spec: Scenario, events: list[Event]) -> Callable[[NegotiationModel], np.ndarray]:
    """Whether each run of a played model reached each event's result by the event's date (runs x events)."""
    asked = [(result_columns(spec)[e.result], last_round(spec.meta.start_date, spec.meta.round_days, e.by))
             for e in events]  # fmt: skip

    def count(model: NegotiationModel) -> np.ndarray:
        df = run_table(model)
        return np.column_stack([(df[col].to_numpy() >= 0) & (df[col].to_numpy() <= r) for col, r in asked])

    return count


def forecast(spec: Scenario, label: str, runs: int, seed: int, values: dict[str, np.ndarray] | None = None) -> Forecast:
    """Runs 0..runs-1 of ``spec`` played (with ``values``, one per run, set for some parameters) as a forecast."""
    tables = []
    for start in range(0, runs, BLOCK_RUNS):
        ids = np.arange(start, min(start + BLOCK_RUNS, runs))
        model = NegotiationModel(spec, ids, seed=seed, overrides={p: v[ids] for p, v in (values or {}).items()})
        model.run()
        tables.append(run_table(model))
    df = pd.concat(tables, ignore_index=True)
    m = spec.meta
    return Forecast(label, m.name, m.start_date, m.round_days, runs, reached_by_round(df, spec))


def posterior_values(posterior: pd.DataFrame, params: list[str], runs: int, seed: int) -> dict[str, np.ndarray]:
    """A particle per run, drawn by weight from the run's own stream: the posterior's values for runs 0..runs-1."""
    u = streams.uniform(seed, np.arange(runs), streams.key("transfer.posterior"))
    cum = np.cumsum(posterior["weight"].to_numpy(dtype=float))
    pick = np.minimum(np.searchsorted(cum / cum[-1], u), len(posterior) - 1)
    return {p: posterior[p].to_numpy(dtype=float)[pick] for p in params}


def leave_one_out(
    library: Library,
    cases: list[Case],
    folder: Path,
    settings: Settings = SMALL,
    runs: int = FORECAST_RUNS,
    overwrite: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Calibrate each case on the others and score it: the table (one row per observed event, four
    forecasters), the mean scores per case and pooled, and each case's calibration (``folder/<case>`` holds
    its ABC database, posterior and result)."""
    rows, calibrations = [], []
    for left in cases:
        spec, seed = left.scenario, left.scenario.meta.seed_or(settings.seed)
        prior = score(forecast(spec, "prior", runs, seed + 1), left.observed)  # checks the events against spec
        targets, asked = targets_without(library, cases, left)
        calibrated, facts = prior, {"case": left.entry.id, "targets": [], "parameters": [], "populations": 0,
                                    "not_calibrated": _why_not(targets, left)}  # fmt: skip
        if targets is not None and left.params:
            where = folder / left.entry.id
            play = lambda values, s, spec=spec, asked=asked: played(spec, values, settings.runs_per_point, s,
                                                                    reached_by(spec, asked))  # fmt: skip
            result = calibrate(spec, targets, left.params, where, replace(settings, seed=seed), overwrite=overwrite,
                               play=play)  # fmt: skip
            write_result(where, result)
            values = posterior_values(result["posterior"], left.params, runs, seed)
            calibrated = score(forecast(spec, "calibrated", runs, seed + 1, values), left.observed)
            facts = _facts(left, targets, result)
        calibrations.append(facts)
        others = reference_cases(cases, left)
        for k, e in enumerate(left.observed.events):
            p_base, counted = base_rate(others, e.reference)
            rows.append({
                "case": left.entry.id, "case_label": left.entry.label, "type": left.entry.type,
                "flagship_target": left.entry.flagship_target, "in_sample": left.observed.written_after_outcome,
                "event": e.id, "label": e.label, "result": e.result, "by": e.by.isoformat(), "happened": e.happened,
                "reference": e.reference, "targeted": any(e.reference in c.observed for c in others),
                "p_calibrated": calibrated["p_model"].iloc[k], "p_prior": prior["p_model"].iloc[k], "p_half": 0.5,
                "p_base": p_base, "base_cases": counted,
            })  # fmt: skip
    table = pd.DataFrame(rows)
    for f in FORECASTERS:
        table[f"brier_{f}"], table[f"log_{f}"] = losses(table[f"p_{f}"], table["happened"])
    table.attrs = {"note": caveat(table), "runs": runs, "population": settings.population,
                   "generations": settings.generations, "runs_per_point": settings.runs_per_point,
                   "calibrations": calibrations}  # fmt: skip
    return table, pooled(table), calibrations


def _why_not(targets: Targets | None, left: Case) -> str:
    """Why a case is not calibrated ("" if it is)."""
    if targets is None:
        return "no other case observes its outcomes"
    return "" if left.params else "it has none of the shared parameters"


def _facts(left: Case, targets: Targets, result: dict) -> dict:
    """What a case was calibrated to and what its shared parameters became."""
    goal = lambda t: {"outcome": t.measure, "label": t.label, "value": targets.value(t)[0],
                      "sd": targets.value(t)[1], "cases": "{}/{}".format(*targets.counts(t.measure))}  # fmt: skip
    kept = ("parameter", "prior_mean", "mean", "low", "high")
    return {
        "case": left.entry.id,
        "targets": [goal(t) for t in targets.targets],
        "parameters": [{k: r[k] for k in kept} for r in result["parameters"]],
        "populations": result["populations"],
        "epsilons": result["epsilons"],
        "not_calibrated": "",
    }


def pooled(table: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per forecaster for each case and pooled over every case."""
    scopes = [(case, rows) for case, rows in table.groupby("case", sort=False)] + [("pooled", table)]
    return pd.concat([mean_scores(rows, FORECASTERS).assign(scope=scope) for scope, rows in scopes], ignore_index=True)


def caveat(table: pd.DataFrame) -> str:
    """What the scores measure, and how many cases are in-sample."""
    by_case = table.groupby("case", sort=False)["in_sample"].first()
    if by_case.all():
        return f"{TRANSFER}; {IN_SAMPLE}"
    known = f"{int(by_case.sum())} of the {len(by_case)} cases were written after their outcomes were known"
    return f"{TRANSFER}; {known} (in-sample)"


def transfer_text(table: pd.DataFrame, means: pd.DataFrame, calibrations: list[dict]) -> str:
    """Per case what it was calibrated to, its shared parameters before and after, and each event's four
    forecasts and scores; then the mean scores per case and pooled, and what they measure."""
    from sim.analysis.score import loss_text

    lines, w = [], max(8, int(table["label"].str.len().max()) + 2)
    for facts, (case, rows) in zip(calibrations, table.groupby("case", sort=False), strict=True):
        first = rows.iloc[0]
        flagship = "; a flagship calibration target, scored with itself left out" if first["flagship_target"] else ""
        lines.append(f"{case}: {first['case_label']} ({first['type']}{flagship})")
        if facts["not_calibrated"]:
            lines.append(f"  {facts['not_calibrated']}: not calibrated (its calibrated forecast is its prior)")
        for t in facts["targets"]:
            lines.append(f"  target {t['outcome']:<22}{t['value']:.3f} ± {t['sd']:.3f}  ({t['cases']} other cases)")
        for r in facts["parameters"]:
            lines.append(f"  {r['parameter']:<46} prior mean {r['prior_mean']:.4g} -> posterior "
                         f"{r['mean']:.4g} [{r['low']:.4g}, {r['high']:.4g}]")  # fmt: skip
        lines.append(f"  {'event':<{w}}{'outcome':<9}{'P calibrated / prior / 50% / base':>36}"
                     f"{'Brier (the same order)':>30}{'log (the same order)':>30}")  # fmt: skip
        for r in rows.to_dict(orient="records"):
            p = " / ".join(f"{r[f'p_{f}']:.3f}" for f in FORECASTERS)
            brier = " / ".join(f"{r[f'brier_{f}']:.3f}" for f in FORECASTERS)
            log = " / ".join(loss_text(r[f"log_{f}"]) for f in FORECASTERS)
            lines.append(f"  {r['label']:<{w}}{'yes' if r['happened'] else 'no':<9}{p:>36}{brier:>30}{log:>30}")
        lines.append("")
    lines.append(f"mean scores (lower is better), {len(table)} events in {table['case'].nunique()} cases")
    lines.append(f"  {'':<16}{'':<7}" + "".join(f"{name:>12}" for name in SHORT.values()))
    for scope, rows in means.groupby("scope", sort=False):
        lines.append(f"  {scope[:15]:<16}{'Brier':<7}" + "".join(f"{b:>12.3f}" for b in rows["brier"]))
        lines.append(f"  {'':<16}{'log':<7}" + "".join(f"{loss_text(x):>12}" for x in rows["log"]))
    legend = "; ".join(f"{SHORT[f]}: {name}" for f, name in FORECASTERS.items())
    return "\n".join([*lines, f"  ({legend})", "", table.attrs["note"]]) + "\n"
