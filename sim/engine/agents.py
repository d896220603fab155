"""Actors as Mesa agents. Each agent acts on its own column of the model's block arrays, so one
call serves every run in the block; its decisions are the pure functions of :mod:`sim.engine.rules`.

- :class:`Principal` holds a veto: it answers proposals, checking the preconditions the phase's
  gate applies, its red lines, what it holds out for, and its domestic veto players.
- :class:`ThirdParty` (broker, mediator, stakeholder) acts each round by a stated rule: it presses
  principals who said no (its leverage), offers guarantees, drafts bridging packages when it is
  its turn to table one, and convenes summits (events it pays for).
- :class:`Spoiler` has no seat at the table; the events it is ``by`` time violence to progress.

Randomness: an agent never draws from Mesa's ``model.random`` or ``model.rng``; per-run draws
come from the counter-based streams (:mod:`sim.engine.streams`), keyed by run and name, so a
run's numbers do not depend on the block it is played in.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.engine import preconditions, rules
from sim.engine.columns import OBJECTION, OFFER, PRECONDITION, RATIFICATION, RED_LINE
from sim.scenario.schema import Actor


@dataclass
class Answer:
    """A principal's answer to a proposal, per run: the red line it crosses, whether it falls short of what the
    principal holds out for, the veto player that refuses it, the open precondition its act needs (-1: none)."""

    red_line: np.ndarray
    short: np.ndarray
    veto: np.ndarray
    pending: np.ndarray

    def reason(self, gated: bool) -> tuple[np.ndarray, np.ndarray]:
        """Why it says no under consent, and what that refers to: a precondition the act needs (where the act is
        ``gated``), then a red line, then a value short of its threshold, then a domestic veto."""
        why = np.where(self.veto >= 0, RATIFICATION, 0)
        what = self.veto
        why, what = np.where(self.short, OFFER, why), np.where(self.short, -1, what)
        on_line = self.red_line >= 0
        why, what = np.where(on_line, RED_LINE, why), np.where(on_line, self.red_line, what)
        if gated:
            waiting = self.pending >= 0
            why, what = np.where(waiting, PRECONDITION, why), np.where(waiting, self.pending, what)
        return why.astype(np.int8), what

    def objection(self) -> tuple[np.ndarray, np.ndarray]:
        """Why it objects to an announcement, and what that refers to: a red line, a domestic veto, else the cost
        of going along."""
        on_line, vetoed = self.red_line >= 0, self.veto >= 0
        why = np.where(on_line, RED_LINE, np.where(vetoed, RATIFICATION, OBJECTION))
        return why.astype(np.int8), np.where(on_line, self.red_line, np.where(vetoed, self.veto, -1))


class ActorAgent(mesa.Agent):
    """An ``actor`` of the scenario, acting on column ``index`` of the model's (runs x actors) arrays."""

    def __init__(self, model, actor: Actor, index: int):
        super().__init__(model)
        self.actor = actor
        self.index = index
        self.levers = [(k, lev) for k, lev in enumerate(model.spec.leverage) if lev.source == actor.id]

    def act(self, round_: int, answers: dict) -> None:
        """This round's actions, on the last round's ``answers`` (who said no, why, by how much)."""
        self.press(round_, answers)

    def press(self, round_: int, answers: dict) -> None:
        """Apply this actor's leverage: pressure on a target that said no (or always, if so set), while it
        can pay for it; credibility erodes in a round it cannot also pay to follow the pressure through."""
        m, me = self.model, self.index
        for k, lever in self.levers:
            target = m.actor_index[lever.target]
            active = m.live & m.talks_open & m.world.active(lever.when, round_)
            if lever.on == "block":
                active = active & answers["blocked"][:, target]
            cost = m.numbers(lever.cost)
            active = active & (m.budget[:, me] >= cost - 1e-12)
            strength = m.numbers(lever.strength) * m.credibility[:, k]
            if lever.scaled_by_distance:  # by how far the target's stated position is from the source's ideal
                rows, scaled = np.flatnonzero(active), np.zeros(m.block_size)
                stated = m.stated_positions([target], rows)[:, 0]
                distance = m.distance(me, stated, rows)
                scaled[rows] = strength[rows] * distance / np.maximum(m.lever_distance[rows, k], 1e-9)
                strength = scaled
            m.pressure[:, target] += np.where(active, strength, 0.0)
            m.budget[:, me] -= np.where(active, cost, 0.0)
            follow = m.numbers(lever.follow_through)
            if np.any(follow):
                kept = active & (m.budget[:, me] >= follow - 1e-12)
                m.budget[:, me] -= np.where(kept, follow, 0.0)
                eroded = m.credibility[:, k] * (1.0 - m.numbers(lever.erosion))
                m.credibility[:, k] = np.where(active & ~kept, eroded, m.credibility[:, k])

    def engaged(self) -> np.ndarray:
        """Whether the actor concedes this round (principals wait for their preconditions)."""
        return np.ones(self.model.block_size, dtype=bool)


