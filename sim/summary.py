"""Summary statistics of a batch, honest about Monte Carlo uncertainty (Wilson intervals)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.outcomes import OUTCOME_ORDER
from sim.rules import wilson_interval


def proportion(successes: int, n: int) -> dict:
    low, high = wilson_interval(successes, n)
    return {"p": successes / n if n else float("nan"), "low": float(low), "high": float(high), "k": int(successes), "n": int(n)}


def probabilities(df: pd.DataFrame) -> dict:
    """P(outcome) with 95% Wilson intervals for each outcome."""
    counts = df["outcome"].value_counts()
    return {o: proportion(int(counts.get(o, 0)), len(df)) for o in OUTCOME_ORDER}


def transition_timing(df: pd.DataFrame, start: dt.date | None = None, round_days: int = 7) -> dict:
    """Quartiles of the round of transition (among runs that reached one), with calendar dates."""
    rounds = df.loc[df["outcome"] == "transition", "round"]
    if rounds.empty:
        return {"q1": None, "median": None, "q3": None}
    out = {k: float(np.quantile(rounds, q)) for k, q in (("q1", 0.25), ("median", 0.5), ("q3", 0.75))}
    if start is not None:
        out.update({f"{k}_date": str(start + dt.timedelta(days=round(v * round_days))) for k, v in list(out.items())})
    return out


def cumulative_transition(df: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P(transition by round k) for k = 1..horizon, with Wilson bands."""
    rounds = df.loc[df["outcome"] == "transition", "round"].to_numpy()
    k = np.arange(1, horizon + 1)
    hits = np.searchsorted(np.sort(rounds), k, side="right")
    low, high = wilson_interval(hits, len(df))
    return pd.DataFrame({"round": k, "p": hits / len(df), "low": low, "high": high})


def blocking(df: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """What stopped the runs without a transition: blocker and reason, most frequent first."""
    failed = df[df["outcome"] != "transition"]
    if failed.empty:
        return pd.DataFrame(columns=["blocker", "reason", "runs", "share"])
    who = failed["blocker"].replace("", "-")
    counts = failed.assign(blocker=who).groupby(["blocker", "reason"]).size().sort_values(ascending=False)
    out = counts.head(top).rename("runs").reset_index()
    out["share"] = out["runs"] / len(df)
    return out


def preconditions(df: pd.DataFrame) -> dict:
    """Share of runs in which each precondition was met, waived or left unmet."""
    cols = [c for c in df.columns if c.startswith("precondition.") and not c.endswith(".round")]
    return {c.split(".", 1)[1]: {k: float(v) for k, v in df[c].value_counts(normalize=True).items()} for c in cols}


def summarize(df: pd.DataFrame, meta: dict | None = None, scenario=None) -> dict:
    """Everything a briefing needs from a batch, as plain data (JSON-ready)."""
    meta = meta or {}
    start = scenario.meta.start_date if scenario is not None else None
    days = scenario.meta.round_days if scenario is not None else 7
    horizon = scenario.meta.horizon if scenario is not None else int(df["round"].max())
    return {
        "scenario": meta.get("scenario", scenario.meta.name if scenario is not None else ""),
        "runs": len(df),
        "seed": meta.get("seed"),
        "probabilities": probabilities(df),
        "transition_round": transition_timing(df, start, days),
        "cumulative_transition": cumulative_transition(df, horizon).to_dict(orient="records"),
        "blocking": blocking(df).to_dict(orient="records"),
        "preconditions": preconditions(df),
    }


def text(summary: dict) -> str:
    """The summary as a readable plain-text table."""
    lines = [f"{summary['scenario']}  ({summary['runs']:,} runs, seed {summary['seed']})", ""]
    lines.append(f"{'outcome':<12}{'P':>8}   95% interval")
    for name, p in summary["probabilities"].items():
        lines.append(f"{name:<12}{p['p']:>8.3f}   [{p['low']:.3f}, {p['high']:.3f}]")
    t = summary["transition_round"]
    if t.get("median") is not None:
        dates = f"  ({t['q1_date']} / {t['median_date']} / {t['q3_date']})" if "median_date" in t else ""
        lines += ["", f"round of transition, quartiles: {t['q1']:g} / {t['median']:g} / {t['q3']:g}{dates}"]
    if summary["blocking"]:
        lines += ["", "what blocked the runs without a transition:"]
        for row in summary["blocking"]:
            lines.append(f"  {row['share']:>6.1%}  {row['blocker']:<16}{row['reason']}")
    for pid, shares in summary["preconditions"].items():
        parts = ", ".join(f"{k} {v:.1%}" for k, v in sorted(shares.items()))
        lines += ["", f"precondition {pid}: {parts}"]
    return "\n".join(lines) + "\n"
