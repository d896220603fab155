"""What can never happen in a scenario, and why, in words: ``negsim explain``.

Two sources speak: the scenario itself (red lines and domestic veto players' bounds that cannot overlap however their
numbers are drawn or relaxed, flags nothing sets, actors with no say, nothing that can collapse the talks) and a
small batch of runs (outcomes, agreements and milestones no run reached, preconditions no run resolved, veto players
whose terms no run could draft, mechanisms whose alternatives give the same answer). Each :class:`Finding` names what
never happens and the reason, from both, in the scenario's own labels (:class:`~sim.scenario.labels.Names`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.columns import BREAKDOWN, OUTCOME_ORDER, column, reason_words
from sim.scenario.fields import bounds
from sim.scenario.labels import Names
from sim.scenario.loader import validate
from sim.scenario.schema import BUILTIN_FLAGS, Scenario

TALKS_FLAGS = ("declared_", "agreed_", "done_")  # prefixes of the flags the talks set themselves


@dataclass(frozen=True)
class Finding:
    """Something that never happens (``subject``, e.g. ``agreed:weapons``) and why, as a sentence."""

    subject: str
    text: str


@dataclass(frozen=True)
class Reach:
    """How far a bound can move: its loosest value (drawn, relaxed or shifted by an event) and its firmest."""

    loosest: float
    firmest: float


def _shifts(spec: Scenario, red_line: str | None = None, player: str | None = None, issue: str = "") -> list[float]:
    """The largest shifts events can make to a red line's bound (or a veto player's bound on ``issue``): the most
    downward and the most upward, each summed over events (an event may happen more than once: bounded by one)."""
    moves = []
    for e in spec.events:
        if red_line is not None and red_line in e.effects.red_lines:
            moves.append(bounds(e.effects.red_lines[red_line]))
        if player is not None and issue in e.effects.veto_bounds.get(player, {}):
            moves.append(bounds(e.effects.veto_bounds[player][issue]))
    down = sum(min(lo, 0.0) for lo, _ in moves)
    up = sum(max(hi, 0.0) for _, hi in moves)
    return [down, up]


def floor_reach(value, relaxed_to=None, shifts=(0.0, 0.0)) -> Reach:
    """How low a least-acceptable bound can go (loosest) and how high it can sit (firmest)."""
    lo, hi = bounds(value)
    if relaxed_to is not None:
        lo = min(lo, bounds(relaxed_to)[0])
    return Reach(max(lo + shifts[0], 0.0), min(hi + shifts[1], 100.0))


def ceiling_reach(value, relaxed_to=None, shifts=(0.0, 0.0)) -> Reach:
    """How high a most-acceptable bound can go (loosest) and how low it can sit (firmest)."""
    lo, hi = bounds(value)
    if relaxed_to is not None:
        hi = max(hi, bounds(relaxed_to)[1])
    return Reach(min(hi + shifts[1], 100.0), max(lo + shifts[0], 0.0))


@dataclass(frozen=True)
class Limit:
    """One side's bound on an issue: whose (an actor's red line or a domestic veto player), and how far it moves."""

    who: str  # a name, in words
    side: str  # "min" or "max"
    reach: Reach
    ident: str  # the red line's or veto player's id


def limits(spec: Scenario, names: Names, issue: str) -> list[Limit]:
    """Every bound on ``issue``: the principals' red lines and the domestic veto players' own red lines."""
    out = []
    for r in spec.red_lines:
        if r.issue != issue:
            continue
        shifts = _shifts(spec, red_line=r.id)
        to = r.relax.to if r.relax else None
        who = f"{names.actor(r.actor)}'s red line '{names.red_lines[r.id]}'"
        if r.min is not None:
            out.append(Limit(who, "min", floor_reach(r.min, to, shifts), r.id))
        if r.max is not None:
            out.append(Limit(who, "max", ceiling_reach(r.max, to, shifts), r.id))
    for v in spec.veto_players:
        bound = v.bounds.get(issue)
        if bound is None:
            continue
        shifts = _shifts(spec, player=v.id, issue=issue)
        who = f"{names.actor(v.id)} ({names.actor(v.principal)}'s veto player)"
        if bound.min is not None:
            out.append(Limit(who, "min", floor_reach(bound.min, shifts=shifts), v.id))
        if bound.max is not None:
            out.append(Limit(who, "max", ceiling_reach(bound.max, shifts=shifts), v.id))
    return out


def clashes(spec: Scenario, names: Names) -> dict[str, list[str]]:
    """Issue -> sentences naming each pair of bounds that can never overlap (one's least above the other's most,
    however the numbers are drawn, relaxed or shifted)."""
    out: dict[str, list[str]] = {}
    for issue in spec.issue_ids():
        found = limits(spec, names, issue)
        floors = [x for x in found if x.side == "min"]
        ceilings = [x for x in found if x.side == "max"]
        for f in floors:
            for c in ceilings:
                if f.ident != c.ident and f.reach.loosest > c.reach.loosest:
                    out.setdefault(issue, []).append(
                        f"{f.who} asks for at least {f.reach.loosest:g} on {names.issues[issue]} even at its "
                        f"loosest, above the {c.reach.loosest:g} that {c.who} allows at most at its loosest"
                    )
    return out


def _top(values: pd.Series, n: int = 3) -> list[tuple[str, float]]:
    """The most frequent non-empty values and their shares of all runs."""
    counts = Counter(v for v in values if v)
    return [(v, c / len(values)) for v, c in counts.most_common(n)]


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%" if share >= 0.01 or share == 0 else f"{100 * share:.1f}%"


def _reasons(table: pd.DataFrame, names: Names, who: str = "blocker", why: str = "reason") -> str:
    """The most common last obstacles in words: ``red line: r by Hamas in 80% of runs; ...``."""
    pairs = (table[why].astype(str) + "\x00" + table[who].astype(str)).where(table[why].astype(str) != "", "")
    parts = []
    for pair, share in _top(pairs):
        reason, _, blocker = pair.partition("\x00")
        by = f" ({names.actor(blocker)})" if blocker else ""
        parts.append(f"{reason_words(reason, names)}{by} in {_percent(share)} of runs")
    return "; ".join(parts)


def _setters(spec: Scenario, flag: str) -> list[str]:
    """Ids of the events whose effects set ``flag``."""
    return [e.id for e in spec.events if flag in e.effects.set]


def declared_never(spec: Scenario, table: pd.DataFrame, names: Names) -> list[Finding]:
    """Why the first phase is never declared (the last obstacles the runs met)."""
    if (table["outcome"] == "declared").any():
        return []
    first = spec.ordered_phases()[0]
    reasons = _reasons(table, names) or "no obstacle was recorded"
    return [Finding("declared", f"{names.phases[first.id]} is never declared in {len(table)} runs. What last stopped "
                    f"it: {reasons}.")]  # fmt: skip


def consented_never(spec: Scenario, table: pd.DataFrame, names: Names) -> list[Finding]:
    """Why the first phase's parties never all accept its terms explicitly, when it is declared."""
    first = spec.ordered_phases()[0]
    declared = table[column("phase_round", first.id)] >= 0
    if (table[column("consented_round", first.id)] >= 0).any():
        return []
    if not declared.any():
        return [Finding("consented", f"The parties never accept {names.phases[first.id]}: it is never declared.")]
    return [Finding("consented", f"{names.phases[first.id]} is declared in {_percent(declared.mean())} of runs, "
                    f"but its parties ({', '.join(names.actor(a) for a in first.gate.consent)}) never all accept its "
                    "terms explicitly: it stands only as announced.")]  # fmt: skip


