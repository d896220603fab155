"""Summary statistics of a batch, honest about Monte Carlo uncertainty (Wilson intervals).

The headline is the scenario's first phase: P(declared), P(collapse) before a declaration and
P(stalemate), with when a declaration comes. Around it: each issue's agreement, each
implementation milestone, a collapse after a declaration, what blocked the runs without one, and
conditional probabilities.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion, wilson_interval
from sim.engine.outcomes import OUTCOME_ORDER, SUCCESS, column, idents, reason_words
from sim.scenario.labels import Names

QUARTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))


def probabilities(df: pd.DataFrame) -> dict:
    """P(outcome) with 95% Wilson intervals for each outcome."""
    counts = df["outcome"].value_counts()
    return {o: proportion(int(counts.get(o, 0)), len(df)) for o in OUTCOME_ORDER}


def quartiles(rounds, start: dt.date | None = None, round_days: int = 7) -> dict:
    """Quartiles of rounds at which something happened, with calendar dates; ``None`` where it never did.

    Each quartile is a round it happened in (the inverse of the empirical CDF).
    """
    rounds = np.asarray(rounds)
    if rounds.size == 0:
        return dict.fromkeys(k for k, _ in QUARTILES)
    out = {k: float(np.quantile(rounds, q, method="inverted_cdf")) for k, q in QUARTILES}
    if start is not None:
        out.update({f"{k}_date": str(start + dt.timedelta(days=round(v * round_days))) for k, v in list(out.items())})
    return out


def declared_rounds(df: pd.DataFrame) -> np.ndarray:
    return df.loc[df["outcome"] == SUCCESS, "round"].to_numpy()


def collapse(df: pd.DataFrame) -> dict:
    """P(collapse) before a declaration (the outcome), after one, and at all, with intervals."""
    at = df["collapse_round"].to_numpy()
    declared = (df["outcome"] == SUCCESS).to_numpy()
    after = (at >= 0) & declared
    return {
        "before": proportion(int(((at >= 0) & ~declared).sum()), len(df)),
        "after": proportion(int(after.sum()), len(df)),
        "after_given_declared": proportion(int(after.sum()), int(declared.sum())),
        "any": proportion(int((at >= 0).sum()), len(df)),
    }


def cumulative(df: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P(declared by round k) and P(collapse before a declaration by round k), k = 1..horizon, with bands."""
    k = np.arange(1, horizon + 1)
    out = {"round": k}
    for name, rounds in (
        ("declared", declared_rounds(df)),
        ("collapse", df.loc[df["outcome"] == "collapse", "round"].to_numpy()),
    ):
        hits = np.searchsorted(np.sort(rounds), k, side="right")
        low, high = wilson_interval(hits, len(df))
        out.update({name: hits / len(df), f"{name}_low": low, f"{name}_high": high})
    return pd.DataFrame(out)


def blocking(
    df: pd.DataFrame, top: int = 8, blocker: str = "blocker", reason: str = "reason", among=None
) -> pd.DataFrame:
    """What stopped the runs ``among`` (default: those without a declaration): blocker and reason,
    most frequent first, as a share of all runs."""
    among = df["outcome"] != SUCCESS if among is None else among
    failed = df[among & (df[reason] != "")]
    if failed.empty:
        return pd.DataFrame(columns=["blocker", "reason", "runs", "share"])
    who = failed[blocker].replace("", "-")
    counts = failed.assign(**{blocker: who}).groupby([blocker, reason]).size().sort_values(ascending=False)
    out = counts.head(top).rename("runs").reset_index().rename(columns={blocker: "blocker", reason: "reason"})
    out["share"] = out["runs"] / len(df)
    return out


def blocker_shares(df: pd.DataFrame) -> dict[str, float]:
    """For each party, the share of all runs it was the last to block the first phase's declaration in."""
    failed = df[(df["outcome"] != SUCCESS) & (df["blocker"] != "")]
    return {k: float(v) for k, v in (failed["blocker"].value_counts() / len(df)).items()}


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
    """Runs in which the round in ``column`` (-1 = never) came by round ``k`` and not after the outcome."""
    at = df[column].to_numpy()
    return (at >= 0) & (at <= k) & (at <= df["round"].to_numpy())


