"""Whether a scenario holds together: the checks across fields that each field's own validation cannot make.

:func:`incoherences` lists every (dotted path, message) a scenario has: duplicate ids, references to actors,
issues, flags, phases or preconditions that do not exist (:func:`references`), roles asked to do what they
cannot, phase gates in a cycle, milestones that wait on themselves or have what a deadline governs without one,
protocols and strategies that need two principals, events past the horizon,
and an ``as_of`` state no run could be in (:mod:`sim.scenario.as_of_checks`). The loader reports each on the
line of the file that gave it.
"""

from __future__ import annotations

from sim.scenario.as_of_checks import as_of_incoherences, unknown
from sim.scenario.errors import did_you_mean
from sim.scenario.fields import bounds
from sim.scenario.schema import SOLVED_STRATEGIES, THIRD_PARTIES, TWO_PARTY_STRATEGIES, Effects, Scenario, When


def incoherences(scenario: Scenario) -> list[tuple[str, str]]:
    """Every problem across fields as (dotted path, message); empty when the scenario is coherent."""
    known = {
        "actor": [a.id for a in scenario.actors],
        "issue": scenario.issue_ids(),
        "flag": scenario.flag_names(),
        "phase": [p.id for p in scenario.phases],
        "precondition": [p.id for p in scenario.preconditions],
        "red_line": [r.id for r in scenario.red_lines],
        "veto_player": [v.id for v in scenario.veto_players],
        "milestone": [m.id for m in scenario.milestones],
    }
    out = []
    for field, ids, what in (("issues", scenario.issue_ids(), "issue"), ("actors", known["actor"], "actor")):
        out += duplicate_ids(ids, field, what)
    for field in (
        "red_lines",
        "preconditions",
        "phases",
        "leverage",
        "guarantees",
        "veto_players",
        "events",
        "milestones",
        "expiries",
        "mechanisms",
    ):
        out += duplicate_ids([x.id for x in getattr(scenario, field)], field, "id")
    for path, kind, value in references(scenario):
        if value not in known[kind]:
            out.append((path, f"unknown {kind} '{value}'{did_you_mean(value, known[kind])}"))
    out += _actors(scenario)
    out += _phases(scenario)
    out += _third_parties(scenario)
    out += _preconditions(scenario)
    out += _milestones(scenario)
    out += _start(scenario)
    out += _protocol(scenario)
    out += list(as_of_incoherences(scenario))
    for i, e in enumerate(scenario.events):
        if e.at_round is not None and e.at_round > scenario.meta.horizon:
            out.append((f"events.{i}.at_round", f"round {e.at_round} is beyond the horizon ({scenario.meta.horizon})"))
    return out


