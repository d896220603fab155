"""The counts a summary is made of: a :class:`Tally` of some runs, read from a results folder chunk by chunk.

The tallies of a batch's chunks add up to the batch's, so a results folder of any size is counted in flat
memory, reading only the columns the summary needs, in several processes at once (:func:`tally_folder`).
What the counts become, the summary itself, is :mod:`sim.analysis.summary`'s.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import proportion
from sim.analysis.quantiles import Agreed, added, histogram, value_bin
from sim.batch.executors import pooled
from sim.batch.folder import RUNS, ResultsFolder
from sim.engine.columns import COALITION, MILESTONE_STATUSES, OUTCOME_ORDER, PENDING, SUCCESS, column, idents

# The run table's columns a summary reads (figures too): the rest (parameters, pressures, budgets) it leaves.
SUMMARY_COLUMNS = [
    *("outcome", "round", "collapse_round", "collapse_cause"),
    *("blocker", "reason", "open_blocker", "open_reason"),
    COALITION,
]
SUMMARY_KINDS = [  # and the columns of these kinds, one per phase, issue, milestone, ...
    "phase_round",
    "phase_rule",
    "consented_round",
    "mechanism",
    "veto_unmet",
    "agreed_round",
    "agreed_value",
    "milestone_round",
    "milestone_status",
    "milestone_due",
    "precondition",
    "precondition_round",
    "red_line_bound",
    "red_line_relaxed",
    "guarantee_round",
    "event_round",
]

# A source of runs: called with the columns wanted, it yields the runs chunk by chunk, each time afresh.
Chunks = Callable[[list[str]], Iterator[pd.DataFrame]]


def frame_chunks(df: pd.DataFrame) -> Chunks:
    """Runs in memory as a source of chunks (one)."""
    return lambda columns: iter([df])


def folder_chunks(folder: str | Path) -> Chunks:
    """The runs of a results folder, chunk by chunk, only the columns asked for."""
    return lambda columns: ResultsFolder(folder).chunks(RUNS, columns, categories=True)


def summary_columns(available: Iterable[str]) -> list[str]:
    """The columns of a run table that a summary and its figures read."""
    available = list(available)
    wanted = set(SUMMARY_COLUMNS)
    for kind in SUMMARY_KINDS:
        wanted.update(column(kind, i) for i in idents(available, kind))
    return [c for c in available if c in wanted]


def outcome_probabilities(counts: dict[str, int], n: int) -> dict:
    """P(outcome) with its 95% Wilson interval for each outcome, from ``counts`` of ``n`` runs."""
    return {o: proportion(int(counts.get(o, 0)), n) for o in OUTCOME_ORDER}


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


def count_in_order(counts: dict[str, int], values: pd.Series) -> None:
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
    statuses: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # milestone -> status -> runs per round
    # it ended in, shifted by one: counts[0] are runs without a round (still pending)
    blocking: Counter = field(default_factory=Counter)
    open_blocking: Counter = field(default_factory=Counter)
    blockers: dict[str, int] = field(default_factory=dict)  # in order of first appearance
    preconditions: dict[str, dict[str, int]] = field(default_factory=dict)
    relaxed: dict[str, int] = field(default_factory=dict)
    guarantees: dict[str, int] = field(default_factory=dict)
    conditions: dict[tuple, list[int]] = field(default_factory=dict)  # held, and declared where it held
    on_bound: dict[str, list[int]] = field(default_factory=dict)  # agreements of the red line's issue, on it
    consented: int = 0  # runs in which every party of the first phase explicitly accepted it
    declared_how: dict[str, int] = field(default_factory=dict)  # the first phase's rule, in declared runs
    causes: dict[str, dict[str, int]] = field(default_factory=dict)  # before / any: collapses by cause
    alternatives: dict[str, dict[str, Counter]] = field(default_factory=dict)  # mechanism -> alternative -> counts
    veto_unmet: dict[str, int] = field(default_factory=dict)  # runs in which a veto player's terms went unmet
    coalitions: dict[str, int] = field(default_factory=dict)  # more than two principals: who declared, in declared runs

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
        count_in_order(self.outcomes, outcome)
        for name, hit in (("declared", declared), ("collapse", (outcome == "collapse").to_numpy())):
            self.ended[name] = added(self.ended.get(name, np.zeros(0, dtype=np.int64)), histogram(rounds[hit]))
        at = df["collapse_round"].to_numpy() >= 0
        self.collapse.update(before=int((at & ~declared).sum()), after=int((at & declared).sum()), any=int(at.sum()))
        for pid in idents(df.columns, "phase_round"):
            self.phases[pid] = self.phases.get(pid, 0) + int((df[column("phase_round", pid)].to_numpy() >= 0).sum())
        self._count_structure(df, declared, at)
        self.count_agreements(df)
        for mid in idents(df.columns, "milestone_round"):
            when = df[column("milestone_round", mid)].to_numpy()
            done = when >= 0
            lag = (when - rounds)[done & declared].astype(np.int64)
            counted = self.milestones.setdefault(mid, [0, 0, 0, np.zeros(0, dtype=np.int64)])
            offset = min(counted[2], int(lag.min())) if lag.size else counted[2]
            lags = added(np.pad(counted[3], (counted[2] - offset, 0)), histogram(lag - offset))
            counted[:] = [counted[0] + int(done.sum()), counted[1] + int((done & declared).sum()), offset, lags]
        self._count_statuses(df)
        for counts, blocker, reason, among in (
            (self.blocking, "blocker", "reason", ~declared),
            (self.open_blocking, "open_blocker", "open_reason", declared),
        ):
            failed = among & (df[reason] != "").to_numpy()
            _count_pairs(counts, df[blocker][failed], df[reason][failed])
        count_in_order(self.blockers, df["blocker"][~declared & (df["blocker"] != "").to_numpy()])
        for pid in idents(df.columns, "precondition"):
            count_in_order(self.preconditions.setdefault(pid, {}), df[column("precondition", pid)])
        for kind, counts in (("red_line_relaxed", self.relaxed), ("guarantee_round", self.guarantees)):
            for ident in idents(df.columns, kind):
                counts[ident] = counts.get(ident, 0) + int((df[column(kind, ident)].to_numpy() >= 0).sum())
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

    def _count_statuses(self, df: pd.DataFrame) -> None:
        """Count in how each milestone with a deadline ended, and when: the round it was carried out, else the round
        it was last due by (none while still pending)."""
        for mid in idents(df.columns, "milestone_status"):
            status = df[column("milestone_status", mid)].to_numpy()
            when, due = df[column("milestone_round", mid)].to_numpy(), df[column("milestone_due", mid)].to_numpy()
            ended = np.where(status == PENDING, -1, np.where(when >= 0, when, due))
            counted = self.statuses.setdefault(mid, {})
            for code, label in enumerate(MILESTONE_STATUSES):
                hist = histogram(ended[status == code] + 1)
                counted[label] = added(counted.get(label, np.zeros(0, dtype=np.int64)), hist)

    def _count_structure(self, df: pd.DataFrame, declared: np.ndarray, collapsed: np.ndarray) -> None:
        """Count in how the first phase was declared and whether every party explicitly accepted it, what collapsed
        the runs, the alternative each run drew of each mechanism (with its outcome), and unmet veto players."""
        phases = idents(df.columns, "phase_round")
        if phases and column("consented_round", phases[0]) in df:
            consented = df[column("consented_round", phases[0])].to_numpy() >= 0
            self.consented += int(consented.sum())
            count_in_order(self.declared_how, df[column("phase_rule", phases[0])][declared])
        else:
            consented = declared  # a folder written before rules were recorded: every declaration was by consent
            self.consented += int(declared.sum())
        if "collapse_cause" in df:
            for when, hit in (("before", collapsed & ~declared), ("any", collapsed)):
                count_in_order(self.causes.setdefault(when, {}), df["collapse_cause"][hit])
        outcome = df["outcome"].astype(str).to_numpy()
        for mechanism in idents(df.columns, "mechanism"):
            drawn = self.alternatives.setdefault(mechanism, {})
            groups = df.groupby(column("mechanism", mechanism), observed=True, sort=False).indices
            for alternative, rows in groups.items():
                counts = drawn.setdefault(str(alternative), Counter())
                counts.update(runs=len(rows), consented=int(consented[rows].sum()))
                counts.update(Counter(outcome[rows]))
        for player in idents(df.columns, "veto_unmet"):
            self.veto_unmet[player] = self.veto_unmet.get(player, 0) + int(df[column("veto_unmet", player)].sum())
        if COALITION in df:
            count_in_order(self.coalitions, df[COALITION][df[COALITION] != ""])

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
            self.ended[name] = added(self.ended.get(name, np.zeros(0, dtype=np.int64)), counts)
        self.collapse.update(other.collapse)
        self.consented += other.consented
        for target, source in (
            (self.phases, other.phases),
            (self.blockers, other.blockers),
            (self.relaxed, other.relaxed),
            (self.guarantees, other.guarantees),
            (self.declared_how, other.declared_how),
            (self.veto_unmet, other.veto_unmet),
            (self.coalitions, other.coalitions),
            *((self.causes.setdefault(when, {}), counts) for when, counts in other.causes.items()),
        ):
            for key, count in source.items():
                target[key] = target.get(key, 0) + count
        for issue, agreed in other.agreed.items():
            self.agreed.setdefault(issue, Agreed()).merge(agreed)
        for mid, (done, both, offset, lags) in other.milestones.items():
            counted = self.milestones.setdefault(mid, [0, 0, offset, np.zeros(0, dtype=np.int64)])
            low = min(counted[2], offset)
            merged = added(np.pad(counted[3], (counted[2] - low, 0)), np.pad(lags, (offset - low, 0)))
            counted[:] = [counted[0] + done, counted[1] + both, low, merged]
        for mid, found in other.statuses.items():
            counted = self.statuses.setdefault(mid, {})
            for label, hist in found.items():
                counted[label] = added(counted.get(label, np.zeros(0, dtype=np.int64)), hist)
        for mechanism, drawn in other.alternatives.items():
            for alternative, counts in drawn.items():
                self.alternatives.setdefault(mechanism, {}).setdefault(alternative, Counter()).update(counts)
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

    def probabilities(self) -> dict:
        """P(outcome) with 95% Wilson intervals for each outcome."""
        return outcome_probabilities(self.outcomes, self.n)

    def agreed_values(self, chunks: Chunks) -> dict[str, np.ndarray]:
        """The few agreed values the exact quantiles of each issue need, read back from ``chunks``."""
        return agreed_in(chunks, {issue: agreed.unsettled() for issue, agreed in self.agreed.items()})

    def agreed_medians(self, chunks: Chunks) -> dict[str, float]:
        """Each issue's median agreed value (``chunks`` reads back the few values it needs)."""
        found = self.agreed_values(chunks)
        return {issue: agreed.median(found[issue]) for issue, agreed in self.agreed.items()}

    def on_bound_share(self, red_line: str) -> float:
        """The share of the agreements on a red line's issue that sit on its bound (0 without agreements)."""
        settled, bound = self.on_bound.get(red_line, (0, 0))
        return bound / settled if settled else 0.0


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


