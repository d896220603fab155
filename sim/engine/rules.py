"""Decision rules as pure numpy functions that broadcast over leading (run) dimensions.

Shapes: ``I`` issues, ``A`` actors, ``K = I + 1`` frontier vertices; ``...`` is any block of
runs (empty for one run). Utilities are in [0, 1]: an actor's utility for a package is one
minus its salience-weighted distance from its ideal position, on 0-100 issue axes.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def issue_sum(values: np.ndarray) -> np.ndarray:
    """``values`` (..., I) summed over the issues (the last axis) as ``np.sum`` sums them, an issue at a time: over so
    short an axis numpy calls its loop once per run, which costs a block more than the additions. Numpy adds fewer
    than 8 terms in order, as here; from 8 on it adds pairwise, and so it does it here."""
    if not 1 < values.shape[-1] < 8:
        return np.sum(values, axis=-1)
    total = values[..., 0] + values[..., 1]
    for i in range(2, values.shape[-1]):
        total += values[..., i]
    return total


def any_issue(mask: np.ndarray) -> np.ndarray:
    """Whether ``mask`` (..., I) holds on any issue (the last axis), an issue at a time (see :func:`issue_sum`)."""
    if mask.shape[-1] < 2:
        return np.any(mask, axis=-1)
    out = mask[..., 0] | mask[..., 1]
    for i in range(2, mask.shape[-1]):
        out |= mask[..., i]
    return out


def utility(package: np.ndarray, ideal: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """Salience-weighted linear utility of ``package`` (..., I) to actors with ``ideal`` (..., I)."""
    gap = np.subtract(package, ideal, dtype=float)
    return _utility_of_gaps(np.abs(gap, out=gap), salience)


def _utility_of_gaps(gaps: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """:func:`utility` from the distances (..., I) of a package from the ideal, issue by issue."""
    return 1.0 - np.einsum("...i,...i->...", salience, gaps) / 100.0


def concession_share(clock: np.ndarray, deadline: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Time-based share of the way conceded, (t/T)^(1/e): e < 1 Boulware, e > 1 Conceder, e = 0 never."""
    t = np.clip(clock / np.maximum(deadline, 1), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        inv = np.where(exponent > 0, 1.0 / np.maximum(exponent, EPS), np.inf)
    return np.where(exponent > 0, t ** np.minimum(inv, 1e6), 0.0)


def aspiration(share: np.ndarray, reservation: np.ndarray) -> np.ndarray:
    """The utility an actor still holds out for after conceding ``share`` towards its reservation."""
    return reservation + (1.0 - reservation) * (1.0 - share)


def stated_position(ideal: np.ndarray, tabled: np.ndarray, share: np.ndarray) -> np.ndarray:
    """What an actor says it wants: its ideal moved ``share`` of the way to the last tabled package."""
    return ideal + share[..., None] * (tabled - ideal)


def weighted_compromise(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """Capability x salience weighted mean of positions (..., A, I) -> (..., I)."""
    w = capability[..., None] * salience
    total = w.sum(axis=-2)
    mean = (w * positions).sum(axis=-2) / np.maximum(total, EPS)
    return np.where(total > EPS, mean, positions.mean(axis=-2))


def project(package: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The nearest package inside the red-line box [lower, upper] (per issue)."""
    return np.clip(package, lower, upper)


def frontier(ideal1, ideal2, sal1, sal2, low=0.0, high=100.0):
    """Pareto frontier of two principals with linear utilities inside the box [low, high], as K = I + 1 vertices.

    Starting from principal 1's ideal (projected into the box), issues move to principal 2's
    in order of principal 2's relative salience (s2/s1, largest first): a fractional knapsack,
    so the segments between vertices are exactly the efficient trade-offs. Utilities are
    measured from the true ideals, which may lie outside the box.
    Returns packages (..., K, I) and utilities (..., K, 2), principal 1's decreasing.
    """
    ratio = sal2 / np.maximum(sal1, EPS)
    rank = np.argsort(np.argsort(-ratio, axis=-1, kind="stable"), axis=-1, kind="stable")
    k = np.arange(ideal1.shape[-1] + 1)[:, None]
    best1, best2 = project(ideal1, low, high), project(ideal2, low, high)
    moved = rank[..., None, :] < k  # (..., K, I) at each vertex, the issues at principal 2's best
    packages = np.where(moved, best2[..., None, :], best1[..., None, :])

    def utilities(ideal, salience):  # along the frontier an issue lies at one of two distances from the ideal
        from1, from2 = np.abs(best1 - ideal)[..., None, :], np.abs(best2 - ideal)[..., None, :]
        return _utility_of_gaps(np.where(moved, from2, from1), salience[..., None, :])

    return packages, np.stack([utilities(ideal1, sal1), utilities(ideal2, sal2)], axis=-1)


def _segment(utilities: np.ndarray, who: int, target: np.ndarray):
    """Segment index and position on it where principal ``who``'s utility equals ``target``."""
    u = utilities[..., who]
    k_max = u.shape[-1] - 2
    if who == 0:  # decreasing along the frontier
        seg = np.clip(np.sum(u[..., 1:] > target[..., None], axis=-1), 0, k_max)
    else:  # increasing
        seg = np.clip(np.sum(u[..., 1:] < target[..., None], axis=-1), 0, k_max)
    a = np.take_along_axis(u, seg[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(u, seg[..., None] + 1, axis=-1)[..., 0]
    lam = np.clip((target - a) / np.where(np.abs(b - a) > EPS, b - a, np.inf), 0.0, 1.0)
    return seg, lam


def _point(packages, utilities, seg, lam):
    """The point ``lam`` of the way along segment ``seg`` of the frontier: (package, utilities)."""
    lam_ = lam.reshape(-1, 1)

    def along(arr):
        vertices = arr.reshape(-1, arr.shape[-1])  # every run's vertices in a row
        at = np.arange(seg.size) * arr.shape[-2] + seg.reshape(-1)
        start, end = vertices[at], vertices[at + 1]
        return (start + lam_ * (end - start)).reshape(*arr.shape[:-2], arr.shape[-1])

    return along(packages), along(utilities)


def frontier_at(packages, utilities, who: int, target):
    """The efficient package giving principal ``who`` (0 or 1) utility ``target`` (clamped to the frontier).

    Returns (package (..., I), utilities (..., 2)).
    """
    seg, lam = _segment(utilities, who, np.asarray(target, dtype=float))
    return _point(packages, utilities, seg, lam)


def nash_point(packages, utilities, disagreement):
    """The Nash bargaining solution on the frontier: max (u1 - d1)(u2 - d2) over packages.

    Exact for piecewise-linear frontiers: the product is a quadratic on each segment.
    ``disagreement`` is (..., 2). Where no package beats both disagreement values the point
    maximising the smaller surplus is returned. Returns (package, utilities, feasible).
    """
    a, b = utilities[..., :-1, :], utilities[..., 1:, :]
    d = disagreement[..., None, :]
    alpha, beta = a[..., 0] - d[..., 0], b[..., 0] - a[..., 0]
    gamma, delta = a[..., 1] - d[..., 1], b[..., 1] - a[..., 1]
    denom = 2.0 * beta * delta
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(np.abs(denom) > EPS, -(beta * gamma + alpha * delta) / denom, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # where the two surpluses are equal (the fallback's best)
        even = np.where(np.abs(beta - delta) > EPS, (gamma - alpha) / (beta - delta), 0.0)
    ends = [np.zeros_like(lam), np.ones_like(lam)]
    candidates = np.stack([ends[0], np.clip(lam, 0.0, 1.0), np.clip(even, 0.0, 1.0), ends[1]], axis=-1)
    s1 = alpha[..., None] + beta[..., None] * candidates
    s2 = gamma[..., None] + delta[..., None] * candidates
    score = np.minimum(s1, s2)
    score -= 10.0  # where no package beats both: below any feasible product's score
    both_gain = (s1 > 0) & (s2 > 0)
    product = np.multiply(s1, s2, out=s1)
    np.copyto(score, product, where=both_gain & np.isfinite(product))
    flat = score.reshape(*score.shape[:-2], -1)
    best = np.argmax(flat, axis=-1)
    seg = best // candidates.shape[-1]
    lam_best = np.take_along_axis(candidates.reshape(flat.shape), best[..., None], axis=-1)[..., 0]
    package, u = _point(packages, utilities, seg, lam_best)
    feasible = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0] >= 0
    return package, u, feasible


def restricted(salience: np.ndarray, on_table: np.ndarray) -> np.ndarray:
    """Saliences over the issues ``on_table`` only, renormalised to sum to 1 (all zero if none is on it).

    A principal judges a proposal on the issues it settles, as if they were all that is at stake.
    """
    weights = salience * on_table
    weights /= np.maximum(issue_sum(weights)[..., None], EPS)
    return weights


def maximin_point(packages, utilities, thresholds):
    """The frontier package that maximises the smaller surplus over ``thresholds`` (..., 2).

    Along the frontier principal 1's surplus falls and principal 2's rises, so the best is where
    they are equal, or an end of the frontier if they never are. Returns (package, utilities).
    """
    gap = (utilities[..., 0] - thresholds[..., 0, None]) - (utilities[..., 1] - thresholds[..., 1, None])
    k_max = gap.shape[-1] - 2
    seg = np.clip(np.sum(gap[..., 1:] > 0, axis=-1), 0, k_max)
    a = np.take_along_axis(gap, seg[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(gap, seg[..., None] + 1, axis=-1)[..., 0]
    lam = np.clip(a / np.where(np.abs(a - b) > EPS, a - b, np.inf), 0.0, 1.0)
    return _point(packages, utilities, seg, lam)


def zone_best(packages, utilities, thresholds, own_ideal, own_salience):
    """The package a third party tables for itself: inside the zone of agreement (both principals get
    their ``thresholds``), the frontier package it values most; the maximin package where there is no zone.

    Its utility is linear along each frontier segment, so the best lies at a vertex or at an end of
    the zone. Returns (package, utilities, whether a zone exists).
    """
    ends = [frontier_at(packages, utilities, k, thresholds[..., k]) for k in (0, 1)]
    cand = np.concatenate([packages, *(p[..., None, :] for p, _ in ends)], axis=-2)
    cand_u = np.concatenate([utilities, *(u[..., None, :] for _, u in ends)], axis=-2)
    feasible = np.all(cand_u >= thresholds[..., None, :] - 1e-9, axis=-1)
    own = utility(cand, own_ideal[..., None, :], own_salience[..., None, :])
    best = np.argmax(np.where(feasible, own, -np.inf), axis=-1)
    pick = lambda arr: np.take_along_axis(arr, best[..., None, None], axis=-2)[..., 0, :]
    exists = feasible.any(axis=-1)
    fallback, fallback_u = maximin_point(packages, utilities, thresholds)
    return (
        np.where(exists[..., None], pick(cand), fallback),
        np.where(exists[..., None], pick(cand_u), fallback_u),
        exists,
    )


def zeuthen_risk(own_aspiration, offer_from_other, disagreement):
    """Zeuthen's risk limit: the share of surplus an actor would lose by accepting the other's offer."""
    surplus = own_aspiration - disagreement
    return np.where(surplus > EPS, (own_aspiration - offer_from_other) / np.maximum(surplus, EPS), 0.0)


def zeuthen_step(packages, utilities, aspiration, disagreement, step, movable):
    """One round of Zeuthen's protocol between two principals: the aspirations (..., 2) after it.

    Each principal offers the frontier package that gives it its aspiration; the one whose risk
    limit is no larger (both when they tie) concedes ``step`` in utility, never below its
    ``disagreement`` value. Only principals marked ``movable`` (..., 2) concede.
    """
    offers = [frontier_at(packages, utilities, k, aspiration[..., k])[1] for k in (0, 1)]
    risk = np.stack(
        [zeuthen_risk(aspiration[..., k], offers[1 - k][..., k], disagreement[..., k]) for k in (0, 1)], axis=-1
    )
    concede = movable & (risk <= risk[..., ::-1])
    return np.where(concede, np.maximum(aspiration - step, disagreement), aspiration)


def red_line_crossed(value, low, high):
    """Whether a package's ``value`` on an issue lies outside a red line's bounds [low, high]."""
    return (value < low - 1e-9) | (value > high + 1e-9)


def misses(text_low, text_high, low, high):
    """Whether a text spanning [text_low, text_high] on an issue (a point, or a framework's interval) has no point
    inside a red line's bounds [low, high]: no reading of it meets the red line."""
    return (text_high < low - 1e-9) | (text_low > high + 1e-9)


def reading(ideal, own_low, own_high, text_low, text_high):
    """The point of a text [text_low, text_high] an actor reads it as: the point best for it, inside its own red lines
    [own_low, own_high] where the text allows (a point text reads as itself)."""
    return np.clip(np.clip(ideal, own_low, own_high), text_low, text_high)


def going_along_costs_more(shortfall, precondition_gap, defiance):
    """Whether a party objects to an announcement on cost: what going along costs it (its shortfall below what it
    holds out for, plus the pressure it still lacks to waive its open preconditions) exceeds open defiance."""
    return shortfall + precondition_gap > defiance + 1e-12


def accepts(value, threshold):
    """Whether a package worth ``value`` to an actor meets the ``threshold`` it holds out for."""
    return value >= threshold - 1e-9


def waives(pressure, waiver_pressure):
    """Whether the pressure on an actor has reached the level at which it waives a precondition."""
    return pressure >= waiver_pressure


def responsive_share(share, base, reciprocity, other_moved):
    """A responsive principal's concession share after a round: its steady ``base`` pace plus
    ``reciprocity`` times the share the other side conceded last round (tit for tat), at most 1."""
    return np.minimum(share + base + reciprocity * np.maximum(other_moved, 0.0), 1.0)


def crossed(values, low, high):
    """Whether any value lies outside [low, high] (per run, over the last axis)."""
    return any_issue(red_line_crossed(values, low, high))


def subgame_perfect_values(packages, utilities, patience, reservation, rounds: int, first: int):
    """Proposer's utility in each round of finite-horizon alternating offers (backward induction).

    In the last round the responder gets its reservation value; earlier, it gets exactly the
    discounted value of proposing next round. As ``rounds`` grows the first proposer's share
    tends to Rubinstein's (1 - d2) / (1 - d1 d2) on a unit pie.
    Returns (rounds, ..., 2) utilities of the offer made in each round.
    """
    values = np.empty((rounds, *utilities.shape[:-2], 2))
    responder_floor = None
    for t in range(rounds - 1, -1, -1):
        proposer = (first + t) % 2
        responder = 1 - proposer
        floor = reservation[..., responder]
        if responder_floor is not None:
            floor = np.maximum(floor, patience[..., responder] * responder_floor)
        _, u = frontier_at(packages, utilities, responder, floor)
        values[t] = u
        responder_floor = u[..., proposer]  # next-earlier round's responder is this round's proposer
    return values


# Any number of principals. Utilities are additive over issues and, on each issue, linear between the ideals of the
# actors (projected into the box), so every utility vector the box allows is at most a mixture, issue by issue, of
# the actors' ideals: the ``corners``. A package mixing corners is worth at least the mixture of their utilities to
# everyone (utilities are concave; equal where only neighbouring corners mix, which reaches every efficient
# package). The N-party rules are concave programmes over the mixtures, solved exactly (to ~1e-12) by a primal-dual
# interior-point method whose every step is one small linear system per run. Where several mixtures are optimal
# it may end at one that mixes corners further apart, whose package is then worth at least as much to everyone;
# those mixtures nearly always make one package (with saliences above zero a simplex vertex gave the interior
# point's max-min package in all of 2,870 sampled problems), not where the members a linear rule pins all ignore an
# issue (see `_for_the_rest`).


class Packages:
    """The packages in a box [low, high] (..., I), valued by actors with ``ideal`` and ``salience`` (..., N, I), as
    mixtures of corners: on each issue the actors' ideals projected into the box, ``position`` (..., I, K = N),
    each worth ``worth`` (..., I, K, N) to each actor on top of ``base`` (..., N)."""

    def __init__(self, ideal, salience, low, high):
        self.ideal, self.salience = ideal, salience
        self.position = np.swapaxes(np.clip(ideal, low[..., None, :], high[..., None, :]), -1, -2)
        gap = np.abs(self.position[..., None] - np.swapaxes(ideal, -1, -2)[..., None, :])
        self.worth = gap * np.swapaxes(salience, -1, -2)[..., None, :] / -100.0
        self.base = np.ones(ideal.shape[:-1])
        self.low, self.high = low, high

    def rows(self, index):
        """The same packages in the runs ``index`` only."""
        return Packages(self.ideal[index], self.salience[index], self.low[index], self.high[index])

    def value(self, package):
        """Each actor's utility (..., N) of ``package`` (..., I)."""
        return utility(package[..., None, :], self.ideal, self.salience)

    def package(self, mix):
        """The package mixing the corners with weights ``mix`` (..., I, K)."""
        return (mix * self.position).sum(axis=-1)

    def mixed(self, mix):
        """The mixture with weights ``mix`` of the corners' utilities (..., N): what the package mixing them is
        worth to each actor at least."""
        return self.base + (mix[..., None] * self.worth).sum(axis=(-3, -2))

    def best(self, who):
        """Each actor's utility (..., N) of the package best for actor ``who`` (an index per run): its own ideal,
        and on an issue it does not care about the even mixture of the corners (not whoever comes first in the
        file)."""
        mine = np.take_along_axis(self.worth, np.asarray(who)[..., None, None, None], axis=-1)[..., 0]
        tied = mine >= mine.max(axis=-1, keepdims=True) - EPS
        return self.mixed(tied / tied.sum(axis=-1, keepdims=True))


STEPS = 40  # at most; a run stops once its optimality conditions hold
GAP, RESIDUAL = 1e-12, 1e-10  # complementarity; feasibility and stationarity
PRICE = 1e-5  # a Nash term's price against its surplus, relative: what the systems' conditioning allows where a
# member's surplus is small


def _over_corners(x):
    """``x`` (..., I, K) summed over the corners: einsum, which numpy runs faster than ``sum`` over so short an axis."""
    return np.einsum("...k->...", x)


class Programme:
    """Maximise ``gain . v + lift t + sum_j kappa_j log s_j`` over the mixtures of corners ``mix`` (runs, I, K),
    where ``v = base + sum worth * mix`` (runs, N) are the actors' utilities and ``s = v - floor - lifted t`` their
    slacks: those of actors with ``rho`` kept at or above zero (a constraint), those with ``kappa`` above zero
    terms of a Nash product. ``lift`` > 0 makes ``t`` a level to raise (a max-min); else ``t`` stays 0."""

    def __init__(self, worth, base, floor, gain, lift, kappa, rho, lifted):
        self.issues, self.corners, self.actors = worth.shape[-3:]
        self.worth, self.flat = worth, worth.reshape(*worth.shape[:-3], -1, self.actors)
        self.base, self.floor, self.gain, self.lift, self.kappa, self.rho = base, floor, gain, lift, kappa, rho
        self.active = (kappa + rho) > 0
        self.lifted = lifted * self.active
        self.free = (lift > 0) & self.lifted.any(axis=-1)  # a level to raise, and someone it raises
        self.count = (rho * self.active).sum(axis=-1) + self.issues * self.corners

    def rows(self, index):
        """The same programme in the runs ``index`` only."""
        return Programme(
            *(x[index] for x in (self.worth, self.base, self.floor, self.gain)),
            self.lift,
            *(x[index] for x in (self.kappa, self.rho, self.lifted)),
        )

    def worth_of(self, mix):
        """What the weights ``mix`` (runs, I, K) on the corners add to the actors' utilities (runs, N)."""
        return (mix.reshape(*mix.shape[:-2], 1, -1) @ self.flat)[..., 0, :]

    def priced(self, price):
        """What each corner (runs, I, K) is worth at the actors' ``price`` (runs, N)."""
        return (self.flat @ price[..., None]).reshape(*price.shape[:-1], self.issues, self.corners)

    def surplus(self, mix):
        """Each actor's slack (runs, N) at the mixture ``mix`` with ``t`` at 0."""
        return self.base + self.worth_of(mix) - self.floor

    def start(self, mix, inside):
        """A point from ``mix``: slacks from it where it is ``inside`` (every slack above zero), else 1; a Nash
        term priced at its surplus; corners priced so that every weight times its price is 1 (as a Nash term's
        price times its surplus)."""
        s = np.maximum(np.where(self.active & inside, self.surplus(mix), 1.0), EPS)  # (rounding can leave a sliver 0)
        lam = np.where(self.kappa > 0, self.kappa / s, 1.0) * self.active
        zeta = 1.0 / mix
        nu = _over_corners(self.priced(self.gain + lam) + zeta) / self.corners
        return Point(mix, zeta, nu, s, lam, np.zeros(mix.shape[:-2]))


class Point:
    """A primal-dual point: the mixture and its corners' prices, each issue's price, the slacks and the actors'
    prices, the level."""

    def __init__(self, mix, zeta, nu, s, lam, t):
        self.mix, self.zeta, self.nu, self.s, self.lam, self.t = mix, zeta, nu, s, lam, t

    def rows(self, index):
        return Point(*(x[index] for x in (self.mix, self.zeta, self.nu, self.s, self.lam, self.t)))

    def moved(self, step, length):
        d = length[..., None]
        return Point(
            self.mix + d[..., None] * step.mix,
            self.zeta + d[..., None] * step.zeta,
            self.nu + d * step.nu,
            self.s + d * step.s,
            self.lam + d * step.lam,
            self.t + length * step.t,
        )

    def room(self, step, active):
        """The longest step (at most 1) that keeps every weight, price and active slack above zero."""
        inner = np.minimum(
            np.where(step.mix < 0, -self.mix / step.mix, np.inf),
            np.where(step.zeta < 0, -self.zeta / step.zeta, np.inf),
        )
        outer = np.minimum(
            np.where(active & (step.s < 0), -self.s / step.s, np.inf),
            np.where(active & (step.lam < 0), -self.lam / step.lam, np.inf),
        )
        return np.minimum(1.0, np.minimum(inner.min(axis=(-1, -2)), outer.min(axis=-1)))


class Newton:
    """The optimality conditions at a point, and their linearisation eliminated down to one (N + 1) system per run
    in the actors' prices and the level (the corner weights enter through each issue's weighted covariance of
    worth)."""

    def __init__(self, programme, point):
        p, x = programme, point
        self.programme, self.point = p, x
        self.stationary = p.priced(p.gain + x.lam) + x.zeta - x.nu[..., None]
        self.level = np.where(p.free, p.lift - (p.lifted * x.lam).sum(axis=-1), 0.0)
        self.slack = np.where(p.active, x.s - (p.surplus(x.mix) - p.lifted * x.t[..., None]), 0.0)

    def rows(self, index):
        out = Newton.__new__(Newton)
        out.programme, out.point = self.programme.rows(index), self.point.rows(index)
        out.stationary, out.level, out.slack = self.stationary[index], self.level[index], self.slack[index]
        return out

    def gap(self):
        """Complementarity: the mean of weights times their prices and constrained slacks times theirs."""
        p, x = self.programme, self.point
        return ((p.rho * x.lam * x.s).sum(axis=-1) + _over_corners(x.mix * x.zeta).sum(axis=-1)) / p.count

    def holds(self, gap):
        """Where the optimality conditions hold: complementarity, feasibility, stationarity, Nash prices."""
        p, x = self.programme, self.point
        off = np.maximum(np.abs(self.slack).max(axis=-1), np.abs(self.stationary).max(axis=(-1, -2)))
        priced = np.where(p.kappa > 0, np.abs(x.lam * x.s / np.where(p.kappa > 0, p.kappa, 1.0) - 1.0), 0.0)
        return (gap < GAP) & (np.maximum(off, np.abs(self.level)) < RESIDUAL) & (priced.max(axis=-1) < PRICE)

    def linearise(self):
        p, x = self.programme, self.point
        self.h = x.mix / x.zeta
        self.total = _over_corners(self.h)[..., None]
        mean = np.einsum("...ik,...ikn->...in", self.h, p.worth) / self.total
        spread = np.swapaxes(p.flat, -1, -2) @ (self.h.reshape(*self.h.shape[:-2], -1, 1) * p.flat)
        n = p.actors
        system = np.zeros((*x.t.shape, n + 1, n + 1))
        system[..., :n, :n] = x.lam[..., :, None] * (spread - np.swapaxes(mean * self.total, -1, -2) @ mean)
        system[..., range(n), range(n)] += np.where(p.active, x.s, 1.0)
        _steady(system, n, 1e-14)
        system[..., :n, n] = -x.lam * p.lifted
        system[..., n, :n] = p.lifted * p.free[..., None]
        system[..., n, n] = np.where(p.free, 0.0, 1.0)
        self.system = system

    def direction(self, slack_target, weight_target):
        """The Newton step towards slacks times prices at ``slack_target`` and weights times prices at
        ``weight_target``, both given as residuals."""
        p, x, h = self.programme, self.point, self.h
        g = self.stationary - weight_target / x.mix
        spread = h * (g - _over_corners(h * g)[..., None] / self.total)
        rhs = np.concatenate([x.lam * (self.slack - p.worth_of(spread)) - slack_target, self.level[..., None]], -1)
        sol = _solve(self.system, rhs)
        n = p.actors
        dlam, dt = np.where(p.active, sol[..., :n], 0.0), sol[..., n]
        q = p.priced(dlam) + g
        dnu = _over_corners(h * q) / self.total[..., 0]
        dmix = h * (q - dnu[..., None])
        ds = np.where(p.active, p.worth_of(dmix) - p.lifted * dt[..., None] - self.slack, 0.0)
        return Point(dmix, (-weight_target - x.zeta * dmix) / x.mix, dnu, ds, dlam, dt)

    def step(self, gap):
        """Mehrotra's predictor-corrector step."""
        p, x = self.programme, self.point
        self.linearise()
        affine = self.direction(x.lam * x.s - p.kappa * p.active, x.mix * x.zeta)
        a = x.room(affine, p.active)[..., None]
        gap_affine = (p.rho * (x.lam + a * affine.lam) * (x.s + a * affine.s)).sum(axis=-1)
        gap_affine += _over_corners((x.mix + a[..., None] * affine.mix) * (x.zeta + a[..., None] * affine.zeta)).sum(
            axis=-1
        )
        centre = (np.clip(gap_affine / p.count / gap, 0.0, 1.0) ** 3 * gap)[..., None]
        return self.direction(
            x.lam * x.s + affine.s * affine.lam - p.kappa * p.active - p.rho * centre,
            x.mix * x.zeta + affine.mix * affine.zeta - centre[..., None],
        )


def _solve(system, rhs):
    """``system`` (runs, M, M) solved for ``rhs`` (runs, M). Where one run's system is singular all the same (its
    members' rows nearly proportional and their slacks below the rounding of the rest: a feasible set shrunk to a
    sliver), once more with a firmer hair on the diagonal, and failing that by least squares."""
    try:
        return np.linalg.solve(system, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        try:
            return np.linalg.solve(_steady(system.copy(), system.shape[-1] - 1, 1e-9), rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return (np.linalg.pinv(system) @ rhs[..., None])[..., 0]


def _steady(system, n, hair):
    """``system`` (runs, n + 1, n + 1) with ``hair`` times its largest of the first ``n`` diagonal entries added to
    each of them (regularised, as interior-point codes do, so that no run's system is singular); in place."""
    diagonal = system[..., range(n), range(n)]
    system[..., range(n), range(n)] += hair * np.abs(diagonal).max(axis=-1, keepdims=True)
    return system


def optimum(packages, floor, gain, lift, kappa, rho, lifted, start=None, enough=None):
    """Solve the :class:`Programme` over ``packages`` (runs, ...) by Mehrotra's predictor-corrector, the runs in
    lockstep, each leaving once its optimality conditions hold, or ``enough(programme, point)`` says so. From the
    mixture ``start`` if given (it must leave every slack above zero), else from the even mixture, where slacks
    may start below zero. Returns (mix, t, solved: whether the conditions hold)."""
    p = Programme(packages.worth, packages.base, floor, gain, lift, kappa, rho, lifted)
    runs = floor.shape[0]
    even = np.full((runs, p.issues, p.corners), 1.0 / p.corners)
    x = p.start(even if start is None else start, start is not None)
    mix, t, solved = x.mix.copy(), x.t.copy(), np.zeros(runs, dtype=bool)
    rows, broken = np.arange(runs), np.zeros(runs, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for taken in range(STEPS + 1):
            newton = Newton(p, x)
            gap = newton.gap()
            holds = newton.holds(gap)
            leave = holds | broken | (taken == STEPS)
            if enough is not None:
                leave |= enough(p, x)
            if leave.any():
                here = rows[leave]
                mix[here], t[here], solved[here] = x.mix[leave], x.t[leave], holds[leave]
                rows, stay = rows[~leave], np.flatnonzero(~leave)
                if not rows.size:
                    break
                newton, gap, broken = newton.rows(stay), gap[stay], broken[stay]
                p, x = newton.programme, newton.point
            step = newton.step(gap)
            broken = ~np.all([np.isfinite(d).reshape(len(rows), -1).all(axis=1) for d in vars(step).values()], axis=0)
            if broken.any():  # a run whose system broke down leaves where it is, unsolved
                for d in vars(step).values():
                    d[broken] = 0.0
            x = x.moved(step, 0.99 * x.room(step, p.active))
            x.mix /= _over_corners(x.mix)[..., None]  # back onto the simplex, which rounding can leave
    return mix, t, solved


def _solved(packages, mix):
    package = packages.package(mix)
    return package, packages.value(package)


def _maximin(packages, floor, members, enough=None):
    none, weight = np.zeros(members.shape), members * 1.0
    return optimum(packages, floor, none, 1.0, none, weight, weight, enough=enough)[0]


def maximin_n(packages, floor, members):
    """The package maximising the smallest surplus of ``members`` (runs, N) over ``floor``: (package, utilities,
    that surplus). On an issue the worst-off members all ignore, the max-min of the others (:func:`_for_the_rest`);
    where several packages are left all the same, the one inside that set the interior point converges to from the
    even mixture, the same for a run in any block."""
    package, value = _solved(packages, _maximin(packages, floor, members))
    package, value = _for_the_rest(packages, package, value, floor, members, _pinned(value, floor, members))
    return package, value, np.where(members, value - floor, np.inf).min(axis=-1)


TIE = 1e-7  # a member within this of the least surplus (or of its floor) counts as held there by the rule (a
# member whose surplus is truly that close to it, with a salience near zero on a free issue, is counted held too)


def _pinned(value, floor, members):
    """The members at the least surplus over ``floor``: the max-min's worst-off."""
    least = np.where(members, value - floor, np.inf).min(axis=-1, keepdims=True)
    return members & (value - floor - least < TIE)


def _for_the_rest(packages, package, value, floor, members, held):
    """The rule's ``package`` with the issues it leaves free given to the other members: on each issue every
    ``held`` member ignores (those the rule pins: the worst-off, a proposer, partners held to their floor) and
    another member cares about, the values that maximise the smallest surplus over ``floor`` of the members not
    held; then, holding the worst-off of those too, again on the issues still free, until none is (left to the
    solver those issues sat where no one asked, a package another member would improve at no one's cost).
    Returns (package, utilities)."""
    cares, held = packages.salience > 0, held.copy()
    for _ in range(members.shape[-1]):
        rest = members & ~held
        spare = ~(cares & held[..., None]).any(axis=-2) & (cares & rest[..., None]).any(axis=-2)
        rows = np.flatnonzero(spare.any(axis=-1))
        if not rows.size:
            break
        kept = ~spare[rows]
        low = np.where(kept, package[rows], packages.low[rows])
        high = np.where(kept, package[rows], packages.high[rows])
        within = Packages(packages.ideal[rows], packages.salience[rows], low, high)
        package[rows], value[rows] = _solved(within, _maximin(within, floor[rows], rest[rows]))
        held[rows] |= _pinned(value[rows], floor[rows], rest[rows])
    return package, value


def _inside(packages, mix, floor, members):
    """``mix`` moved towards the even mixture as far as keeps half of every member's surplus over ``floor``
    (and at most half-way): a start strictly inside, from which an interior point can move."""
    even = np.full(mix.shape, 1.0 / mix.shape[-1])
    here, there = packages.mixed(mix) - floor, packages.mixed(even) - floor
    room = np.where(members & (there < here), here / np.maximum(here - there, EPS), np.inf).min(axis=-1)
    share = np.minimum(0.5, room / 2)[..., None, None]
    return (1 - share) * mix + share * even


def _where_feasible(packages, floor, members, gain, kappa, rho):
    """The maximin package of ``members`` over ``floor``; but where some package gives every member more than its
    floor, the package solving the programme ``gain``, ``kappa``, ``rho`` (:func:`optimum`) instead, started from
    the first mixture on the way to the max-min that gives them all more, moved towards the even mixture
    (:func:`_inside`). Issues a linear rule leaves free go to the other members (:func:`_for_the_rest`). Returns
    (package, utilities, feasible)."""

    def inside(programme, point):  # every member's slack above zero: feasible, and a start for the programme
        return np.where(programme.rho > 0, programme.surplus(point.mix), np.inf).min(axis=-1) > 0

    mix = _maximin(packages, floor, members, enough=inside)
    package, value = _solved(packages, mix)
    feasible = np.where(members, packages.mixed(mix) - floor, np.inf).min(axis=-1) > 0
    rows = np.flatnonzero(feasible)
    if rows.size:
        within, floor_in, members_in = packages.rows(rows), floor[rows], members[rows]
        start = _inside(within, mix[rows], floor_in, members_in)
        mix, _, solved = optimum(
            within, floor_in, gain[rows], 0.0, kappa[rows], rho[rows], np.zeros((rows.size, 1)), start
        )
        package[rows], value[rows] = _solved(within, mix)
        if not solved.all():  # (rare) where the programme did not converge, the max-min package after all
            stuck = np.flatnonzero(~solved)
            package[rows[stuck]], value[rows[stuck]] = _solved(
                within.rows(stuck), _maximin(within.rows(stuck), floor_in[stuck], members_in[stuck])
            )
    held = (gain > 0) | np.where(feasible[:, None], (rho > 0) & (value - floor < TIE), _pinned(value, floor, members))
    concave = feasible & (kappa > 0).any(axis=-1)  # a Nash product leaves nothing free: every member counts
    package, value = _for_the_rest(packages, package, value, floor, members & ~concave[:, None], held)
    return package, value, feasible


def nash_n(packages, disagreement, members):
    """The Nash bargaining solution of ``members`` (runs, N): max of the product of surpluses over
    ``disagreement``; where no package beats every disagreement value, the maximin package.
    Returns (package, utilities, feasible)."""
    none = np.zeros(members.shape)
    return _where_feasible(packages, disagreement, members, none, members * 1.0, none)


def best_for(packages, who, thresholds, members):
    """The package best for actor ``who`` (an index per run) among those giving every other member its
    threshold; the maximin package over the thresholds where none does. Returns (package, utilities, whether one
    does)."""
    mine = np.arange(members.shape[-1]) == np.asarray(who)[..., None]
    others = members & ~mine
    none = np.zeros(members.shape)
    return _where_feasible(packages, thresholds, others, mine * 1.0, none, others * 1.0)


def cheapest(packages, proposer, thresholds, members, quota):
    """A proposer's coalition partners: the ``quota - 1`` other ``members`` (all of them without a quota) that cost
    it least to satisfy, ranked by how far their thresholds lie above what the proposer's own best package gives
    them; equal costs (to 1e-4) in turn after the proposer, so no principal is bought first for its place in the
    file."""
    n = members.shape[-1]
    mine = np.arange(n) == np.asarray(proposer)[..., None]
    best = packages.best(proposer)
    others = members & ~mine
    needed = others.sum(axis=-1) if quota is None else np.minimum(quota - 1, others.sum(axis=-1))
    after = (np.arange(n) - np.asarray(proposer)[..., None]) % n
    cost = np.where(others, np.round(thresholds - best, 4) + after * 1e-6, np.inf)
    rank = np.argsort(np.argsort(cost, axis=-1, kind="stable"), axis=-1, kind="stable")
    return others & (rank < needed[..., None])


def baron_ferejohn(packages, chances, patience, reservation, members, quota, rounds: int):
    """Subgame-perfect Baron-Ferejohn offers between ``members`` over ``rounds`` rounds, by backward induction: each
    round one member is recognised with ``chances`` (..., N) and offers the package best for it among those giving
    its :func:`cheapest` partners what they hold out for: in the last round their ``reservation``, earlier their
    continuation value (``patience`` times the value of the next round's offer, averaged over who is recognised
    then, at least the reservation). As ``rounds`` grows the first round's values tend to the stationary ones
    (Baron and Ferejohn 1989). Returns (values (rounds, ..., N): each member's utility of round t's offer averaged
    over who is recognised; holds (rounds, ..., N): what each holds out for as a partner in round t)."""
    runs, n = members.shape
    chances = chances * members / np.maximum((chances * members).sum(axis=-1, keepdims=True), EPS)
    values = np.empty((rounds, *reservation.shape))
    holds = np.empty_like(values)
    hold = reservation
    every = np.tile(np.arange(runs), n)  # every proposer's offer in every run, solved at once
    stacked, who, everyone = packages.rows(every), np.repeat(np.arange(n), runs), members[every]
    for t in range(rounds - 1, -1, -1):
        holds[t] = hold
        coalition = cheapest(stacked, who, hold[every], everyone, quota) | (np.arange(n) == who[:, None])
        _, offer, _ = best_for(stacked, who, hold[every], coalition & everyone)
        weighted = np.where(chances.T[..., None] > 0, chances.T[..., None] * offer.reshape(n, runs, n), 0.0)
        values[t] = weighted.sum(axis=0)  # (a proposer never recognised adds nothing, whatever its offer)
        hold = np.maximum(reservation, patience * values[t])
    return values, holds
