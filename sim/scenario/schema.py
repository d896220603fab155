"""The scenario language: a pydantic schema for negotiations with red lines.

A scenario names issues (0-100 axes), actors with positions and saliences, red lines,
preconditions, leverage, world-state flags, events and a protocol. Any numeric field may be
a :mod:`distribution <sim.scenario.distributions>` for Monte Carlo. Every object may carry a
``basis`` mapping from its field names to the seed claim ids or stated assumptions the
numbers rest on.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.scenario.distributions import Distribution
from sim.scenario.problems import did_you_mean

Number = float | Distribution
ROLES = ("principal", "broker", "mediator", "stakeholder")
TIME_STRATEGIES = {"boulware": 0.25, "conceder": 3.0, "linear": 1.0, "hardline": 0.0}
STRATEGIES = (*TIME_STRATEGIES, "zeuthen", "subgame_perfect")
BUILTIN_FLAGS = ("transition",)
MAX_RUNS = 10**9


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Sourced(Strict):
    basis: dict[str, str] = Field(default_factory=dict, description="field -> seed claim ids or 'assumption: why'")


def bounds(value: Number) -> tuple[float, float]:
    """The smallest and largest value a number or distribution can take."""
    return (value, value) if isinstance(value, (int, float)) else value.support()


def check_range(value: Number, lo: float, hi: float) -> Number:
    """``value`` if it (or every value its distribution can take) lies in [lo, hi]; else ValueError."""
    a, b = bounds(value)
    if not (math.isfinite(a) and math.isfinite(b)):
        hint = "" if isinstance(value, (int, float)) else " (give the normal low/high clipping)"
        raise ValueError(f"must be a finite number in [{lo:g}, {hi:g}]{hint}")
    if a < lo or b > hi:
        got = f"{a:g}" if a == b else f"{a:g}..{b:g}"
        raise ValueError(f"must lie in [{lo:g}, {hi:g}] (got {got})")
    return value


def ranged(lo: float, hi: float):
    """A number-or-distribution type restricted to [lo, hi]."""
    return Annotated[Number, AfterValidator(lambda v: check_range(v, lo, hi))]


Unit = ranged(0, 1)
Scale = ranged(0, 100)


class Meta(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    start_date: dt.date = dt.date(2025, 12, 15)
    horizon: int = Field(26, ge=1, le=520, description="rounds")
    round_days: int = Field(7, ge=1, le=366, description="calendar days per round")
    seed: int = Field(20251215, ge=0, lt=2**63)
    runs: int = Field(10_000, ge=1, le=MAX_RUNS)

    def seed_or(self, seed: int | None) -> int:
        """``seed``, or the scenario's own when none is given."""
        return self.seed if seed is None else seed

    def date_of(self, round_: int) -> dt.date:
        return self.start_date + dt.timedelta(days=self.round_days * round_)


class Issue(Sourced):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    low: str = Field(description="what 0 means")
    high: str = Field(description="what 100 means")


class Concession(Sourced):
    strategy: Literal[STRATEGIES] = "linear"
    exponent: ranged(0, 100) | None = Field(None, description="time-based shape: <1 Boulware, >1 Conceder")
    patience: Unit = Field(0.95, description="per-round discount factor (subgame-perfect offers)")
    step: ranged(1e-6, 1) = Field(0.02, description="Zeuthen concession step in utility")
    deadline: ranged(1, 10_000) | None = Field(
        None, description="rounds by which a time-based actor reaches its reservation (default: horizon)"
    )

    @model_validator(mode="after")
    def _check(self):
        if self.exponent is not None:
            lo, hi = bounds(self.exponent)
            if self.strategy == "boulware" and hi >= 1:
                raise ValueError("a boulware exponent must be < 1")
            if self.strategy == "conceder" and lo <= 1:
                raise ValueError("a conceder exponent must be > 1")
        return self

    def shape(self) -> Number:
        return self.exponent if self.exponent is not None else TIME_STRATEGIES.get(self.strategy, 1.0)


class Actor(Sourced):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = ""
    role: Literal[ROLES]
    position: dict[str, Scale]
    salience: dict[str, Unit] = Field(description="weights per issue summing to 1 (renormalised per run if drawn)")
    capability: Unit = 0.5
    reservation: Unit = Field(0.5, description="utility of no deal")
    concession: Concession = Field(default_factory=Concession)
    noise: Unit = Field(0.0, description="sd of the noise in judging a package")

    @field_validator("salience")
    @classmethod
    def _sums_to_one(cls, salience):
        if all(isinstance(v, (int, float)) for v in salience.values()):
            total = sum(salience.values())
            if abs(total - 1) > 1e-6:
                raise ValueError(f"must sum to 1 (sums to {total:g})")
        elif sum(bounds(v)[1] for v in salience.values()) <= 0:
            raise ValueError("must have some positive weight")
        return salience


