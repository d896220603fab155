"""What an event does where it fires: pressure, reservations, positions, alignment, saliences and the bounds of red
lines and domestic veto players move."""

from __future__ import annotations

import numpy as np

from sim.engine import rules


def apply(m, effects, fired) -> None:
    """An event's effects on pressure, reservations, positions, alignment, saliences and bounds, where it ``fired``."""
    shift = lambda amount: np.where(fired, m.numbers(amount), 0.0)
    for actor, amount in effects.pressure.items():
        m.pressure[:, m.actor_index[actor]] += shift(amount)
    for actor, amount in effects.reservation.items():
        a = m.actor_index[actor]
        m.reservation[:, a] = np.clip(m.reservation[:, a] + shift(amount), 0, 1)
    for actor, shifts in effects.position.items():
        for issue, amount in shifts.items():
            a, i = m.actor_index[actor], m.issue_index[issue]
            m.ideal[:, a, i] = np.clip(m.ideal[:, a, i] + shift(amount), 0, 100)
    for actor, align in effects.align.items():
        a, b = m.actor_index[actor], m.actor_index[align.toward]
        share = shift(align.share)[:, None]
        m.ideal[:, a] = np.clip(m.ideal[:, a] + share * (m.ideal[:, b] - m.ideal[:, a]), 0, 100)
    for actor, shifts in effects.salience.items():
        a = m.actor_index[actor]
        for issue, amount in shifts.items():
            i = m.issue_index[issue]
            m.salience[:, a, i] = np.maximum(m.salience[:, a, i] + shift(amount), 0.0)
        m.salience[:, a] /= np.maximum(m.salience[:, a].sum(axis=-1, keepdims=True), rules.EPS)
    lines = {r.id: j for j, r in enumerate(m.spec.red_lines)}
    for line, amount in effects.red_lines.items():
        j = lines[line]
        bound = m.red_line_min if m.spec.red_lines[j].min is not None else m.red_line_max
        bound[:, j] = np.clip(bound[:, j] + shift(amount), 0, 100)
    players = {v.id: k for k, v in enumerate(m.spec.veto_players)}
    for player, shifts in effects.veto_bounds.items():
        v = players[player]
        for issue, amount in shifts.items():
            i = m.issue_index[issue]
            for bound in (m.veto_min, m.veto_max):
                finite = np.isfinite(bound[:, v, i])
                bound[:, v, i] = np.where(finite, np.clip(bound[:, v, i] + shift(amount), 0, 100), bound[:, v, i])
