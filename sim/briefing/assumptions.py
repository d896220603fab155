"""The scenario described: every number of it with the basis it rests on, and the sources its bases cite.

The assumptions are a table per kind of object (:data:`SECTIONS`): one row per object, its name first and its
basis last, the cells between saying what the scenario sets for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.briefing.document import CLAIM_ID, Heading, Paragraph, Table
from sim.briefing.wording import basis_of, notes, shift, titled, value
from sim.scenario.digest import Claim
from sim.scenario.labels import Names
from sim.scenario.schema import Protocol, Scenario

TABLE_RULES = {
    "compromise": "a capability- and salience-weighted compromise of the actors' stated positions",
    "bridging": "a bridging package drafted by a third party among those every principal's red lines allow",
    "nash": "the Nash bargaining solution on the principals' utility frontier",
    "alternating": "alternating offers by the principals on their utility frontier",
}
BRIDGING = {
    "own": "the package it likes best inside the zone of agreement",
    "nash": "the Nash product of the surpluses",
    "maximin": "equal surpluses",
}


def strategy(a) -> str:
    c = a.concession
    if c is None:
        return "does not concede" if a.role == "principal" else f"third party; drafts by {BRIDGING[a.bridging]}"
    parts = [c.strategy]
    if c.exponent is not None:
        parts.append(f"exponent {value(c.exponent)}")
    if c.deadline is not None:
        parts.append(f"deadline (rounds of talks) {value(c.deadline)}")
    if c.strategy == "responsive":
        parts.append(f"reciprocity {value(c.reciprocity)}")
    if c.strategy == "zeuthen":
        parts.append(f"step {value(c.step)}")
    if c.strategy == "subgame_perfect":
        parts.append(f"patience {value(c.patience)}")
    return "\n".join(parts)


def trigger(e, names: Names) -> str:
    if e.trigger == "at_round":
        text = f"round {e.at_round}, probability {value(e.probability)}"
    elif e.trigger == "convened_by":
        text = f"convened by {names.actor(e.convened_by)} at a cost of {value(e.cost)}"
    else:
        text = f"{e.trigger} {value(getattr(e, e.trigger))} per round"
    boosts = [f"×{value(v)} while {names.readable(f)}" for f, v in e.boost.items()]
    if e.after_progress is not None:
        boosts.append(f"×{value(e.after_progress.factor)} within {e.after_progress.window} rounds of progress")
    if e.by is not None:
        boosts.append(f"by {names.actor(e.by)}")
    return "\n".join([text, *boosts])


def effects(e, names: Names) -> str:
    fx = e.effects
    out = [f"sets {names.readable(f)}" for f in fx.set] + [f"clears {names.readable(f)}" for f in fx.unset]
    out += [f"pressure on {names.actor(a)} {shift(v)}" for a, v in fx.pressure.items()]
    out += [f"{names.actor(a)} reservation {shift(v)}" for a, v in fx.reservation.items()]
    out += [
        f"{names.actor(a)} position on {names.issues[i]} {shift(v)}"
        for a, shifts in fx.position.items()
        for i, v in shifts.items()
    ]
    out += [
        f"{names.actor(a)} moves {value(x.share)} of the way toward {names.actor(x.toward)}"
        for a, x in fx.align.items()
    ]
    if e.collapse:
        out.append(f"collapse chance {value(e.collapse)} each time")
    return "\n".join(out) or "—"


def when(w, names: Names) -> str:
    parts = [f"after {', '.join(map(names.readable, w.requires))}"] if w.requires else []
    parts += [f"unless {', '.join(map(names.readable, w.unless))}"] if w.unless else []
    parts += [f"from round {w.from_round}"] if w.from_round else []
    parts += [f"until round {w.until_round}"] if w.until_round is not None else []
    return ", ".join(parts)


def bound(r, names: Names) -> str:
    parts = [f"{names.issues[r.issue]} {sign} {value(v)}" for sign, v in (("≥", r.min), ("≤", r.max)) if v is not None]
    if r.relax is not None:
        parts.append(f"relaxed to {value(r.relax.to)} under pressure ≥ {value(r.relax.audience_cost)} (audience cost)")
    return "\n".join(parts)


def _position(a, s: Scenario) -> str:
    if a.role == "spoiler":
        return "no seat at the table"
    return "\n".join(f"{i} {value(a.position[i])} ({value(a.salience[i])})" for i in s.issue_ids())


def _lever(lev, names: Names) -> str:
    parts = [value(lev.strength), "when blocking" if lev.on == "block" else "every round", when(lev.when, names)]
    if lev.cost:
        parts.append(f"cost {value(lev.cost)} a round")
    if lev.follow_through:
        parts.append(
            f"credibility {value(lev.credibility)}, loses {value(lev.erosion)} a round not followed "
            f"through (cost {value(lev.follow_through)})"
        )
    if lev.scaled_by_distance:
        parts.append("scaled by how far apart they stand")
    return "\n".join(filter(None, parts))


def _actor(a, names: Names) -> str:
    budget = f"\nbudget {value(a.budget)}" if a.budget else ""
    return f"{titled(names.actor(a.id), a.id)}\n{a.role}\ncapability {value(a.capability)}{budget}"


def _gate(p, s: Scenario, names: Names) -> str:
    g = p.gate
    return (
        "settles: "
        + ", ".join(names.issues[i] for i in s.settled(p))
        + ("\ndefers: " + ", ".join(names.issues[i] for i in g.defer) if g.defer else "")
        + (f"\nafter {names.phases[g.after]}" if g.after else "")
    )


def _own_red_lines(v, names: Names) -> str:
    bounds = [
        f"{names.issues[i]} {sign} {value(x)}"
        for i, b in v.bounds.items()
        for sign, x in (("≥", b.min), ("≤", b.max))
        if x is not None
    ]
    return "\n".join(bounds) + (f"\n{when(v.when, names)}" if when(v.when, names) else "")


def _waiver(p) -> str:
    return f"under pressure ≥ {value(p.waiver_pressure)}\nfrom round {p.earliest_waiver_round}" if p.waivable else (
        "never waived")  # fmt: skip


def _protocol(pr, names: Names) -> str:
    tablers = f"\ntabled in turn by {', '.join(map(names.actor, pr.tabled_by))}" if pr.tabled_by else ""
    opens = f"\ntalks open {when(pr.opens_when, names)}" if when(pr.opens_when, names) else ""
    return f"{TABLE_RULES[pr.rule]}{tablers}\npressure decays by {value(pr.pressure_decay)} of itself each round{opens}"


def _risk(r) -> str:
    return (
        f"breakdown chance {value(r.hazard)} a round; ×(1 + {value(r.stall_growth)} per round "
        f"beyond {r.stall_after} without progress), up to ×{value(r.stall_cap)}; "
        f"×{value(r.agreement_factor)} per agreed issue; ×{value(r.declared_factor)} once a "
        "phase is declared; the same factors scale each incident's collapse chance"
    )


def _follows(m, names: Names) -> str:
    """What a milestone follows and its timetable: its issues agreed (or a party alone), the milestones it requires,
    its earliest round, its deadline with extensions, partial compliance, what missing it risks and its monitor."""
    lines = ["a party alone" if m.unilateral else ", ".join(names.issues[i] for i in m.issues) + " agreed"]
    lines += [f"after {names.milestones[r]}" for r in m.requires]
    lines += [f"not before round {m.earliest}"] if m.earliest else []
    if m.deadline is not None:
        lines.append(f"due {m.deadline} rounds after")
    if m.extensions is not None:
        x = m.extensions
        lines.append(f"up to {x.times} extension(s) of {x.rounds} rounds by {', '.join(map(names.actor, x.by))} "
                     f"(chance {value(x.probability)})")  # fmt: skip
    if m.partial is not None:
        lines.append(f"share done if late {value(m.partial)}" + (", counts" if m.partial_counts else ""))
    if m.on_missed is not None:
        lines.append(f"if missed: collapse chance {value(m.on_missed.collapse)}")
    if m.monitor is not None:
        lines.append(f"verified by {names.actor(m.monitor)} (disputed {value(m.dispute)}: {m.disputed})")
    return "\n".join(lines)


def _rules(o, names: Names) -> str:
    return "Protocol" if isinstance(o, Protocol) else "Risk of collapse"


def _what_rules_set(o, s: Scenario, names: Names) -> tuple[str]:
    return (_protocol(o, names) if isinstance(o, Protocol) else _risk(o),)


def _named(kind: str) -> Callable[[Any, Names], str]:
    """An object's first cell: its label among the scenario's ``kind`` (e.g. ``red_lines``), with its id."""
    return lambda o, names: titled(getattr(names, kind)[o.id], o.id)


@dataclass(frozen=True)
class Section:
    """A table of the assumptions: a row per object that ``objects`` picks from the scenario, with the object's
    ``name`` first, its ``cells`` between and the notes of its basis last."""

    title: str
    header: tuple[str, ...]
    widths: tuple[float, ...]
    objects: Callable[[Scenario], list]
    name: Callable[[Any, Names], str]
    cells: Callable[[Any, Scenario, Names], tuple]

    def blocks(self, s: Scenario, names: Names) -> list:
        rows = [(self.name(o, names), *self.cells(o, s, names), notes(basis_of(o))) for o in self.objects(s)]
        return [Heading(self.title, 2), Table(self.header, rows, self.widths)] if rows else []


SECTIONS = (
    Section("Issues", ("Issue", "0 means", "100 means", "Basis"), (0.2, 0.22, 0.26, 0.32),
            lambda s: s.issues, _named("issues"), lambda i, s, names: (i.low, i.high)),
    Section("Actors", ("Actor", "Position (salience)", "Reservation", "Strategy", "Basis"),
            (0.15, 0.2, 0.1, 0.15, 0.40), lambda s: s.actors, _actor,
            lambda a, s, names: (_position(a, s), value(a.reservation) if a.role == "principal" else "—",
                                 strategy(a))),
    Section("Phases and their gates", ("Phase", "Consent", "Settled / deferred", "Basis"), (0.18, 0.17, 0.27, 0.38),
            lambda s: s.phases, _named("phases"),
            lambda p, s, names: (", ".join(map(names.actor, p.gate.consent)), _gate(p, s, names))),
    Section("Red lines", ("Red line", "Actor", "Bound", "Basis"), (0.22, 0.12, 0.26, 0.40),
            lambda s: s.red_lines, _named("red_lines"), lambda r, s, names: (names.actor(r.actor), bound(r, names))),
    Section("Domestic veto players", ("Veto player", "Of", "Their own red lines", "Basis"), (0.2, 0.12, 0.28, 0.40),
            lambda s: s.veto_players, _named("veto_players"),
            lambda v, s, names: (names.actor(v.principal), _own_red_lines(v, names))),
    Section("Preconditions", ("Precondition", "Actor", "Waiver", "Basis"), (0.2, 0.14, 0.26, 0.40),
            lambda s: s.preconditions, _named("preconditions"), lambda p, s, names: (names.actor(p.actor), _waiver(p))),
    Section("Leverage", ("Leverage", "From → to", "Pressure per round", "Basis"), (0.2, 0.18, 0.24, 0.38),
            lambda s: s.leverage, _named("leverage"),
            lambda lev, s, names: (f"{names.actor(lev.source)} → {names.actor(lev.target)}", _lever(lev, names))),
    Section("Guarantees", ("Guarantee", "From → to", "Value, cost", "Basis"), (0.2, 0.18, 0.24, 0.38),
            lambda s: s.guarantees, _named("guarantees"),
            lambda g, s, names: (f"{names.actor(g.source)} → {names.actor(g.target)}",
                                 f"{value(g.value)} on {', '.join(names.issues[i] for i in g.issues)}\n"
                                 f"cost {value(g.cost)}")),
    Section("Vetoed roles", ("Vetoed", "By", "On", "Basis"), (0.2, 0.18, 0.24, 0.38),
            lambda s: s.vetoes, lambda v, names: names.actor(v.of),
            lambda v, s, names: (names.actor(v.by), names.issues[v.issue])),
    Section("Events", ("Event", "When", "Effects", "Basis"), (0.2, 0.22, 0.2, 0.38),
            lambda s: s.events, _named("events"),
            lambda e, s, names: ("\n".join(filter(None, [trigger(e, names), when(e.when, names)])),
                                 effects(e, names))),
    Section("Implementation milestones", ("Milestone", "Follows", "Chance per round", "Basis"),
            (0.22, 0.2, 0.2, 0.38), lambda s: s.milestones, _named("milestones"),
            lambda m, s, names: (_follows(m, names), value(m.hazard))),
    Section("Protocol and risk", ("", "What the scenario sets", "Basis"), (0.16, 0.44, 0.40),
            lambda s: [s.protocol, s.risk], _rules, _what_rules_set),
)  # fmt: skip


def assumptions(s: Scenario) -> list:
    """Every number of the scenario with its basis, a table per kind of object, and the world's flags at the start."""
    names = Names(s)
    flags = ", ".join(f"{names.readable(f)} {'yes' if v else 'no'}" for f, v in s.world.flags.items()) or "no flags"
    return [
        Heading("Assumptions"),
        Paragraph(
            "Every number of the scenario with the basis it rests on: seed claims (listed under Sources) "
            "or a stated assumption, marked as such. Ranges are sampled afresh in every run. Ids in "
            "brackets are those to use in the scenario file and in negsim sweep."
        ),
        *(block for section in SECTIONS for block in section.blocks(s, names)),
        Paragraph(f"World at the start: {flags}.", "note"),
    ]