def references(scenario: Scenario):
    """Every cross-reference as (path, kind, value), for checking against what exists."""
    for i, a in enumerate(scenario.actors):
        for field in ("position", "salience"):
            for issue in getattr(a, field):
                yield (f"actors.{i}.{field}.{issue}", "issue", issue)
    for i, r in enumerate(scenario.red_lines):
        yield (f"red_lines.{i}.actor", "actor", r.actor)
        yield (f"red_lines.{i}.issue", "issue", r.issue)
    for i, p in enumerate(scenario.preconditions):
        yield (f"preconditions.{i}.actor", "actor", p.actor)
        yield (f"preconditions.{i}.flag", "flag", p.flag)
    for i, ph in enumerate(scenario.phases):
        g = ph.gate
        for field, kind in (("consent", "actor"), ("settle", "issue"), ("defer", "issue")):
            for j, x in enumerate(getattr(g, field)):
                yield (f"phases.{i}.gate.{field}.{j}", kind, x)
        for j, x in enumerate(g.preconditions or []):
            yield (f"phases.{i}.gate.preconditions.{j}", "precondition", x)
        if g.after is not None:
            yield (f"phases.{i}.gate.after", "phase", g.after)
        for j, x in enumerate(g.declared_by):
            yield (f"phases.{i}.gate.declared_by.{j}", "actor", x)
        yield from _when_refs(f"phases.{i}.gate.declare_when", g.declare_when)
    for i, m in enumerate(scenario.milestones):
        for j, x in enumerate(m.issues):
            yield (f"milestones.{i}.issues.{j}", "issue", x)
        if m.phase is not None:
            yield (f"milestones.{i}.phase", "phase", m.phase)
        for j, x in enumerate(m.preconditions):
            yield (f"milestones.{i}.preconditions.{j}", "precondition", x)
        for j, x in enumerate(m.requires):
            yield (f"milestones.{i}.requires.{j}", "milestone", x)
        if m.monitor is not None:
            yield (f"milestones.{i}.monitor", "actor", m.monitor)
        if m.extensions is not None:
            for j, x in enumerate(m.extensions.by):
                yield (f"milestones.{i}.extensions.by.{j}", "actor", x)
            yield from _effects_refs(f"milestones.{i}.extensions.cost", m.extensions.cost)
        if m.on_missed is not None:
            yield from _effects_refs(f"milestones.{i}.on_missed.effects", m.on_missed.effects)
    for i, lev in enumerate(scenario.leverage):
        yield (f"leverage.{i}.from", "actor", lev.source)
        yield (f"leverage.{i}.to", "actor", lev.target)
        yield from _when_refs(f"leverage.{i}.when", lev.when)
    for i, g in enumerate(scenario.guarantees):
        yield (f"guarantees.{i}.from", "actor", g.source)
        yield (f"guarantees.{i}.to", "actor", g.target)
        for j, x in enumerate(g.issues):
            yield (f"guarantees.{i}.issues.{j}", "issue", x)
    for i, v in enumerate(scenario.vetoes):
        yield (f"vetoes.{i}.by", "actor", v.by)
        yield (f"vetoes.{i}.of", "actor", v.of)
        yield (f"vetoes.{i}.issue", "issue", v.issue)
    for i, v in enumerate(scenario.veto_players):
        yield (f"veto_players.{i}.principal", "actor", v.principal)
        for issue in v.bounds:
            yield (f"veto_players.{i}.bounds.{issue}", "issue", issue)
        yield from _when_refs(f"veto_players.{i}.when", v.when)
    for i, e in enumerate(scenario.events):
        yield from _when_refs(f"events.{i}.when", e.when)
        for field in ("convened_by", "by"):
            if getattr(e, field) is not None:
                yield (f"events.{i}.{field}", "actor", getattr(e, field))
        for flag in e.boost:
            yield (f"events.{i}.boost.{flag}", "flag", flag)
        yield from _effects_refs(f"events.{i}.effects", e.effects)
    for i, x in enumerate(scenario.expiries):
        for j, flag in enumerate(x.unless):
            yield (f"expiries.{i}.unless.{j}", "flag", flag)
        for actor in x.leave:
            yield (f"expiries.{i}.leave.{actor}", "actor", actor)
    yield from _when_refs("risk.stall_from", scenario.risk.stall_from)
    for field in ("at_table", "tabled_by"):
        for j, actor in enumerate(getattr(scenario.protocol, field)):
            yield (f"protocol.{field}.{j}", "actor", actor)
    if scenario.protocol.first_proposer is not None:
        yield ("protocol.first_proposer", "actor", scenario.protocol.first_proposer)
    for actor in scenario.protocol.recognition:
        yield (f"protocol.recognition.{actor}", "actor", actor)
    yield from _when_refs("protocol.opens_when", scenario.protocol.opens_when)


def _actors(scenario: Scenario):
    """Actors: every issue positioned and weighted, concessions and red lines for principals only."""
    issues = set(scenario.issue_ids())
    for i, a in enumerate(scenario.actors):
        if a.role != "spoiler":
            for field in ("position", "salience"):
                missing = issues - set(getattr(a, field))
                if missing:
                    yield (f"actors.{i}.{field}", f"missing issue(s): {', '.join(sorted(missing))}")
        if a.role != "principal" and a.concession is not None:
            yield (f"actors.{i}.concession", "only principals concede; a third party's position moves by events")
        if a.role == "principal":
            c = a.concession
            if c is not None and c.timed and c.deadline is None:
                yield (
                    f"actors.{i}.concession.deadline",
                    f"a {c.strategy} principal needs an explicit deadline (rounds of talks)",
                )
    if not scenario.principals:
        yield ("actors", "a negotiation needs at least one principal")
    for i, r in enumerate(scenario.red_lines):
        if r.actor in [a.id for a in scenario.actors] and scenario.role(r.actor) != "principal":
            yield (f"red_lines.{i}.actor", "red lines bind only principals (actors with a veto)")
    for i, v in enumerate(scenario.veto_players):
        if scenario.role(v.principal) not in (None, "principal"):
            yield (f"veto_players.{i}.principal", "a veto player belongs to a principal")


