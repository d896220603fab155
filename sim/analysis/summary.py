"""The summary of a batch, honest about Monte Carlo uncertainty (Wilson intervals), as plain data.

The headline is the scenario's first phase: P(declared), P(collapse) before a declaration and
P(stalemate), with when a declaration comes. Around it: each issue's agreement, each
implementation milestone (with a deadline: P(done / partial / extended / missed) and when), a collapse after a
declaration, what blocked the runs without one, and conditional probabilities.

A summary is made of counts (a :class:`~sim.analysis.tally.Tally`), so a results folder of any size is
summarised chunk by chunk (:func:`summarize_folder`); runs in memory are summarised alike (:func:`summarize`).
The summary is what ``summary.json`` holds; :mod:`sim.analysis.summary_text` writes it as text.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion, wilson_interval
from sim.analysis.quantiles import added, median_of_counts, quartiles
from sim.analysis.tally import (
    Chunks,
    Tally,
    count_in_order,
    folder_chunks,
    frame_chunks,
    outcome_probabilities,
    tally_folder,
    tally_runs,
)
from sim.batch.folder import ResultsFolder
from sim.engine.columns import SUCCESS, reason_words
from sim.scenario.labels import Names


def probabilities(df: pd.DataFrame) -> dict:
    """P(outcome) with 95% Wilson intervals for each outcome."""
    counts = Counter()
    count_in_order(counts, df["outcome"])
    return outcome_probabilities(counts, len(df))


def cumulative(counts: dict[str, np.ndarray], n: int, horizon: int) -> pd.DataFrame:
    """P(declared by round k) and P(collapse before a declaration by round k), k = 1..horizon, with bands;
    ``counts`` holds the runs per round of each."""
    k = np.arange(1, horizon + 1)
    out = {"round": k}
    for name in ("declared", "collapse"):
        per_round = counts[name]
        hits = np.cumsum(added(per_round, np.zeros(horizon + 1, dtype=np.int64)))[k]
        low, high = wilson_interval(hits, n)
        out.update({name: hits / n, f"{name}_low": low, f"{name}_high": high})
    return pd.DataFrame(out)


def blocking(counts: Counter, n: int, top: int = 8) -> pd.DataFrame:
    """What stopped runs, from ``counts`` of (blocker, reason): most frequent first, as a share of all ``n`` runs."""
    if not counts:
        return pd.DataFrame(columns=["blocker", "reason", "runs", "share"])
    keys = sorted(counts)  # as a groupby orders them, so that ties fall as they always have
    index = pd.MultiIndex.from_tuples(keys, names=["blocker", "reason"])
    ranked = pd.Series([counts[k] for k in keys], index=index).sort_values(ascending=False)
    out = ranked.head(top).rename("runs").reset_index()
    out["share"] = out["runs"] / n
    return out


def _most_first(counts: dict[str, int]) -> pd.Series:
    """Counts in order of first appearance, most frequent first, as ``value_counts`` ranks them."""
    return pd.Series(counts, dtype=np.int64).sort_values(ascending=False)


def conditional(df: pd.DataFrame, condition, outcome: str = SUCCESS) -> dict:
    """P(outcome | condition) with its Wilson interval, plus ``share``: how often the condition held."""
    held = np.asarray(condition, dtype=bool)
    hits = int((df["outcome"].to_numpy() == outcome)[held].sum())
    return _conditional(hits, int(held.sum()), len(held))


def _conditional(hits: int, held: int, n: int) -> dict:
    """P(outcome | condition) from ``hits`` among the ``held`` runs in which it held, of ``n``."""
    return {**proportion(hits, held), "share": held / n if n else float("nan")}


def condition_words(key: tuple[str, str, int | None], names: Names | None) -> str:
    """A condition of :func:`~sim.analysis.tally.conditions` in words (the scenario's labels, with ``names``)."""
    kind, ident, k = key
    if kind == "event" or kind == "no event":
        name = names.events.get(ident, ident) if names else ident
        return f"{name} by round {k}" if kind == "event" else f"{name} not by round {k}"
    what = f"precondition {names.preconditions.get(ident, ident) if names else ident}"
    return {
        "met": f"{what} met (not waived) by round {k}",
        "waived": f"{what} waived",
        "unmet": f"{what} never met nor waived",
    }[kind]


def agreements(
    df: pd.DataFrame, names: Names | None = None, start: dt.date | None = None, round_days: int = 7
) -> list[dict]:
    """Each issue: P(agreed by the horizon) with its interval, when, and the values agreed (5-95%)."""
    counts = Tally(horizon=0, n=len(df))
    counts.count_agreements(df)
    return counted_agreements(counts, frame_chunks(df), names, start, round_days)


def counted_agreements(
    counts: Tally, chunks: Chunks, names: Names | None = None, start: dt.date | None = None, round_days: int = 7
) -> list[dict]:
    """:func:`agreements` from the counts of the runs; ``chunks`` reads back the few values exact quantiles need."""
    found = counts.agreed_values(chunks)
    return [
        {
            "issue": issue,
            "label": names.issues.get(issue, issue) if names else issue,
            **proportion(agreed.n, counts.n),
            "rounds": quartiles(agreed.rounds, start, round_days),
            "values": agreed.quantiles(found[issue]),
        }
        for issue, agreed in counts.agreed.items()
    ]


def summarize(df: pd.DataFrame, meta: dict | None = None, scenario=None) -> dict:
    """Everything a briefing needs from a batch's runs, as plain data (JSON-ready)."""
    return summarize_counts(tally_runs(df, scenario), frame_chunks(df), meta, scenario)


def summarize_folder(
    folder: str | Path | ResultsFolder, meta: dict, scenario, workers: int | None = None
) -> tuple[dict, Tally]:
    """The summary of a results folder in flat memory, and the counts it was made of (for the figures)."""
    counts = tally_folder(folder, scenario, workers)
    return summarize_counts(counts, folder_chunks(folder), meta, scenario), counts


def summarize_counts(counts: Tally, chunks: Chunks, meta: dict | None = None, scenario=None) -> dict:
    """Everything a briefing needs from the runs counted in ``counts``, as plain data (JSON-ready)."""
    meta = meta or {}
    start = scenario.meta.start_date if scenario is not None else None
    days = scenario.meta.round_days if scenario is not None else 7
    horizon = scenario.meta.horizon if scenario is not None else counts.last_round
    names = Names(scenario) if scenario is not None else None
    blocks, still_open = blocking(counts.blocking, counts.n), blocking(counts.open_blocking, counts.n)
    for table in (blocks, still_open):
        if names is not None:  # readable words beside the ids
            table["who"] = [names.actor(b) if b != "-" else "-" for b in table["blocker"]]
            table["why"] = [reason_words(r, names) for r in table["reason"]]
    n, declared = counts.n, counts.outcomes.get(SUCCESS, 0)
    rows = [
        {"condition": condition_words(key, names), **_conditional(hits, held, n)}
        for key, (held, hits) in counts.conditions.items()
    ]
    return {
        "scenario": meta.get("scenario", scenario.meta.name if scenario is not None else ""),
        "phase": names.phases[scenario.ordered_phases()[0].id] if scenario is not None else "",
        "runs": n,
        "seed": meta.get("seed"),
        "horizon": horizon,
        "probabilities": counts.probabilities(),
        "consented": proportion(counts.consented, n),
        "declared_how": {rule: k / declared for rule, k in _most_first(counts.declared_how).items()}
        if declared
        else {},
        "mechanisms": _mechanisms(counts, scenario, names),
        "collapse_causes": {
            when: {(names.causes.get(c) or c) if names else c: proportion(k, n) for c, k in _most_first(found).items()}
            for when, found in counts.causes.items()
        },
        "veto_unmet": _shares(counts.veto_unmet, n, names.veto_players if names else None),
        **({"coalitions": {c: k / n for c, k in _most_first(counts.coalitions).items()}} if counts.coalitions else {}),
        "collapse": {
            "before": proportion(counts.collapse["before"], n),
            "after": proportion(counts.collapse["after"], n),
            "after_given_declared": proportion(counts.collapse["after"], declared),
            "any": proportion(counts.collapse["any"], n),
        },
        "declaration_round": quartiles(counts.ended["declared"], start, days),
        "cumulative": cumulative(counts.ended, n, horizon).to_dict(orient="records"),
        "phases": [
            {"phase": pid, "label": names.phases.get(pid, pid) if names else pid, **proportion(k, n)}
            for pid, k in counts.phases.items()
        ],
        "agreements": counted_agreements(counts, chunks, names, start, days),
        "milestones": [
            {
                "milestone": mid,
                "label": names.milestones.get(mid, mid) if names else mid,
                **proportion(done, n),
                "given_declared": proportion(both, declared),
                "median_rounds_after": median_of_counts(lags, offset),
                **_statuses(counts.statuses.get(mid), n, start, days),
            }
            for mid, (done, both, offset, lags) in counts.milestones.items()
        ],
        "blocking": blocks.to_dict(orient="records"),
        "blocker_shares": {k: v / n for k, v in _most_first(counts.blockers).items()},
        "open_blocking": still_open.to_dict(orient="records"),
        "preconditions": {
            pid: {k: v / sum(shares.values()) for k, v in _most_first(shares).items()}
            for pid, shares in counts.preconditions.items()
        },
        "red_lines_relaxed": _shares(counts.relaxed, n, names.red_lines if names else None),
        "guarantees_offered": _shares(counts.guarantees, n, names.guarantees if names else None),
        "conditional": [r for r in rows if 0 < r["n"] < n],
        **({"precision": meta["precision"]} if meta.get("precision") else {}),
        **_as_of(scenario),
    }


def _mechanisms(counts: Tally, scenario, names: Names | None) -> list[dict]:
    """Each structural mechanism: P(outcome) and P(every party consented) among the runs that drew each alternative
    (the scenario's own order and weights), beside the mixture, which is the whole batch."""
    out = []
    for m in scenario.mechanisms if scenario is not None else []:
        drawn = counts.alternatives.get(m.id, {})
        total = sum(float(a.weight) for a in m.alternatives)
        rows = []
        for a in m.alternatives:
            found = drawn.get(a.id, Counter())
            runs = found["runs"]
            rows.append({
                "alternative": a.id,
                "label": names.alternatives[(m.id, a.id)] if names else a.id,
                "weight": float(a.weight) / total,
                "runs": runs,
                "probabilities": outcome_probabilities(found, runs) if runs else {},
                "consented": proportion(found["consented"], runs) if runs else {},
            })  # fmt: skip
        out.append({"mechanism": m.id, "label": names.mechanisms[m.id] if names else m.id, "alternatives": rows})
    return out


def _statuses(found: dict[str, np.ndarray] | None, n: int, start: dt.date | None, days: int) -> dict:
    """How a milestone with a deadline ended: P(each status) with its interval and the quartile rounds (and dates)
    it ended in (carried out, else last due); nothing for a milestone without a deadline."""
    if found is None:
        return {}
    return {
        "status": {
            label: {**proportion(int(hist.sum()), n), "rounds": quartiles(hist[1:], start, days)}
            for label, hist in found.items()
        }
    }


def _shares(counts: dict[str, int], n: int, names: dict | None) -> dict:
    return {(names or {}).get(i, i): k / n for i, k in counts.items()}


def _as_of(scenario) -> dict:
    """Where a scenario with ``as_of`` starts: its last round played and that round's date (rounds count from the
    scenario's start date)."""
    if scenario is None or scenario.as_of is None:
        return {}
    r = scenario.start_round
    return {"as_of": {"round": r, "date": scenario.meta.date_of(r).isoformat(), "start": str(scenario.meta.start_date)}}