def conditionals(df: pd.DataFrame, horizon: int, names: Names | None = None) -> list[dict]:
    """P(declared | condition): each precondition met by rounds across the horizon, waived or left open,
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


def agreements(
    df: pd.DataFrame, names: Names | None = None, start: dt.date | None = None, round_days: int = 7
) -> list[dict]:
    """Each issue: P(agreed by the horizon) with its interval, when, and the values agreed (5-95%)."""
    rows = []
    for issue in idents(df.columns, "agreed_round"):
        at = df[column("agreed_round", issue)].to_numpy()
        values = df[column("agreed_value", issue)].to_numpy()[at >= 0]
        q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95]) if values.size else [np.nan] * 5
        rows.append(
            {
                "issue": issue,
                "label": names.issues.get(issue, issue) if names else issue,
                **proportion(int((at >= 0).sum()), len(df)),
                "rounds": quartiles(at[at >= 0], start, round_days),
                "values": {k: float(v) for k, v in zip(("q05", "q25", "median", "q75", "q95"), q, strict=True)},
            }
        )
    return rows


def milestones(df: pd.DataFrame, names: Names | None = None) -> list[dict]:
    """Carrying it out: each milestone's P(implemented by the horizon) over all runs, its share among the
    runs with a declaration, and the median rounds it came after the declaration."""
    declared = (df["outcome"] == SUCCESS).to_numpy()
    rows = []
    for mid in idents(df.columns, "milestone_round"):
        at = df[column("milestone_round", mid)].to_numpy()
        done = at >= 0
        lag = at[done & declared] - df["round"].to_numpy()[done & declared]
        rows.append(
            {
                "milestone": mid,
                "label": names.milestones.get(mid, mid) if names else mid,
                **proportion(int(done.sum()), len(df)),
                "given_declared": proportion(int((done & declared).sum()), int(declared.sum())),
                "median_rounds_after": float(np.median(lag)) if lag.size else None,
            }
        )
    return rows


def phases(df: pd.DataFrame, names: Names | None = None) -> list[dict]:
    """Each phase: P(declared by the horizon) with its interval."""
    return [
        {
            "phase": pid,
            "label": names.phases.get(pid, pid) if names else pid,
            **proportion(int((df[column("phase_round", pid)] >= 0).sum()), len(df)),
        }
        for pid in idents(df.columns, "phase_round")
    ]


def shares_of(df: pd.DataFrame, family: str, names: dict | None = None) -> dict:
    """For round columns of ``family`` (red lines relaxed, guarantees offered): the share of runs it happened in."""
    return {(names or {}).get(i, i): float((df[column(family, i)] >= 0).mean()) for i in idents(df.columns, family)}


def summarize(df: pd.DataFrame, meta: dict | None = None, scenario=None) -> dict:
    """Everything a briefing needs from a batch, as plain data (JSON-ready)."""
    meta = meta or {}
    start = scenario.meta.start_date if scenario is not None else None
    days = scenario.meta.round_days if scenario is not None else 7
    horizon = scenario.meta.horizon if scenario is not None else int(df["round"].max())
    names = Names(scenario) if scenario is not None else None
    blocks = blocking(df)
    declared = df["outcome"] == SUCCESS
    still_open = blocking(df, blocker="open_blocker", reason="open_reason", among=declared)
    for table in (blocks, still_open):
        if names is not None:  # readable words beside the ids
            table["who"] = [names.actor(b) if b != "-" else "-" for b in table["blocker"]]
            table["why"] = [reason_words(r, names) for r in table["reason"]]
    return {
        "scenario": meta.get("scenario", scenario.meta.name if scenario is not None else ""),
        "phase": names.phases[scenario.gates()[0].id] if scenario is not None else "",
        "runs": len(df),
        "seed": meta.get("seed"),
        "horizon": horizon,
        "probabilities": probabilities(df),
        "collapse": collapse(df),
        "declaration_round": quartiles(declared_rounds(df), start, days),
        "cumulative": cumulative(df, horizon).to_dict(orient="records"),
        "phases": phases(df, names),
        "agreements": agreements(df, names, start, days),
        "milestones": milestones(df, names),
        "blocking": blocks.to_dict(orient="records"),
        "blocker_shares": blocker_shares(df),
        "open_blocking": still_open.to_dict(orient="records"),
        "preconditions": preconditions(df),
        "red_lines_relaxed": shares_of(df, "red_line_relaxed", names.red_lines if names else None),
        "guarantees_offered": shares_of(df, "guarantee_round", names.guarantees if names else None),
        "conditional": conditionals(df, horizon, names),
        **_as_of(scenario),
    }


def _as_of(scenario) -> dict:
    """Where a scenario with ``as_of`` starts: its last round played and that round's date (rounds count from the
    scenario's start date)."""
    if scenario is None or scenario.as_of is None:
        return {}
    r = scenario.start_round
    return {"as_of": {"round": r, "date": scenario.meta.date_of(r).isoformat(), "start": str(scenario.meta.start_date)}}


