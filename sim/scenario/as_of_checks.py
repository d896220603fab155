"""Whether an ``as_of`` state is one a run could be in: known names, rounds in order and before the last one
played, phases declared only with their issues agreed and preconditions met, milestones carried out only once
their issues were agreed, and so on."""

from __future__ import annotations

from sim.scenario.errors import did_you_mean
from sim.scenario.schema import Phase, Scenario


def as_of_incoherences(scenario: Scenario):
    """What makes ``as_of`` a state no run could be in: unknown names, rounds out of order, a phase
    declared without its issues agreed or its preconditions met, and so on."""
    a = scenario.as_of
    if a is None:
        return
    start_round = scenario.as_of_round()
    when = "as_of.round" if a.round is not None else "as_of.date"
    if start_round < 0:
        days = (a.date - scenario.meta.start_date).days
        k = days // scenario.meta.round_days
        if days < 0:
            yield (when, f"{a.date} is before the scenario's start ({scenario.meta.start_date})")
        else:
            yield (when, f"{a.date} falls between rounds {k} ({scenario.meta.date_of(k)}) "
                         f"and {k + 1} ({scenario.meta.date_of(k + 1)})")  # fmt: skip
        return
    if start_round >= scenario.meta.horizon:
        yield (when, f"round {start_round} is not before the horizon ({scenario.meta.horizon}): nothing left to play")
    if any(p.strategy == "zeuthen" for p in scenario.principals):
        yield ("as_of", "a Zeuthen principal's concessions depend on offers exchanged, which as_of does not hold")
    late = lambda path, r: [(path, f"round {r} is after the last round played ({start_round})")] * (r > start_round)
    yield from unknown("as_of.flags", a.flags, scenario.flag_names(), "flag")
    engine = {"talks_open": "give as_of.talks_opened", "stalled": "the engine sets it from the rounds without "
              "progress", "collapsed": "a collapsed ceasefire has nothing left to forecast"}  # fmt: skip
    for prefix, field in (("declared_", "declared"), ("agreed_", "agreed"), ("done_", "milestones")):
        engine.update({f: f"give as_of.{field}" for f in scenario.flag_names() if f.startswith(prefix)})
    for name in a.flags:
        if name in engine:
            yield (f"as_of.flags.{name}", f"set by the engine: {engine[name]}")
    if a.talks_opened is not None:
        yield from late("as_of.talks_opened", a.talks_opened)
    events = {e.id: e for e in scenario.events}
    yield from unknown("as_of.events", a.events, list(events), "event")
    for ident, happened in a.events.items():
        yield from late(f"as_of.events.{ident}.round", happened.round)
        if ident in events and happened.count > 1 and events[ident].trigger != "rate":
            yield (f"as_of.events.{ident}.count", "it happens once (only an event with a rate repeats)")
    yield from _preconditions(scenario, late)
    yield from _phases(scenario, late)
    yield from unknown("as_of.pressure", a.pressure, [x.id for x in scenario.actors], "actor")


def _preconditions(scenario: Scenario, late):
    """Preconditions met with their flag set, waived only if waivable and not too early, and every one whose
    flag is set given."""
    a, flags = scenario.as_of, scenario.flags_as_of()
    pcs = {p.id: p for p in scenario.preconditions}
    yield from unknown("as_of.preconditions", a.preconditions, list(pcs), "precondition")
    for ident, state in a.preconditions.items():
        path, p = f"as_of.preconditions.{ident}", pcs.get(ident)
        yield from late(f"{path}.{'met' if state.met is not None else 'waived'}", state.round)
        if p is None:
            continue
        if state.met is not None and not flags.get(p.flag, False):
            yield (f"{path}.met", f"met, but its flag '{p.flag}' is not set (set it in as_of.flags)")
        if state.waived is not None and not p.waivable:
            yield (f"{path}.waived", "this precondition is not waivable")
        elif state.waived is not None and state.waived < p.earliest_waiver_round:
            yield (f"{path}.waived", f"it cannot be waived before round {p.earliest_waiver_round}")
    for p in scenario.preconditions:
        if flags.get(p.flag, False) and p.id not in a.preconditions:
            yield ("as_of.preconditions", f"the flag '{p.flag}' is set: say when precondition '{p.id}' was met "
                                          f"(as_of.preconditions.{p.id}.met)")  # fmt: skip


