"""The risk of collapse, which responds to the state of the talks, and the scheduled ends of time-limited agreements.

Each round the breakdown hazard is the scenario's ``risk.hazard`` times :func:`multiplier`: stalling (rounds without
progress on the stall clock, which starts when ``risk.stall_from`` first holds), talks not open, recent progress,
the pressure on the principals, agreed issues, a declared phase, and recent incidents. The same multiplier scales
each incident's own collapse chance. Expiries are separate: a time-limited agreement ends in its round unless a
flag keeps it alive; a renewable one comes up every so many rounds, and a party may leave it then. Every
collapse records its cause (:func:`sim.engine.columns.collapse_causes`).
"""

from __future__ import annotations

import numpy as np

from sim.engine import streams

BREAKDOWN_STREAM = streams.key("breakdown")
EXPIRY_STREAM = streams.key("expiry")


def quiet_rounds(m, t: int) -> np.ndarray:
    """Rounds without progress before round ``t`` on the stall clock (0 where the clock has not started)."""
    since = np.maximum(m.progress_round, m.stall_since)
    return np.where(m.stall_started, t - 1 - since, 0)


def multiplier(m, t: int) -> np.ndarray:
    """How much likelier than its base rate a collapse is in round ``t`` (before this round's events)."""
    r, v = m.spec.risk, m.numbers
    stalled = np.maximum(quiet_rounds(m, t) - r.stall_after, 0)
    out = np.minimum(1.0 + v(r.stall_growth) * stalled, v(r.stall_cap))
    out = out * v(r.agreement_factor) ** np.sum(m.agreed_round >= 0, axis=-1)
    out = out * np.where(np.any(m.declared_round >= 0, axis=-1), v(r.declared_factor), 1.0)
    out = out * np.where(m.talks_open, 1.0, v(r.closed_factor))
    recent = (m.progress_round >= 0) & (t - 1 - m.progress_round < r.progress_window)
    out = out * np.where(recent, v(r.progress_factor), 1.0)
    out = out * np.exp(-v(r.restraint) * m.pressure[:, m.principal_index].sum(axis=-1))
    incident = (m.last_incident >= 0) & (t - 1 - m.last_incident < r.incident_window)
    return out * np.where(incident, v(r.incident_factor), 1.0)


def start_stall_clock(m, t: int) -> None:
    """Start the stall clock in the runs where ``risk.stall_from`` first holds (with ``start.stalled_for`` rounds
    already counted)."""
    starting = ~m.stall_started & m.world.active(m.spec.risk.stall_from, t)
    m.stall_since = np.where(starting, t - 1 - m.spec.start.stalled_for, m.stall_since).astype(np.int32)
    m.stall_started |= starting


def breakdown(m, t: int, scale: np.ndarray) -> np.ndarray:
    """Where the ceasefire breaks down this round without a single trigger: its base hazard, plus what missed
    deadlines added, times ``scale``."""
    hazard = m.numbers(m.spec.risk.hazard) + m.missed_hazard
    if not np.any(hazard):
        return np.zeros(m.block_size, dtype=bool)
    u = m.draws.uniform(BREAKDOWN_STREAM, t)
    return m.live & (u < np.minimum(hazard * scale, 1.0))


def expiries(m, t: int):
    """Yield (index, where it ends) for each time-limited agreement that expires or comes up for renewal in round
    ``t``: it lapses unless a flag keeps it alive, or a party leaves it (recorded in ``m.expiry_left``)."""
    for j, expiry in enumerate(m.spec.expiries):
        if not expiry.due(t):
            continue
        alive = np.zeros(m.block_size, dtype=bool)
        for name in expiry.unless:
            alive |= m.world.flags[:, m.world.flag(name)]
        key = streams.key(expiry.id)
        u = m.draws.uniform(EXPIRY_STREAM, key, *(() if t == expiry.at_round else (t,)))
        ended = m.live & ~alive & (u < m.numbers(expiry.probability))
        for actor, chance in expiry.leave.items():
            u = m.draws.uniform(EXPIRY_STREAM, key, streams.key(actor), t)
            leaving = m.live & ~ended & (u < m.numbers(chance))
            m.expiry_left[:, j] = np.where(leaving, m.actor_index[actor], m.expiry_left[:, j])
            ended |= leaving
        yield j, ended
