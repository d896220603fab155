"""The scenario language: a pydantic schema for negotiations with red lines.

A scenario names issues (0-100 axes), actors with positions and saliences, red lines,
preconditions, phases and the gates that declare them, leverage and guarantees, domestic veto
players, world-state flags, events, implementation milestones, the risk of collapse and a
protocol. Any numeric field may be a :mod:`distribution <sim.scenario.distributions>` for Monte
Carlo. Every number says what it means and its unit (:func:`measured`: the JSON Schema's ``description``
and ``unit``). Every object may carry a ``basis`` mapping from its field names to the seed claim ids or
stated assumptions the numbers rest on. Whether a scenario holds together across its fields is
:mod:`sim.scenario.checks`.

Its building blocks (numbers with ranges, meanings and units) are :mod:`sim.scenario.fields`; where a scenario
starts (``start``, ``as_of``) is :mod:`sim.scenario.states`. This module is still longer than 400 lines on
purpose: the language is one concept, whose objects refer to one another and read top to bottom as
``negsim schema`` shows them, with the meaning and unit of each number beside it; split further by size, a
reader would chase one object across files.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.fields import (
    CAPITAL,
    CHANCE_A_ROUND,
    ISSUE_SCALE,
    MULTIPLIER,
    PRESSURE,
    ROUND,
    ROUNDS,
    SHARE,
    UTILITY,
    Cost,
    Day,
    Number,
    Scale,
    Sourced,
    Strict,
    UnitInterval,
    bounds,
    measured,
    ranged,
)
from sim.scenario.states import AsOf, Start

ROLES = ("principal", "broker", "mediator", "stakeholder", "spoiler")
THIRD_PARTIES = ("broker", "mediator", "stakeholder")
TIME_STRATEGIES = {"boulware": 0.25, "conceder": 3.0, "linear": 1.0}
STRATEGIES = (*TIME_STRATEGIES, "responsive", "hardline", "zeuthen", "subgame_perfect")
TWO_PARTY_STRATEGIES = ("zeuthen",)  # concession strategies defined between two principals only
SOLVED_STRATEGIES = ("zeuthen", "subgame_perfect")  # solved from the offers over one comprehensive package
BUILTIN_FLAGS = ("talks_open", "stalled", "collapsed")
MAX_RUNS = 10**9
ID = r"^[a-z][a-z0-9_]*$"


class OutcomeWords(Strict):
    """What the outputs call a collapse of this negotiation, as clauses (a ceasefire collapses, a deal falls
    through); neutral unless the scenario says."""

    collapse: str = Field("the talks break down", min_length=1, description="a collapse, as a clause in the "
                          "present tense: 'the ceasefire collapses', 'the trade deal falls through'")  # fmt: skip
    collapsed: str = Field("the talks broke down", min_length=1, description="a collapse, as a clause in the past "
                           "tense: 'the ceasefire collapsed'")  # fmt: skip


class Meta(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    start_date: Day = dt.date(2025, 12, 15)
    horizon: int = measured(26, "rounds observed (never changes what happens in them)", ROUNDS, ge=1, le=520)
    round_days: int = measured(7, "calendar days per round", "days", ge=1, le=366)
    seed: int = measured(20251215, "root seed of the runs' random streams (unless another is given)", "seed", ge=0,
                         lt=2**63)  # fmt: skip
    runs: int = measured(10_000, "runs in a batch (unless another number is given)", "runs", ge=1, le=MAX_RUNS)
    outcome_words: OutcomeWords = Field(
        default_factory=OutcomeWords, description="what the outputs call a collapse of this negotiation"
    )

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
    exponent: ranged(0.01, 100) | None = measured(None, "time-based shape: <1 Boulware, >1 Conceder", "exponent")
    deadline: ranged(1, 10_000) | None = measured(
        None, "rounds of talks by which a time-based or responsive principal reaches its reservation", "rounds of talks"
    )
    reciprocity: ranged(0, 5) = measured(
        1.0, "responsive: share of the other side's last concession matched, on top of the steady pace",
        "share of the other side's move",
    )  # fmt: skip
    patience: UnitInterval = measured(0.95, "discount factor a round (subgame-perfect offers)", "discount factor (0-1)")
    step: ranged(1e-6, 1) = measured(0.02, "Zeuthen's concession step", UTILITY)

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
    position: dict[str, Scale] = measured(
        about="issue -> where the actor stands on it (its ideal package)", unit=ISSUE_SCALE, default_factory=dict
    )
    salience: dict[str, UnitInterval] = measured(
        about="weights per issue summing to 1 (renormalised per run if drawn)", unit="weight (0-1)",
        default_factory=dict,
    )  # fmt: skip
    capability: UnitInterval = measured(0.5, "clout: the weight of its position in a compromise", "clout (0-1)")
    reservation: UnitInterval = measured(0.5, "utility of no deal (principals)", UTILITY)
    concession: Concession | None = Field(None, description="principals only: how they concede")
    noise: UnitInterval = measured(
        0.0, "sd of a per-run bias in how the actor values packages (a trait)", "utility (sd)"
    )
    budget: Cost = measured(0.0, "political capital for pressing, guarantees and summits", CAPITAL)
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
    to: Scale = measured(..., "the bound after relaxing", ISSUE_SCALE)
    audience_cost: ranged(0, 10) = measured(..., "pressure the principal must be under to pay the domestic cost",
                                            PRESSURE)  # fmt: skip


class RedLine(Sourced):
    id: str = Field(pattern=ID)
    actor: str
    issue: str
    min: Scale | None = measured(None, "the least the principal accepts on the issue", ISSUE_SCALE)
    max: Scale | None = measured(None, "the most the principal accepts on the issue", ISSUE_SCALE)
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
    waiver_pressure: ranged(0, 10) = measured(1.0, "pressure on the actor at which it waives", PRESSURE)
    earliest_waiver_round: int = measured(0, "the first round it may be waived in", ROUND, ge=0)
    freezes_concessions: bool = Field(
        False, description="while it is open, its actor does not concede on any issue (its clock waits)"
    )


class When(Strict):
    from_round: int = measured(0, "the first round it holds in", ROUND, ge=0)
    until_round: int | None = measured(None, "the last round it holds in (unset: to the end)", ROUND, ge=0)
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
    defiance: dict[str, ranged(0, 10)] = measured(
        about="non_objection: party -> what open defiance of the announcement costs it", unit=PRESSURE,
        default_factory=dict,
    )  # fmt: skip
    ambiguity: ranged(0, 50) = measured(
        0.0, "framework: half-width of each settled issue's interval around the tabled point", ISSUE_SCALE
    )
    break_hazard: UnitInterval = measured(
        0.0, "framework: chance a round in which its intervals are not agreed as points breaks it", CHANCE_A_ROUND
    )
    settle: list[str] = Field(
        default_factory=list, description="issues agreed at declaration (default: every issue not deferred)"
    )
    defer: list[str] = Field(default_factory=list, description="issues negotiated inside the phase")
    preconditions: list[str] | None = Field(None, description="precondition ids that apply (default: all)")
    after: str | None = Field(None, description="a phase that must be declared first")


class Phase(Sourced):
    id: str = Field(pattern=ID)
    label: str = ""
    gate: Gate


class Milestone(Sourced):
    """An implementation step: possible once its issues are agreed (and its phase declared), or at once if a party
    can carry it out alone (``unilateral``); not before ``earliest`` nor before the milestones it ``requires``.

    With a ``deadline`` it is a process that ends ``done``, ``extended`` (done after an extension), ``partial`` or
    ``missed``: the deadline counts from the round its issues were all agreed and its phase declared (round 0 for a
    unilateral step); when it passes undone, the actors in ``extensions.by`` may extend it; once none is granted,
    the share done (``partial``) is recorded and a missed deadline has its consequences (``on_missed``). A
    ``monitor`` verifies that it was carried out; its report may be disputed.
    """

    id: str = Field(pattern=ID)
    label: str = ""
    issues: list[str] = Field(min_length=1, description="issues whose agreement it implements")
    phase: str | None = None
    hazard: UnitInterval = measured(..., "chance a round of being carried out once possible", CHANCE_A_ROUND)
    preconditions: list[str] = Field(default_factory=list, description="preconditions that must be met or waived")
    earliest: int = measured(0, "the first round it can be carried out in (a timetable rules out the rounds before)",
                             ROUND, ge=0)  # fmt: skip
    deadline: int | None = measured(
        None, "rounds after its issues were agreed and its phase declared (after round 0 if unilateral) by which it "
        "is due (unset: no deadline, never missed)", ROUNDS, ge=0, le=520,
    )  # fmt: skip
    requires: list[str] = Field(default_factory=list, description="milestones that must be done first (sequencing)")
    unilateral: bool = Field(
        False, description="a party can carry it out alone: it needs neither its issues agreed nor its phase declared"
    )
    extensions: Extension | None = Field(None, description="who may extend its deadline, how often, at what cost")
    partial: UnitInterval | None = measured(
        None, "share of it done by its final deadline where it is not done in full (unset: nothing)", SHARE
    )
    partial_counts: bool = Field(
        False, description="a partial milestone counts as carried out (its flag is set; no on_missed)"
    )
    monitor: str | None = Field(None, description="the actor that verifies it was carried out")
    dispute: UnitInterval = measured(0.0, "chance a round the monitor's report of it is disputed", CHANCE_A_ROUND)
    disputed: Literal["delay", "missed"] = Field(
        "delay", description="what a disputed report does: delays it (reported again the next round) or misses it"
    )
    on_missed: Consequence | None = Field(None, description="what a missed deadline does")


class Leverage(Sourced):
    """Pressure one actor puts on another: per round, at a cost, with a credibility that erodes."""

    id: str = Field(pattern=ID)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    strength: UnitInterval = measured(..., "pressure added a round at full credibility", "pressure a round (utility)")
    on: Literal["block", "always"] = "block"
    when: When = Field(default_factory=When)
    cost: Cost = measured(0.0, "budget spent each round of pressing", "political capital a round")
    credibility: UnitInterval = measured(1.0, "starting credibility: the share of the strength that bites", SHARE)
    erosion: UnitInterval = measured(
        0.0, "share of credibility lost in a round pressure is not followed through", SHARE
    )
    follow_through: Cost = measured(0.0, "budget it takes to follow pressure through in a round", CAPITAL)
    scaled_by_distance: bool = Field(False, description="press harder the further the target is from the source")


class Guarantee(Sourced):
    """A guarantee or side-payment that raises a principal's value of packages on named issues."""

    id: str = Field(pattern=ID)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    issues: list[str] = Field(min_length=1)
    value: UnitInterval = measured(..., "utility added when the package settles only these issues", UTILITY)
    label: str = ""
    cost: Cost = measured(0.0, "budget spent once, when it is offered", CAPITAL)


