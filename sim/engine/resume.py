"""Start a model from the later state a scenario's ``as_of`` describes, as if the rounds before it had been played."""

from __future__ import annotations

import numpy as np

from sim.engine import rules
from sim.scenario.schema import TIME_STRATEGIES


def resume(model, as_of) -> None:
    """Start from the state ``as_of`` describes: Mesa's ``steps`` at the rounds already played (rounds stay
    counted from the start), and what happened in them as if played: events (with their lasting effects:
    flags, reservations, positions, alignment; the pressure they added has faded), talks, preconditions,
    declarations, agreements, milestones, and each principal's concession clock since it engaged."""
    spec, world = model.spec, model.world
    model.steps = spec.start_round
    everywhere = np.ones(model.block_size, dtype=bool)
    events = [e.id for e in spec.events]
    for ident, happened in sorted(as_of.events.items(), key=lambda kv: kv[1].round):
        j = events.index(ident)
        world.first_round[:, j], world.count[:, j] = happened.round, happened.count
        for _ in range(happened.count):
            model.apply(spec.events[j].effects.model_copy(update={"pressure": {}}), everywhere)
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
    for issue, agreed in as_of.agreed.items():
        i = model.issue_index[issue]
        model.agreed_round[:, i], model.agreed_value[:, i] = agreed.round, agreed.value
        model.tabled[:, i] = agreed.value
        world.set_flag(f"agreed_{issue}", everywhere)
    for k, m in enumerate(spec.milestones):
        if m.id in as_of.milestones:
            model.milestone_round[:, k] = as_of.milestones[m.id]
            world.set_flag(f"done_{m.id}", everywhere)
    progress = [*as_of.declared.values(), *(a.round for a in as_of.agreed.values()), *as_of.milestones.values()]
    model.progress_round[:] = max(progress, default=-1)
    for actor, amount in as_of.pressure.items():
        model.pressure[:, model.actor_index[actor]] = model.numbers(amount)
    for p in model.principals:
        _resume_clock(model, p, as_of)


def _resume_clock(model, principal, as_of) -> None:
    """A principal's concession clock: the rounds since the talks opened and its own preconditions were met
    or waived. Time-based shares follow from it; a responsive principal is taken at its steady pace (the
    other side's past moves, which it would have matched, are not part of the state)."""
    a = principal.index
    own = [p.id for p in model.spec.preconditions if p.actor == principal.actor.id]
    if as_of.talks_opened is None or any(p not in as_of.preconditions for p in own):
        return
    engaged = max([as_of.talks_opened, *(as_of.preconditions[p].round for p in own)])
    clock = max(model.steps - engaged + 1, 0)
    model.clock[:, a] = clock
    if model.strategy[a] in TIME_STRATEGIES:
        share = lambda c: rules.concession_share(np.full(model.block_size, float(c)), model.deadline[:, a],
                                                 model.exponent[:, a])  # fmt: skip
        model.share[:, a] = share(clock)
        model.moved[:, a] = model.share[:, a] - share(max(clock - 1, 0))
    elif model.strategy[a] == "responsive":
        steady = lambda c: np.minimum(c / model.deadline[:, a], 1.0)
        model.share[:, a] = steady(clock)
        model.moved[:, a] = model.share[:, a] - steady(max(clock - 1, 0))
