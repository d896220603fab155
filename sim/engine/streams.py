"""Counter-based random streams: every draw is a pure function of (root seed, run, keys).

A run's randomness depends on the batch's root seed and its own run index only, never on
which block, chunk or worker plays it. That is what makes results identical for any block
size and any number of workers. The mixer is SplitMix64's finaliser, applied to numpy
``uint64`` arrays so one call serves a whole block of runs.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy import special

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


def _mix(x: np.ndarray) -> np.ndarray:
    x = x + _GOLDEN  # uint64 arrays wrap around silently, as the mixer needs
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def key(name: str) -> int:
    """A stable integer key for a named stream (e.g. an event id)."""
    return zlib.crc32(name.encode())


def _keyed(x: np.ndarray, keys) -> np.ndarray:
    for k in keys:
        x = _mix(x ^ np.uint64(k & 0xFFFFFFFFFFFFFFFF))
    return x


def _runs(seed: int, runs: np.ndarray) -> np.ndarray:
    return _mix(np.asarray(runs, dtype=np.uint64) ^ _mix(np.full(1, seed, dtype=np.uint64)))


def _unit(x: np.ndarray) -> np.ndarray:
    return ((x >> _S11).astype(np.float64) + 0.5) * (1.0 / 2**53)


def uniform(seed: int, runs: np.ndarray, *keys: int) -> np.ndarray:
    """Uniform draws in the open interval (0, 1), one per run, for the stream ``keys``."""
    return _unit(_keyed(_runs(seed, runs), keys))


class Stream:
    """The stream ``keys`` of a block of runs, with the seed, the runs and those keys mixed once: ``uniform(*more)``
    draws what ``uniform(seed, runs, *keys, *more)`` does, in every run or in the block's ``rows``."""

    def __init__(self, seed: int, runs: np.ndarray, *keys: int):
        self._mixed = _keyed(_runs(seed, runs), keys)

    def uniform(self, *keys: int, rows=slice(None)) -> np.ndarray:
        return _unit(_keyed(self._mixed[rows], keys))


def normal(seed: int, runs: np.ndarray, *keys: int) -> np.ndarray:
    """Standard normal draws, one per run (inverse CDF of :func:`uniform`)."""
    return special.ndtri(uniform(seed, runs, *keys))


def poisson(rate: np.ndarray, u: np.ndarray, kmax: int = 64) -> np.ndarray:
    """Poisson counts with mean ``rate`` from uniforms ``u`` by inverse CDF (rates are small)."""
    rate = np.broadcast_to(np.asarray(rate, dtype=float), u.shape)
    term = np.exp(-rate)
    cdf = term.copy()
    count = np.zeros(u.shape, dtype=np.int64)
    for k in range(1, kmax + 1):
        below = u > cdf
        if not below.any():
            break
        count += below
        term = term * rate / k
        cdf = cdf + term
    return count
