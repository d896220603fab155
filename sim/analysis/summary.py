"""Summary statistics of a batch, honest about Monte Carlo uncertainty (Wilson intervals)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion, wilson_interval
from sim.engine.outcomes import OUTCOME_ORDER, SUCCESS, column, idents, reason_words
from sim.scenario.labels import Names


def probabilities(df: pd.DataFrame) -> dict:
    """P(outcome) with 95% Wilson intervals for each outcome."""
    counts = df["outcome"].value_counts()
    return {o: proportion(int(counts.get(o, 0)), len(df)) for o in OUTCOME_ORDER}


def transition_timing(df: pd.DataFrame, start: dt.date | None = None, round_days: int = 7) -> dict:
    """Quartiles of the round of transition (among runs that reached one), with calendar dates.

    Each quartile is a round some run reached a transition in (the inverse of the empirical CDF).
    """
    rounds = df.loc[df["outcome"] == SUCCESS, "round"]
    if rounds.empty:
        return {"q1": None, "median": None, "q3": None}
    out = {
        k: float(np.quantile(rounds, q, method="inverted_cdf"))
        for k, q in (("q1", 0.25), ("median", 0.5), ("q3", 0.75))
    }
    if start is not None:
        out.update({f"{k}_date": str(start + dt.timedelta(days=round(v * round_days))) for k, v in list(out.items())})
    return out


def cumulative_transition(df: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P(transition by round k) for k = 1..horizon, with Wilson bands."""
    rounds = df.loc[df["outcome"] == SUCCESS, "round"].to_numpy()
    k = np.arange(1, horizon + 1)
    hits = np.searchsorted(np.sort(rounds), k, side="right")
    low, high = wilson_interval(hits, len(df))
    return pd.DataFrame({"round": k, "p": hits / len(df), "low": low, "high": high})


