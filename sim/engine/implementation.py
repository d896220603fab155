"""Implementation: each round, milestones are carried out, verified, extended, and their deadlines missed.

A milestone opens in the round its issues are all agreed and its phase declared (round 0 for a step a party can
carry out alone) and can be carried out from the next round, not before its ``earliest`` round nor before the
milestones it requires are done, with its preconditions met or waived: each round with chance ``hazard``. A monitor
verifies it: each report is disputed with chance ``dispute``, which delays it (the monitor reports again the next
round) or misses it. A deadline counts from the round it opened; when it passes undone, its grantors may extend it
(at a cost); once they do not, it ends ``partial`` (a share done) or ``missed``, and a missed deadline (or a partial
one that does not count) has its consequences: effects, a chance of collapse then and an addition to the breakdown
hazard from then on, both scaled by the share not done.

Every draw is keyed by (seed, run, milestone, what is drawn, round), so a run's implementation does not depend on
the block that plays it; the draw of carrying out is the one milestones always had.
"""

from __future__ import annotations

import numpy as np

from sim.engine import effects, preconditions, streams
from sim.engine.columns import DONE, EXTENDED, MISSED, PARTIAL, PENDING

MILESTONE_STREAM = streams.key("milestones")
DISPUTE, EXTENSION, MISSED_COLLAPSE = streams.key("dispute"), streams.key("extension"), streams.key("missed")


def opened(m, k: int) -> np.ndarray:
    """(n,) the round milestone ``k`` opened in (its issues all agreed, its phase declared), -1 where it has not;
    0 for a step a party can carry out alone."""
    if m.spec.milestones[k].unilateral:
        return np.zeros(m.block_size, dtype=np.int32)
    agreed = m.agreed_round[:, m.milestone_issues[k]]
    out = np.where(np.all(agreed >= 0, axis=-1), agreed.max(axis=-1), -1)
    h = m.milestone_phase[k]
    if h >= 0:
        declared = m.declared_round[:, h]
        out = np.where((out >= 0) & (declared >= 0), np.maximum(out, declared), -1)
    return out.astype(np.int32)


def due(m, k: int) -> np.ndarray:
    """(n,) the round milestone ``k`` is due by, its extensions included (infinite without a deadline or while it
    has not opened)."""
    x = m.spec.milestones[k]
    start = opened(m, k)
    if x.deadline is None:
        return np.full(m.block_size, np.inf)
    granted = m.milestone_extended[:, k] * (x.extensions.rounds if x.extensions else 0)
    return np.where(start >= 0, start + x.deadline + granted, np.inf)


def step(m, t: int) -> None:
    """Round ``t`` of implementation, milestone by milestone in scenario order."""
    for k, x in enumerate(m.spec.milestones):
        pending = m.live & (m.milestone_status[:, k] == PENDING) & (m.milestone_round[:, k] < 0)
        start = opened(m, k)
        ready = pending & ~m.milestone_reported[:, k] & (start >= 0) & (start < t) & (t >= x.earliest)
        required = m.milestone_requires[k]
        ready &= np.all((m.milestone_round[:, required] >= 0) & (m.milestone_round[:, required] < t), axis=-1)
        ready &= ~np.any(preconditions.still_open(m) & m.milestone_preconditions[k], axis=-1)
        carried = np.zeros(m.block_size, dtype=bool)
        if ready.any():
            u = m.draws.uniform(MILESTONE_STREAM, streams.key(x.id), t)
            carried = ready & (u < m.numbers(x.hazard))
        verified = _verify(m, k, carried | (pending & m.milestone_reported[:, k]), t)
        _record(m, k, verified, t, np.where(m.milestone_extended[:, k] > 0, EXTENDED, DONE))
        passing = m.live & (m.milestone_status[:, k] == PENDING) & (t >= due(m, k))
        if x.extensions is not None:
            passing &= ~_extend(m, k, passing, t)
        share = np.broadcast_to(m.numbers(x.partial), m.block_size)
        _finish(m, k, passing, t, share)


def _verify(m, k: int, reported: np.ndarray, t: int) -> np.ndarray:
    """Where the monitor's report of milestone ``k`` stands this round; a disputed one waits for the next round's
    report or is missed, as the milestone says."""
    x = m.spec.milestones[k]
    chance = m.numbers(x.dispute)
    if not np.any(chance) or not reported.any():
        return reported
    u = m.draws.uniform(MILESTONE_STREAM, streams.key(x.id), DISPUTE, t)
    disputed = reported & (u < chance)
    if x.disputed == "delay":
        m.milestone_reported[:, k] = disputed
    else:
        m.milestone_reported[:, k] = False
        _finish(m, k, disputed, t, np.zeros(m.block_size))
    return reported & ~disputed


def _record(m, k: int, mask: np.ndarray, t: int, status) -> None:
    """Milestone ``k`` carried out (and counted) in round ``t`` where ``mask``, with ``status``."""
    m.milestone_round[:, k] = np.where(mask, t, m.milestone_round[:, k])
    m.milestone_status[:, k] = np.where(mask, status, m.milestone_status[:, k])
    m.world.set_flag(f"done_{m.spec.milestones[k].id}", mask)
    m.progress_round = np.where(mask, t, m.progress_round).astype(np.int32)


def _extend(m, k: int, passing: np.ndarray, t: int) -> np.ndarray:
    """Where the grantors extend milestone ``k``'s deadline as it passes in round ``t`` (each pays its capital)."""
    ext = m.spec.milestones[k].extensions
    can = passing & (m.milestone_extended[:, k] < ext.times)
    capital = m.numbers(ext.capital)
    grantors = [m.actor_index[a] for a in ext.by]
    for g in grantors:
        can &= m.budget[:, g] >= capital - 1e-12
    if not can.any():
        return can
    u = m.draws.uniform(MILESTONE_STREAM, streams.key(m.spec.milestones[k].id), EXTENSION, t)
    granted = can & (u < m.numbers(ext.probability))
    for g in grantors:
        m.budget[:, g] -= np.where(granted, capital, 0.0)
    m.milestone_extended[:, k] += granted
    effects.apply(m, ext.cost, granted)
    return granted


def _finish(m, k: int, mask: np.ndarray, t: int, share: np.ndarray) -> None:
    """Milestone ``k`` ends in round ``t`` where ``mask``: partial where a ``share`` of it was done, else missed;
    where it does not count as done, a missed deadline has its consequences."""
    if not mask.any():
        return
    x = m.spec.milestones[k]
    partly = mask & (share > 0)
    m.milestone_status[:, k] = np.where(partly, PARTIAL, np.where(mask, MISSED, m.milestone_status[:, k]))
    counted = partly if x.partial_counts else np.zeros_like(mask)
    _record(m, k, counted, t, PARTIAL)
    missed = mask & ~counted
    if x.on_missed is None or not missed.any():
        return
    effects.apply(m, x.on_missed.effects, missed)
    m.missed_hazard += np.where(missed, m.numbers(x.on_missed.hazard) * (1.0 - share), 0.0)
    chance = m.numbers(x.on_missed.collapse) * (1.0 - share)
    if np.any(chance):
        u = m.draws.uniform(MILESTONE_STREAM, streams.key(x.id), MISSED_COLLAPSE, t)
        m.deadline_missed(missed & (u < chance), k, t)
