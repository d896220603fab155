"""Observed-outcomes files: what happened after a forecast, as yes/no events the results can be scored on.

An observed file names the case it observes, the forecast question it resolves, a reference class of
comparable cases (often shared through ``extends:``) and its events. Each event refers to something a
results folder records (:data:`RESULTS`), asks whether it happened ``by`` a date, and says either
``happened_on: DATE`` or ``not_happened_by: DATE``, with its resolution criterion: what evidence, from
whom, counts. Its ``reference`` names the outcome of the reference class that gives its base rate; the
case observed is never part of its own base rate (leave-one-out).

Problems print like a scenario's: ``file:line: field.path: message``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from sim.scenario.errors import Problem, did_you_mean
from sim.scenario.fields import Strict
from sim.scenario.loader import problem_at, read, validate
from sim.scenario.schema import ID
from sim.scenario.targets import CEASEFIRE_TYPES

# What an event can refer to, with the id each needs (``declared`` alone is the scenario's first phase).
RESULTS = {
    "declared": "phase",
    "agreed": "issue",
    "implemented": "milestone",
    "event": "event",
    "collapse": None,
}
RESULT = re.compile(r"^(?P<kind>[a-z]+)(?::(?P<ident>[a-z][a-z0-9_]*))?$")


class Timed(Strict):
    """A reference case's outcome in weeks from its start: happened in ``week``, or not by ``not_by_week``."""

    week: float | None = Field(None, ge=0)
    not_by_week: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one(self):
        if (self.week is None) == (self.not_by_week is None):
            raise ValueError("give either week (when it happened) or not_by_week (how long it was seen not to)")
        return self

    def resolves(self, weeks: float) -> bool | None:
        """Whether it happened within ``weeks``; None when the record does not reach that far."""
        if self.week is not None:
            return self.week <= weeks
        return False if self.not_by_week >= weeks else None


class Case(Strict):
    """A case of the reference class: what was observed in it, by name (the file's ``outcomes``), each yes/no
    (by the case's own schedule) or timed."""

    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    start: dt.date
    type: Literal[CEASEFIRE_TYPES] | None = Field(
        None, description="time_limited (it ends at an expiry unless extended) or open_ended"
    )
    observed: dict[str, bool | Timed] = Field(alias="outcomes", min_length=1)


class ReferenceClass(Strict):
    label: str = Field(min_length=1)
    reason: str = Field(min_length=1, description="why these cases belong to the class of the question")
    source: str = Field(min_length=1)
    cases: list[Case] = Field(min_length=2)


class Event(Strict):
    id: str = Field(pattern=ID)
    label: str = Field(min_length=1)
    result: str = Field(description="declared[:phase], agreed:issue, implemented:milestone, event:id or collapse")
    by: dt.date = Field(description="the question: did it happen by this date?")
    happened_on: dt.date | None = None
    not_happened_by: dt.date | None = None
    resolution: str = Field(min_length=1, description="what evidence, from whom, counts as it having happened")
    reference: str = Field(pattern=ID, description="the reference class's outcome that gives the base rate")
    basis: str = Field(min_length=1, description="where the observation comes from")

    @property
    def happened(self) -> bool:
        return self.happened_on is not None


class Observed(Strict):
    case: str = Field(pattern=ID, description="the reference case observed (left out of its own base rates)")
    question: str = Field(min_length=1, description="the forecast question it resolves (a forecast log's question)")
    start_date: dt.date
    source: str = Field(min_length=1)
    reference_class: ReferenceClass
    events: list[Event] = Field(min_length=1)
    written_after_outcome: bool = Field(
        False, description="the case's scenario was written after its outcome was known: its scores are in-sample"
    )
    _where: dict = PrivateAttr(default_factory=dict)
    _file: str = PrivateAttr("<observed>")

    def weeks(self, event: Event) -> float:
        return (event.by - self.start_date).days / 7

    def base_rate(self, event: Event) -> tuple[int, int, list[str]]:
        """(cases in which it happened, cases that resolve it, their ids): the reference class's frequency of the
        event's ``reference`` outcome within the event's window, the observed case left out."""
        hits, cases = 0, []
        for case in self.reference_class.cases:
            seen = case.observed.get(event.reference)
            if case.id == self.case or seen is None:
                continue
            resolved = seen.resolves(self.weeks(event)) if isinstance(seen, Timed) else seen
            if resolved is not None:
                hits += resolved
                cases.append(case.id)
        return hits, len(cases), cases

    def incoherences(self) -> list[tuple[str, str]]:
        """Cross-field problems as (dotted path, message)."""
        out = []
        for field, items in (("reference_class.cases", self.reference_class.cases), ("events", self.events)):
            seen = set()
            for k, item in enumerate(items):
                if item.id in seen:
                    out.append((f"{field}.{k}.id", f"duplicate id '{item.id}'"))
                seen.add(item.id)
        kinds: dict[str, tuple[bool, str]] = {}  # observation name -> (timed?, the case that first records it)
        for k, case in enumerate(self.reference_class.cases):
            for name, seen in case.observed.items():
                timed, first = kinds.setdefault(name, (isinstance(seen, Timed), case.id))
                if timed != isinstance(seen, Timed):
                    what = "timed" if timed else "yes/no"
                    out.append((f"reference_class.cases.{k}.outcomes.{name}", f"{what} in case {first}: give it so"))
        for k, e in enumerate(self.events):
            out += [(f"events.{k}.{field}", msg) for field, msg in self._event_problems(e, kinds)]
        return out

    def _event_problems(self, e: Event, kinds: dict):
        match = RESULT.match(e.result)
        kind, ident = (match["kind"], match["ident"]) if match else ("", None)
        needs = RESULTS.get(kind, "?")
        if needs == "?" or (ident is None and needs not in (None, "phase")) or (ident and needs is None):
            yield "result", f"'{e.result}' is not one of: {', '.join(result_forms())}"
        if e.by <= self.start_date:
            yield "by", f"must come after the start date ({self.start_date})"
        if e.happened == (e.not_happened_by is not None):
            yield "happened_on", "give either happened_on or not_happened_by"
        elif e.happened and not self.start_date <= e.happened_on <= e.by:
            yield "happened_on", f"must lie between the start date ({self.start_date}) and by ({e.by})"
        elif not e.happened and e.not_happened_by < e.by:
            yield "not_happened_by", f"must be on or after by ({e.by}): the question runs until then"
        if e.reference not in kinds:
            yield (
                "reference",
                f"no case of the reference class records '{e.reference}'" + did_you_mean(e.reference, sorted(kinds)),
            )
        elif not self.base_rate(e)[1]:
            yield "reference", f"no case but this one resolves '{e.reference}' within {self.weeks(e):.1f} weeks"


def result_forms() -> list[str]:
    return ["declared", *(f"{k}:<{v}>" if v else k for k, v in RESULTS.items())]


def load_observed(path: str | Path) -> Observed:
    """Load and validate an observed-outcomes file; raise :class:`~sim.scenario.errors.ScenarioError`."""
    data, where = read(path, kind="an observed-outcomes file")
    observed = validate(data, where, str(path), Observed, Observed.incoherences)
    observed._where, observed._file = where, str(path)
    return observed


def event_problem(observed: Observed, k: int, field: str, message: str) -> Problem:
    """A problem with field ``field`` of the ``k``-th event, found against a forecast, on its line of the file."""
    at = problem_at(observed._where, observed._file, f"events.{k}.{field}", message)
    return Problem(at.file, at.line, f"events.{observed.events[k].id}.{field}", message)
