"""Start a model from the later state a scenario's ``as_of`` describes, as if the rounds before it had been played."""

from __future__ import annotations

import numpy as np

from sim.engine import effects, rules
from sim.engine.columns import DONE, NON_OBJECTION
from sim.scenario.schema import TIME_STRATEGIES


def resume(model, as_of) -> None:
    """Start from the state ``as_of`` describes: Mesa's ``steps`` at the rounds already played (rounds stay
    counted from the start), and what happened in them as if played: events (with their lasting effects:
    flags, reservations, positions, alignment; the pressure they added has faded), talks, preconditions,
    declarations (and explicit consents), agreements, milestones, each principal's concession clock since it
    engaged, and the stall clock (taken to have started in the first round its window allows, if its flags hold
    now)."""
    spec, world = model.spec, model.world
    model.steps = spec.start_round
    everywhere = np.ones(model.block_size, dtype=bool)
    events = [e.id for e in spec.events]
    for ident, happened in sorted(as_of.events.items(), key=lambda kv: kv[1].round):
        j = events.index(ident)
        world.first_round[:, j], world.count[:, j] = happened.round, happened.count
        for _ in range(happened.count):
            effects.apply(model, spec.events[j].effects.model_copy(update={"pressure": {}}), everywhere)
    for name, on in spec.flags_as_of().items():
        world.flags[:, world.flag(name)] = on
    if as_of.talks_opened is not None:
        model.talks_open[:] = True
        world.set_flag("talks_open", everywhere)
    for j, p in enumerate(spec.preconditions):
        state = as_of.preconditions.get(p.id)
        if state is not None:
            (model.precondition_met if state.met is not None else model.precondition_waived)[:, j] = state.round
    for h, phase in enumerate(model.phases):
        if phase.id in as_of.declared:
            model.declared_round[:, h] = as_of.declared[phase.id]
            world.set_flag(f"declared_{phase.id}", everywhere)
            explicit = np.where(model.phase_rule[:, h] == NON_OBJECTION, -1, as_of.declared[phase.id])
            model.consented_round[:, h] = as_of.consented.get(phase.id, explicit)
    for issue, agreed in as_of.agreed.items():
        i = model.issue_index[issue]
        model.agreed_round[:, i], model.agreed_value[:, i] = agreed.round, agreed.value
        model.tabled[:, i] = agreed.value
        world.set_flag(f"agreed_{issue}", everywhere)
    for k, m in enumerate(spec.milestones):
        if m.id in as_of.milestones:
            model.milestone_round[:, k] = as_of.milestones[m.id]
            model.milestone_status[:, k] = DONE
            world.set_flag(f"done_{m.id}", everywhere)
    progress = [*as_of.declared.values(), *(a.round for a in as_of.agreed.values()), *as_of.milestones.values()]
    model.progress_round[:] = max(progress, default=-1)
    for actor, amount in as_of.pressure.items():
        model.pressure[:, model.actor_index[actor]] = model.numbers(amount)
    for p in model.principals:
        _resume_clock(model, p, as_of)
    stall = spec.risk.stall_from
    model.stall_started = world.active(stall, model.steps)  # as if since the first round its window allows
    model.stall_since[:] = max(stall.from_round, 1) - 1 - spec.start.stalled_for


def _resume_clock(model, principal, as_of) -> None:
    """A principal's concession clock: where the start state put it, plus the rounds since the talks opened and
    its own preconditions that freeze concessions were met or waived. Time-based shares follow from it; a
    responsive principal is taken at its steady pace (the other side's past moves, which it would have matched,
    are not part of the state)."""
    a, never = principal.index, np.iinfo(np.int32).max
    if as_of.talks_opened is None:  # open since round 1 where the start state has them open
        engaged = np.where(model.talks_open, 1, never)
    else:
        engaged = np.full(model.block_size, as_of.talks_opened)
    for j in principal.preconditions:
        state = as_of.preconditions.get(model.spec.preconditions[j].id)
        settled = never if state is None else state.round
        engaged = np.where(model.freezes[:, j], np.maximum(engaged, settled), engaged)
    rounds = np.where(engaged < never, np.maximum(model.steps - engaged + 1, 0), 0)
    start = model.clock[:, a].copy()
    model.clock[:, a] = start + rounds
    if model.strategy[a] in TIME_STRATEGIES:
        share = lambda c: rules.concession_share(c, model.deadline[:, a], model.exponent[:, a])
        model.share[:, a] = share(model.clock[:, a])
        model.moved[:, a] = np.where(rounds > 0, model.share[:, a] - share(model.clock[:, a] - 1), 0.0)
    elif model.strategy[a] == "responsive":
        steady = lambda r: np.minimum(model.share[:, a] + r / model.deadline[:, a], 1.0)
        before = steady(np.maximum(rounds - 1, 0))
        model.share[:, a] = steady(rounds)
        model.moved[:, a] = model.share[:, a] - before