def _phases(scenario: Scenario):
    """Phases: parties with a say (a principal among them), declarers that are third parties, an issue settled or
    deferred, not both (only a framework may settle none), gates not in a cycle, milestones on issues their phase
    negotiates."""
    ids = [p.id for p in scenario.phases]
    for i, p in enumerate(scenario.phases):
        g = p.gate
        for j, actor in enumerate(g.consent):
            if scenario.role(actor) == "spoiler":
                yield (f"phases.{i}.gate.consent.{j}", f"'{actor}' is a spoiler: it has no say at the table")
        if not any(scenario.role(a) in (None, "principal") for a in g.consent):
            yield (f"phases.{i}.gate.consent", "a gate needs at least one principal among its parties")
        for j, actor in enumerate(g.declared_by):
            if scenario.role(actor) not in (None, *THIRD_PARTIES):
                yield (f"phases.{i}.gate.declared_by.{j}", "phases are announced by third parties "
                                                           "(broker, mediator, stakeholder)")  # fmt: skip
        if g.rule == "non_objection" and not g.declared_by:
            yield (f"phases.{i}.gate.declared_by", "a phase declared by non-objection needs who announces it")
        for actor in g.defiance:
            if actor not in g.consent:
                yield (f"phases.{i}.gate.defiance.{actor}", f"'{actor}' is not among the gate's parties")
        for j, issue in enumerate(g.defer):
            if issue in g.settle:
                yield (f"phases.{i}.gate.defer.{j}", f"issue '{issue}' is both settled and deferred")
        if g.rule != "framework" and g.settle == [] and set(g.defer) >= set(scenario.issue_ids()):
            yield (f"phases.{i}.gate", "a phase must settle at least one issue at declaration "
                                       "(only a framework may defer them all)")  # fmt: skip
        if g.after == p.id:
            yield (f"phases.{i}.gate.after", "a phase cannot follow itself")
    chain = _cycle(scenario)
    if chain:
        yield ("phases", f"phase gates form a cycle: {' -> '.join(chain)}")
    for i, m in enumerate(scenario.milestones):
        if m.phase is not None and m.phase in ids:
            phase = scenario.phases[ids.index(m.phase)]
            outside = [x for x in m.issues if x not in scenario.settled(phase) + phase.gate.defer]
            if outside:
                yield (f"milestones.{i}.issues", f"not negotiated in phase '{m.phase}': {', '.join(outside)}")


def _milestones(scenario: Scenario):
    """Milestones: what a deadline governs only with a deadline, a dispute only with a monitor, no sequence that
    waits on itself."""
    for i, m in enumerate(scenario.milestones):
        if m.deadline is None:
            for field in ("extensions", "partial", "on_missed"):
                if getattr(m, field) is not None:
                    yield (f"milestones.{i}.{field}", "needs a deadline (what happens when it passes)")
        if bounds(m.dispute)[1] > 0 and m.monitor is None:
            yield (f"milestones.{i}.dispute", "a report can be disputed only with a monitor that makes it")
        if m.disputed == "missed" and m.deadline is None and bounds(m.dispute)[1] > 0:
            yield (f"milestones.{i}.disputed", "a disputed report counts as missed only with a deadline")
    requires = {m.id: m.requires for m in scenario.milestones}
    for i, m in enumerate(scenario.milestones):
        if m.id in _required(requires, m.id):
            yield (f"milestones.{i}.requires", f"'{m.id}' would wait on itself")


