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


# Any number of principals. Utilities are concave in the package, so the utility vectors the box allows, with
# free disposal, form a convex set; its extreme points maximise a weighted sum of utilities, which is separable by
# issue: the weighted median of the ideals. The rules below ascend over that set by Frank-Wolfe steps from such
# vertices: a mixture of vertex packages is worth at least the mixture of their utilities to everyone.


class Packages:
    """The packages in a box [low, high] (..., I), valued by actors with ``ideal`` and ``salience`` (..., N, I).
    Their ideals, projected into the box, are sorted once on each issue for the weighted medians."""

    def __init__(self, ideal, salience, low, high):
        self.ideal, self.salience = ideal, salience
        projected = np.clip(ideal, low[..., None, :], high[..., None, :])
        self.order = np.argsort(projected, axis=-2, kind="stable")
        self.sorted = np.take_along_axis(projected, self.order, axis=-2)
        self.sorted_salience = np.take_along_axis(salience, self.order, axis=-2)

    def value(self, package):
        """Each actor's utility (..., N) of ``package`` (..., I)."""
        return utility(package[..., None, :], self.ideal, self.salience)

    def vertex(self, weights):
        """The package maximising the ``weights`` (..., N) sum of utilities, and its utilities: on each issue the
        weighted median of the projected ideals."""
        w = np.take_along_axis(np.broadcast_to(weights[..., None], self.order.shape), self.order, axis=-2)
        cum = np.cumsum(w * self.sorted_salience, axis=-2)
        median = np.argmax(cum >= cum[..., -1:, :] / 2 - EPS, axis=-2)
        package = np.take_along_axis(self.sorted, median[..., None, :], axis=-2)[..., 0, :]
        return package, self.value(package)


