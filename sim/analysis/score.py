"""Forecasts scored against what happened: Brier and logarithmic scores beside two reference forecasters.

A :class:`Forecast` holds, for everything a run can reach (a phase declared, an issue agreed, a milestone
carried out, an event, a collapse), how many runs had reached it by each round; it comes from a results
folder or from a forecast log's entry (:mod:`sim.analysis.forecast_log`), so both are scored alike. Each
event of an observed file (:mod:`sim.scenario.observed`) gets the model's probability that it happened by
its ``by`` date, with a Wilson interval, and three forecasters are scored on it: the model, 50% on
everything, and the reference class's base rate with the scored case left out.

Scores are losses (lower is better): Brier ``(p - y)^2`` (from ``scoringrules``) and logarithmic
``-ln(p if y else 1 - p)``. A probability of exactly 0 or 1 on an event that went the other way has an infinite log
score; it is reported as such (``certain_wrong``), never clipped away.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion, wilson_interval
from sim.analysis.prediction_folder import agent_based
from sim.batch.folder import ResultsFolder
from sim.engine.columns import column
from sim.scenario.errors import ScenarioError
from sim.scenario.observed import Observed, event_problem

FORECASTERS = {"model": "the model", "half": "50% on everything", "base": "base rate (leave-one-out)"}
RELIABILITY_MIN = 30  # scored events before a reliability table means anything
BINS = np.linspace(0, 1, 11)


@dataclass
class Forecast:
    """How many of ``runs`` runs had reached each result by each round (index = round, from 0)."""

    label: str
    scenario: str
    start_date: dt.date
    round_days: int
    runs: int
    reached: dict[str, list[int]]

    def round_of(self, date: dt.date) -> int:
        """The last round whose date is on or before ``date``."""
        return last_round(self.start_date, self.round_days, date)

    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.round_days * (len(next(iter(self.reached.values()))) - 1))


def last_round(start: dt.date, round_days: int, date: dt.date) -> int:
    """The last round (from ``start``, ``round_days`` apart) whose date is on or before ``date``."""
    return (date - start).days // round_days


def result_columns(spec) -> dict[str, str]:
    """The round column of each result a run of ``spec`` can reach: ``declared:<phase>``, ``agreed:<issue>``,
    ``implemented:<milestone>``, ``event:<id>``, ``collapse``, and ``declared`` alone for the first phase."""
    columns = {"collapse": "collapse_round"}
    columns |= {f"declared:{p.id}": column("phase_round", p.id) for p in spec.phases}
    columns |= {f"agreed:{i}": column("agreed_round", i) for i in spec.issue_ids()}
    columns |= {f"implemented:{m.id}": column("milestone_round", m.id) for m in spec.milestones}
    columns |= {f"event:{e.id}": column("event_round", e.id) for e in spec.events}
    if spec.phases:
        columns["declared"] = column("phase_round", spec.phases[0].id)
    return columns


def reached_by_round(df: pd.DataFrame, spec) -> dict[str, list[int]]:
    """Per result (:func:`result_columns`), the cumulative count of runs that reached it by each round from 0 to
    the horizon."""
    out = {}
    for ref, col in result_columns(spec).items():
        rounds = df[col].to_numpy()
        out[ref] = np.bincount(rounds[rounds >= 0], minlength=spec.meta.horizon + 1).cumsum().tolist()
    return out


def from_folder(folder: str | Path) -> Forecast:
    """The forecast a results folder of the agent-based model holds (its resolved scenario and its runs)."""
    agent_based(folder, ", which gives no probabilities to score")
    results = ResultsFolder.open(folder)
    spec, df = results.scenario, results.runs()
    return Forecast(
        str(folder),
        results.meta["scenario"],
        spec.meta.start_date,
        spec.meta.round_days,
        len(df),
        reached_by_round(df, spec),
    )


def losses(p, happened) -> tuple[np.ndarray, np.ndarray]:
    """Brier and log scores of probabilities ``p`` on outcomes ``happened`` (an infinite log score stays so).

    The Brier score is ``scoringrules``'; the log score is computed here as ``-ln p`` or ``-ln(1 - p)``:
    ``scoringrules.log_score`` takes ``-ln|p + y - 1|``, which rounds a tiny ``p`` on an event that happened
    to zero and calls a forecast of 1e-17 certain (a property test found it).
    """
    import scoringrules  # the 'validation' extra: a run that only files a forecast does not need it

    p, y = np.asarray(p, dtype=float), np.asarray(happened, dtype=bool)
    with np.errstate(divide="ignore"):
        log = np.where(y, -np.log(p), -np.log1p(-p))
    return np.asarray(scoringrules.brier_score(y.astype(float), p)), log + 0.0


def score(forecast: Forecast, observed: Observed) -> pd.DataFrame:
    """One row per observed event: the outcome, each forecaster's probability and its Brier and log scores.

    Raises :class:`ScenarioError` (on the observed file's lines) for an event the forecast cannot answer.
    """
    rows, problems = [], []
    for k, e in enumerate(observed.events):
        r = forecast.round_of(e.by)
        if e.result not in forecast.reached:
            known = ", ".join(sorted(forecast.reached))
            problems.append(event_problem(observed, k, "result", f"{forecast.label} records no '{e.result}' ({known})"))
            continue
        if (e.happened and e.happened_on < forecast.start_date) or e.by < forecast.start_date:
            when = "happened" if e.happened else "is asked"
            msg = f"{when} before the forecast's start ({forecast.start_date}): nothing to forecast"
            problems.append(event_problem(observed, k, "happened_on" if e.happened else "by", msg))
            continue
        if r >= len(forecast.reached[e.result]):
            msg = f"after the forecast's horizon ({forecast.end_date()}): {forecast.label} says nothing about it"
            problems.append(event_problem(observed, k, "by", msg))
            continue
        p = proportion(forecast.reached[e.result][r], forecast.runs)
        hits, n, cases = observed.base_rate(e)
        rows.append(
            {
                "forecast": forecast.label,
                "case": observed.case,
                "in_sample": observed.written_after_outcome,
                "event": e.id,
                "label": e.label,
                "result": e.result,
                "by": e.by.isoformat(),
                "happened": e.happened,
                "when": (e.happened_on or e.not_happened_by).isoformat(),
                "p_model": p["p"],
                "p_model_low": p["low"],
                "p_model_high": p["high"],
                "p_half": 0.5,
                "p_base": hits / n,
                "base_cases": f"{hits}/{n} ({', '.join(cases)})",
                "resolution": " ".join(e.resolution.split()),
            }
        )
    if problems:
        raise ScenarioError(problems)
    table = pd.DataFrame(rows)
    for f in FORECASTERS:
        table[f"brier_{f}"], table[f"log_{f}"] = losses(table[f"p_{f}"], table["happened"])
    return table


def mean_scores(table: pd.DataFrame, forecasters: dict[str, str] = FORECASTERS) -> pd.DataFrame:
    """Per forecaster (``p_<key>``, ``brier_<key>``, ``log_<key>`` columns, by name): mean Brier and log scores,
    and the events it was certain of and got wrong."""
    rows = []
    for f, name in forecasters.items():
        wrong = table[np.isinf(table[f"log_{f}"])]["event"].tolist()
        rows.append(
            {
                "forecaster": name,
                "events": len(table),
                "brier": float(table[f"brier_{f}"].mean()),
                "log": float(table[f"log_{f}"].mean()),
                "certain_wrong": len(wrong),
                "certain_wrong_events": ", ".join(wrong),
            }
        )
    return pd.DataFrame(rows)


def reliability(table: pd.DataFrame, minimum: int = RELIABILITY_MIN) -> pd.DataFrame | None:
    """The model's probabilities in tenths beside how often those events happened (with a Wilson interval);
    None below ``minimum`` scored events."""
    if len(table) < minimum:
        return None
    tenth = np.clip(np.digitize(table["p_model"], BINS[1:-1]), 0, len(BINS) - 2)
    rows = []
    for b in range(len(BINS) - 1):
        hit = table["happened"].to_numpy()[tenth == b]
        if not hit.size:
            continue
        low, high = wilson_interval(hit.sum(), hit.size)
        rows.append(
            {
                "bin": f"{BINS[b]:.1f}-{BINS[b + 1]:.1f}",
                "events": int(hit.size),
                "mean_p": float(table["p_model"].to_numpy()[tenth == b].mean()),
                "observed": float(hit.mean()),
                "observed_low": float(low),
                "observed_high": float(high),
            }
        )
    return pd.DataFrame(rows)


def loss_text(x: float) -> str:
    return "inf" if np.isinf(x) else f"{x + 0.0:.3f}"  # never a negative zero


def scores_text(table: pd.DataFrame) -> str:
    """Per event the outcome, the model's probability with its interval and each forecaster's scores; then the
    mean scores (pooled over every forecast in ``table``) and, from 30 events, the reliability table."""
    lines, w = [], max(8, table["label"].str.len().max() + 2)
    for forecast, rows in table.groupby("forecast", sort=False):
        hindsight = (
            "; in-sample: its scenario was written after the outcome was known" if rows["in_sample"].any() else ""
        )
        lines += [f"{forecast}  (case {rows['case'].iloc[0]}{hindsight})"]
        lines.append(
            f"  {'event':<{w}}{'outcome':<26}{'P model [95%]':<24}{'base':>6}"
            f"{'Brier m / 50% / base':>26}{'log m / 50% / base':>24}"
        )
        for r in rows.to_dict(orient="records"):
            outcome = f"{'yes' if r['happened'] else 'no'} ({'on' if r['happened'] else 'not by'} {r['when']})"
            p = f"{r['p_model']:.3f} [{r['p_model_low']:.3f}, {r['p_model_high']:.3f}]"
            brier = " / ".join(f"{r[f'brier_{f}']:.3f}" for f in FORECASTERS)
            log = " / ".join(loss_text(r[f"log_{f}"]) for f in FORECASTERS)
            lines.append(f"  {r['label']:<{w}}{outcome:<26}{p:<24}{r['p_base']:>6.2f}{brier:>26}{log:>24}")
        lines.append("")
    pooled = "pooled over " + (f"{table['forecast'].nunique()} forecasts, " if table["forecast"].nunique() > 1 else "")
    lines.append(f"mean scores, {pooled}{len(table)} events (lower is better)")
    if table["in_sample"].any():
        lines.append(f"  in-sample: {int(table['in_sample'].sum())} of the {len(table)} events are scored on cases "
                     "written after their outcomes were known, which measures fit, not forecasting skill")  # fmt: skip
    lines.append(f"  {'forecaster':<28}{'Brier':>8}{'log':>8}")
    for r in mean_scores(table).to_dict(orient="records"):
        note = (
            f"   certain and wrong on {r['certain_wrong']}: {r['certain_wrong_events']} (infinite log score)"
            if r["certain_wrong"]
            else ""
        )
        lines.append(f"  {r['forecaster']:<28}{r['brier']:>8.3f}{loss_text(r['log']):>8}{note}")
    table_of_bins = reliability(table)
    if table_of_bins is None:
        lines.append(f"\nreliability: needs at least {RELIABILITY_MIN} scored events (has {len(table)})")
    else:
        lines += ["", "reliability of the model's probabilities", f"  {'P':<10}{'events':>7}{'mean P':>8}  observed"]
        for r in table_of_bins.to_dict(orient="records"):
            lines.append(
                f"  {r['bin']:<10}{r['events']:>7}{r['mean_p']:>8.3f}  {r['observed']:.3f} "
                f"[{r['observed_low']:.3f}, {r['observed_high']:.3f}]"
            )
    return "\n".join(lines) + "\n"
