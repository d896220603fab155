"""World state and events: flags per run, scheduled, hazard, repeated and convened events.

Every random draw is keyed by (root seed, run, round, event), so an event fires in a run
whatever other runs share its block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import streams
from sim.engine.numbers import Numbers
from sim.scenario.schema import Event, Scenario, When

EVENT_STREAM = streams.key("events")
COLLAPSE_STREAM = streams.key("collapse")


@dataclass
class Happened:
    """One event in one round: where it fired, how often, and where it collapsed the ceasefire."""

    index: int
    event: Event
    fired: np.ndarray
    collapsed: np.ndarray


class WorldState:
    """Flags (runs x flags) and the record of which event happened when in each run."""

    def __init__(
        self, scenario: Scenario, numbers: Numbers, seed: int, run_ids: np.ndarray, actor_index: dict[str, int]
    ):
        self.flag_names = scenario.flag_names()
        self._flag = {name: k for k, name in enumerate(self.flag_names)}
        self.run_ids = run_ids
        n = len(run_ids)
        self.flags = np.zeros((n, len(self.flag_names)), dtype=bool)
        for name, on in scenario.world.flags.items():
            self.flags[:, self.flag(name)] = on
        self.events = scenario.events
        keys = [streams.key(e.id) for e in self.events]
        self._draws = [streams.Stream(seed, run_ids, EVENT_STREAM, k) for k in keys]  # each event's stream, and
        self._collapse_draws = [streams.Stream(seed, run_ids, COLLAPSE_STREAM, k) for k in keys]  # its collapses'
        self._numbers = numbers
        self._actor_index = actor_index
        self.first_round = np.full((n, len(self.events)), -1, dtype=np.int32)
        self.count = np.zeros((n, len(self.events)), dtype=np.int32)

    def flag(self, name: str) -> int:
        return self._flag[name]

    def set_flag(self, name: str, mask: np.ndarray) -> None:
        self.flags[:, self.flag(name)] |= mask

    def active(self, when: When, round_: int) -> np.ndarray:
        """(n,) where a time window and its flag conditions hold."""
        n = len(self.run_ids)
        if round_ < when.from_round or (when.until_round is not None and round_ > when.until_round):
            return np.zeros(n, dtype=bool)
        ok = np.ones(n, dtype=bool)
        for name in when.requires:
            ok &= self.flags[:, self.flag(name)]
        for name in when.unless:
            ok &= ~self.flags[:, self.flag(name)]
        return ok

    def happen(self, round_: int, live: np.ndarray, risk: np.ndarray, budget: np.ndarray, since_progress: np.ndarray):
        """Draw this round's events; yield a :class:`Happened` for each event that fired somewhere.

        ``risk`` multiplies each occurrence's chance of collapsing the ceasefire; ``budget`` (runs x
        actors) pays for convened events; ``since_progress`` (rounds since the last declaration,
        agreement or milestone, -1 if none yet) times violence to progress.
        """
        for j, event in enumerate(self.events):
            eligible = live & self.active(event.when, round_)
            if event.trigger != "rate":
                eligible = eligible & (self.first_round[:, j] < 0)
            if event.trigger == "convened_by":
                convener = self._actor_index[event.convened_by]
                cost = self._numbers(event.cost)
                eligible = eligible & (budget[:, convener] >= cost - 1e-12)
            if not np.any(eligible):
                continue
            if event.trigger == "convened_by":
                occurrences = eligible.astype(np.int64)
                budget[:, convener] -= np.where(eligible, cost, 0.0)
            else:
                u = self._draws[j].uniform(round_)
                occurrences = self._occurrences(event, round_, u, since_progress)
            fired = eligible & (occurrences > 0)
            collapsed = np.zeros_like(fired)
            chance = self._numbers(event.collapse)
            if np.any(chance) and fired.any():
                u2 = self._collapse_draws[j].uniform(round_)
                p = 1.0 - (1.0 - np.minimum(chance * risk, 1.0)) ** occurrences
                collapsed = fired & (u2 < p)
            hit = np.flatnonzero(fired)
            self.first_round[hit, j] = np.where(self.first_round[hit, j] < 0, round_, self.first_round[hit, j])
            self.count[hit, j] += occurrences[hit]
            self._set(event, fired)
            if fired.any():
                yield Happened(j, event, fired, collapsed)

    def _occurrences(self, event: Event, round_: int, u: np.ndarray, since_progress: np.ndarray) -> np.ndarray:
        v = self._numbers
        if event.trigger == "at_round":
            return ((round_ == event.at_round) & (u < v(event.probability))).astype(np.int64)
        boost = np.ones_like(u)
        for name, factor in event.boost.items():
            boost = np.where(self.flags[:, self.flag(name)], boost * v(factor), boost)
        if event.after_progress is not None:
            soon = (since_progress >= 0) & (since_progress < event.after_progress.window)
            boost = np.where(soon, boost * v(event.after_progress.factor), boost)
        if event.trigger == "hazard":
            return (u < np.minimum(v(event.hazard) * boost, 1.0)).astype(np.int64)
        return streams.poisson(v(event.rate) * boost, u)

    def _set(self, event: Event, fired: np.ndarray) -> None:
        for name in event.effects.set:
            self.flags[:, self.flag(name)] |= fired
        for name in event.effects.unset:
            self.flags[:, self.flag(name)] &= ~fired
