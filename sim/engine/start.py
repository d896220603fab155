"""Where the talks stand at round 0 (the scenario's ``start``): talks already open, concessions already made (each
principal's clock starts where its share conceded is reached), a draft already on the table or signed."""

from __future__ import annotations

import numpy as np

from sim.scenario.schema import TIME_STRATEGIES
from sim.scenario.states import Start


def begin(m, start: Start) -> None:
    """Put model ``m`` in the state ``start`` describes."""
    n = m.block_size
    is_open = np.broadcast_to(np.asarray(m.numbers.category(start.talks_open), dtype=bool), n)
    m.talks_open |= is_open
    m.world.set_flag("talks_open", is_open)
    for actor, conceded in start.conceded.items():
        a = m.actor_index[actor]
        share = np.broadcast_to(np.asarray(m.numbers(conceded), dtype=float), n)
        m.share[:, a] = share
        if m.strategy[a] in TIME_STRATEGIES:  # the share (t / T)^(1 / e) is reached at t = T share^e
            m.clock[:, a] = np.where(m.exponent[:, a] > 0, m.deadline[:, a] * share ** m.exponent[:, a], 0.0)
        elif m.strategy[a] == "responsive":
            m.clock[:, a] = share * m.deadline[:, a]
    for issue, value in start.text.items():
        i = m.issue_index[issue]
        m.text[:, i] = m.numbers(value)
        m.tabled[:, i] = m.text[:, i]
    signed = np.broadcast_to(np.asarray(m.numbers.category(start.signed), dtype=bool), n)
    m.signed = signed[:, None] & ~np.isnan(m.text)