def collapse_never(spec: Scenario, table: pd.DataFrame) -> list[Finding]:
    """Whether anything in the scenario can collapse the talks at all, when no run collapsed."""
    if (table["collapse_round"] >= 0).any():
        return []
    possible = [e.id for e in spec.events if bounds(e.collapse)[1] > 0]
    if bounds(spec.risk.hazard)[1] > 0:
        possible.append(BREAKDOWN)
    possible += [x.id for x in spec.expiries if bounds(x.probability)[1] > 0]
    possible += [p.id for p in spec.phases if p.gate.rule == "framework" and bounds(p.gate.break_hazard)[1] > 0]
    if possible:
        text = f"No run collapsed in {len(table)} runs, though {', '.join(possible)} could collapse the talks."
    else:
        text = ("Nothing can collapse the talks: no event has a collapse chance, the risk's hazard is 0, there are no "
                "expiries and no framework can break.")  # fmt: skip
    return [Finding("collapse", text)]


def issues_never(spec: Scenario, table: pd.DataFrame, names: Names, clashing: dict[str, list[str]]) -> list[Finding]:
    """Issues no run agreed, each with its reason: bounds that cannot overlap, the phase that settles it never
    declared, or what last held up the open issues."""
    out = []
    never_declared = {p.id for p in spec.ordered_phases() if (table[column("phase_round", p.id)] < 0).all()}
    for issue in spec.issue_ids():
        if (table[column("agreed_round", issue)] >= 0).any():
            continue
        settling = [p for p in spec.ordered_phases() if issue in spec.settled(p) or issue in p.gate.defer]
        if issue in clashing:
            why = "; ".join(clashing[issue])
        elif settling and all(p.id in never_declared for p in settling):
            why = f"{' / '.join(names.phases[p.id] for p in settling)}, which settles it, is never declared"
        elif not settling:
            why = "no phase settles or defers it"
        else:
            why = f"what last held up the open issues: {_reasons(table, names, 'open_blocker', 'open_reason') or '-'}"
        out.append(Finding(f"agreed:{issue}", f"{names.issues[issue]} is never agreed: {why}."))
    return out


