"""The scenario language: a pydantic schema for negotiations with red lines.

A scenario names issues (0-100 axes), actors with positions and saliences, red lines,
preconditions, phases and the gates that declare them, leverage and guarantees, domestic veto
players, world-state flags, events, implementation milestones, the risk of collapse and a
protocol. Any numeric field may be a :mod:`distribution <sim.scenario.distributions>` for Monte
Carlo. Every object may carry a ``basis`` mapping from its field names to the seed claim ids or
stated assumptions the numbers rest on.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from sim.scenario.distributions import Distribution
from sim.scenario.problems import did_you_mean

Number = float | Distribution
ROLES = ("principal", "broker", "mediator", "stakeholder", "spoiler")
THIRD_PARTIES = ("broker", "mediator", "stakeholder")
TIME_STRATEGIES = {"boulware": 0.25, "conceder": 3.0, "linear": 1.0}
STRATEGIES = (*TIME_STRATEGIES, "responsive", "hardline", "zeuthen", "subgame_perfect")
TWO_PARTY_STRATEGIES = ("zeuthen", "subgame_perfect")
BUILTIN_FLAGS = ("talks_open", "stalled", "collapsed")
MAX_RUNS = 10**9
ID = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Sourced(Strict):
    basis: dict[str, str] = Field(default_factory=dict, description="field -> seed claim ids or 'assumption: why'")


def bounds(value: Number) -> tuple[float, float]:
    """The smallest and largest value a number or distribution can take."""
    return (value, value) if isinstance(value, int | float) else value.support()


def check_range(value: Number, lo: float, hi: float) -> Number:
    """``value`` if it (or every value its distribution can take) lies in [lo, hi]; else ValueError."""
    a, b = bounds(value)
    if not (math.isfinite(a) and math.isfinite(b)):
        hint = "" if isinstance(value, int | float) else " (give the normal low/high clipping)"
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
Cost = ranged(0, 1e6)


class Meta(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    start_date: dt.date = dt.date(2025, 12, 15)
    horizon: int = Field(26, ge=1, le=520, description="rounds observed (never changes what happens in them)")
    round_days: int = Field(7, ge=1, le=366, description="calendar days per round")
    seed: int = Field(20251215, ge=0, lt=2**63)
    runs: int = Field(10_000, ge=1, le=MAX_RUNS)

    def seed_or(self, seed: int | None) -> int:
        """``seed``, or the scenario's own when none is given."""
        return self.seed if seed is None else seed

    def date_of(self, round_: int) -> dt.date:
        return self.start_date + dt.timedelta(days=self.round_days * round_)


class Issue(Sourced):
    id: str = Field(pattern=ID)
    label: str
    low: str = Field(description="what 0 means")
    high: str = Field(description="what 100 means")


class Concession(Sourced):
    """How a principal lowers what it holds out for, on its own clock (which never depends on the horizon)."""

    strategy: Literal[STRATEGIES] = "linear"
    exponent: ranged(0.01, 100) | None = Field(None, description="time-based shape: <1 Boulware, >1 Conceder")
    deadline: ranged(1, 10_000) | None = Field(
        None, description="rounds of talks by which a time-based or responsive principal reaches its reservation"
    )
    reciprocity: ranged(0, 5) = Field(
        1.0, description="responsive: share of the other side's last concession matched, on top of the steady pace"
    )
    patience: Unit = Field(0.95, description="per-round discount factor (subgame-perfect offers)")
    step: ranged(1e-6, 1) = Field(0.02, description="Zeuthen concession step in utility")

    @model_validator(mode="after")
    def _check(self):
        if self.exponent is not None:
            lo, hi = bounds(self.exponent)
            if self.strategy == "boulware" and hi >= 1:
                raise ValueError("a boulware exponent must be < 1")
            if self.strategy == "conceder" and lo <= 1:
                raise ValueError("a conceder exponent must be > 1")
        return self

    @property
    def timed(self) -> bool:
        """Whether the strategy runs on a deadline (time-based or responsive)."""
        return self.strategy in (*TIME_STRATEGIES, "responsive")

    def shape(self) -> Number:
        return self.exponent if self.exponent is not None else TIME_STRATEGIES.get(self.strategy, 1.0)


class Actor(Sourced):
    id: str = Field(pattern=ID)
    name: str = ""
    role: Literal[ROLES]
    position: dict[str, Scale] = Field(default_factory=dict)
    salience: dict[str, Unit] = Field(
        default_factory=dict, description="weights per issue summing to 1 (renormalised per run if drawn)"
    )
    capability: Unit = 0.5
    reservation: Unit = Field(0.5, description="utility of no deal (principals)")
    concession: Concession | None = Field(None, description="principals only: how they concede")
    noise: Unit = Field(0.0, description="sd of a per-run bias in how the actor values packages (a trait)")
    budget: Cost = Field(0.0, description="political capital for pressing, guarantees and summits")
    bridging: Literal["own", "nash", "maximin"] = Field(
        "nash", description="how it drafts a bridging package when it tables one"
    )

    @field_validator("salience")
    @classmethod
    def _sums_to_one(cls, salience):
        if not salience:
            return salience
        if all(isinstance(v, int | float) for v in salience.values()):
            total = sum(salience.values())
            if abs(total - 1) > 1e-6:
                raise ValueError(f"must sum to 1 (sums to {total:g})")
        elif sum(bounds(v)[1] for v in salience.values()) <= 0:
            raise ValueError("must have some positive weight")
        return salience

    @property
    def strategy(self) -> str:
        return self.concession.strategy if self.concession else "hardline"


class Relaxation(Sourced):
    to: Scale = Field(description="the bound after relaxing")
    audience_cost: ranged(0, 10) = Field(description="pressure the principal must be under to pay the domestic cost")


