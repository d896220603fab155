"""Principals concede on their own clocks: time-based (Boulware late, Conceder early, linear), responsive to the other
side's last concession, Zeuthen's risk rule; a clock runs while talks are open and no precondition of the principal's
own that freezes concessions is open."""

from __future__ import annotations

import numpy as np

from sim.engine import rules
from sim.scenario.schema import TIME_STRATEGIES


def concede(m) -> None:
    """Principals concede on their own clocks, which run while talks are open and no precondition of their own
    that freezes concessions is open."""
    before = m.share.copy()
    engaged = np.stack([a.engaged() for a in m.agents], axis=1) & (m.live & m.talks_open)[:, None]
    m.clock += engaged
    others = _others_moved(m)
    for p in m.principals:
        a = p.index
        if m.strategy[a] in TIME_STRATEGIES:
            m.share[:, a] = rules.concession_share(m.clock[:, a], m.deadline[:, a], m.exponent[:, a])
        elif m.strategy[a] == "responsive":
            base = np.where(engaged[:, a], 1.0 / m.deadline[:, a], 0.0)
            moved = np.where(engaged[:, a], others[:, a], 0.0)
            m.share[:, a] = rules.responsive_share(m.share[:, a], base, m.reciprocity[:, a], moved)
    m.moved = m.share - before
    if "zeuthen" in m.strategy:
        p = m.principal_index
        zeuthen = np.array([m.strategy[a] == "zeuthen" for a in p])
        disagreement = np.maximum(m.reservation - m.pressure, 0.0)[:, p]
        low, high = m.box(np.ones_like(engaged))
        m.zeuthen_aspiration = rules.zeuthen_step(
            *m.frontier(m.salience, low, high),
            m.zeuthen_aspiration,
            disagreement,
            m.step_size[:, p],
            engaged[:, p] & zeuthen,
        )


def _others_moved(m) -> np.ndarray:
    """For each principal, how far the other principals conceded last round (their mean share)."""
    p = m.principal_index
    out = np.zeros_like(m.moved)
    if len(p) > 1:
        total = m.moved[:, p].sum(axis=1, keepdims=True)
        out[:, p] = (total - m.moved[:, p]) / (len(p) - 1)
    return out