class Principal(ActorAgent):
    """A party with a veto: a phase is declared, and an issue agreed, only with its consent where the gate asks it."""

    def __init__(self, model, actor: Actor, index: int):
        super().__init__(model, actor, index)
        self.red_lines = [j for j, r in enumerate(model.spec.red_lines) if r.actor == actor.id]
        self.preconditions = [j for j, p in enumerate(model.spec.preconditions) if p.actor == actor.id]
        self.veto_players = [v for v, p in enumerate(model.spec.veto_players) if p.principal == actor.id]

    def engaged(self) -> np.ndarray:
        """Whether it concedes this round: not while a precondition of its own that freezes concessions is open."""
        m = self.model
        mine = m.precondition_owner == self.index
        open_ = (m.precondition_met[:, mine] < 0) & (m.precondition_waived[:, mine] < 0)
        return ~np.any(open_ & m.freezes[:, mine], axis=-1)

    def respond(self, proposal, value: np.ndarray, low: np.ndarray, high: np.ndarray, round_: int) -> Answer:
        """Its answer to ``proposal``, worth ``value`` to it, whose issues on the table span ``low``..``high`` (a point
        unless it is a framework's interval), in every run: the red line of its own the text cannot meet, whether
        the value falls short of what it holds out for, the domestic veto player that refuses to ratify, and the
        precondition the proposal's phase applies that is still open. A text it signed (``start``) it does not
        question again; its veto players and preconditions still apply."""
        m, on, rows = self.model, proposal.on_table, proposal.rows
        red_line = np.full(len(rows), -1)
        line_min, line_max = m.red_line_min[rows], m.red_line_max[rows]
        for j in reversed(self.red_lines):
            i = m.red_line_issue[j]
            crossed = on[:, i] & rules.misses(low[:, i], high[:, i], line_min[:, j], line_max[:, j])
            red_line = np.where(crossed, j, red_line)
        short = ~rules.accepts(value, m.threshold[rows, self.index])
        if m.signed.any():
            signed = np.all(m.signed[rows] | ~on, axis=-1) & on.any(axis=-1)
            red_line, short = np.where(signed, -1, red_line), short & ~signed
        veto = np.full(len(rows), -1)
        for v in reversed(self.veto_players):
            holds = m.world.active(m.spec.veto_players[v].when, round_)[rows]
            crossed = on & rules.misses(low, high, m.veto_min[rows, v], m.veto_max[rows, v])
            veto = np.where(holds & rules.any_issue(crossed), v, veto)
        pending = preconditions.pending(m, rows, self.index, proposal.phase)
        return Answer(red_line, short, veto, pending)

    def waive(self, round_: int) -> None:
        """Waive each of its open, waivable preconditions once the pressure on it reaches the waiver level."""
        m, me = self.model, self.index
        for j in self.preconditions:
            p = m.spec.preconditions[j]
            if not p.waivable or round_ < p.earliest_waiver_round:
                continue
            waive = m.live & (m.precondition_met[:, j] < 0) & (m.precondition_waived[:, j] < 0)
            waive &= rules.waives(m.pressure[:, me], m.numbers(p.waiver_pressure))
            m.precondition_waived[:, j] = np.where(waive, round_, m.precondition_waived[:, j])

    def relax(self, round_: int, contested: np.ndarray) -> None:
        """Under enough pressure, relax a red line of its own that keeps an issue from being agreed (``contested``),
        paying its audience cost: spent from the pressure on it, and recorded."""
        m, me = self.model, self.index
        for j in self.red_lines:
            red_line = m.spec.red_lines[j]
            if red_line.relax is None:
                continue
            cost = m.numbers(red_line.relax.audience_cost)
            relax = (
                m.live & contested[:, m.red_line_issue[j]] & (m.relaxed_round[:, j] < 0) & (m.pressure[:, me] >= cost)
            )
            if not relax.any():
                continue
            bound = m.red_line_min if red_line.min is not None else m.red_line_max
            bound[:, j] = np.where(relax, m.numbers(red_line.relax.to), bound[:, j])
            m.relaxed_round[:, j] = np.where(relax, round_, m.relaxed_round[:, j])
            m.pressure[:, me] = np.where(relax, np.maximum(m.pressure[:, me] - cost, 0.0), m.pressure[:, me])
            m.audience_cost[:, me] += np.where(relax, cost, 0.0)