class RedLine(Sourced):
    id: str = Field(pattern=ID)
    actor: str
    issue: str
    min: Scale | None = None
    max: Scale | None = None
    label: str = ""
    relax: Relaxation | None = Field(None, description="whether and how far it can be relaxed, at what cost")

    @model_validator(mode="after")
    def _check(self):
        if self.min is None and self.max is None:
            raise ValueError("a red line needs min or max")
        if self.min is not None and self.max is not None and bounds(self.min)[1] > bounds(self.max)[0]:
            raise ValueError("red line min must not exceed max")
        if self.relax is not None and self.min is not None and self.max is not None:
            raise ValueError("only a one-sided red line (min or max) can be relaxed")
        return self


class Precondition(Sourced):
    """A state of the world an actor needs before an act: declaring a phase whose gate applies it, or carrying
    out a milestone that names it. It blocks the act, not bargaining over content, unless ``freezes_concessions``."""

    id: str = Field(pattern=ID)
    actor: str
    flag: str
    label: str = ""
    waivable: bool = False
    waiver_pressure: ranged(0, 10) = Field(1.0, description="pressure on the actor at which it waives")
    earliest_waiver_round: int = Field(0, ge=0)
    freezes_concessions: bool = Field(
        False, description="while it is open, its actor does not concede on any issue (its clock waits)"
    )


class When(Strict):
    from_round: int = Field(0, ge=0)
    until_round: int | None = Field(None, ge=0)
    requires: list[str] = Field(default_factory=list, description="flags that must all be set")
    unless: list[str] = Field(default_factory=list, description="flags that must all be unset")


DECLARATION_RULES = ("consent", "non_objection", "framework")


class Gate(Sourced):
    """What it takes to declare a phase, and how it is declared (``rule``):

    - ``consent``: every party in ``consent`` accepts the package tabled;
    - ``non_objection``: the actors in ``declared_by`` announce it, and it stands unless a party in ``consent``
      objects, which it does when going along costs it more than open ``defiance`` would (an open precondition
      of its own counts as the pressure it still lacks to waive it; a crossed red line or a domestic veto
      player's refusal always makes it object);
    - ``framework``: a declaration of principles whose settled issues are intervals (the tabled point
      ± ``ambiguity``), each party reading the point best for it; every party in ``consent`` accepts its own
      reading, and the settled issues are then negotiated to a point inside their interval, where each failed
      round breaks the framework with chance ``break_hazard``.
    """

    rule: Literal[DECLARATION_RULES] = Field("consent", description="how the phase is declared")
    consent: list[str] = Field(
        min_length=1,
        description="parties whose acceptance declares the phase (consent, framework) or who may object to its "
        "announcement (non_objection): principals, or third parties with a say",
    )
    declared_by: list[str] = Field(
        default_factory=list, description="non_objection: the third parties that announce the phase"
    )
    declare_when: When = Field(default_factory=When, description="non_objection: when they would announce")
    defiance: dict[str, ranged(0, 10)] = Field(
        default_factory=dict,
        description="non_objection: party -> what open defiance of the announcement costs it (utility)",
    )
    ambiguity: ranged(0, 50) = Field(
        0.0, description="framework: half-width of each settled issue's interval (issue units)"
    )
    break_hazard: Unit = Field(
        0.0, description="framework: chance a round in which a reading cannot be agreed as a point breaks it"
    )
    settle: list[str] = Field(
        default_factory=list, description="issues agreed at declaration (default: every issue not deferred)"
    )
    defer: list[str] = Field(default_factory=list, description="issues negotiated inside the phase")
    preconditions: list[str] | None = Field(None, description="precondition ids that apply (default: all)")
    after: str | None = Field(None, description="a phase that must be declared first")

    @property
    def announced(self) -> bool:
        """Whether third parties announce it (non-objection) rather than the parties declaring it."""
        return self.rule == "non_objection"


class Phase(Sourced):
    id: str = Field(pattern=ID)
    label: str = ""
    gate: Gate


class Milestone(Sourced):
    """An implementation step: possible once its issues are agreed (and its phase declared)."""

    id: str = Field(pattern=ID)
    label: str = ""
    issues: list[str] = Field(min_length=1, description="issues whose agreement it implements")
    phase: str | None = None
    hazard: Unit = Field(description="per-round chance of being carried out once possible")
    preconditions: list[str] = Field(default_factory=list, description="preconditions that must be met or waived")


class Leverage(Sourced):
    """Pressure one actor puts on another: per round, at a cost, with a credibility that erodes."""

    id: str = Field(pattern=ID)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    strength: Unit = Field(description="pressure added per round at full credibility (utility units)")
    on: Literal["block", "always"] = "block"
    when: When = Field(default_factory=When)
    cost: Cost = Field(0.0, description="budget spent per round of pressing")
    credibility: Unit = Field(1.0, description="starting credibility: the share of the strength that bites")
    erosion: Unit = Field(0.0, description="share of credibility lost in a round pressure is not followed through")
    follow_through: Cost = Field(0.0, description="budget it takes to follow pressure through in a round")
    scaled_by_distance: bool = Field(False, description="press harder the further the target is from the source")


class Guarantee(Sourced):
    """A guarantee or side-payment that raises a principal's value of packages on named issues."""

    id: str = Field(pattern=ID)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    issues: list[str] = Field(min_length=1)
    value: Unit = Field(description="utility added when the package settles only these issues")
    cost: Cost = Field(0.0, description="budget spent once, when it is offered")


class Veto(Sourced):
    """A principal rules out a third party's role on an issue (its guarantees and its say there)."""

    by: str
    of: str
    issue: str