class RedLine(Sourced):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    actor: str
    issue: str
    min: Scale | None = None
    max: Scale | None = None
    label: str = ""

    @model_validator(mode="after")
    def _check(self):
        if self.min is None and self.max is None:
            raise ValueError("a red line needs min or max")
        if self.min is not None and self.max is not None and bounds(self.min)[1] > bounds(self.max)[0]:
            raise ValueError("red line min must not exceed max")
        return self


class Precondition(Sourced):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    actor: str
    flag: str
    waivable: bool = False
    waiver_pressure: ranged(0, 10) = Field(1.0, description="pressure on the actor at which it waives")
    earliest_waiver_round: int = Field(0, ge=0)


class When(Strict):
    from_round: int = Field(0, ge=0)
    until_round: int | None = Field(None, ge=0)
    requires: list[str] = Field(default_factory=list, description="flags that must all be set")
    unless: list[str] = Field(default_factory=list, description="flags that must all be unset")


class Leverage(Sourced):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    strength: Unit = Field(description="pressure added per round (utility units)")
    on: Literal["block", "always"] = "block"
    when: When = Field(default_factory=When)


class Effects(Strict):
    set: list[str] = Field(default_factory=list)
    unset: list[str] = Field(default_factory=list)
    pressure: dict[str, ranged(-1, 1)] = Field(default_factory=dict, description="actor -> pressure added")
    reservation: dict[str, ranged(-1, 1)] = Field(default_factory=dict, description="actor -> reservation shift")
    position: dict[str, dict[str, ranged(-100, 100)]] = Field(
        default_factory=dict, description="actor -> issue -> shift"
    )


