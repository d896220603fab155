"""Other model families on a negsim scenario: point predictions from the same inputs as the agent-based model.

Political forecasting has established models that read what a scenario already gives, the actors'
positions, saliences and capabilities, and predict an outcome; running them beside the agent-based
model shows how much of a briefing's answer is the model's own. One pure numpy function per family,
broadcasting over any leading dimensions (a block of parameter draws, issues):

* :func:`compromise`: the compromise model (Achen): the capability x salience weighted mean of the
  positions, issue by issue. It is :func:`sim.engine.rules.weighted_compromise`.
* :func:`median`: the capability x salience weighted median, issue by issue: the position minimising the
  weighted distance to all actors, which is also the pairwise-vote (median voter) winner under linear
  utilities. Tie convention: where the cumulative weight reaches exactly half the total (within 1e-9
  of it) at a position, every point between that position and the next one with weight minimises the
  weighted distance; the median is then the midpoint of that interval (for two actors at 0 and 100 of
  equal weight, 50), so it does not depend on which end of the scale is called 0.
* :func:`eum`: Bueno de Mesquita's expected utility model, issue by issue, in the variant of Scholz,
  Calbert & Smith (2011) as the jmckib replication implements it (github.com/jmckib/bdm-scholz-expected-
  utility-model @ 55f63e9), formula by formula, including its departures from BdM's text: the win
  probability's denominator sums the absolute votes over all ordered pairs of actors, risk exponents
  compare each actor's exposure to challenges across actors (computed at r = 1, then P and the expected
  utilities recomputed with them), the status-quo weight Q = 1 (so T, Ub, Uw drop out), the scale range
  is max - min of the initial positions, offers are judged from the receiver's side with its own risk
  exponent, a confrontation it would lose is taken first (the nearest), else the compromise with the
  smallest *position-valued* key (|a| x_i + |b| x_j) / (|a| + |b|), capitulation never (unreachable in
  jmckib because of a typo, kept), ties go to the first actor in scenario order, and every actor moves at
  once. Each round reports the weighted median of the positions (the median voter, with the median's tie
  convention above; jmckib would report one end of a tied interval) and the weighted mean. The model does
  not converge in general (it cycles on the EC emissions data), so the prediction is the median after a
  fixed number of rounds (10, as the replications run it), and the rounds are kept to show it.
* :func:`nash`: the Nash bargaining solution of the two principals over all issues at once
  (:func:`sim.engine.rules.frontier` and :func:`~sim.engine.rules.nash_point`): the package maximising the
  product of their utility gains over their reservation values, inside both principals' red lines. An
  issue on which their red lines do not meet has no package (NaN); the others are bargained over with
  saliences renormalised over them, as a principal judges a package that leaves issues open in the
  agent-based model. When no package gives both more than their reservation values, ``feasible`` is
  False and the package is the one that maximises the smaller gain.

Each function is pure: it takes arrays and returns arrays. Reading a scenario's numbers into them, running a
family on a scenario and writing its prediction as a results folder is :mod:`sim.analysis.predict`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import rules

MODEL_FAMILIES = ("compromise", "median", "eum", "nash")
EUM_ROUNDS = 10
TIE = 1e-9  # a cumulative weight within TIE x the total of half of it counts as exactly half
MOVES = ("", "confrontation", "compromise")  # what an actor did in an EUM round: codes 0, 1, 2

# ---------------------------------------------------------------------------------------- one-dimensional


def compromise(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """The compromise model: capability x salience weighted mean of positions (..., A, I) -> (..., I)."""
    return rules.weighted_compromise(positions, capability, salience)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted median of ``values`` (..., A) over the last axis; the midpoint of the interval on a tie.

    Zero total weight counts every value equally.
    """
    values, weights = np.broadcast_arrays(np.asarray(values, float), np.asarray(weights, float))
    total = weights.sum(axis=-1, keepdims=True)
    weights = np.where(total > 0, weights, 1.0)
    order = np.argsort(values, axis=-1, kind="stable")
    xs, ws = np.take_along_axis(values, order, -1), np.take_along_axis(weights, order, -1)
    cum = np.cumsum(ws, axis=-1)
    half, tol = cum[..., -1:] / 2, TIE * cum[..., -1:]
    low = np.argmax(cum >= half - tol, axis=-1)  # the first position reaching half the weight
    high = np.argmax(cum > half + tol, axis=-1)  # the first position passing it
    pick = lambda k: np.take_along_axis(xs, k[..., None], -1)[..., 0]
    return (pick(low) + pick(high)) / 2