class Bound(Strict):
    min: Scale | None = None
    max: Scale | None = None


class VetoPlayer(Sourced):
    """A domestic veto player (a coalition partner, an internal wing) whose red lines a package must pass."""

    id: str = Field(pattern=ID)
    name: str = ""
    principal: str
    bounds: dict[str, Bound] = Field(min_length=1, description="issue -> its own red lines")
    when: When = Field(default_factory=When, description="when it holds a veto")
    belief_error: ranged(0, 50) = Field(
        0.0, description="sd of the drafters' error about its bounds (issue units; 0: they know them exactly)"
    )


class Align(Strict):
    toward: str
    share: ranged(-1, 1) = Field(description="share of the way its ideal moves toward (negative: away from) them")


class Effects(Strict):
    set: list[str] = Field(default_factory=list)
    unset: list[str] = Field(default_factory=list)
    pressure: dict[str, ranged(-1, 1)] = Field(default_factory=dict, description="actor -> pressure added")
    reservation: dict[str, ranged(-1, 1)] = Field(default_factory=dict, description="actor -> reservation shift")
    position: dict[str, dict[str, ranged(-100, 100)]] = Field(
        default_factory=dict, description="actor -> issue -> shift"
    )
    align: dict[str, Align] = Field(default_factory=dict, description="actor -> move its ideal toward another's")
    salience: dict[str, dict[str, ranged(-1, 1)]] = Field(
        default_factory=dict, description="actor -> issue -> salience added (renormalised to sum to 1)"
    )
    red_lines: dict[str, ranged(-100, 100)] = Field(default_factory=dict, description="red line -> shift of its bound")
    veto_bounds: dict[str, dict[str, ranged(-100, 100)]] = Field(
        default_factory=dict, description="veto player -> issue -> shift of its bound"
    )


class AfterProgress(Strict):
    factor: ranged(0, 100) = Field(description="multiplier on hazard or rate soon after progress")
    window: int = Field(ge=1, le=520, description="rounds after a declaration, agreement or milestone")


class Event(Sourced):
    """Something that happens in the world: scheduled, once by hazard, repeatedly, or convened by an actor."""

    id: str = Field(pattern=ID)
    label: str = ""
    at_round: int | None = Field(None, ge=1, description="round number (1 = the first round)")
    probability: Unit = Field(1.0, description="chance a scheduled event happens")
    hazard: Unit | None = Field(None, description="per-round chance of happening once")
    rate: ranged(0, 20) | None = Field(None, description="expected occurrences per round (Poisson)")
    convened_by: str | None = Field(None, description="an actor that convenes it once `when` holds and it can pay")
    cost: Cost = Field(0.0, description="budget the convener spends")
    by: str | None = Field(None, description="the spoiler behind it")
    boost: dict[str, ranged(0, 100)] = Field(default_factory=dict, description="flag -> multiplier on hazard or rate")
    after_progress: AfterProgress | None = Field(None, description="violence timed to progress (spoilers)")
    collapse: Unit = Field(0.0, description="chance each occurrence collapses the ceasefire (before risk factors)")
    when: When = Field(default_factory=When)
    effects: Effects = Field(default_factory=Effects)

    @model_validator(mode="after")
    def _check(self):
        triggers = [t for t in ("at_round", "hazard", "rate", "convened_by") if getattr(self, t) is not None]
        if len(triggers) != 1:
            raise ValueError("an event needs exactly one of at_round, hazard, rate, convened_by")
        return self

    @property
    def trigger(self) -> str:
        return next(t for t in ("at_round", "hazard", "rate", "convened_by") if getattr(self, t) is not None)


class Risk(Sourced):
    """How the risk of breakdown responds to the state of the talks. Each round's hazard is ``hazard`` times
    factors: stalling (rounds without progress since the stall clock started, after ``stall_after``), talks not
    open, recent progress, pressure on the principals, agreed issues, a declared phase and recent incidents
    (events that can collapse the ceasefire). Incidents' own collapse chances are scaled by the same factors.
    Scheduled expiries of time-limited agreements are a separate mechanism (``expiries``)."""

    hazard: Unit = Field(0.0, description="per-round chance the ceasefire breaks down, before the factors")
    stall_after: int = Field(4, ge=1, le=520, description="rounds without progress after which talks count as stalled")
    stall_growth: ranged(0, 10) = Field(0.0, description="risk multiplier added per stalled round")
    stall_cap: ranged(1, 100) = Field(1.0, description="largest multiplier stalling can reach")
    stall_from: When = Field(
        default_factory=When,
        description="when the stall clock starts (e.g. when talks are expected); rounds before never count as stalled",
    )
    closed_factor: ranged(0, 100) = Field(1.0, description="risk multiplier while the talks are not open")
    progress_factor: ranged(0, 100) = Field(1.0, description="risk multiplier within progress_window of progress")
    progress_window: int = Field(4, ge=1, le=520, description="rounds after a declaration, agreement or milestone")
    restraint: ranged(0, 100) = Field(
        0.0, description="pressure restrains: the multiplier is exp(-restraint x the pressure on the principals)"
    )
    incident_factor: ranged(0, 100) = Field(1.0, description="risk multiplier within incident_window of an incident")
    incident_window: int = Field(2, ge=1, le=520, description="rounds after an incident")
    agreement_factor: Unit = Field(1.0, description="risk multiplier per agreed issue")
    declared_factor: Unit = Field(1.0, description="risk multiplier once a phase is declared")