def _row(p: dict) -> str:
    return f"{p['p']:>8.3f}   [{p['low']:.3f}, {p['high']:.3f}]"


def text(summary: dict) -> str:
    """The summary as a readable plain-text table."""
    lines = [f"{summary['scenario']}  ({summary['runs']:,} runs, seed {summary['seed']})", ""]
    if "as_of" in summary:
        a = summary["as_of"]
        lines.insert(1, f"as of round {a['round']} ({a['date']}): play resumes in round {a['round'] + 1}; rounds "
                        f"count from {a['start']}, as in a run from the start")  # fmt: skip
    lines.append(f"{'outcome':<12}{'P':>8}   95% interval     ({summary.get('phase', 'first phase')})")
    for name, p in summary["probabilities"].items():
        lines.append(f"{name:<12}{_row(p)}")
    c = summary["collapse"]
    lines.append(f"{'collapse after declaration':<12}{_row(c['after'])}")
    t = summary["declaration_round"]
    if t.get("median") is not None:
        dates = f"  ({t['q1_date']} / {t['median_date']} / {t['q3_date']})" if "median_date" in t else ""
        lines += ["", f"round of declaration, quartiles: {t['q1']:g} / {t['median']:g} / {t['q3']:g}{dates}"]
    if len(summary.get("phases", [])) > 1:
        lines += ["", f"{'P':>8}   95% interval     phase declared by the horizon"]
        lines += [f"{_row(p)}    {p['label']}" for p in summary["phases"]]
    if summary.get("agreements"):
        lines += [
            "",
            f"{'P':>8}   95% interval     issue agreed by the horizon (median round; values 5% / median / 95%)",
        ]
        for a in summary["agreements"]:
            v, r = a["values"], a["rounds"]
            when = f"round {r['median']:g}" if r.get("median") is not None else "-"
            values = f"{v['q05']:.0f} / {v['median']:.0f} / {v['q95']:.0f}" if a["k"] else "-"
            lines.append(f"{_row(a)}    {a['label']} ({when}; {values})")
    if summary.get("milestones"):
        lines += [
            "",
            f"{'P':>8}   95% interval     milestone carried out (share of declared runs; median rounds after)",
        ]
        for m in summary["milestones"]:
            lag = "-" if m["median_rounds_after"] is None else f"{m['median_rounds_after']:g}"
            lines.append(f"{_row(m)}    {m['label']} ({m['given_declared']['p']:.1%}; {lag})")
    for title, rows in (
        ("what blocked the runs without a declaration:", summary["blocking"]),
        ("what held up the issues still open in declared runs:", summary.get("open_blocking")),
    ):
        if rows:
            lines += ["", title]
            for row in rows:
                lines.append(
                    f"  {row['share']:>6.1%}  {row.get('who', row['blocker']):<29} {row.get('why', row['reason'])}"
                )
    for pid, shares in summary["preconditions"].items():
        parts = ", ".join(f"{k} {v:.1%}" for k, v in sorted(shares.items()))
        lines += ["", f"precondition {pid}: {parts}"]
    for title, key in (("red lines relaxed", "red_lines_relaxed"), ("guarantees offered", "guarantees_offered")):
        if summary.get(key):
            lines += ["", f"{title}: " + ", ".join(f"{k} {v:.1%}" for k, v in summary[key].items())]
    if summary.get("conditional"):
        lines += [
            "",
            "P(declared | condition); share = how often the condition held",
            f"{'P':>8}   95% interval    {'share':>6}   condition",
        ]
        for row in summary["conditional"]:
            lines.append(f"{_row(row)}  {row['share']:>6.1%}   {row['condition']}")
    return "\n".join(lines) + "\n"
