"""Summary statistics of a batch, honest about Monte Carlo uncertainty (Wilson intervals).

The headline is the scenario's first phase: P(declared), P(collapse) before a declaration and
P(stalemate), with when a declaration comes. Around it: each issue's agreement, each
implementation milestone, a collapse after a declaration, what blocked the runs without one, and
conditional probabilities.

A summary is made of counts: a :class:`Tally` holds those of some runs, the tallies of a batch's chunks
add up to the batch's, so a results folder of any size is summarised chunk by chunk, reading only the
columns the summary needs (:func:`summarize_folder`). Quantiles are exact: rounds are counted per round,
and agreed values in fine bins, from which the few values that quantiles fall on are read back.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion, wilson_interval
from sim.batch.executors import pooled
from sim.batch.folder import RUNS, chunk_columns, iter_chunks, read_meta
from sim.engine.columns import OUTCOME_ORDER, SUCCESS, column, idents, reason_words
from sim.scenario.labels import Names

QUARTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))
VALUE_QUANTILES = (("q05", 0.05), ("q25", 0.25), ("median", 0.5), ("q75", 0.75), ("q95", 0.95))
VALUE_BINS, VALUE_RANGE = 2000, 100.0  # agreed values lie on each issue's 0-100 scale
# The run table's columns a summary reads (figures too): the rest (parameters, pressures, budgets) it leaves.
SUMMARY_COLUMNS = ["outcome", "round", "collapse_round", "blocker", "reason", "open_blocker", "open_reason"]
SUMMARY_KINDS = [
    "phase_round",
    "agreed_round",
    "agreed_value",
    "milestone_round",
    "precondition",
    "precondition_round",
    "red_line_bound",
    "red_line_relaxed",
    "guarantee_round",
    "event_round",
]

# A source of runs: called with the columns wanted, it yields the runs chunk by chunk, each time afresh.
Chunks = Callable[[list[str]], Iterator[pd.DataFrame]]


def probabilities(df: pd.DataFrame) -> dict:
    """P(outcome) with 95% Wilson intervals for each outcome."""
    counts = Counter()
    _count_in_order(counts, df["outcome"])
    return _probabilities(counts, len(df))


def _probabilities(counts: Counter, n: int) -> dict:
    return {o: proportion(int(counts.get(o, 0)), n) for o in OUTCOME_ORDER}


def quartiles(counts: np.ndarray, start: dt.date | None = None, round_days: int = 7) -> dict:
    """Quartiles of the rounds at which something happened, counted in ``counts`` (runs per round), with
    calendar dates; ``None`` where it never did. Each quartile is a round it happened in (the inverse of the
    empirical CDF)."""
    n = int(counts.sum())
    if n == 0:
        return dict.fromkeys(k for k, _ in QUARTILES)
    out = {k: float(_nth(counts, _inverted_cdf_rank(n, q))) for k, q in QUARTILES}
    if start is not None:
        out.update({f"{k}_date": str(start + dt.timedelta(days=round(v * round_days))) for k, v in list(out.items())})
    return out


def _inverted_cdf_rank(n: int, q: float) -> int:
    """The rank (from 0) of the value numpy's ``inverted_cdf`` quantile ``q`` of ``n`` values picks."""
    virtual = n * q - 1
    rank = int(np.floor(virtual)) + (virtual > np.floor(virtual))
    return min(max(rank, 0), n - 1)


def _linear_ranks(n: int, q: float) -> tuple[int, int, float]:
    """The two ranks numpy's (default, linear) quantile ``q`` of ``n`` values interpolates, and how far."""
    virtual = (n - 1) * q
    below = int(np.floor(virtual))
    return below, min(below + 1, n - 1), float(virtual - below)


def _between(a: float, b: float, gamma: float) -> float:
    """What numpy's linear quantile makes of its two neighbours ``a <= b`` at ``gamma``."""
    return float(np.quantile(np.array([a, b]), gamma))