def blocking(df: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """What stopped the runs without a transition: blocker and reason, most frequent first."""
    failed = df[df["outcome"] != SUCCESS]
    if failed.empty:
        return pd.DataFrame(columns=["blocker", "reason", "runs", "share"])
    who = failed["blocker"].replace("", "-")
    counts = failed.assign(blocker=who).groupby(["blocker", "reason"]).size().sort_values(ascending=False)
    out = counts.head(top).rename("runs").reset_index()
    out["share"] = out["runs"] / len(df)
    return out


def preconditions(df: pd.DataFrame) -> dict:
    """Share of runs in which each precondition was met, waived or left unmet."""
    return {
        pid: {k: float(v) for k, v in df[column("precondition", pid)].value_counts(normalize=True).items()}
        for pid in idents(df.columns, "precondition")
    }


def conditional(df: pd.DataFrame, condition, outcome: str = SUCCESS) -> dict:
    """P(outcome | condition) with its Wilson interval, plus ``share``: how often the condition held."""
    held = np.asarray(condition, dtype=bool)
    hits = int((df["outcome"].to_numpy() == outcome)[held].sum())
    return {**proportion(hits, int(held.sum())), "share": float(held.mean()) if len(held) else float("nan")}


def happened_by(df: pd.DataFrame, column: str, k: int) -> np.ndarray:
    """Runs in which the round in ``column`` (-1 = never) came by round ``k`` and before the run ended."""
    at = df[column].to_numpy()
    return (at >= 0) & (at <= k) & (at <= df["round"].to_numpy())


def conditionals(df: pd.DataFrame, horizon: int, names: Names | None = None) -> list[dict]:
    """P(transition | condition): each precondition met by rounds across the horizon, waived or left open,
    and each event by mid-horizon or not. ``names`` words the conditions with the scenario's labels."""
    checkpoints = sorted({max(1, round(horizon * q)) for q in (0.25, 0.5, 0.75)})
    rows = []
    for pid in preconditions(df):
        status, met = df[column("precondition", pid)].to_numpy(), column("precondition_round", pid)
        what = f"precondition {names.preconditions.get(pid, pid) if names else pid}"
        rows += [
            {
                "condition": f"{what} met (not waived) by round {k}",
                **conditional(df, (status == "met") & happened_by(df, met, k)),
            }
            for k in checkpoints
        ]
        rows.append({"condition": f"{what} waived", **conditional(df, status == "waived")})
        rows.append({"condition": f"{what} never met nor waived", **conditional(df, status == "unmet")})
    mid = checkpoints[len(checkpoints) // 2]
    for event in idents(df.columns, "event_round"):
        name = names.events.get(event, event) if names else event
        by = happened_by(df, column("event_round", event), mid)
        rows.append({"condition": f"{name} by round {mid}", **conditional(df, by)})
        rows.append({"condition": f"{name} not by round {mid}", **conditional(df, ~by)})
    return [r for r in rows if 0 < r["n"] < len(df)]


def milestones(df: pd.DataFrame, ids: list[str], names: Names | None = None) -> list[dict]:
    """Carrying a transition out: for each implementation milestone, the share of runs with a declared
    transition that reached it by the horizon (Wilson interval) and the median rounds it took after."""
    done = df[df["outcome"] == SUCCESS]
    rows = []
    for mid in ids:
        at = done[column("event_round", mid)].to_numpy()
        reached = at >= 0
        lag = at[reached] - done["round"].to_numpy()[reached]
        rows.append(
            {
                "milestone": names.events.get(mid, mid) if names else mid,
                **proportion(int(reached.sum()), len(done)),
                "median_rounds_after": float(np.median(lag)) if reached.any() else None,
            }
        )
    return rows if len(done) else []


def packages(df: pd.DataFrame) -> dict:
    """Quantiles of the agreed package on each issue, over the runs with a transition."""
    done = df[df["outcome"] == SUCCESS]
    out = {}
    for issue in idents(df.columns, "package"):
        values = done[column("package", issue)].dropna().to_numpy()
        if len(values):
            q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
            out[issue] = {
                "n": len(values),
                "mean": float(values.mean()),
                **{k: float(v) for k, v in zip(("q05", "q25", "median", "q75", "q95"), q, strict=True)},
            }
    return out


def summarize(df: pd.DataFrame, meta: dict | None = None, scenario=None) -> dict:
    """Everything a briefing needs from a batch, as plain data (JSON-ready)."""
    meta = meta or {}
    start = scenario.meta.start_date if scenario is not None else None
    days = scenario.meta.round_days if scenario is not None else 7
    horizon = scenario.meta.horizon if scenario is not None else int(df["round"].max())
    names = Names(scenario) if scenario is not None else None
    blocks = blocking(df)
    if names is not None:  # readable words beside the ids
        blocks["who"] = [names.actor(b) if b != "-" else "-" for b in blocks["blocker"]]
        blocks["why"] = [reason_words(r, names) for r in blocks["reason"]]
    return {
        "scenario": meta.get("scenario", scenario.meta.name if scenario is not None else ""),
        "runs": len(df),
        "seed": meta.get("seed"),
        "probabilities": probabilities(df),
        "transition_round": transition_timing(df, start, days),
        "cumulative_transition": cumulative_transition(df, horizon).to_dict(orient="records"),
        "blocking": blocks.to_dict(orient="records"),
        "preconditions": preconditions(df),
        "conditional_transition": conditionals(df, horizon, names),
        "packages": packages(df),
        "milestones": milestones(df, [e.id for e in scenario.events if e.milestone], names) if scenario else [],
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
            lines.append(f"  {row['share']:>6.1%}  {row.get('who', row['blocker']):<16}{row.get('why', row['reason'])}")
    for pid, shares in summary["preconditions"].items():
        parts = ", ".join(f"{k} {v:.1%}" for k, v in sorted(shares.items()))
        lines += ["", f"precondition {pid}: {parts}"]
    if summary.get("conditional_transition"):
        lines += [
            "",
            "P(transition | condition); share = how often the condition held",
            f"{'P':>8}   95% interval    {'share':>6}   condition",
        ]
        for row in summary["conditional_transition"]:
            lines.append(
                f"{row['p']:>8.3f}   [{row['low']:.3f}, {row['high']:.3f}]  {row['share']:>6.1%}   {row['condition']}"
            )
    if summary.get("milestones"):
        lines += [
            "",
            "carrying it out: share of declared transitions reaching each milestone by the horizon",
            f"{'P':>8}   95% interval    median rounds after   milestone",
        ]
        for row in summary["milestones"]:
            lag = "-" if row["median_rounds_after"] is None else f"{row['median_rounds_after']:g}"
            lines.append(f"{row['p']:>8.3f}   [{row['low']:.3f}, {row['high']:.3f}]   {lag:>19}   {row['milestone']}")
    if summary.get("packages"):
        lines += [
            "",
            f"agreed packages (runs with a transition)   {'5%':>6}{'25%':>6}{'median':>8}{'75%':>6}{'95%':>6}",
        ]
        for issue, q in summary["packages"].items():
            cells = "".join(f"{q[k]:>{8 if k == 'median' else 6}.0f}" for k in ("q05", "q25", "median", "q75", "q95"))
            lines.append(f"  {issue:<40}{cells}")
    return "\n".join(lines) + "\n"