def citations(s: Scenario) -> dict[str, list[str]]:
    """Claim id -> the scenario fields citing it (``object.field``), in order of first citation."""
    cited: dict[str, list[str]] = {}
    objects = [
        *s.issues,
        *s.actors,
        *s.red_lines,
        *s.preconditions,
        *s.phases,
        *s.veto_players,
        *s.leverage,
        *s.guarantees,
        *s.events,
        *s.milestones,
    ]
    named = [(o.id, basis_of(o)) for o in objects] + [
        ("risk", s.risk.basis),
        ("protocol", s.protocol.basis),
        ("world", s.world.basis),
        *((f"veto of {v.of} on {v.issue}", v.basis) for v in s.vetoes),
    ]
    for ident, basis in named:
        for name, text in basis.items():
            for cid in CLAIM_ID.findall(text):
                where = f"{ident}.{name}"
                if where not in cited.setdefault(cid, []):
                    cited[cid].append(where)
    return cited


def sources(s: Scenario, claims: dict[str, Claim], digests: list[str]) -> list:
    cited, rank = citations(s), {cid: k for k, cid in enumerate(claims)}
    rows = [
        (
            cid,
            claims[cid].text if cid in claims else "— not in the seed digest —",
            claims[cid].attribution if cid in claims else "",
            ", ".join(cited[cid]),
        )
        for cid in sorted(cited, key=lambda c: (rank.get(c, len(rank)), c))
    ]
    where = (
        f"Claims are paraphrases from the seed digest {', '.join(digests)}, in our own words, with their attribution."
        if digests
        else "No seed digest was found beside the results: claim ids are shown without their text."
    )
    return [
        Heading("Sources", 2),
        Paragraph(where, "note"),
        Table(
            ("Claim", "What the source says", "Attribution", "Cited for"),
            rows,
            (0.07, 0.45, 0.15, 0.33),
            anchor="claim-",
        ),
    ]
