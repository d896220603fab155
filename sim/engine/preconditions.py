"""Preconditions: met when their flag is set, waived under pressure (an act of the principal's), and what an open one
blocks: the act it is attached to (a gate that applies it, a milestone that names it), or, under an announcement,
what going along with it costs its owner."""

from __future__ import annotations

import numpy as np


def note_met(m, t: int) -> None:
    """Record the round each precondition was met, where its flag is now set (and it was not waived)."""
    for j, p in enumerate(m.spec.preconditions):
        newly = m.world.flags[:, m.world.flag(p.flag)] & (m.precondition_met[:, j] < 0)
        newly &= m.precondition_waived[:, j] < 0
        m.precondition_met[:, j] = np.where(newly, t, m.precondition_met[:, j])


def still_open(m, rows=slice(None)) -> np.ndarray:
    """(m, P) the preconditions neither met nor waived in the runs ``rows``."""
    return (m.precondition_met[rows] < 0) & (m.precondition_waived[rows] < 0)


def pending(m, rows: np.ndarray, actor: int, phase: np.ndarray) -> np.ndarray:
    """The first open precondition of ``actor`` that ``phase``'s gate applies, or -1, in each of the ``rows``."""
    applies = still_open(m, rows) & m.phase_preconditions[phase] & (m.precondition_owner == actor)
    if not applies.size:
        return np.full(len(phase), -1)
    return np.where(applies.any(axis=-1), np.argmax(applies, axis=-1), -1)


def gap(m, rows: np.ndarray, actor: int, phase: np.ndarray) -> np.ndarray:
    """What going along with ``phase``'s announcement while its open preconditions of ``actor`` are unmet costs the
    actor: the pressure it still lacks to waive each (infinite for one it cannot waive)."""
    applies = still_open(m, rows) & m.phase_preconditions[phase] & (m.precondition_owner == actor)
    gap = np.zeros(len(rows))
    for j in np.flatnonzero(applies.any(axis=0)):
        needed = m.numbers(m.spec.preconditions[j].waiver_pressure)
        lacking = np.maximum(np.broadcast_to(needed, m.block_size)[rows] - m.pressure[rows, actor], 0.0)
        gap += np.where(applies[:, j], np.where(m.waivable[rows, j], lacking, np.inf), 0.0)
    return gap


# ----------------------------------------------------------------- what the answers leave