def preconditions_never(spec: Scenario, table: pd.DataFrame, names: Names) -> list[Finding]:
    """Preconditions no run met or waived, and why: nothing sets their flag (or what would never happened), and
    they cannot be waived, or the pressure to waive them was never reached."""
    out = []
    horizon = spec.meta.horizon
    for p in spec.preconditions:
        if (table[column("precondition", p.id)] != "unmet").any():
            continue
        setters = _setters(spec, p.flag)
        if (
            spec.world.flags.get(p.flag)
            or p.flag in BUILTIN_FLAGS
            or p.flag.startswith(("declared_", "agreed_", "done_"))
        ):
            met = f"its flag '{p.flag}' is set by the talks themselves but was never set in time"
        elif not setters:
            met = f"nothing sets its flag '{p.flag}' (the world starts without it and no event sets it)"
        elif all((table[column("event_count", e)] == 0).all() for e in setters):
            met = f"the events that would set '{p.flag}' ({', '.join(names.events[e] for e in setters)}) never happen"
        else:
            met = f"'{p.flag}' is never set while it matters"
        pressure = table[column("pressure", p.actor)]
        if not p.waivable:
            waive = "it cannot be waived"
        elif p.earliest_waiver_round > horizon:
            waive = f"it may be waived only from round {p.earliest_waiver_round}, after the horizon ({horizon})"
        elif pressure.max() < bounds(p.waiver_pressure)[0]:
            waive = (f"the pressure on {names.actor(p.actor)} never reaches the {bounds(p.waiver_pressure)[0]:g} at "
                     f"which it would waive it (at most {pressure.max():.2g} at the horizon)")  # fmt: skip
        else:
            waive = "it is never waived"
        out.append(Finding(f"precondition:{p.id}", f"{names.actor(p.actor)}'s precondition "
                           f"'{names.preconditions[p.id]}' is never met or waived: {met}, and {waive}."))  # fmt: skip
    return out


def veto_players_never(spec: Scenario, table: pd.DataFrame, names: Names, clashing: dict) -> list[Finding]:
    """Domestic veto players whose terms could not be drafted inside the red lines in any run."""
    out = []
    for v in spec.veto_players:
        unmet = table[column("veto_unmet", v.id)].astype(bool)
        if not unmet.all():
            continue
        why = [s for i in v.bounds for s in clashing.get(i, []) if names.actor(v.id) in s]
        reason = "; ".join(why) if why else "its bounds never overlap the packages the drafters may table"
        out.append(Finding(f"veto_player:{v.id}", f"The terms of {names.actor(v.id)} are never met inside the red "
                           f"lines in any run, so it refuses ratification: {reason}."))  # fmt: skip
    return out


def milestones_never(spec: Scenario, table: pd.DataFrame, names: Names) -> list[Finding]:
    """Milestones no run carried out, each with the first reason that holds."""
    out = []
    for m in spec.milestones:
        if (table[column("milestone_round", m.id)] >= 0).any():
            continue
        unagreed = [i for i in m.issues if (table[column("agreed_round", i)] < 0).all()]
        unresolved = [p for p in m.preconditions if (table[column("precondition", p)] == "unmet").all()]
        if unagreed:
            why = f"its issues are never agreed ({', '.join(names.issues[i] for i in unagreed)})"
        elif m.phase and (table[column("phase_round", m.phase)] < 0).all():
            why = f"its phase, {names.phases[m.phase]}, is never declared"
        elif unresolved:
            why = f"its preconditions are never met or waived ({', '.join(names.preconditions[p] for p in unresolved)})"
        elif bounds(m.hazard)[1] == 0:
            why = "its chance a round of being carried out is 0"
        else:
            why = f"it was possible but not carried out in {len(table)} runs (chance a round: {m.hazard})"
        out.append(Finding(f"implemented:{m.id}", f"{names.milestones[m.id]} is never carried out: {why}."))
    return out