def _required(requires: dict[str, list[str]], start: str) -> set[str]:
    """Every milestone that ``start`` waits on, directly or through others."""
    seen, todo = set(), list(requires.get(start, []))
    while todo:
        x = todo.pop()
        if x not in seen:
            seen.add(x)
            todo += requires.get(x, [])
    return seen


def _cycle(scenario: Scenario) -> list[str]:
    """The phases whose ``after`` gates form a cycle, the first one again at the end; empty if none."""
    after = {p.id: p.gate.after for p in scenario.phases}
    for start in after:
        seen, node = [], start
        while node in after and node not in seen:
            seen.append(node)
            node = after[node]
        if node == start and len(seen) > 1:
            return [*seen, start]
    return []


def _third_parties(scenario: Scenario):
    """Guarantees, vetoes, spoilers and alignments: each role doing only what it can."""
    for i, g in enumerate(scenario.guarantees):
        if scenario.role(g.target) not in (None, "principal"):
            yield (f"guarantees.{i}.to", "guarantees are given to principals")
    for i, v in enumerate(scenario.vetoes):
        if scenario.role(v.by) not in (None, "principal"):
            yield (f"vetoes.{i}.by", f"'{v.by}' is not a principal: only a principal can veto a role")
        if scenario.role(v.of) not in (None, *THIRD_PARTIES):
            yield (f"vetoes.{i}.of", "only a third party's role can be vetoed")
    for i, e in enumerate(scenario.events):
        if e.by is not None and scenario.role(e.by) not in (None, "spoiler"):
            yield (f"events.{i}.by", "'by' names the spoiler behind an event")
        for actor, align in e.effects.align.items():
            if actor == align.toward:
                yield (f"events.{i}.effects.align.{actor}", "an actor cannot move toward itself")
            if scenario.role(actor) == "spoiler" or scenario.role(align.toward) == "spoiler":
                yield (f"events.{i}.effects.align.{actor}", "spoilers have no position")


def _preconditions(scenario: Scenario):
    """A third party's precondition binds only where every gate applying it asks that party's consent."""
    gates = scenario.ordered_phases()
    for i, p in enumerate(scenario.preconditions):
        if scenario.role(p.actor) in (None, "principal"):
            continue
        applying = [g for g in gates if g.gate.preconditions is None or p.id in g.gate.preconditions]
        if not applying or any(p.actor not in g.gate.consent for g in applying):
            yield (f"preconditions.{i}.actor", f"'{p.actor}' is a {scenario.role(p.actor)} that not every gate "
                   "applying this precondition asks to consent: the precondition would bind nothing")  # fmt: skip


def _start(scenario: Scenario):
    """Where the talks start: concessions by principals, a text on known issues, a signed text with its terms."""
    start = scenario.start
    for actor in start.conceded:
        if scenario.role(actor) not in (None, "principal"):
            yield (f"start.conceded.{actor}", "only principals concede")
    yield from unknown("start.conceded", start.conceded, [a.id for a in scenario.actors], "actor")
    yield from unknown("start.text", start.text, scenario.issue_ids(), "issue")
    if start.signed and not start.text:
        yield ("start.signed", "a signed text needs its terms (start.text)")