def _step(gap, delta, members):
    """The step in [0, 1] towards a vertex that maximises the sum over ``members`` of log(gap + step * delta)
    (gap > 0): the log is concave along the segment, so bisection on its slope finds it."""
    d, g = np.where(members, delta, 0.0), np.where(members, gap, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(d < 0, -g / np.where(d < 0, d, -1.0), np.inf).min(axis=-1)
        lo, hi = np.zeros(g.shape[:-1]), np.minimum(1.0, room * (1.0 - 1e-9))
        rising = (d / (g + hi[..., None] * d)).sum(axis=-1) >= 0
        for _ in range(24):
            mid = (lo + hi) / 2
            up = (d / (g + mid[..., None] * d)).sum(axis=-1) >= 0
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return np.where(rising, np.minimum(1.0, room * (1.0 - 1e-9)), lo)


class Mixture:
    """A package as a mixture of vertex packages (..., S, I) with ``weights`` (..., S): worth at least the mixture
    of the vertices' utilities (..., S, N) to everyone, which is what the ascent tracks."""

    def __init__(self, package, value):
        self.vertices, self.values = package[..., None, :], value[..., None, :]
        self.weights = np.ones((*package.shape[:-1], 1))

    @property
    def value(self):
        return np.einsum("...s,...sn->...n", self.weights, self.values)

    @property
    def package(self):
        return np.einsum("...s,...si->...i", self.weights, self.vertices)

    def restart(self, packages):
        """Where the mixed package is worth more to someone than the mixture of the vertices' utilities (utilities
        are concave), make it the only vertex, with its own worth; elsewhere keep the vertices, between which
        weight can still move (merging them would tie the members' shares together)."""
        package = self.package
        worth = packages.value(package)
        gain = np.any(worth > self.value + 1e-12, axis=-1)[..., None]
        first = np.arange(self.weights.shape[-1]) == 0
        self.weights = np.where(gain, first * 1.0, self.weights)
        self.vertices = np.where((gain & first)[..., None], package[..., None, :], self.vertices)
        self.values = np.where((gain & first)[..., None], worth[..., None, :], self.values)

    def shift(self, vertex, vertex_value, away, step):
        """Move ``step`` of weight from vertex ``away`` to a new ``vertex``."""
        here = away[..., None] == np.arange(self.weights.shape[-1])
        weights = np.concatenate([self.weights - here * step[..., None], step[..., None]], axis=-1)
        self.weights = np.where(weights > 1e-12, weights, 0.0)
        self.vertices = np.concatenate([self.vertices, vertex[..., None, :]], axis=-2)
        self.values = np.concatenate([self.values, vertex_value[..., None, :]], axis=-2)


RAISE = 0.5


def ascend(packages, mixture, floor, members, direction, steps: int = 64):
    """Pairwise Frank-Wolfe ascent of the Nash product of ``members``' surpluses over ``floor + t * direction``
    (..., N), raising ``t`` after each step half-way to the most the current point allows (``direction`` zero: the
    Nash product over ``floor``). Each step moves weight from the mixture's worst vertex to the best vertex for
    the product's gradient. ``mixture`` must give a surplus where ``direction`` is zero. Returns the mixture and
    ``t``, which tends to the most the packages allow along ``direction``."""
    raised = members & (direction > 0)
    along = raised.any(axis=-1)

    def most(value):
        ratio = np.where(raised, (value - floor) / np.where(raised, direction, 1.0), np.inf).min(axis=-1)
        return np.where(along, ratio, 0.0)

    t = np.where(along, most(mixture.value) - 1.0, 0.0)
    for k in range(steps):
        if k % 8 == 7:
            mixture.restart(packages)
        value = mixture.value
        gap = value - floor - t[..., None] * direction
        gradient = np.where(members, 1.0 / np.maximum(gap, EPS), 0.0)
        vertex, vertex_value = packages.vertex(gradient)
        slope = np.einsum("...n,...sn->...s", gradient, mixture.values)
        away = np.argmin(np.where(mixture.weights > 0, slope, np.inf), axis=-1)
        held = np.take_along_axis(mixture.weights, away[..., None], axis=-1)[..., 0]
        away_value = np.take_along_axis(mixture.values, away[..., None, None], axis=-2)[..., 0, :]
        step = held * _step(gap, held[..., None] * (vertex_value - away_value), members)
        mixture.shift(vertex, vertex_value, away, step)
        t = t + RAISE * (most(mixture.value) - t)
    return mixture, most(mixture.value)


def _result(packages, mixture):
    package = mixture.package
    return package, packages.value(package)


def maximin_n(packages, floor, members, steps: int = 64):
    """The package maximising the smallest surplus of ``members`` (..., N) over ``floor``: (package, utilities,
    that surplus)."""
    mixture = Mixture(*packages.vertex(members.astype(float)))
    mixture, least = ascend(packages, mixture, floor, members, members.astype(float), steps)
    return *_result(packages, mixture), least


def nash_n(packages, disagreement, members, steps: int = 64):
    """The Nash bargaining solution of ``members`` (..., N): max of the product of surpluses over
    ``disagreement``; where no package beats every disagreement value, the maximin package.
    Returns (package, utilities, feasible)."""
    mixture = Mixture(*packages.vertex(members.astype(float)))
    mixture, least = ascend(packages, mixture, disagreement, members, members.astype(float), steps)
    floor = disagreement + np.minimum(least - 1e-9, 0.0)[..., None]
    mixture, _ = ascend(packages, mixture, floor, members, np.zeros_like(floor), steps)
    return *_result(packages, mixture), least > 0


def best_for(packages, who, thresholds, members, steps: int = 64):
    """The package best for actor ``who`` (an index per run, (...)) among those giving every other member its
    threshold; the maximin package over the thresholds where none does. Returns (package, utilities, whether one
    does)."""
    mine = np.arange(members.shape[-1]) == np.asarray(who)[..., None]
    others = members & ~mine
    mixture = Mixture(*packages.vertex(others.astype(float)))
    mixture, least = ascend(packages, mixture, thresholds, others, others.astype(float), steps)
    exists = least > 0
    fallback = _result(packages, mixture)
    mixture, _ = ascend(packages, mixture, thresholds, (others | mine) & exists[..., None], mine * 1.0, steps)
    best = _result(packages, mixture)
    return *(np.where(exists[..., None], b, f) for b, f in zip(best, fallback, strict=True)), exists


def cheapest(packages, proposer, thresholds, members, quota):
    """A proposer's coalition partners: the ``quota - 1`` other ``members`` (all of them without a quota) that cost
    it least to satisfy, ranked by how far their thresholds lie above what the proposer's own best package gives
    them; equal costs (to 1e-4, within the ascent's tolerance) in turn after the proposer, so no principal is
    bought first for its place in the file."""
    n = members.shape[-1]
    mine = np.arange(n) == np.asarray(proposer)[..., None]
    best = packages.value(packages.vertex(mine.astype(float))[0])
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
    n = members.shape[-1]
    chances = chances * members / np.maximum((chances * members).sum(axis=-1, keepdims=True), EPS)
    values = np.empty((rounds, *reservation.shape))
    holds = np.empty_like(values)
    hold = reservation
    for t in range(rounds - 1, -1, -1):
        holds[t] = hold
        values[t] = 0.0
        for proposer in range(n):
            who = np.full(members.shape[:-1], proposer)
            coalition = cheapest(packages, who, hold, members, quota) | (np.arange(n) == proposer)
            _, offer, _ = best_for(packages, who, hold, coalition & members)
            values[t] += chances[..., proposer, None] * offer
        hold = np.maximum(reservation, patience * values[t])
    return values, holds
