"""Exact quantiles from counts, so that a batch of any size is summarised from what its chunks counted.

Rounds are counted per round (a histogram of integers), from which quartiles and medians are read as numpy
computes them over the values themselves. Agreed values are counted in fine bins, each with its smallest
and largest value: a quantile that falls on a bin holding one value is read off the counts, and the few
bins holding several are read back from the runs (:meth:`Agreed.unsettled`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

QUARTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))
VALUE_QUANTILES = (("q05", 0.05), ("q25", 0.25), ("median", 0.5), ("q75", 0.75), ("q95", 0.95))
VALUE_BINS, VALUE_RANGE = 2000, 100.0  # agreed values lie on each issue's 0-100 scale


def histogram(values: np.ndarray) -> np.ndarray:
    """Counts of non-negative integers (``counts[i]``: how many are ``i``)."""
    return np.bincount(values.astype(np.int64)) if values.size else np.zeros(0, dtype=np.int64)


def added(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two histograms added, the shorter padded with zeros."""
    if len(a) < len(b):
        a, b = b, a
    out = a.copy()
    out[: len(b)] += b
    return out


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


def median_of_counts(counts: np.ndarray, offset: int = 0) -> float | None:
    """``np.median`` of integers counted in ``counts`` (``counts[i]``: how many are ``i + offset``)."""
    n = int(counts.sum())
    if n == 0:
        return None
    middle = [_nth(counts, (n - 1) // 2), _nth(counts, n // 2)]
    return float(np.median(np.array(middle) + offset))


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


def _nth(counts: np.ndarray, rank: int) -> int:
    """The value at ``rank`` (from 0) of the integers counted in ``counts`` (``counts[i]``: how many are ``i``)."""
    return int(np.searchsorted(np.cumsum(counts), rank, side="right"))


def value_bin(values: np.ndarray) -> np.ndarray:
    """The fine bin of each agreed value (values off the 0-100 scale in the end bins)."""
    return np.clip((np.asarray(values) * (VALUE_BINS / VALUE_RANGE)).astype(np.int64), 0, VALUE_BINS - 1)


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
        self.rounds = added(self.rounds, histogram(rounds))
        where = value_bin(values)
        self.bins += np.bincount(where, minlength=VALUE_BINS)
        np.minimum.at(self.low, where, values)
        np.maximum.at(self.high, where, values)

    def merge(self, other: Agreed) -> None:
        self.rounds = added(self.rounds, other.rounds)
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
