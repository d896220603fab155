"""Readable names for a scenario's ids, shared by the figures and the briefing.

Actors go by their ``name``; issues, events and red lines by their ``label``. An id without
one is made readable: underscores become spaces, and a word that the scenario's own text
writes only capitalised keeps its capitals (``us_on_israel`` -> ``US on Israel``).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from sim.scenario.schema import Scenario

TEXT_FIELDS = ("name", "description", "label", "low", "high")
WORD = re.compile(r"[^\W\d_]\w*")


def words(ident: str) -> str:
    """An id with spaces for underscores: ``egyptian_teams_searching`` -> ``egyptian teams searching``."""
    return ident.replace("_", " ")


def _texts(node):
    """The prose of a scenario: names, labels, descriptions and every ``basis`` entry."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if name in TEXT_FIELDS and isinstance(value, str):
                yield value
            elif name == "basis":
                yield from value.values()
            else:
                yield from _texts(value)
    elif isinstance(node, (list, tuple, dict)):
        for value in node.values() if isinstance(node, dict) else node:
            yield from _texts(value)


def capitals(scenario: Scenario) -> dict[str, str]:
    """Lowercase word -> the capitalised form the scenario always writes it in (sentence starts aside)."""
    lower, capital = set(), {}
    for text in _texts(scenario):
        for m in WORD.finditer(text):
            before = text[: m.start()].rstrip()
            word = m.group(0)
            if word.islower():
                lower.add(word)
            elif before and before[-1] not in ".!?:":
                capital.setdefault(word.lower(), word)
    return {w: c for w, c in capital.items() if w not in lower}


class Names:
    """The readable names of one scenario's actors, issues, events, red lines, flags and parameters."""

    def __init__(self, scenario: Scenario):
        self._capitals = capitals(scenario)
        self.actors = {a.id: a.name or self.readable(a.id) for a in scenario.actors}
        self.issues = {i.id: i.label for i in scenario.issues}
        self.events = {e.id: e.label or self.readable(e.id) for e in scenario.events}
        self.red_lines = {r.id: r.label or self.readable(r.id) for r in scenario.red_lines}
        self.preconditions = {p.id: p.label or self.readable(p.flag) for p in scenario.preconditions}
        self.phases = {p.id: p.label or self.readable(p.id) for p in scenario.ordered_phases()}
        self.milestones = {m.id: m.label or self.readable(m.id) for m in scenario.milestones}
        self.veto_players = {v.id: v.name or self.readable(v.id) for v in scenario.veto_players}
        self.guarantees = {g.id: g.label or self.readable(g.id) for g in scenario.guarantees}
        self.leverage = {lev.id: self.readable(lev.id) for lev in scenario.leverage}
        self.expiries = {x.id: x.label or self.readable(x.id) for x in scenario.expiries}
        self.mechanisms = {m.id: m.label or self.readable(m.id) for m in scenario.mechanisms}
        self.alternatives = {(m.id, a.id): a.label or self.readable(a.id) for m in scenario.mechanisms
                             for a in m.alternatives}  # fmt: skip
        self.causes = {**self.events, **self.expiries, **{f"{p}_framework": f"{name}: framework broke over its "
                       "ambiguity" for p, name in self.phases.items()}}  # fmt: skip
        self.causes.update({f"{m}_missed": f"{name}: deadline missed" for m, name in self.milestones.items()})

    def readable(self, ident: str) -> str:
        """An id made readable, with the scenario's own capitals: ``us_on_israel`` -> ``US on Israel``."""
        return " ".join(self._capitals.get(w, w) for w in words(ident).split(" "))

    def actor(self, ident: str) -> str:
        """An actor's or a domestic veto player's name."""
        return self.actors.get(ident) or self.veto_players.get(ident) or self.readable(ident)

    def field(self, path: str) -> str:
        """A parameter path as words: ``actors.israel.reservation`` -> ``Israel: reservation``."""
        section, _, rest = path.partition(".")
        ident, _, name = rest.partition(".")
        named = self._section(section)
        if named is not None and ident and not name:  # a whole item: ``events.summit`` -> ``events: Summit``
            return f"{words(section)}: {named.get(ident) or self.readable(ident)}"
        if named is None or not name:
            return self.readable((rest or section).replace(".", "_"))
        parts = name.split(".")
        issues = [self.issues[p] for p in parts if p in self.issues]
        rest = [p for p in parts if p not in self.issues]
        words_ = [self.actors[p] if p in self.actors else self.readable(p) for p in rest]
        what = " ".join(words_) + (f" ({', '.join(issues)})" if issues else "")
        return f"{named.get(ident) or self.readable(ident)}: {what}"

    def _section(self, section: str) -> dict[str, str] | None:
        """The names of the items of a section of the scenario that lists items by id, else None."""
        return {
            "actors": self.actors,
            "issues": self.issues,
            "events": self.events,
            "red_lines": self.red_lines,
            "preconditions": self.preconditions,
            "phases": self.phases,
            "milestones": self.milestones,
            "veto_players": self.veto_players,
            "guarantees": self.guarantees,
            "leverage": self.leverage,
            "expiries": self.expiries,
            "mechanisms": self.mechanisms,
        }.get(section)