class Veto(Sourced):
    """A principal rules out a third party's role on an issue (its guarantees and its say there)."""

    by: str
    of: str
    issue: str


class Bound(Strict):
    min: Scale | None = measured(None, "the least it accepts on the issue", ISSUE_SCALE)
    max: Scale | None = measured(None, "the most it accepts on the issue", ISSUE_SCALE)


class VetoPlayer(Sourced):
    """A domestic veto player (a coalition partner, an internal wing) whose red lines a package must pass."""

    id: str = Field(pattern=ID)
    name: str = ""
    principal: str
    bounds: dict[str, Bound] = Field(min_length=1, description="issue -> its own red lines")
    when: When = Field(default_factory=When, description="when it holds a veto")
    belief_error: ranged(0, 50) = measured(
        0.0, "sd of the drafters' error about its bounds (0: they know them exactly)", ISSUE_SCALE
    )


class Align(Strict):
    toward: str
    share: ranged(-1, 1) = measured(
        ..., "share of the way its ideal moves toward (negative: away from) them", "share of the way (-1 to 1)"
    )


class Effects(Strict):
    set: list[str] = Field(default_factory=list)
    unset: list[str] = Field(default_factory=list)
    pressure: dict[str, ranged(-1, 1)] = measured(about="actor -> pressure added", unit=PRESSURE, default_factory=dict)
    reservation: dict[str, ranged(-1, 1)] = measured(
        about="actor -> shift of its reservation", unit="utility", default_factory=dict
    )
    position: dict[str, dict[str, ranged(-100, 100)]] = measured(
        about="actor -> issue -> shift of its ideal", unit=ISSUE_SCALE, default_factory=dict
    )
    align: dict[str, Align] = Field(default_factory=dict, description="actor -> move its ideal toward another's")
    salience: dict[str, dict[str, ranged(-1, 1)]] = measured(
        about="actor -> issue -> salience added (then renormalised to sum to 1)", unit="weight", default_factory=dict
    )
    red_lines: dict[str, ranged(-100, 100)] = measured(
        about="red line -> shift of its bound", unit=ISSUE_SCALE, default_factory=dict
    )
    veto_bounds: dict[str, dict[str, ranged(-100, 100)]] = measured(
        about="veto player -> issue -> shift of its bound", unit=ISSUE_SCALE, default_factory=dict
    )