class ThirdParty(ActorAgent):
    """A broker, mediator or stakeholder: no veto, but leverage, guarantees, bridging packages and summits."""

    def __init__(self, model, actor: Actor, index: int):
        super().__init__(model, actor, index)
        self.guarantees = [(g, x) for g, x in enumerate(model.spec.guarantees) if x.source == actor.id]

    def act(self, round_: int, answers: dict) -> None:
        self.press(round_, answers)
        self.guarantee(round_, answers)

    def guarantee(self, round_: int, answers: dict) -> None:
        """Offer a guarantee once, to a principal that turned down a proposal touching its issues by no
        more than the guarantee is worth, if the budget allows and no principal vetoed this actor's role."""
        m, me = self.model, self.index
        for g, offer in self.guarantees:
            if m.guarantee_void[g]:
                continue
            target = m.actor_index[offer.target]
            give = m.live & (m.guarantee_round[:, g] < 0) & (answers["reason"][:, target] == OFFER)
            if not give.any():
                continue
            cost = m.numbers(offer.cost)
            asked = np.flatnonzero(give)  # touching its issues:
            give[asked] = rules.any_issue(answers["issues"][asked, target] & m.guarantee_issues[g])
            give &= answers["shortfall"][:, target] <= m.guarantee_value[:, g] + 1e-12
            give &= m.budget[:, me] >= cost - 1e-12
            m.guarantee_round[:, g] = np.where(give, round_, m.guarantee_round[:, g])
            m.budget[:, me] -= np.where(give, cost, 0.0)

    def bridge(self, frontier, thresholds: np.ndarray, proposal) -> np.ndarray:
        """The bridging package it tables between the two principals on ``frontier`` (packages every
        principal's red lines allow, trading across issues), given what they hold out for.

        ``own``: inside the zone of agreement, the package it likes best, else the maximin package;
        ``nash``: the Nash product of the surpluses over the thresholds; ``maximin``: equal surpluses.
        """
        own = self.model.ideal[proposal.rows, self.index]
        if self.actor.bridging == "own":
            return rules.zone_best(*frontier, thresholds, own, proposal.salience[:, self.index])[0]
        if self.actor.bridging == "nash":
            return rules.nash_point(*frontier, thresholds)[0]
        return rules.maximin_point(*frontier, thresholds)[0]

    def bridge_n(self, packages, thresholds: np.ndarray, members: np.ndarray) -> np.ndarray:
        """The bridging package it tables between more than two principals (``members``; when it drafts its
        ``own`` best package it is the last actor of ``packages``), the same three ways as :meth:`bridge`."""
        if self.actor.bridging == "own":
            me = np.full(len(members), members.shape[-1] - 1)
            return rules.best_for(packages, me, thresholds, members | (np.arange(members.shape[-1]) == me[:, None]))[0]
        if self.actor.bridging == "nash":
            return rules.nash_n(packages, thresholds, members)[0]
        return rules.maximin_n(packages, thresholds, members)[0]


class Broker(ThirdParty):
    """The outside guarantor: presses a principal, guarantees, tables packages, and holds summits."""


class Mediator(ThirdParty):
    """A mediator with its own access: whom it can press, what it can guarantee, what it convenes."""


class Stakeholder(ThirdParty):
    """Any other actor with a stake and a voice at the table but no veto."""


class Spoiler(ActorAgent):
    """An armed group or faction outside the talks; the events it is ``by`` time violence to progress."""


ROLE_CLASSES = {
    "principal": Principal,
    "broker": Broker,
    "mediator": Mediator,
    "stakeholder": Stakeholder,
    "spoiler": Spoiler,
}