def median(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """The weighted median model: positions (..., A, I) weighted by capability x salience -> (..., I)."""
    w = capability[..., None] * salience
    return weighted_median(np.swapaxes(positions, -1, -2), np.swapaxes(w, -1, -2))


# ---------------------------------------------------------------------------------------- EUM


@dataclass
class EUMRounds:
    """An EUM run on one issue, for leading dimensions ``...``, ``A`` actors and ``T`` rounds.

    ``positions`` (..., T+1, A), round 0 the input; ``risk`` (..., T+1, A), the risk exponents each round
    used (NaN in round 0); ``move`` (..., T+1, A) codes into :data:`MOVES`, ``toward`` (..., T+1, A) the
    actor moved toward (-1: none); ``median`` and ``mean`` (..., T+1) each round's weighted median and mean.
    """

    positions: np.ndarray
    risk: np.ndarray
    move: np.ndarray
    toward: np.ndarray
    median: np.ndarray
    mean: np.ndarray

    @property
    def prediction(self) -> np.ndarray:
        """The model's forecast: the weighted median after the last round."""
        return self.median[..., -1]


def win_probability(x: np.ndarray, w: np.ndarray, r: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """P[i, j] (..., A, A): the share of all votes that back i's position over j's (jmckib / Scholz's code).

    Voter k's vote for a over b is w_k [(|x_k - x_b| / R)^r_k - (|x_k - x_a| / R)^r_k]; the numerator sums
    the votes for i over j that are positive, the denominator the absolute votes over every ordered pair.
    """
    u = (np.abs(x[..., :, None] - x[..., None, :]) / scale[..., None, None]) ** r[..., :, None]  # (.., k, a)
    votes = w[..., :, None, None] * (u[..., :, None, :] - u[..., :, :, None])  # (..., k, a, b)
    total = np.abs(votes).sum(axis=(-3, -2, -1))
    return np.maximum(votes, 0.0).sum(axis=-3) / np.where(total > 0, total, 1.0)[..., None, None]


def expected_utility(p: np.ndarray, d: np.ndarray, resist: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The expected utility of a challenge won with probability ``p`` over distance ``d`` (a share of the
    scale), against a target that resists with probability ``resist``, to an estimator of risk exponent
    ``r``; with Q = 1 the status quo is the only alternative to a challenge."""
    success = 2 - 4 * (0.5 - 0.5 * d) ** r
    failure = 2 - 4 * (0.5 + 0.5 * d) ** r
    status_quo = 2 - 4 * 0.5**r
    return resist * (p * success + (1 - p) * failure) + (1 - resist) * success - status_quo


def risk_exponents(exposure: np.ndarray) -> np.ndarray:
    """r_i = (1 - R_i/3) / (1 + R_i/3), with R_i the actor's exposure placed on [-1, 1] across actors
    (all 1 when every actor is equally exposed)."""
    hi, lo = exposure.max(axis=-1, keepdims=True), exposure.min(axis=-1, keepdims=True)
    spread = hi - lo
    rel = np.where(spread > 0, (2 * exposure - hi - lo) / np.where(spread > 0, spread, 1.0), 0.0)
    return (1 - rel / 3) / (1 + rel / 3)


def eum_round(x: np.ndarray, w: np.ndarray, salience: np.ndarray, scale: np.ndarray):
    """One round of the jmckib EUM: (new positions, risk exponents, move codes, toward) for positions (..., A)."""
    n = x.shape[-1]
    d = np.abs(x[..., :, None] - x[..., None, :]) / scale[..., None, None]
    ones = np.ones_like(x)
    p1 = win_probability(x, w, ones, scale)
    e1 = expected_utility(p1, d, salience[..., None, :], 1.0)  # [i, j]: i challenges j, at r = 1
    exposure = np.where(np.eye(n, dtype=bool), 0.0, e1).sum(axis=-2)  # what the others expect from challenging i
    r = risk_exponents(exposure)
    p = win_probability(x, w, r, scale)
    own = r[..., :, None]  # receiver i estimates both sides with its own exponent
    a = expected_utility(p, d, salience[..., None, :], own)  # i challenging j
    b = expected_utility(np.swapaxes(p, -1, -2), d, salience[..., :, None], own)  # j challenging i
    other = x[..., :, None] != x[..., None, :]
    confront = other & (b > a) & (a > 0)
    settle = other & (b > 0) & (a < 0) & (b > np.abs(a))
    gap = np.abs(x[..., None, :] - x[..., :, None])
    nearest = np.argmin(np.where(confront, gap, np.inf), axis=-1)  # first in scenario order on a tie
    key = (np.abs(a) * x[..., :, None] + np.abs(b) * x[..., None, :]) / np.where(settle, np.abs(a) + np.abs(b), 1.0)
    chosen = np.argmin(np.where(settle, key, np.inf), axis=-1)
    take = lambda m, k: np.take_along_axis(m, k[..., None], -1)[..., 0]
    towards = x[..., None, :] - x[..., :, None]
    split = x + take(towards * np.abs(a / np.where(b != 0, b, 1.0)), chosen)
    confronts, settles = confront.any(axis=-1), settle.any(axis=-1)
    new = np.where(confronts, take(np.broadcast_to(x[..., None, :], a.shape), nearest), np.where(settles, split, x))
    move = np.where(confronts, 1, np.where(settles, 2, 0))
    toward = np.where(confronts, nearest, np.where(settles, chosen, -1))
    return new, r, move, toward


def eum(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray, rounds: int = EUM_ROUNDS) -> EUMRounds:
    """The jmckib EUM on one issue: positions, capabilities and saliences (..., A), saliences on [0, 1]."""
    x = np.asarray(positions, dtype=float)
    capability, salience = np.broadcast_arrays(np.asarray(capability, float), np.asarray(salience, float))
    w = capability * salience
    spread = x.max(axis=-1) - x.min(axis=-1)
    scale = np.where(spread > 0, spread, 1.0)
    nan = np.full_like(x, np.nan)
    history = [(x, nan, np.zeros(x.shape, int), np.full(x.shape, -1))]
    for _ in range(rounds):
        history.append(eum_round(history[-1][0], w, salience, scale))
    positions, risk, move, toward = (np.stack(h, axis=-2) for h in zip(*history, strict=True))
    mean = rules.weighted_compromise(np.swapaxes(positions, -1, -2), capability, salience[..., None])
    return EUMRounds(positions, risk, move, toward, weighted_median(positions, w[..., None, :]), mean)


# ---------------------------------------------------------------------------------------- Nash


def nash(ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, low: np.ndarray, high: np.ndarray):
    """The Nash bargaining solution of two principals: ideals and saliences (..., 2, I), reservation values
    (..., 2), the red-line box ``low``..``high`` (..., I) of both.

    Returns (package (..., I), NaN where the red lines do not meet; utilities (..., 2) over the issues
    bargained; feasible (...): whether the package gives both more than their reservation values).
    """
    meet = low <= high + 1e-9
    weights = rules.restricted(salience, meet[..., None, :])
    lo, hi = np.where(meet, low, 0.0), np.where(meet, high, 100.0)
    frontier = rules.frontier(ideal[..., 0, :], ideal[..., 1, :], weights[..., 0, :], weights[..., 1, :], lo, hi)
    package, utilities, feasible = rules.nash_point(*frontier, reservation)
    return np.where(meet, package, np.nan), utilities, feasible & meet.any(axis=-1)