class Consequence(Strict):
    """What a missed deadline sets off: a chance that the ceasefire collapses then, a lasting addition to the
    breakdown hazard, and events' effects."""

    collapse: UnitInterval = measured(0.0, "chance the ceasefire collapses then (scaled by the share not done)",
                                      "chance")  # fmt: skip
    hazard: UnitInterval = measured(
        0.0, "added to the breakdown hazard every round from then on (scaled by the share not done)", CHANCE_A_ROUND
    )
    effects: Effects = Field(default_factory=Effects, description="flags set, pressure added, ... as an event's")


class Extension(Sourced):
    """Extensions of a milestone's deadline: granted together by ``by`` when it passes undone, each at a cost."""

    by: list[str] = Field(min_length=1, description="actors who grant an extension together")
    times: int = measured(1, "most extensions granted", "extensions", ge=1, le=100)
    rounds: int = measured(..., "rounds each extension adds to the deadline", ROUNDS, ge=1, le=520)
    probability: UnitInterval = measured(1.0, "chance they grant one when the deadline passes undone", "chance")
    capital: Cost = measured(0.0, "budget each grantor spends on one (none is granted if one cannot pay)", CAPITAL)
    cost: Effects = Field(default_factory=Effects, description="what granting one does (pressure added, flags set)")