def _protocol(scenario: Scenario):
    """The protocol and the principals' strategies: two-party rules with two principals, who tables and who sits."""
    principals = scenario.principals
    strategies = {a.strategy for a in principals}
    rule = scenario.protocol.rule
    if rule != "compromise" and len(principals) < 2:
        yield ("protocol.rule", f"rule '{rule}' needs at least two principals")
    for p in principals:
        if p.strategy in TWO_PARTY_STRATEGIES and len(principals) != 2:
            yield (
                f"actors.{scenario.actors.index(p)}.strategy",
                f"concession strategy '{p.strategy}' is defined between exactly two principals "
                f"(found {len(principals)}): with more, an offer giving one principal its aspiration leaves the "
                "others' shares open, so Harsanyi's risk limits are not defined; use 'subgame_perfect' "
                "(Baron-Ferejohn offers) or a time-based strategy",
            )
    quota = scenario.protocol.quota
    if quota is not None and quota > len(principals):
        yield ("protocol.quota", f"a quota of {quota} principals, but there are {len(principals)}")
    if strategies & set(SOLVED_STRATEGIES) and len(scenario.ordered_phases()) > 1:
        yield ("protocol.rule", "zeuthen and subgame-perfect principals bargain over one comprehensive phase")
    if "subgame_perfect" in strategies and (rule != "alternating" or strategies != {"subgame_perfect"}):
        yield (
            "protocol.rule",
            "subgame_perfect offers need rule 'alternating' and every principal subgame_perfect",
        )
    if "subgame_perfect" in strategies and len(principals) > 2 and scenario.protocol.proposer != "random":
        yield (
            "protocol.proposer",
            "subgame-perfect offers between more than two principals are Baron-Ferejohn's, with a proposer "
            "recognised at random each round (proposer: random)",
        )
    if scenario.protocol.first_proposer and scenario.protocol.first_proposer not in [p.id for p in principals]:
        yield ("protocol.first_proposer", "must be a principal")
    protocol = scenario.protocol
    if protocol.proposer == "random" and protocol.first_proposer:
        yield (
            "protocol.first_proposer",
            "a random proposer is recognised each round; first_proposer is for 'rotating'",
        )
    if protocol.recognition and protocol.proposer != "random":
        yield ("protocol.recognition", "recognition chances are for a random proposer (proposer: random)")
    for actor, weight in protocol.recognition.items():
        if actor not in [p.id for p in principals]:
            yield (f"protocol.recognition.{actor}", "must be a principal")
        elif weight <= 0:
            yield (f"protocol.recognition.{actor}", "a recognition weight must be above 0")
    if rule == "bridging":
        if not scenario.protocol.tabled_by:
            yield ("protocol.tabled_by", "bridging needs at least one third party to table packages")
        for i, p in enumerate(scenario.ordered_phases()):
            if sum(scenario.role(a) == "principal" for a in p.gate.consent) < 2 and scenario.phases:
                yield (
                    f"phases.{i}.gate.consent",
                    "bridging packages are drafted between at least two consenting principals",
                )
    for j, actor in enumerate(scenario.protocol.tabled_by):
        if scenario.role(actor) not in (None, *THIRD_PARTIES):
            yield (
                f"protocol.tabled_by.{j}",
                "packages are tabled by third parties (broker, mediator, stakeholder)",
            )
    for j, actor in enumerate(scenario.protocol.at_table):
        if scenario.role(actor) == "spoiler":
            yield (f"protocol.at_table.{j}", "a spoiler has no seat at the table")


def _effects_refs(path: str, fx: Effects):
    """The actors, issues, red lines and veto players that effects name, as references."""
    for field in ("pressure", "reservation", "position", "align"):
        for actor in getattr(fx, field):
            yield (f"{path}.{field}.{actor}", "actor", actor)
    for actor, shifts in fx.position.items():
        for issue in shifts:
            yield (f"{path}.position.{actor}.{issue}", "issue", issue)
    for actor, align in fx.align.items():
        yield (f"{path}.align.{actor}.toward", "actor", align.toward)
    for actor, shifts in fx.salience.items():
        yield (f"{path}.salience.{actor}", "actor", actor)
        for issue in shifts:
            yield (f"{path}.salience.{actor}.{issue}", "issue", issue)
    for line in fx.red_lines:
        yield (f"{path}.red_lines.{line}", "red_line", line)
    for player, shifts in fx.veto_bounds.items():
        yield (f"{path}.veto_bounds.{player}", "veto_player", player)
        for issue in shifts:
            yield (f"{path}.veto_bounds.{player}.{issue}", "issue", issue)


def _when_refs(path: str, when: When):
    """The flags a ``when`` condition names, as references."""
    for field in ("requires", "unless"):
        for j, flag in enumerate(getattr(when, field)):
            yield (f"{path}.{field}.{j}", "flag", flag)


def duplicate_ids(ids: list[str], path: str, what: str) -> list[tuple[str, str]]:
    """A problem at each id that repeats an earlier one in a list at ``path``."""
    seen, out = set(), []
    for i, x in enumerate(ids):
        if x in seen:
            out.append((f"{path}.{i}.id", f"duplicate {what} '{x}'"))
        seen.add(x)
    return out
