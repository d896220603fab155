"""Actors as Mesa agents. Each agent acts on its own column of the model's block arrays, so one
call serves every run in the block; its decisions are the pure functions of :mod:`sim.engine.rules`.

- :class:`Principal` holds a veto: it responds to the tabled package, checking its red lines,
  its preconditions and its aspiration.
- :class:`Broker`, :class:`Mediator` and :class:`Stakeholder` shape the table through their
  stated positions and press other actors through leverage.

Randomness: an agent never draws from Mesa's ``model.random`` or ``model.rng``; its decision
noise comes from the counter-based streams (:mod:`sim.engine.streams`), keyed by run, actor and
round, so a run's numbers do not depend on the block it is played in.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engine import rules, streams
from sim.engine.outcomes import OFFER, PRECONDITION, RED_LINE
from sim.scenario.schema import Actor

NOISE_STREAM = streams.key("decision-noise")


class ActorAgent(mesa.Agent):
    """An actor of the scenario (``spec``), acting on column ``index`` of the model's (runs x actors) arrays."""

    def __init__(self, model, spec: Actor, index: int):
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.levers = [lev for lev in model.spec.leverage if lev.source == spec.id]

    def press(self, round_: int, blocked: np.ndarray) -> None:
        """Apply this actor's leverage: pressure on targets that blocked (or always, if so set)."""
        m = self.model
        for lever in self.levers:
            target = m.actor_index[lever.target]
            active = m.negotiating & m.world.active(lever.when, round_)
            if lever.on == "block":
                active = active & blocked[:, target]
            m.pressure[:, target] += np.where(active, m.values(lever.strength), 0.0)

    def engaged(self) -> np.ndarray:
        """Whether the actor moves at all this round (principals wait for their preconditions)."""
        return np.ones(self.model.block_size, dtype=bool)


class Principal(ActorAgent):
    """A party with a veto; a transition needs every principal to accept one package."""

    def __init__(self, model, spec: Actor, index: int):
        super().__init__(model, spec, index)
        self.preconditions = [j for j, p in enumerate(model.spec.preconditions) if p.actor == spec.id]
        self.red_lines = [j for j, r in enumerate(model.spec.red_lines) if r.actor == spec.id]

    def unmet_precondition(self) -> np.ndarray:
        """Index of the first precondition neither met nor waived, or -1, per run."""
        m = self.model
        out = np.full(m.block_size, -1)
        for j in reversed(self.preconditions):
            open_ = (m.precondition_met[:, j] < 0) & (m.precondition_waived[:, j] < 0)
            out = np.where(open_, j, out)
        return out

    def engaged(self) -> np.ndarray:
        return self.unmet_precondition() < 0

    def respond(self, package: np.ndarray, threshold: np.ndarray, round_: int):
        """Accept or reject ``package`` in every run. Returns (accept, reason code, reason ref).

        A precondition still open outranks a red line crossed, which outranks an offer below the threshold.
        """
        m = self.model
        reason = np.zeros(m.block_size, dtype=np.int8)
        ref = np.full(m.block_size, -1)
        for j in reversed(self.red_lines):
            crossed = rules.red_line_crossed(
                package[:, m.red_line_issue[j]], m.red_line_min[:, j], m.red_line_max[:, j]
            )
            reason = np.where(crossed, RED_LINE, reason)
            ref = np.where(crossed, j, ref)
        value = rules.utility(package, m.ideal[:, self.index], m.salience[:, self.index])
        noise = m.values(self.spec.noise)
        if np.any(noise):
            value = value + noise * streams.normal(m.seed, m.run_ids, NOISE_STREAM, self.index, round_)
        short = ~rules.accepts(value, threshold) & (reason == 0)
        reason = np.where(short, OFFER, reason)
        pending = self.unmet_precondition()
        reason = np.where(pending >= 0, PRECONDITION, reason)
        ref = np.where(pending >= 0, pending, ref)
        return reason == 0, reason, ref


class Broker(ActorAgent):
    """The outside guarantor: sponsors packages through its weight and presses a principal."""


class Mediator(ActorAgent):
    """A mediator: drafts bridging packages through its weight and presses the party it has access to."""


class Stakeholder(ActorAgent):
    """Any other actor with a stake and a voice at the table but no veto."""


ROLE_CLASSES = {"principal": Principal, "broker": Broker, "mediator": Mediator, "stakeholder": Stakeholder}