class Event(Sourced):
    """Something that happens in the world: scheduled (at_round), once by hazard, or repeatedly (rate)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    at_round: int | None = Field(None, ge=1, description="round number (1 = the first round)")
    probability: Unit = Field(1.0, description="chance a scheduled event happens")
    hazard: Unit | None = Field(None, description="per-round chance of happening once")
    rate: ranged(0, 20) | None = Field(None, description="expected occurrences per round (Poisson)")
    boost: dict[str, ranged(0, 100)] = Field(default_factory=dict, description="flag -> multiplier on hazard or rate")
    collapse: Unit = Field(0.0, description="chance each occurrence collapses the truce")
    milestone: bool = Field(False, description="an implementation step: only after a transition")
    when: When = Field(default_factory=When)
    effects: Effects = Field(default_factory=Effects)

    @model_validator(mode="after")
    def _check(self):
        triggers = [t for t in ("at_round", "hazard", "rate") if getattr(self, t) is not None]
        if len(triggers) != 1:
            raise ValueError("an event needs exactly one of at_round, hazard, rate")
        return self

    @property
    def trigger(self) -> str:
        return "at_round" if self.at_round is not None else "hazard" if self.hazard is not None else "rate"


class Protocol(Sourced):
    rule: Literal["compromise", "nash", "alternating"] = "compromise"
    at_table: list[str] = Field(
        default_factory=list, description="actors whose positions enter the compromise (default: all)"
    )
    pressure_decay: Unit = Field(0.0, description="share of pressure lost each round")
    first_proposer: str | None = Field(None, description="alternating offers: who proposes first")


class Outputs(Strict):
    trajectories: int = Field(0, ge=0, description="runs whose per-round state is recorded")
    figures: list[Literal["outcomes", "transition_curve", "blocking", "packages", "positions"]] = Field(
        default_factory=lambda: ["outcomes", "transition_curve", "blocking", "packages", "positions"],
        description="figures to draw; 'positions' (a fan chart) needs recorded trajectories",
    )


class World(Sourced):
    flags: dict[str, bool] = Field(default_factory=dict)


class Scenario(Strict):
    """A whole negotiation: who, over what, under which rules and world."""

    meta: Meta
    issues: list[Issue] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=2)
    red_lines: list[RedLine] = Field(default_factory=list)
    preconditions: list[Precondition] = Field(default_factory=list)
    leverage: list[Leverage] = Field(default_factory=list)
    world: World = Field(default_factory=World)
    events: list[Event] = Field(default_factory=list)
    protocol: Protocol = Field(default_factory=Protocol)
    outputs: Outputs = Field(default_factory=Outputs)

    @property
    def principals(self) -> list[Actor]:
        return [a for a in self.actors if a.role == "principal"]

    @property
    def two_party(self) -> bool:
        """Whether the protocol or a strategy is one of two principals' (Nash, offers, Zeuthen, subgame-perfect)."""
        strategies = {a.concession.strategy for a in self.principals}
        return self.protocol.rule != "compromise" or bool(strategies & {"zeuthen", "subgame_perfect"})

    def actor_index(self, actor_id: str) -> int:
        return [a.id for a in self.actors].index(actor_id)

    def issue_ids(self) -> list[str]:
        return [i.id for i in self.issues]

    def flag_names(self) -> list[str]:
        """All world-state flags: declared ones, those events set or unset, and built-ins."""
        names = dict.fromkeys(self.world.flags)
        for e in self.events:
            names.update(dict.fromkeys(e.effects.set + e.effects.unset))
        names.update(dict.fromkeys(BUILTIN_FLAGS))
        return list(names)

    def references(self):
        """Every cross-reference as (path, kind, value), for checking against what exists."""
        for i, a in enumerate(self.actors):
            for field in ("position", "salience"):
                for issue in getattr(a, field):
                    yield (f"actors.{i}.{field}.{issue}", "issue", issue)
        for i, r in enumerate(self.red_lines):
            yield (f"red_lines.{i}.actor", "actor", r.actor)
            yield (f"red_lines.{i}.issue", "issue", r.issue)
        for i, p in enumerate(self.preconditions):
            yield (f"preconditions.{i}.actor", "actor", p.actor)
            yield (f"preconditions.{i}.flag", "flag", p.flag)
        for i, lev in enumerate(self.leverage):
            yield (f"leverage.{i}.from", "actor", lev.source)
            yield (f"leverage.{i}.to", "actor", lev.target)
            yield from _when_refs(f"leverage.{i}.when", lev.when)
        for i, e in enumerate(self.events):
            yield from _when_refs(f"events.{i}.when", e.when)
            for flag in e.boost:
                yield (f"events.{i}.boost.{flag}", "flag", flag)
            fx = e.effects
            for field in ("pressure", "reservation", "position"):
                for actor in getattr(fx, field):
                    yield (f"events.{i}.effects.{field}.{actor}", "actor", actor)
            for actor, shifts in fx.position.items():
                for issue in shifts:
                    yield (f"events.{i}.effects.position.{actor}.{issue}", "issue", issue)
        for j, actor in enumerate(self.protocol.at_table):
            yield (f"protocol.at_table.{j}", "actor", actor)
        if self.protocol.first_proposer is not None:
            yield ("protocol.first_proposer", "actor", self.protocol.first_proposer)

    def problems(self):
        """Cross-field problems as (dotted path, message); empty when the scenario is coherent."""
        known = {"actor": [a.id for a in self.actors], "issue": self.issue_ids(), "flag": self.flag_names()}
        out = []
        for kind, ids in (("issue", self.issue_ids()), ("actor", known["actor"])):
            out += _duplicates(ids, "issues" if kind == "issue" else "actors", kind)
        for field in ("red_lines", "preconditions", "leverage", "events"):
            out += _duplicates([x.id for x in getattr(self, field)], field, "id")
        for path, kind, value in self.references():
            if value not in known[kind]:
                out.append((path, f"unknown {kind} '{value}'{did_you_mean(value, known[kind])}"))
        issues = set(self.issue_ids())
        for i, a in enumerate(self.actors):
            for field in ("position", "salience"):
                missing = issues - set(getattr(a, field))
                if missing:
                    out.append((f"actors.{i}.{field}", f"missing issue(s): {', '.join(sorted(missing))}"))
            if a.role != "principal" and a.concession.strategy in ("zeuthen", "subgame_perfect"):
                out.append((f"actors.{i}.concession.strategy", f"'{a.concession.strategy}' is for principals only"))
        principals = self.principals
        if not principals:
            out.append(("actors", "a negotiation needs at least one principal"))
        strategies = {a.concession.strategy for a in principals}
        if self.two_party and len(principals) != 2:
            out.append(("protocol.rule", "nash, alternating, zeuthen and subgame-perfect need exactly two principals"))
        if "subgame_perfect" in strategies and (
            self.protocol.rule != "alternating" or strategies != {"subgame_perfect"}
        ):
            out.append(
                ("protocol.rule", "subgame_perfect offers need rule 'alternating' and both principals subgame_perfect")
            )
        if self.protocol.first_proposer and self.protocol.first_proposer not in [p.id for p in principals]:
            out.append(("protocol.first_proposer", "must be a principal"))
        for i, r in enumerate(self.red_lines):
            if r.actor in known["actor"] and self.actors[self.actor_index(r.actor)].role != "principal":
                out.append((f"red_lines.{i}.actor", "red lines bind only principals (actors with a veto)"))
        for i, e in enumerate(self.events):
            if e.at_round is not None and e.at_round > self.meta.horizon:
                out.append((f"events.{i}.at_round", f"round {e.at_round} is beyond the horizon ({self.meta.horizon})"))
        return out


def _when_refs(path: str, when: When):
    for field in ("requires", "unless"):
        for j, flag in enumerate(getattr(when, field)):
            yield (f"{path}.{field}.{j}", "flag", flag)


def _duplicates(ids: list[str], path: str, what: str):
    seen, out = set(), []
    for i, x in enumerate(ids):
        if x in seen:
            out.append((f"{path}.{i}.id", f"duplicate {what} '{x}'"))
        seen.add(x)
    return out