def tally_runs(df: pd.DataFrame, scenario=None) -> Tally:
    """The counts of the runs in ``df`` (a scenario sets the horizon and the red lines' issues)."""
    if scenario is None:
        return Tally.of(df)
    return Tally.of(df, scenario.meta.horizon, {r.id: r.issue for r in scenario.red_lines})


def _tally_blocks(folder: str, blocks: range, horizon: int, red_lines: dict[str, str]) -> tuple[int, Tally]:
    """The counts of some consecutive chunks of a results folder (a task for a worker process)."""
    counts, results = Tally(horizon, red_lines), ResultsFolder(folder)
    for df in results.chunks(RUNS, summary_columns(results.columns(RUNS)), blocks, categories=True):
        counts.add(df)
    return blocks.start, counts


def tally_folder(folder: str | Path | ResultsFolder, scenario, workers: int | None = None) -> Tally:
    """The counts of a results folder's runs, read chunk by chunk (only the columns the summary needs), in
    ``workers`` processes (default: all cores from 50,000 runs, in this process below); flat memory."""
    meta = ResultsFolder.open(folder).meta
    n_blocks = -(-meta["runs"] // meta["block_size"])
    horizon, red_lines = scenario.meta.horizon, {r.id: r.issue for r in scenario.red_lines}
    with pooled(workers, meta["runs"]) as pool:
        parts = min(n_blocks, 4 * pool.workers) if pool.workers > 1 else 1
        edges = np.linspace(0, n_blocks, parts + 1).round().astype(int)
        tasks = [(str(Path(folder)), range(a, b), horizon, red_lines) for a, b in itertools.pairwise(edges)]
        found = dict(pool.imap_unordered(_tally_blocks, tasks))
    total = Tally(horizon, red_lines)
    for start in sorted(found):  # in the chunks' order: first appearances stay first
        total.merge(found[start])
    return total