def _phases(scenario: Scenario, late):
    """Phases declared in order, after the talks opened, with their issues agreed and preconditions met or
    waived; issues agreed when a phase had them on the table; milestones after their issues and phase (unless a party
    takes them alone), not before their earliest round, after the milestones they require."""
    a = scenario.as_of
    order = scenario.ordered_phases()
    yield from unknown("as_of.declared", a.declared, [p.id for p in order], "phase")
    before: Phase | None = None
    for phase in order:
        r, path = a.declared.get(phase.id), f"as_of.declared.{phase.id}"
        if r is None:
            before = before or phase
            continue
        yield from late(path, r)
        if before is not None and before.id not in a.declared:
            yield (path, f"declared, but phase '{before.id}', which comes before it, is not")
        elif before is not None and a.declared[before.id] >= r:
            yield (path, f"declared in round {r}, not after phase '{before.id}' (round {a.declared[before.id]})")
        if a.talks_opened is None or a.talks_opened > r:
            yield (path, f"declared in round {r}, before the talks opened (give as_of.talks_opened)")
        missing = [i for i in scenario.settled(phase) if i not in a.agreed]
        if missing:
            yield (path, f"its gate settles {', '.join(missing)}: give {'them' if len(missing) > 1 else 'it'} "
                         "in as_of.agreed")  # fmt: skip
        applied = phase.gate.preconditions
        for p in scenario.preconditions if applied is None else [x for x in scenario.preconditions if x.id in applied]:
            state = a.preconditions.get(p.id)
            if state is None or state.round > r:
                yield (path, f"declared in round {r}, but precondition '{p.id}' was neither met nor waived by then")
        before = phase
    for phase, r in a.consented.items():
        if phase not in a.declared:
            yield (f"as_of.consented.{phase}", "consented to, but not declared (give as_of.declared)")
        elif r < a.declared[phase]:
            yield (f"as_of.consented.{phase}", f"round {r} is before its declaration (round {a.declared[phase]})")
        yield from late(f"as_of.consented.{phase}", r)
    yield from unknown("as_of.agreed", a.agreed, scenario.issue_ids(), "issue")
    for issue, agreed in a.agreed.items():
        yield from late(f"as_of.agreed.{issue}.round", agreed.round)
        settles = any(a.declared.get(p.id) == agreed.round and issue in scenario.settled(p) for p in order)
        defers = any(a.declared.get(p.id, agreed.round) < agreed.round and issue in p.gate.defer for p in order)
        if issue in scenario.issue_ids() and not (settles or defers):
            yield (f"as_of.agreed.{issue}.round", f"agreed in round {agreed.round}, but no phase had it on the "
                   "table then: an issue is agreed when a phase that settles it is declared, or after the "
                   "declaration of one that defers it")  # fmt: skip
    milestones = {m.id: m for m in scenario.milestones}
    yield from unknown("as_of.milestones", a.milestones, list(milestones), "milestone")
    for ident, r in a.milestones.items():
        yield from late(f"as_of.milestones.{ident}", r)
        m = milestones.get(ident)
        if m is None:
            continue
        undone = [i for i in m.issues if i not in a.agreed or a.agreed[i].round >= r]
        if undone and not m.unilateral:
            yield (f"as_of.milestones.{ident}", f"carried out in round {r}, before {', '.join(undone)} "
                                                "was agreed (in an earlier round)")  # fmt: skip
        if m.phase is not None and a.declared.get(m.phase, r) >= r and not m.unilateral:
            yield (f"as_of.milestones.{ident}", f"carried out in round {r}, before phase '{m.phase}' was declared")
        if r < m.earliest:
            yield (f"as_of.milestones.{ident}", f"carried out in round {r}, before its earliest round {m.earliest}")
        for required in m.requires:
            if a.milestones.get(required, r) >= r:
                yield (f"as_of.milestones.{ident}", f"carried out in round {r}, before '{required}' was done")


def unknown(path: str, given, known: list[str], kind: str):
    """A problem at each name in ``given`` that is not one of the ``known`` names of its ``kind``."""
    for name in given:
        if name not in known:
            yield (f"{path}.{name}", f"unknown {kind} '{name}'{did_you_mean(name, known)}")