class AfterProgress(Strict):
    factor: ranged(0, 100) = measured(..., "multiplier on hazard or rate soon after progress", MULTIPLIER)
    window: int = measured(..., "rounds after a declaration, agreement or milestone", ROUNDS, ge=1, le=520)


class Event(Sourced):
    """Something that happens in the world: scheduled, once by hazard, repeatedly, or convened by an actor."""

    id: str = Field(pattern=ID)
    label: str = ""
    at_round: int | None = measured(None, "the round it is scheduled in (1 = the first round)", ROUND, ge=1)
    probability: UnitInterval = measured(1.0, "chance a scheduled event happens", "chance")
    hazard: UnitInterval | None = measured(None, "chance a round of happening (once)", CHANCE_A_ROUND)
    rate: ranged(0, 20) | None = measured(None, "expected occurrences a round (Poisson)", "occurrences a round")
    convened_by: str | None = Field(None, description="an actor that convenes it once `when` holds and it can pay")
    cost: Cost = measured(0.0, "budget the convener spends", CAPITAL)
    by: str | None = Field(None, description="the spoiler behind it")
    boost: dict[str, ranged(0, 100)] = measured(
        about="flag -> multiplier on hazard or rate while it is set", unit=MULTIPLIER, default_factory=dict
    )
    after_progress: AfterProgress | None = Field(None, description="violence timed to progress (spoilers)")
    collapse: UnitInterval = measured(
        0.0, "chance each occurrence collapses the talks (before risk factors)", "chance per occurrence"
    )
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
    (events that can collapse the talks). Incidents' own collapse chances are scaled by the same factors.
    Scheduled expiries of time-limited agreements are a separate mechanism (``expiries``)."""

    hazard: UnitInterval = measured(0.0, "chance a round the talks break down, before the factors", CHANCE_A_ROUND)
    stall_after: int = measured(4, "rounds without progress after which talks count as stalled", ROUNDS, ge=1, le=520)
    stall_growth: ranged(0, 10) = measured(
        0.0, "risk multiplier added per stalled round", "multiplier per stalled round"
    )
    stall_cap: ranged(1, 100) = measured(1.0, "largest multiplier stalling can reach", MULTIPLIER)
    stall_from: When = Field(
        default_factory=When,
        description="when the stall clock starts (e.g. when talks are expected); rounds before never count as stalled",
    )
    closed_factor: ranged(0, 100) = measured(1.0, "risk multiplier while the talks are not open", MULTIPLIER)
    progress_factor: ranged(0, 100) = measured(1.0, "risk multiplier within progress_window of progress", MULTIPLIER)
    progress_window: int = measured(
        4, "rounds after a declaration, agreement or milestone that count as recent", ROUNDS, ge=1, le=520
    )
    restraint: ranged(0, 100) = measured(
        0.0, "the multiplier is exp(-restraint x the pressure on the principals)", "per unit of pressure"
    )
    incident_factor: ranged(0, 100) = measured(1.0, "risk multiplier within incident_window of an incident", MULTIPLIER)
    incident_window: int = measured(2, "rounds after an incident that count as recent", ROUNDS, ge=1, le=520)
    agreement_factor: UnitInterval = measured(1.0, "risk multiplier per agreed issue", MULTIPLIER)
    declared_factor: UnitInterval = measured(1.0, "risk multiplier once a phase is declared", MULTIPLIER)


class Expiry(Sourced):
    """A time-limited agreement's scheduled end: in round ``at_round`` it ends (a collapse, cause: the expiry) with
    chance ``probability`` unless a flag of ``unless`` is set (an extension, a renewal, a declared phase).

    A renewable agreement (``every``) comes up again every ``every`` rounds after ``at_round``, each time ending
    as above, or because a party of ``leave`` leaves it (whatever ``unless`` holds)."""

    id: str = Field(pattern=ID)
    label: str = ""
    at_round: int = measured(..., "the round in which it expires", ROUND, ge=1)
    probability: UnitInterval = measured(1.0, "chance it ends then if nothing in unless holds", "chance")
    unless: list[str] = Field(default_factory=list, description="flags any of which keeps it alive")
    every: int | None = measured(None, "rounds between renewals after at_round (unset: it comes up once)", ROUNDS,
                                 ge=1, le=520)  # fmt: skip
    leave: dict[str, UnitInterval] = measured(
        about="party -> chance it leaves the agreement at each renewal", unit="chance", default_factory=dict
    )

    def due(self, round_: int) -> bool:
        """Whether the agreement comes up for renewal (or expires) in ``round_``."""
        if self.every is None:
            return round_ == self.at_round
        return round_ >= self.at_round and (round_ - self.at_round) % self.every == 0


class Alternative(Sourced):
    """One way a mechanism might work: the fields it sets (dotted paths, ids for list items), and its weight."""

    id: str = Field(pattern=ID)
    label: str = ""
    weight: ranged(0, 1e6) = measured(1.0, "relative weight of this alternative (normalised)", "weight")
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
    pressure_decay: UnitInterval = measured(0.0, "share of pressure lost each round", "share lost a round")
    first_proposer: str | None = Field(None, description="alternating offers: who proposes first (rotating proposer)")
    proposer: Literal["rotating", "random"] = Field(
        "rotating",
        description="alternating offers: who proposes each round: the principals party to it in turn from "
        "first_proposer (rotating), or one of them recognised at random each round (random, Baron-Ferejohn's "
        "recognition, chances in recognition)",
    )
    recognition: dict[str, float] = Field(
        default_factory=dict,
        description="random proposer: each principal's relative chance of being recognised (a weight; a principal "
        "left out has weight 1)",
        json_schema_extra={"unit": "relative weight (chances are weights over their sum)"},
    )
    quota: int | None = measured(
        None,
        "principals whose acceptance declares a phase or agrees its issues (default: every principal party to it); "
        "alternating offers with more than two principals buy the quota's cheapest partners",
        "principals",
        ge=1,
    )
    opens_when: When = Field(default_factory=When, description="when talks open (rounds before are no talks)")


FIGURES = ("outcomes", "declaration_curve", "agreements", "mechanisms", "blocking", "packages", "positions")


class Outputs(Strict):
    trajectories: int = measured(0, "runs whose per-round state is recorded", "runs", ge=0)
    figures: list[Literal[FIGURES]] = Field(
        default_factory=lambda: list(FIGURES),
        description="figures to draw; 'positions' (a fan chart) needs recorded trajectories",
    )


class World(Sourced):
    flags: dict[str, bool] = Field(default_factory=dict)


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
    def solved_offers(self) -> bool:
        """Whether a principal's concession strategy is solved from the offers over one comprehensive package
        (Zeuthen's, subgame-perfect offers)."""
        return bool({a.strategy for a in self.principals} & set(SOLVED_STRATEGIES))

    def ordered_phases(self) -> list[Phase]:
        """The phases in declaration order (an ``after`` phase first); one comprehensive phase by default."""
        if not self.phases:
            return [Phase(id="agreement", label="Agreement", gate=Gate(consent=[a.id for a in self.principals]))]
        done, ordered = set(), []
        pending = list(self.phases)
        while pending:
            ready = [p for p in pending if p.gate.after is None or p.gate.after in done]
            if not ready:  # a cycle: reported by the checks; keep file order
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
        for fx in self.milestone_effects():
            names.update(dict.fromkeys(fx.set + fx.unset))
        return list(names)

    def milestone_effects(self) -> list[Effects]:
        """What milestones' extensions and missed deadlines do (as events' effects)."""
        out = [m.on_missed.effects for m in self.milestones if m.on_missed is not None]
        return out + [m.extensions.cost for m in self.milestones if m.extensions is not None]

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

    def role(self, actor_id: str) -> str | None:
        return next((a.role for a in self.actors if a.id == actor_id), None)