def forced(spec: Scenario, mechanism: str, alternative: str) -> Scenario:
    """``spec`` with every run drawing ``alternative`` of ``mechanism`` (the others weighted 0), its other
    mechanisms and streams as they were, so that its runs pair with the scenario's run by run."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    for m in data["mechanisms"]:
        if m["id"] == mechanism:
            for a in m["alternatives"]:
                a["weight"] = 1.0 if a["id"] == alternative else 0.0
    return validate(data)


def mechanisms_idle(spec: Scenario, outcomes: dict[tuple[str, str], np.ndarray], names: Names) -> list[Finding]:
    """Mechanisms under whose every alternative each run ends the same way (``outcomes``: (mechanism, alternative)
    -> each run's end, :func:`ends`, with every run drawing that alternative): the choice cannot change the answer."""
    out = []
    for mech in spec.mechanisms:
        played = [outcomes.get((mech.id, a.id)) for a in mech.alternatives]
        if all(p is not None for p in played) and all(np.array_equal(played[0], other) for other in played[1:]):
            each = ", ".join(names.alternatives[(mech.id, a.id)] for a in mech.alternatives)
            out.append(Finding(f"mechanism:{mech.id}", f"{names.mechanisms[mech.id]} cannot change the answer: every "
                               f"one of the {len(played[0])} runs ends the same way (its outcome, the round of any "
                               f"collapse) under each of its alternatives "
                               f"({each})."))  # fmt: skip
    return out


def actors_without_say(spec: Scenario, table: pd.DataFrame, names: Names) -> list[Finding]:
    """Actors that can never block the declaration: a party to no gate, with no say by announcement, no red line,
    precondition or veto player of their own (and, for the record, gate parties no run saw block)."""
    out = []
    parties = {a for p in spec.ordered_phases() for a in (*p.gate.consent, *p.gate.declared_by)}
    holders = {r.actor for r in spec.red_lines} | {p.actor for p in spec.preconditions}
    holders |= {v.principal for v in spec.veto_players}
    blockers = set(table["blocker"]) | set(table["open_blocker"])
    for a in spec.seated:
        if a.id not in parties and a.id not in holders:
            out.append(Finding(f"actor:{a.id}", f"{names.actor(a.id)} can never block: it is a party to no phase's "
                               "gate and holds no red line, precondition or veto player."))  # fmt: skip
        elif a.id in parties and a.id not in blockers and not (table["outcome"] == "declared").any():
            out.append(Finding(f"actor:{a.id}", f"{names.actor(a.id)} never blocked in {len(table)} runs, though it "
                               "is a party to a gate."))  # fmt: skip
    return out


def explain(spec: Scenario, table: pd.DataFrame, outcomes: dict | None = None) -> list[Finding]:
    """Everything in ``spec`` that no run of ``table`` (its per-run table) reached, and why; then what cannot
    matter (mechanisms, given each alternative's ``outcomes`` as :func:`mechanisms_idle` reads them, and actors
    without a say)."""
    names = Names(spec)
    clashing = clashes(spec, names)
    return [
        *declared_never(spec, table, names),
        *consented_never(spec, table, names),
        *collapse_never(spec, table),
        *issues_never(spec, table, names, clashing),
        *preconditions_never(spec, table, names),
        *veto_players_never(spec, table, names, clashing),
        *milestones_never(spec, table, names),
        *mechanisms_idle(spec, outcomes or {}, names),
        *actors_without_say(spec, table, names),
    ]


def explanation_text(spec: Scenario, table: pd.DataFrame, findings: list[Finding]) -> str:
    """The findings as a short report under the batch's outcome shares: one line each, or that everything the
    scenario measures happens in some run."""
    shares = table["outcome"].value_counts(normalize=True)
    outcomes = ", ".join(f"{o} {_percent(float(shares.get(o, 0.0)))}" for o in OUTCOME_ORDER)
    head = f"{spec.meta.name}: {len(table)} runs ({outcomes}). What never happens, and why:"
    if not findings:
        return f"{head}\n- everything the scenario measures happens in some run."
    return "\n".join([head, *(f"- {f.text}" for f in findings)])


def ends(table: pd.DataFrame) -> np.ndarray:
    """How each run of ``table`` ends: its outcome and the round of any collapse (a collapse after a declaration
    leaves the outcome ``declared``, as when a signed text breaks down while it is carried out)."""
    return (table["outcome"].astype(str) + "@" + table["collapse_round"].astype(str)).to_numpy(dtype=object)


def explained(spec: Scenario, runs: int = 300, seed: int | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Play a small batch of ``spec`` (and one of each mechanism's alternatives, run for run) and explain it."""
    from sim.batch.runner import run_batch

    table = run_batch(spec, runs=runs, seed=seed)
    outcomes = {
        (m.id, a.id): ends(run_batch(forced(spec, m.id, a.id), runs=runs, seed=seed))
        for m in spec.mechanisms
        for a in m.alternatives
    }
    return table, explain(spec, table, outcomes)