def _median_of_counts(counts: np.ndarray, offset: int = 0) -> float | None:
    """``np.median`` of integers counted in ``counts`` (``counts[i]``: how many are ``i + offset``)."""
    n = int(counts.sum())
    if n == 0:
        return None
    middle = [_nth(counts, (n - 1) // 2), _nth(counts, n // 2)]
    return float(np.median(np.array(middle) + offset))


def _nth(counts: np.ndarray, rank: int) -> int:
    """The value at ``rank`` (from 0) of the integers counted in ``counts`` (``counts[i]``: how many are ``i``)."""
    return int(np.searchsorted(np.cumsum(counts), rank, side="right"))


def _histogram(values: np.ndarray) -> np.ndarray:
    """Counts of non-negative integers (``counts[i]``: how many are ``i``)."""
    return np.bincount(values.astype(np.int64)) if values.size else np.zeros(0, dtype=np.int64)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two histograms added, the shorter padded with zeros."""
    if len(a) < len(b):
        a, b = b, a
    out = a.copy()
    out[: len(b)] += b
    return out


def cumulative(counts: dict[str, np.ndarray], n: int, horizon: int) -> pd.DataFrame:
    """P(declared by round k) and P(collapse before a declaration by round k), k = 1..horizon, with bands;
    ``counts`` holds the runs per round of each."""
    k = np.arange(1, horizon + 1)
    out = {"round": k}
    for name in ("declared", "collapse"):
        per_round = counts[name]
        hits = np.cumsum(_add(per_round, np.zeros(horizon + 1, dtype=np.int64)))[k]
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


def happened_by(df: pd.DataFrame, column: str, k: int) -> np.ndarray:
    """Runs in which the round in ``column`` (-1 = never) came by round ``k`` and not after the outcome."""
    at = df[column].to_numpy()
    return (at >= 0) & (at <= k) & (at <= df["round"].to_numpy())


def checkpoints(horizon: int) -> list[int]:
    """The rounds conditions are checked at: a quarter, half and three quarters through the horizon."""
    return sorted({max(1, round(horizon * q)) for q in (0.25, 0.5, 0.75)})


def conditions(df: pd.DataFrame, horizon: int) -> Iterator[tuple[tuple[str, str, int | None], np.ndarray]]:
    """The conditions of the conditional table, as ((kind, id, round), the runs in which it held)."""
    marks = checkpoints(horizon)
    for pid in idents(df.columns, "precondition"):
        status, met = df[column("precondition", pid)], column("precondition_round", pid)
        for k in marks:
            yield ("met", pid, k), (status == "met").to_numpy() & happened_by(df, met, k)
        yield ("waived", pid, None), (status == "waived").to_numpy()
        yield ("unmet", pid, None), (status == "unmet").to_numpy()
    mid = marks[len(marks) // 2]
    for event in idents(df.columns, "event_round"):
        by = happened_by(df, column("event_round", event), mid)
        yield ("event", event, mid), by
        yield ("no event", event, mid), ~by


def condition_words(key: tuple[str, str, int | None], names: Names | None) -> str:
    """A condition of :func:`conditions` in words (the scenario's labels, with ``names``)."""
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
    return counts.agreements(frame_chunks(df), names, start, round_days)


@dataclass
class Agreed:
    """Counts of one issue's agreements: per round, and their values in fine bins (with each bin's extremes)."""

    rounds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bins: np.ndarray = field(default_factory=lambda: np.zeros(VALUE_BINS, dtype=np.int64))
    low: np.ndarray = field(default_factory=lambda: np.full(VALUE_BINS, np.inf))
    high: np.ndarray = field(default_factory=lambda: np.full(VALUE_BINS, -np.inf))

    @property
    def n(self) -> int:
        return int(self.bins.sum())

    def add(self, rounds: np.ndarray, values: np.ndarray) -> None:
        self.rounds = _add(self.rounds, _histogram(rounds))
        where = value_bin(values)
        self.bins += np.bincount(where, minlength=VALUE_BINS)
        np.minimum.at(self.low, where, values)
        np.maximum.at(self.high, where, values)

    def merge(self, other: Agreed) -> None:
        self.rounds = _add(self.rounds, other.rounds)
        self.bins += other.bins
        np.minimum(self.low, other.low, out=self.low)
        np.maximum(self.high, other.high, out=self.high)

    def _ranks(self) -> dict[str, tuple[int, int, float]]:
        return {k: _linear_ranks(self.n, q) for k, q in VALUE_QUANTILES}

    def _bin_of(self) -> dict[int, int]:
        """The fine bin of each rank the quantiles need."""
        cum = np.cumsum(self.bins)
        return {r: int(np.searchsorted(cum, r, side="right")) for a, b, _ in self._ranks().values() for r in (a, b)}

    def unsettled(self) -> np.ndarray:
        """The bins that quantiles fall on and that hold unequal values: those values must be read back."""
        if self.n == 0:
            return np.zeros(0, dtype=np.int64)
        return np.array(sorted({b for b in self._bin_of().values() if self.low[b] != self.high[b]}), dtype=np.int64)

    def _ranked(self, found: np.ndarray) -> Callable[[int], float]:
        """The agreed value at a rank the quantiles need: ``found`` holds the values agreed in the
        :meth:`unsettled` bins; the others hold one value each, their extreme."""
        bin_of, before = self._bin_of(), np.cumsum(self.bins) - self.bins
        sorted_in = {b: np.sort(found[value_bin(found) == b]) for b in self.unsettled()}

        def at(rank: int) -> float:
            b = bin_of[rank]
            return float(sorted_in[b][rank - before[b]]) if b in sorted_in else float(self.low[b])

        return at

    def quantiles(self, found: np.ndarray) -> dict[str, float]:
        """The agreed values' quantiles (numpy's linear ones), exact (``found``: see :meth:`_ranked`)."""
        if self.n == 0:
            return {k: float("nan") for k, _ in VALUE_QUANTILES}
        at = self._ranked(found)
        return {k: _between(at(a), at(b), gamma) for k, (a, b, gamma) in self._ranks().items()}

    def median(self, found: np.ndarray) -> float:
        """The agreed values' median as ``np.median`` has it (``found``: see :meth:`_ranked`)."""
        if self.n == 0:
            return float("nan")
        at = self._ranked(found)
        return float(np.median([at((self.n - 1) // 2), at(self.n // 2)]))

    def density(self, points: int = 100) -> dict | None:
        """A violin's statistics (as matplotlib's ``violin`` takes them): a Gaussian kernel density with
        Scott's bandwidth, over the binned values, between the smallest and largest agreed value."""
        n = self.n
        if n == 0:
            return None
        held = self.bins > 0
        centres = ((np.arange(VALUE_BINS) + 0.5) * (VALUE_RANGE / VALUE_BINS))[held]
        weights = self.bins[held]
        smallest, largest = float(self.low[held].min()), float(self.high[held].max())
        mean = float(np.average(centres, weights=weights))
        spread = float(np.sqrt(np.average((centres - mean) ** 2, weights=weights))) if n > 1 else 0.0
        width = max(spread * n ** (-1 / 5), VALUE_RANGE / VALUE_BINS)
        coords = np.linspace(smallest, largest, points)
        kernel = np.exp(-0.5 * ((coords[:, None] - centres[None, :]) / width) ** 2) / (width * np.sqrt(2 * np.pi))
        return {
            "coords": coords,
            "vals": kernel @ weights / n,
            "mean": mean,
            "median": float("nan"),
            "min": smallest,
            "max": largest,
        }


def value_bin(values: np.ndarray) -> np.ndarray:
    """The fine bin of each agreed value (values off the 0-100 scale in the end bins)."""
    return np.clip((np.asarray(values) * (VALUE_BINS / VALUE_RANGE)).astype(np.int64), 0, VALUE_BINS - 1)


@dataclass
class Tally:
    """The counts a summary is made of, for some runs; tallies of disjoint runs add up (:meth:`merge`).

    ``horizon`` sets the rounds conditions are checked at; ``red_lines`` maps red lines to their issues
    (for the share of agreements on a red line's bound).
    """

    horizon: int
    red_lines: dict[str, str] = field(default_factory=dict)
    n: int = 0
    outcomes: Counter = field(default_factory=Counter)
    last_round: int = 0
    ended: dict[str, np.ndarray] = field(default_factory=dict)  # declared / collapse: runs per round
    collapse: Counter = field(default_factory=Counter)  # before / after / any
    phases: dict[str, int] = field(default_factory=dict)
    agreed: dict[str, Agreed] = field(default_factory=dict)
    milestones: dict[str, list] = field(default_factory=dict)  # done, done and declared, lags counted (offset)
    blocking: Counter = field(default_factory=Counter)
    open_blocking: Counter = field(default_factory=Counter)
    blockers: dict[str, int] = field(default_factory=dict)  # in order of first appearance
    preconditions: dict[str, dict[str, int]] = field(default_factory=dict)
    relaxed: dict[str, int] = field(default_factory=dict)
    guarantees: dict[str, int] = field(default_factory=dict)
    conditions: dict[tuple, list[int]] = field(default_factory=dict)  # held, and declared where it held
    on_bound: dict[str, list[int]] = field(default_factory=dict)  # agreements of the red line's issue, on it

    @classmethod
    def of(cls, df: pd.DataFrame, horizon: int | None = None, red_lines: dict[str, str] | None = None) -> Tally:
        tally = cls(int(df["round"].max()) if horizon is None and len(df) else horizon or 0, red_lines or {})
        tally.add(df)
        return tally

    def add(self, df: pd.DataFrame) -> None:
        """Count the runs of ``df`` in."""
        n = len(df)
        self.n += n
        outcome = df["outcome"]
        declared = (outcome == SUCCESS).to_numpy()
        rounds = df["round"].to_numpy()
        self.last_round = max(self.last_round, int(rounds.max()) if n else 0)
        _count_in_order(self.outcomes, outcome)
        for name, hit in (("declared", declared), ("collapse", (outcome == "collapse").to_numpy())):
            self.ended[name] = _add(self.ended.get(name, np.zeros(0, dtype=np.int64)), _histogram(rounds[hit]))
        at = df["collapse_round"].to_numpy() >= 0
        self.collapse.update(before=int((at & ~declared).sum()), after=int((at & declared).sum()), any=int(at.sum()))
        for pid in idents(df.columns, "phase_round"):
            self.phases[pid] = self.phases.get(pid, 0) + int((df[column("phase_round", pid)].to_numpy() >= 0).sum())
        self.count_agreements(df)
        for mid in idents(df.columns, "milestone_round"):
            when = df[column("milestone_round", mid)].to_numpy()
            done = when >= 0
            lag = (when - rounds)[done & declared].astype(np.int64)
            counted = self.milestones.setdefault(mid, [0, 0, 0, np.zeros(0, dtype=np.int64)])
            offset = min(counted[2], int(lag.min())) if lag.size else counted[2]
            lags = _add(np.pad(counted[3], (counted[2] - offset, 0)), _histogram(lag - offset))
            counted[:] = [counted[0] + int(done.sum()), counted[1] + int((done & declared).sum()), offset, lags]
        for counts, blocker, reason, among in (
            (self.blocking, "blocker", "reason", ~declared),
            (self.open_blocking, "open_blocker", "open_reason", declared),
        ):
            failed = among & (df[reason] != "").to_numpy()
            _count_pairs(counts, df[blocker][failed], df[reason][failed])
        _count_in_order(self.blockers, df["blocker"][~declared & (df["blocker"] != "").to_numpy()])
        for pid in idents(df.columns, "precondition"):
            _count_in_order(self.preconditions.setdefault(pid, {}), df[column("precondition", pid)])
        for family, counts in (("red_line_relaxed", self.relaxed), ("guarantee_round", self.guarantees)):
            for ident in idents(df.columns, family):
                counts[ident] = counts.get(ident, 0) + int((df[column(family, ident)].to_numpy() >= 0).sum())
        for key, held in conditions(df, self.horizon):
            counted = self.conditions.setdefault(key, [0, 0])
            counted[0] += int(held.sum())
            counted[1] += int((held & declared).sum())
        for red_line, issue in self.red_lines.items():
            settled = df[column("agreed_round", issue)].to_numpy() >= 0
            bound = df[column("red_line_bound", red_line)].to_numpy()[settled]
            counted = self.on_bound.setdefault(red_line, [0, 0])
            counted[0] += int(settled.sum())
            counted[1] += int(bound.sum())

    def count_agreements(self, df: pd.DataFrame) -> None:
        """Count in the issues agreed in the runs of ``df`` (which :meth:`add` counts in with the rest)."""
        for issue in idents(df.columns, "agreed_round"):
            when = df[column("agreed_round", issue)].to_numpy()
            done = when >= 0
            self.agreed.setdefault(issue, Agreed()).add(when[done], df[column("agreed_value", issue)].to_numpy()[done])

    def merge(self, other: Tally) -> Tally:
        """Add the counts of ``other`` (runs that come after these) to these."""
        self.n += other.n
        self.outcomes.update(other.outcomes)
        self.last_round = max(self.last_round, other.last_round)
        for name, counts in other.ended.items():
            self.ended[name] = _add(self.ended.get(name, np.zeros(0, dtype=np.int64)), counts)
        self.collapse.update(other.collapse)
        for target, source in (
            (self.phases, other.phases),
            (self.blockers, other.blockers),
            (self.relaxed, other.relaxed),
            (self.guarantees, other.guarantees),
        ):
            for key, count in source.items():
                target[key] = target.get(key, 0) + count
        for issue, agreed in other.agreed.items():
            self.agreed.setdefault(issue, Agreed()).merge(agreed)
        for mid, (done, both, offset, lags) in other.milestones.items():
            counted = self.milestones.setdefault(mid, [0, 0, offset, np.zeros(0, dtype=np.int64)])
            low = min(counted[2], offset)
            merged = _add(np.pad(counted[3], (counted[2] - low, 0)), np.pad(lags, (offset - low, 0)))
            counted[:] = [counted[0] + done, counted[1] + both, low, merged]
        self.blocking.update(other.blocking)
        self.open_blocking.update(other.open_blocking)
        for pid, counts in other.preconditions.items():
            target = self.preconditions.setdefault(pid, {})
            for key, count in counts.items():
                target[key] = target.get(key, 0) + count
        for mine, theirs in ((self.conditions, other.conditions), (self.on_bound, other.on_bound)):
            for key, (a, b) in theirs.items():
                counted = mine.setdefault(key, [0, 0])
                counted[0] += a
                counted[1] += b
        return self

    def agreements(
        self, chunks: Chunks, names: Names | None = None, start: dt.date | None = None, round_days: int = 7
    ) -> list[dict]:
        """Each issue: P(agreed by the horizon) with its interval, when, and the values agreed (5-95%);
        ``chunks`` reads back the few values exact quantiles need."""
        found = agreed_in(chunks, {issue: agreed.unsettled() for issue, agreed in self.agreed.items()})
        return [
            {
                "issue": issue,
                "label": names.issues.get(issue, issue) if names else issue,
                **proportion(agreed.n, self.n),
                "rounds": quartiles(agreed.rounds, start, round_days),
                "values": agreed.quantiles(found[issue]),
            }
            for issue, agreed in self.agreed.items()
        ]

    def agreed_medians(self, chunks: Chunks) -> dict[str, float]:
        """Each issue's median agreed value (``chunks`` reads back the few values it needs)."""
        found = agreed_in(chunks, {issue: agreed.unsettled() for issue, agreed in self.agreed.items()})
        return {issue: agreed.median(found[issue]) for issue, agreed in self.agreed.items()}

    def probabilities(self) -> dict:
        """P(outcome) with 95% Wilson intervals for each outcome."""
        return _probabilities(self.outcomes, self.n)

    def summary(self, chunks: Chunks, meta: dict | None = None, scenario=None) -> dict:
        """Everything a briefing needs from the runs counted, as plain data (JSON-ready)."""
        meta = meta or {}
        start = scenario.meta.start_date if scenario is not None else None
        days = scenario.meta.round_days if scenario is not None else 7
        horizon = scenario.meta.horizon if scenario is not None else self.last_round
        names = Names(scenario) if scenario is not None else None
        blocks, still_open = blocking(self.blocking, self.n), blocking(self.open_blocking, self.n)
        for table in (blocks, still_open):
            if names is not None:  # readable words beside the ids
                table["who"] = [names.actor(b) if b != "-" else "-" for b in table["blocker"]]
                table["why"] = [reason_words(r, names) for r in table["reason"]]
        n = self.n
        rows = [
            {"condition": condition_words(key, names), **_conditional(hits, held, n)}
            for key, (held, hits) in self.conditions.items()
        ]
        return {
            "scenario": meta.get("scenario", scenario.meta.name if scenario is not None else ""),
            "phase": names.phases[scenario.ordered_phases()[0].id] if scenario is not None else "",
            "runs": n,
            "seed": meta.get("seed"),
            "horizon": horizon,
            "probabilities": self.probabilities(),
            "collapse": {
                "before": proportion(self.collapse["before"], n),
                "after": proportion(self.collapse["after"], n),
                "after_given_declared": proportion(self.collapse["after"], self.outcomes.get(SUCCESS, 0)),
                "any": proportion(self.collapse["any"], n),
            },
            "declaration_round": quartiles(self.ended["declared"], start, days),
            "cumulative": cumulative(self.ended, n, horizon).to_dict(orient="records"),
            "phases": [
                {"phase": pid, "label": names.phases.get(pid, pid) if names else pid, **proportion(k, n)}
                for pid, k in self.phases.items()
            ],
            "agreements": self.agreements(chunks, names, start, days),
            "milestones": [
                {
                    "milestone": mid,
                    "label": names.milestones.get(mid, mid) if names else mid,
                    **proportion(done, n),
                    "given_declared": proportion(both, self.outcomes.get(SUCCESS, 0)),
                    "median_rounds_after": _median_of_counts(lags, offset),
                }
                for mid, (done, both, offset, lags) in self.milestones.items()
            ],
            "blocking": blocks.to_dict(orient="records"),
            "blocker_shares": {k: v / n for k, v in _most_first(self.blockers).items()},
            "open_blocking": still_open.to_dict(orient="records"),
            "preconditions": {
                pid: {k: v / sum(counts.values()) for k, v in _most_first(counts).items()}
                for pid, counts in self.preconditions.items()
            },
            "red_lines_relaxed": _shares(self.relaxed, n, names.red_lines if names else None),
            "guarantees_offered": _shares(self.guarantees, n, names.guarantees if names else None),
            "conditional": [r for r in rows if 0 < r["n"] < n],
            **({"precision": meta["precision"]} if meta.get("precision") else {}),
            **_as_of(scenario),
        }

    def on_bound_share(self, red_line: str) -> float:
        """The share of the agreements on a red line's issue that sit on its bound (0 without agreements)."""
        settled, bound = self.on_bound.get(red_line, (0, 0))
        return bound / settled if settled else 0.0


def _count_in_order(counts: dict[str, int], values: pd.Series) -> None:
    """Add counts of ``values`` to ``counts``, new values in order of first appearance."""
    codes, found = pd.factorize(values)
    for value, k in zip(found, np.bincount(codes[codes >= 0], minlength=len(found)), strict=True):
        counts[str(value)] = counts.get(str(value), 0) + int(k)


def _count_pairs(counts: Counter, who: pd.Series, why: pd.Series) -> None:
    """Add counts of (blocker, reason) pairs to ``counts``; nobody named is ``-``."""
    a, blockers = pd.factorize(who)
    b, reasons = pd.factorize(why)
    joint = np.bincount(a * len(reasons) + b, minlength=len(blockers) * len(reasons))
    for k in np.flatnonzero(joint):
        blocker = str(blockers[k // len(reasons)])
        counts[(blocker or "-", str(reasons[k % len(reasons)]))] += int(joint[k])


def _shares(counts: dict[str, int], n: int, names: dict | None) -> dict:
    return {(names or {}).get(i, i): k / n for i, k in counts.items()}


def agreed_in(chunks: Chunks, bins: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each issue, the values it was agreed at that fall in its fine ``bins``, read back in one pass."""
    wanted = {issue: b for issue, b in bins.items() if b.size}
    found: dict[str, list] = {issue: [np.zeros(0)] for issue in bins}
    if wanted:
        columns = [column(f, issue) for issue in wanted for f in ("agreed_round", "agreed_value")]
        for df in chunks(columns):
            for issue, where in wanted.items():
                values = df[column("agreed_value", issue)].to_numpy()[df[column("agreed_round", issue)].to_numpy() >= 0]
                found[issue].append(values[np.isin(value_bin(values), where)])
    return {issue: np.concatenate(parts) for issue, parts in found.items()}


def frame_chunks(df: pd.DataFrame) -> Chunks:
    """Runs in memory as a source of chunks (one)."""
    return lambda columns: iter([df])


def summarize(df: pd.DataFrame, meta: dict | None = None, scenario=None) -> dict:
    """Everything a briefing needs from a batch's runs, as plain data (JSON-ready)."""
    return tally(df, scenario).summary(frame_chunks(df), meta, scenario)


def tally(df: pd.DataFrame, scenario=None) -> Tally:
    """The counts of the runs in ``df`` (a scenario sets the horizon and the red lines' issues)."""
    if scenario is None:
        return Tally.of(df)
    return Tally.of(df, scenario.meta.horizon, {r.id: r.issue for r in scenario.red_lines})


def summary_columns(available: Iterable[str]) -> list[str]:
    """The columns of a run table that a summary and its figures read."""
    available = list(available)
    wanted = set(SUMMARY_COLUMNS)
    for kind in SUMMARY_KINDS:
        wanted.update(column(kind, i) for i in idents(available, kind))
    return [c for c in available if c in wanted]


def folder_chunks(folder: str | Path) -> Chunks:
    """The runs of a results folder, chunk by chunk, only the columns asked for."""
    return lambda columns: iter_chunks(Path(folder), RUNS, columns, categories=True)


def _tally_blocks(folder: str, blocks: range, horizon: int, red_lines: dict[str, str]) -> tuple[int, Tally]:
    """The counts of some consecutive chunks of a results folder (a task for a worker process)."""
    counts = Tally(horizon, red_lines)
    columns = summary_columns(chunk_columns(Path(folder), RUNS))
    for df in iter_chunks(Path(folder), RUNS, columns, blocks, categories=True):
        counts.add(df)
    return blocks.start, counts


def tally_folder(folder: str | Path, scenario, workers: int | None = None) -> Tally:
    """The counts of a results folder's runs, read chunk by chunk (only the columns the summary needs), in
    ``workers`` processes (default: all cores from 50,000 runs, in this process below); flat memory."""
    meta = read_meta(Path(folder))
    n_blocks = -(-meta["runs"] // meta["block_size"])
    horizon, red_lines = scenario.meta.horizon, {r.id: r.issue for r in scenario.red_lines}
    with pooled(workers, meta["runs"]) as pool:
        parts = min(n_blocks, 4 * pool.workers) if pool.workers > 1 else 1
        edges = np.linspace(0, n_blocks, parts + 1).round().astype(int)
        tasks = [(str(folder), range(a, b), horizon, red_lines) for a, b in itertools.pairwise(edges)]
        found = dict(pool.imap_unordered(_tally_blocks, tasks))
    total = Tally(horizon, red_lines)
    for start in sorted(found):  # in the chunks' order: first appearances stay first
        total.merge(found[start])
    return total


def summarize_folder(folder: str | Path, meta: dict, scenario, workers: int | None = None) -> tuple[dict, Tally]:
    """The summary of a results folder in flat memory, and the counts it was made of (for the figures)."""
    counts = tally_folder(folder, scenario, workers)
    return counts.summary(folder_chunks(folder), meta, scenario), counts


def _as_of(scenario) -> dict:
    """Where a scenario with ``as_of`` starts: its last round played and that round's date (rounds count from the
    scenario's start date)."""
    if scenario is None or scenario.as_of is None:
        return {}
    r = scenario.start_round
    return {"as_of": {"round": r, "date": scenario.meta.date_of(r).isoformat(), "start": str(scenario.meta.start_date)}}


def _row(p: dict) -> str:
    return f"{p['p']:>8.3f}   [{p['low']:.3f}, {p['high']:.3f}]"


def _uncertainty(spread: dict | None) -> list[str]:
    """The two kinds of uncertainty (:mod:`sim.analysis.uncertainty`) as lines of the plain-text summary."""
    if spread is None:
        return []
    if not spread.get("points"):
        return ["", f"spread across assumptions: not estimated ({spread.get('why', 'no design')})"]
    lines = [
        "",
        f"two kinds of uncertainty ({spread['points']} sets of assumptions x {spread['runs_per_point']} runs):",
        f"{'outcome':<12}{'P':>8}  {'runs (MC)':>9}   assumptions: sd, 10%-90% range, share of run variance",
    ]
    for name, row in spread["outcomes"].items():
        a = row["assumptions"]
        lines.append(
            f"{name:<12}{row['p']:>8.3f}  {'±' + format(row['monte_carlo'], '.3f'):>9}   "
            f"{a['sd']:.3f}, {a['low']:.3f}-{a['high']:.3f}, {a['share_of_variance']:.0%}"
        )
    lines.append("  (more runs narrow the Monte Carlo error, not the spread across assumptions)")
    return lines


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
    if summary.get("precision"):
        stages = " -> ".join(f"{n:,}" for n in summary["precision"]["stages"])
        lines.append(f"runs in stages {stages}: {summary['precision']['why']}")
    lines += _uncertainty(summary.get("uncertainty"))
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