class Expiry(Sourced):
    """A time-limited agreement's scheduled end: in round ``at_round`` it ends (a collapse, cause ``expiry``) with
    chance ``probability`` unless a flag of ``unless`` is set (an extension, a renewal, a declared phase)."""

    id: str = Field(pattern=ID)
    label: str = ""
    at_round: int = Field(ge=1, description="round in which it expires")
    probability: Unit = Field(1.0, description="chance it ends then if nothing in unless holds")
    unless: list[str] = Field(default_factory=list, description="flags any of which keeps it alive")


class Start(Sourced):
    """Where the talks stand at round 0, from the sources: a fresh start at full demands is one choice among others.

    ``conceded``: principal -> share of the way from its ideal to its reservation already conceded (its concession
    clock starts where that share is reached); ``talks_open``: talks are already under way; ``stalled_for``: rounds
    without progress already on the stall clock; ``text``: issue -> a draft already on the table (tabled as it
    stands rather than redrafted), ``signed`` if the parties have accepted it, so that what is left is its
    ratification and the preconditions.
    """

    conceded: dict[str, Unit] = Field(default_factory=dict, description="principal -> share already conceded")
    talks_open: bool = Field(False, description="talks are already under way at round 0")
    stalled_for: int = Field(0, ge=0, le=520, description="rounds without progress already counted")
    text: dict[str, Scale] = Field(default_factory=dict, description="issue -> the draft on the table (0-100)")
    signed: bool = Field(False, description="the parties have accepted the text: ratification is what is left")


class Alternative(Sourced):
    """One way a mechanism might work: the fields it sets (dotted paths, ids for list items), and its weight."""

    id: str = Field(pattern=ID)
    label: str = ""
    weight: ranged(0, 1e6) = Field(1.0, description="relative weight of this alternative (normalised)")
    set: dict[str, object] = Field(default_factory=dict, description="dotted path -> value under this alternative")


class Mechanism(Sourced):
    """Structural uncertainty: where the sources cannot decide how something works, each run draws one of the
    ``alternatives`` (from its own stream), and results are reported under each and as the mixture."""

    id: str = Field(pattern=ID)
    label: str = ""
    alternatives: list[Alternative] = Field(min_length=2)


class Protocol(Sourced):
    rule: Literal["compromise", "bridging", "nash", "alternating"] = "compromise"
    at_table: list[str] = Field(
        default_factory=list, description="actors whose positions enter the compromise (default: all at the table)"
    )
    tabled_by: list[str] = Field(default_factory=list, description="bridging: third parties taking turns to table")
    pressure_decay: Unit = Field(0.0, description="share of pressure lost each round")
    first_proposer: str | None = Field(None, description="alternating offers: who proposes first")
    opens_when: When = Field(default_factory=When, description="when talks open (rounds before are no talks)")


FIGURES = ("outcomes", "declaration_curve", "agreements", "mechanisms", "blocking", "packages", "positions")


class Outputs(Strict):
    trajectories: int = Field(0, ge=0, description="runs whose per-round state is recorded")
    figures: list[Literal[FIGURES]] = Field(
        default_factory=lambda: list(FIGURES),
        description="figures to draw; 'positions' (a fan chart) needs recorded trajectories",
    )


class World(Sourced):
    flags: dict[str, bool] = Field(default_factory=dict)


class PreconditionAsOf(Strict):
    met: int | None = Field(None, ge=1, description="round its flag was set")
    waived: int | None = Field(None, ge=1, description="round it was waived under pressure")

    @model_validator(mode="after")
    def _one(self):
        if (self.met is None) == (self.waived is None):
            raise ValueError("give exactly one of met, waived (the round it happened)")
        return self

    @property
    def round(self) -> int:
        return self.met if self.met is not None else self.waived


class EventAsOf(Strict):
    round: int = Field(ge=1, description="round it first happened")
    count: int = Field(1, ge=1, description="how often it has happened (repeated events)")


class AgreedAsOf(Strict):
    value: ranged(0, 100) = Field(description="the value agreed, on the issue's 0-100 scale")
    round: int = Field(ge=1, description="round it was agreed")

    @field_validator("value")
    @classmethod
    def _fixed(cls, value):
        if not isinstance(value, int | float):
            raise ValueError("an agreed value is a number, not a distribution")
        return value


class AsOf(Sourced):
    """The state a scenario starts from: rounds already played and what happened in them.

    Rounds stay counted from ``meta.start_date``: play resumes with round ``round + 1`` and every
    round in the results (declarations, agreements, events) is a round since the start, as in a
    run from the start. Pressure, budgets and credibility start afresh unless given.
    """

    round: int | None = Field(None, ge=1, description="rounds already played (give this or date)")
    date: dt.date | None = Field(None, description="the date of the last round played (give this or round)")
    flags: dict[str, bool] = Field(default_factory=dict, description="world flags as they stand")
    talks_opened: int | None = Field(None, ge=1, description="round the talks opened (unset: not yet)")
    events: dict[str, EventAsOf] = Field(default_factory=dict, description="events that have happened")
    preconditions: dict[str, PreconditionAsOf] = Field(default_factory=dict, description="met or waived")
    declared: dict[str, int] = Field(default_factory=dict, description="phase -> round it was declared")
    consented: dict[str, int] = Field(
        default_factory=dict,
        description="phase -> round every party explicitly accepted it (default: its declaration, unless announced)",
    )
    agreed: dict[str, AgreedAsOf] = Field(default_factory=dict, description="issue -> value and round agreed")
    milestones: dict[str, int] = Field(default_factory=dict, description="milestone -> round carried out")
    pressure: dict[str, ranged(0, 10)] = Field(default_factory=dict, description="actor -> pressure on it now")

    @model_validator(mode="after")
    def _when(self):
        if (self.round is None) == (self.date is None):
            raise ValueError("give exactly one of round, date (the last round played)")
        return self


class Scenario(Strict):
    """A whole negotiation: who, over what, under which rules and world.

    Without ``phases`` the scenario has one: every principal consents, every issue is settled at
    declaration and every precondition applies (one comprehensive package).
    """

    meta: Meta
    issues: list[Issue] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=2)
    red_lines: list[RedLine] = Field(default_factory=list)
    preconditions: list[Precondition] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)
    leverage: list[Leverage] = Field(default_factory=list)
    guarantees: list[Guarantee] = Field(default_factory=list)
    vetoes: list[Veto] = Field(default_factory=list)
    veto_players: list[VetoPlayer] = Field(default_factory=list)
    world: World = Field(default_factory=World)
    events: list[Event] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    risk: Risk = Field(default_factory=Risk)
    expiries: list[Expiry] = Field(default_factory=list, description="scheduled ends of time-limited agreements")
    start: Start = Field(default_factory=Start, description="where the talks stand at round 0")
    mechanisms: list[Mechanism] = Field(default_factory=list, description="structural uncertainty")
    protocol: Protocol = Field(default_factory=Protocol)
    outputs: Outputs = Field(default_factory=Outputs)
    as_of: AsOf | None = Field(None, description="start from a later state: rounds played, what happened in them")
    _switched: Scenario | None = PrivateAttr(None)  # what the engine plays (sim.scenario.mechanisms.switched)

    @property
    def start_round(self) -> int:
        """Rounds already played when the scenario starts (0 unless ``as_of``; see :meth:`as_of_round`)."""
        return 0 if self.as_of is None else max(self.as_of_round(), 0)

    def as_of_round(self) -> int:
        """The round ``as_of`` names, by number or by date (-1 if its date falls off the rounds)."""
        a = self.as_of
        if a.round is not None:
            return a.round
        days = (a.date - self.meta.start_date).days
        return days // self.meta.round_days if days >= 0 and days % self.meta.round_days == 0 else -1

    @property
    def principals(self) -> list[Actor]:
        return [a for a in self.actors if a.role == "principal"]

    @property
    def seated(self) -> list[Actor]:
        """Actors with a position at the table (everyone but spoilers)."""
        return [a for a in self.actors if a.role != "spoiler"]

    @property
    def two_party(self) -> bool:
        """Whether the protocol or a strategy is one of two principals' (Nash, offers, bridging, Zeuthen, ...)."""
        strategies = {a.strategy for a in self.principals}
        return self.protocol.rule != "compromise" or bool(strategies & set(TWO_PARTY_STRATEGIES))

    def ordered_phases(self) -> list[Phase]:
        """The phases in declaration order (an ``after`` phase first); one comprehensive phase by default."""
        if not self.phases:
            return [Phase(id="agreement", label="Agreement", gate=Gate(consent=[a.id for a in self.principals]))]
        done, ordered = set(), []
        pending = list(self.phases)
        while pending:
            ready = [p for p in pending if p.gate.after is None or p.gate.after in done]
            if not ready:  # a cycle: reported by problems(); keep file order
                return ordered + pending
            for p in ready:
                ordered.append(p)
                done.add(p.id)
                pending.remove(p)
        return ordered

    def settled(self, phase: Phase) -> list[str]:
        """The issues a phase settles at declaration, in scenario order."""
        chosen = phase.gate.settle or [i for i in self.issue_ids() if i not in phase.gate.defer]
        return [i for i in self.issue_ids() if i in chosen]

    def actor_index(self, actor_id: str) -> int:
        return [a.id for a in self.actors].index(actor_id)

    def issue_ids(self) -> list[str]:
        return [i.id for i in self.issues]

    def flag_names(self) -> list[str]:
        """All world-state flags: declared ones, those events set or unset, and the engine's own."""
        names = dict.fromkeys(self.world.flags)
        for e in self.events:
            names.update(dict.fromkeys(e.effects.set + e.effects.unset))
        names.update(dict.fromkeys(BUILTIN_FLAGS))
        names.update(dict.fromkeys(f"declared_{p.id}" for p in self.ordered_phases()))
        names.update(dict.fromkeys(f"agreed_{i}" for i in self.issue_ids()))
        names.update(dict.fromkeys(f"done_{m.id}" for m in self.milestones))
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
        for i, ph in enumerate(self.phases):
            g = ph.gate
            for field, kind in (("consent", "actor"), ("settle", "issue"), ("defer", "issue")):
                for j, x in enumerate(getattr(g, field)):
                    yield (f"phases.{i}.gate.{field}.{j}", kind, x)
            for j, x in enumerate(g.preconditions or []):
                yield (f"phases.{i}.gate.preconditions.{j}", "precondition", x)
            for j, x in enumerate(g.declared_by):
                yield (f"phases.{i}.gate.declared_by.{j}", "actor", x)
            yield from _when_refs(f"phases.{i}.gate.declare_when", g.declare_when)
            if g.after is not None:
                yield (f"phases.{i}.gate.after", "phase", g.after)
        for i, m in enumerate(self.milestones):
            for j, x in enumerate(m.issues):
                yield (f"milestones.{i}.issues.{j}", "issue", x)
            if m.phase is not None:
                yield (f"milestones.{i}.phase", "phase", m.phase)
            for j, x in enumerate(m.preconditions):
                yield (f"milestones.{i}.preconditions.{j}", "precondition", x)
        for i, lev in enumerate(self.leverage):
            yield (f"leverage.{i}.from", "actor", lev.source)
            yield (f"leverage.{i}.to", "actor", lev.target)
            yield from _when_refs(f"leverage.{i}.when", lev.when)
        for i, g in enumerate(self.guarantees):
            yield (f"guarantees.{i}.from", "actor", g.source)
            yield (f"guarantees.{i}.to", "actor", g.target)
            for j, x in enumerate(g.issues):
                yield (f"guarantees.{i}.issues.{j}", "issue", x)
        for i, v in enumerate(self.vetoes):
            yield (f"vetoes.{i}.by", "actor", v.by)
            yield (f"vetoes.{i}.of", "actor", v.of)
            yield (f"vetoes.{i}.issue", "issue", v.issue)
        for i, v in enumerate(self.veto_players):
            yield (f"veto_players.{i}.principal", "actor", v.principal)
            for issue in v.bounds:
                yield (f"veto_players.{i}.bounds.{issue}", "issue", issue)
            yield from _when_refs(f"veto_players.{i}.when", v.when)
        for i, e in enumerate(self.events):
            yield from _when_refs(f"events.{i}.when", e.when)
            for field in ("convened_by", "by"):
                if getattr(e, field) is not None:
                    yield (f"events.{i}.{field}", "actor", getattr(e, field))
            for flag in e.boost:
                yield (f"events.{i}.boost.{flag}", "flag", flag)
            fx = e.effects
            for field in ("pressure", "reservation", "position", "align"):
                for actor in getattr(fx, field):
                    yield (f"events.{i}.effects.{field}.{actor}", "actor", actor)
            for actor, shifts in fx.position.items():
                for issue in shifts:
                    yield (f"events.{i}.effects.position.{actor}.{issue}", "issue", issue)
            for actor, align in fx.align.items():
                yield (f"events.{i}.effects.align.{actor}.toward", "actor", align.toward)
            for actor, shifts in fx.salience.items():
                yield (f"events.{i}.effects.salience.{actor}", "actor", actor)
                for issue in shifts:
                    yield (f"events.{i}.effects.salience.{actor}.{issue}", "issue", issue)
            for line in fx.red_lines:
                yield (f"events.{i}.effects.red_lines.{line}", "red_line", line)
            for player, shifts in fx.veto_bounds.items():
                yield (f"events.{i}.effects.veto_bounds.{player}", "veto_player", player)
                for issue in shifts:
                    yield (f"events.{i}.effects.veto_bounds.{player}.{issue}", "issue", issue)
        for i, x in enumerate(self.expiries):
            for j, flag in enumerate(x.unless):
                yield (f"expiries.{i}.unless.{j}", "flag", flag)
        yield from _when_refs("risk.stall_from", self.risk.stall_from)
        for field in ("at_table", "tabled_by"):
            for j, actor in enumerate(getattr(self.protocol, field)):
                yield (f"protocol.{field}.{j}", "actor", actor)
        if self.protocol.first_proposer is not None:
            yield ("protocol.first_proposer", "actor", self.protocol.first_proposer)
        yield from _when_refs("protocol.opens_when", self.protocol.opens_when)

    def problems(self):
        """Cross-field problems as (dotted path, message); empty when the scenario is coherent."""
        known = {
            "actor": [a.id for a in self.actors],
            "issue": self.issue_ids(),
            "flag": self.flag_names(),
            "phase": [p.id for p in self.phases],
            "precondition": [p.id for p in self.preconditions],
            "red_line": [r.id for r in self.red_lines],
            "veto_player": [v.id for v in self.veto_players],
        }
        out = []
        for field, ids, what in (("issues", self.issue_ids(), "issue"), ("actors", known["actor"], "actor")):
            out += _duplicates(ids, field, what)
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
            out += _duplicates([x.id for x in getattr(self, field)], field, "id")
        for path, kind, value in self.references():
            if value not in known[kind]:
                out.append((path, f"unknown {kind} '{value}'{did_you_mean(value, known[kind])}"))
        out += self._actor_problems()
        out += self._phase_problems()
        out += self._third_party_problems()
        out += self._precondition_problems()
        out += self._start_problems()
        out += self._protocol_problems()
        out += list(self._as_of_problems())
        for i, e in enumerate(self.events):
            if e.at_round is not None and e.at_round > self.meta.horizon:
                out.append((f"events.{i}.at_round", f"round {e.at_round} is beyond the horizon ({self.meta.horizon})"))
        return out

    def flags_as_of(self) -> dict[str, bool]:
        """The world flags as ``as_of`` has them: the scenario's, then what its events set or unset (in the
        order they happened), then ``as_of.flags``."""
        flags = dict(self.world.flags)
        if self.as_of is None:
            return flags
        happened = {e.id: e for e in self.events}
        for ident, _ in sorted(self.as_of.events.items(), key=lambda kv: kv[1].round):
            if ident in happened:
                flags.update(dict.fromkeys(happened[ident].effects.set, True))
                flags.update(dict.fromkeys(happened[ident].effects.unset, False))
        return {**flags, **self.as_of.flags}

    def _as_of_problems(self):
        """What makes ``as_of`` a state no run could be in: unknown names, rounds out of order, a phase
        declared without its issues agreed or its preconditions met, and so on."""
        a = self.as_of
        if a is None:
            return
        start_round = self.as_of_round()
        when = "as_of.round" if a.round is not None else "as_of.date"
        if start_round < 0:
            days = (a.date - self.meta.start_date).days
            k = days // self.meta.round_days
            if days < 0:
                yield (when, f"{a.date} is before the scenario's start ({self.meta.start_date})")
            else:
                yield (when, f"{a.date} falls between rounds {k} ({self.meta.date_of(k)}) "
                             f"and {k + 1} ({self.meta.date_of(k + 1)})")  # fmt: skip
            return
        if start_round >= self.meta.horizon:
            yield (when, f"round {start_round} is not before the horizon ({self.meta.horizon}): nothing left to play")
        if any(p.strategy == "zeuthen" for p in self.principals):
            yield ("as_of", "a Zeuthen principal's concessions depend on offers exchanged, which as_of does not hold")
        late = lambda path, r: [(path, f"round {r} is after the last round played ({start_round})")] * (r > start_round)
        yield from _unknown("as_of.flags", a.flags, self.flag_names(), "flag")
        engine = {"talks_open": "give as_of.talks_opened", "stalled": "the engine sets it from the rounds without "
                  "progress", "collapsed": "a collapsed ceasefire has nothing left to forecast"}  # fmt: skip
        for prefix, field in (("declared_", "declared"), ("agreed_", "agreed"), ("done_", "milestones")):
            engine.update({f: f"give as_of.{field}" for f in self.flag_names() if f.startswith(prefix)})
        for name in a.flags:
            if name in engine:
                yield (f"as_of.flags.{name}", f"set by the engine: {engine[name]}")
        if a.talks_opened is not None:
            yield from late("as_of.talks_opened", a.talks_opened)
        events = {e.id: e for e in self.events}
        yield from _unknown("as_of.events", a.events, list(events), "event")
        for ident, happened in a.events.items():
            yield from late(f"as_of.events.{ident}.round", happened.round)
            if ident in events and happened.count > 1 and events[ident].trigger != "rate":
                yield (f"as_of.events.{ident}.count", "it happens once (only an event with a rate repeats)")
        yield from self._as_of_precondition_problems(late)
        yield from self._as_of_phase_problems(late)
        yield from _unknown("as_of.pressure", a.pressure, [x.id for x in self.actors], "actor")

    def _as_of_precondition_problems(self, late):
        a, flags = self.as_of, self.flags_as_of()
        pcs = {p.id: p for p in self.preconditions}
        yield from _unknown("as_of.preconditions", a.preconditions, list(pcs), "precondition")
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
        for p in self.preconditions:
            if flags.get(p.flag, False) and p.id not in a.preconditions:
                yield ("as_of.preconditions", f"the flag '{p.flag}' is set: say when precondition '{p.id}' was met "
                                              f"(as_of.preconditions.{p.id}.met)")  # fmt: skip

    def _as_of_phase_problems(self, late):
        a = self.as_of
        order = self.ordered_phases()
        yield from _unknown("as_of.declared", a.declared, [p.id for p in order], "phase")
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
            missing = [i for i in self.settled(phase) if i not in a.agreed]
            if missing:
                yield (path, f"its gate settles {', '.join(missing)}: give {'them' if len(missing) > 1 else 'it'} "
                             "in as_of.agreed")  # fmt: skip
            applied = phase.gate.preconditions
            for p in self.preconditions if applied is None else [x for x in self.preconditions if x.id in applied]:
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
        yield from _unknown("as_of.agreed", a.agreed, self.issue_ids(), "issue")
        for issue, agreed in a.agreed.items():
            yield from late(f"as_of.agreed.{issue}.round", agreed.round)
            settles = any(a.declared.get(p.id) == agreed.round and issue in self.settled(p) for p in order)
            defers = any(a.declared.get(p.id, agreed.round) < agreed.round and issue in p.gate.defer for p in order)
            if issue in self.issue_ids() and not (settles or defers):
                yield (f"as_of.agreed.{issue}.round", f"agreed in round {agreed.round}, but no phase had it on the "
                       "table then: an issue is agreed when a phase that settles it is declared, or after the "
                       "declaration of one that defers it")  # fmt: skip
        milestones = {m.id: m for m in self.milestones}
        yield from _unknown("as_of.milestones", a.milestones, list(milestones), "milestone")
        for ident, r in a.milestones.items():
            yield from late(f"as_of.milestones.{ident}", r)
            m = milestones.get(ident)
            if m is None:
                continue
            undone = [i for i in m.issues if i not in a.agreed or a.agreed[i].round >= r]
            if undone:
                yield (f"as_of.milestones.{ident}", f"carried out in round {r}, before {', '.join(undone)} "
                                                    "was agreed (in an earlier round)")  # fmt: skip
            if m.phase is not None and a.declared.get(m.phase, r) >= r:
                yield (f"as_of.milestones.{ident}", f"carried out in round {r}, before phase '{m.phase}' was declared")

    def role(self, actor_id: str) -> str | None:
        return next((a.role for a in self.actors if a.id == actor_id), None)

    def _actor_problems(self):
        issues = set(self.issue_ids())
        for i, a in enumerate(self.actors):
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
        if not self.principals:
            yield ("actors", "a negotiation needs at least one principal")
        for i, r in enumerate(self.red_lines):
            if r.actor in [a.id for a in self.actors] and self.role(r.actor) != "principal":
                yield (f"red_lines.{i}.actor", "red lines bind only principals (actors with a veto)")
        for i, v in enumerate(self.veto_players):
            if self.role(v.principal) not in (None, "principal"):
                yield (f"veto_players.{i}.principal", "a veto player belongs to a principal")

    def _phase_problems(self):
        ids = [p.id for p in self.phases]
        for i, p in enumerate(self.phases):
            g = p.gate
            for j, actor in enumerate(g.consent):
                if self.role(actor) == "spoiler":
                    yield (f"phases.{i}.gate.consent.{j}", f"'{actor}' is a spoiler: it has no say at the table")
            if not any(self.role(a) in (None, "principal") for a in g.consent):
                yield (f"phases.{i}.gate.consent", "a gate needs at least one principal among its parties")
            for j, actor in enumerate(g.declared_by):
                if self.role(actor) not in (None, *THIRD_PARTIES):
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
            if g.rule != "framework" and g.settle == [] and set(g.defer) >= set(self.issue_ids()):
                yield (f"phases.{i}.gate", "a phase must settle at least one issue at declaration "
                                           "(only a framework may defer them all)")  # fmt: skip
            if g.after == p.id:
                yield (f"phases.{i}.gate.after", "a phase cannot follow itself")
        chain = self._cycle()
        if chain:
            yield ("phases", f"phase gates form a cycle: {' -> '.join(chain)}")
        for i, m in enumerate(self.milestones):
            if m.phase is not None and m.phase in ids:
                phase = self.phases[ids.index(m.phase)]
                outside = [x for x in m.issues if x not in self.settled(phase) + phase.gate.defer]
                if outside:
                    yield (f"milestones.{i}.issues", f"not negotiated in phase '{m.phase}': {', '.join(outside)}")

    def _cycle(self) -> list[str]:
        after = {p.id: p.gate.after for p in self.phases}
        for start in after:
            seen, node = [], start
            while node in after and node not in seen:
                seen.append(node)
                node = after[node]
            if node == start and len(seen) > 1:
                return [*seen, start]
        return []

    def _precondition_problems(self):
        gates = self.ordered_phases()
        for i, p in enumerate(self.preconditions):
            if self.role(p.actor) in (None, "principal"):
                continue
            applying = [g for g in gates if g.gate.preconditions is None or p.id in g.gate.preconditions]
            if not applying or any(p.actor not in g.gate.consent for g in applying):
                yield (f"preconditions.{i}.actor", f"'{p.actor}' is a {self.role(p.actor)} that not every gate "
                       "applying this precondition asks to consent: the precondition would bind nothing")  # fmt: skip

    def _start_problems(self):
        for actor in self.start.conceded:
            if self.role(actor) not in (None, "principal"):
                yield (f"start.conceded.{actor}", "only principals concede")
        yield from _unknown("start.conceded", self.start.conceded, [a.id for a in self.actors], "actor")
        yield from _unknown("start.text", self.start.text, self.issue_ids(), "issue")
        if self.start.signed and not self.start.text:
            yield ("start.signed", "a signed text needs its terms (start.text)")

    def _third_party_problems(self):
        for i, g in enumerate(self.guarantees):
            if self.role(g.target) not in (None, "principal"):
                yield (f"guarantees.{i}.to", "guarantees are given to principals")
        for i, v in enumerate(self.vetoes):
            if self.role(v.by) not in (None, "principal"):
                yield (f"vetoes.{i}.by", f"'{v.by}' is not a principal: only a principal can veto a role")
            if self.role(v.of) not in (None, *THIRD_PARTIES):
                yield (f"vetoes.{i}.of", "only a third party's role can be vetoed")
        for i, e in enumerate(self.events):
            if e.by is not None and self.role(e.by) not in (None, "spoiler"):
                yield (f"events.{i}.by", "'by' names the spoiler behind an event")
            for actor, align in e.effects.align.items():
                if actor == align.toward:
                    yield (f"events.{i}.effects.align.{actor}", "an actor cannot move toward itself")
                if self.role(actor) == "spoiler" or self.role(align.toward) == "spoiler":
                    yield (f"events.{i}.effects.align.{actor}", "spoilers have no position")

    def _protocol_problems(self):
        principals = self.principals
        strategies = {a.strategy for a in principals}
        rule = self.protocol.rule
        if self.two_party and len(principals) != 2:
            yield (
                "protocol.rule",
                "nash, alternating, bridging, zeuthen and subgame-perfect need exactly two principals",
            )
        if strategies & set(TWO_PARTY_STRATEGIES) and len(self.ordered_phases()) > 1:
            yield ("protocol.rule", "zeuthen and subgame-perfect principals bargain over one comprehensive phase")
        if "subgame_perfect" in strategies and (rule != "alternating" or strategies != {"subgame_perfect"}):
            yield (
                "protocol.rule",
                "subgame_perfect offers need rule 'alternating' and both principals subgame_perfect",
            )
        if self.protocol.first_proposer and self.protocol.first_proposer not in [p.id for p in principals]:
            yield ("protocol.first_proposer", "must be a principal")
        if rule == "bridging":
            if not self.protocol.tabled_by:
                yield ("protocol.tabled_by", "bridging needs at least one third party to table packages")
            for i, p in enumerate(self.ordered_phases()):
                if sum(self.role(a) == "principal" for a in p.gate.consent) != 2 and self.phases:
                    yield (
                        f"phases.{i}.gate.consent",
                        "bridging packages are drafted between two consenting principals",
                    )
        for j, actor in enumerate(self.protocol.tabled_by):
            if self.role(actor) not in (None, *THIRD_PARTIES):
                yield (
                    f"protocol.tabled_by.{j}",
                    "packages are tabled by third parties (broker, mediator, stakeholder)",
                )
        for j, actor in enumerate(self.protocol.at_table):
            if self.role(actor) == "spoiler":
                yield (f"protocol.at_table.{j}", "a spoiler has no seat at the table")


def _when_refs(path: str, when: When):
    for field in ("requires", "unless"):
        for j, flag in enumerate(getattr(when, field)):
            yield (f"{path}.{field}.{j}", "flag", flag)


def _unknown(path: str, given, known: list[str], kind: str):
    for name in given:
        if name not in known:
            yield (f"{path}.{name}", f"unknown {kind} '{name}'{did_you_mean(name, known)}")


def _duplicates(ids: list[str], path: str, what: str):
    seen, out = set(), []
    for i, x in enumerate(ids):
        if x in seen:
            out.append((f"{path}.{i}.id", f"duplicate {what} '{x}'"))
        seen.add(x)
    return out
