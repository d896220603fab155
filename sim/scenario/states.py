"""Where a scenario starts: the state of the talks at round 0 (``start``), or a later state with the rounds already
played and what happened in them (``as_of``)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from sim.scenario.fields import (
    ISSUE_SCALE,
    PRESSURE,
    ROUND,
    ROUNDS,
    SHARE,
    Day,
    Scale,
    Sourced,
    Strict,
    UnitInterval,
    measured,
    ranged,
)


class Start(Sourced):
    """Where the talks stand at round 0, from the sources: a fresh start at full demands is one choice among others.

    ``conceded``: principal -> share of the way from its ideal to its reservation already conceded (its concession
    clock starts where that share is reached); ``talks_open``: talks are already under way; ``stalled_for``: rounds
    without progress already on the stall clock; ``text``: issue -> a draft already on the table (tabled as it
    stands rather than redrafted), ``signed`` if the parties have accepted it, so that what is left is its
    ratification and the preconditions.
    """

    conceded: dict[str, UnitInterval] = measured(
        about="principal -> share of the way to its reservation already conceded", unit=SHARE, default_factory=dict
    )
    talks_open: bool = Field(False, description="talks are already under way at round 0")
    stalled_for: int = measured(0, "rounds without progress already counted", ROUNDS, ge=0, le=520)
    text: dict[str, Scale] = measured(about="issue -> the draft on the table", unit=ISSUE_SCALE, default_factory=dict)
    signed: bool = Field(False, description="the parties have accepted the text: ratification is what is left")


class PreconditionAsOf(Strict):
    met: int | None = measured(None, "round its flag was set", ROUND, ge=1)
    waived: int | None = measured(None, "round it was waived under pressure", ROUND, ge=1)

    @model_validator(mode="after")
    def _one(self):
        if (self.met is None) == (self.waived is None):
            raise ValueError("give exactly one of met, waived (the round it happened)")
        return self

    @property
    def round(self) -> int:
        return self.met if self.met is not None else self.waived


class EventAsOf(Strict):
    round: int = measured(..., "round it first happened", ROUND, ge=1)
    count: int = measured(1, "how often it has happened (repeated events)", "occurrences", ge=1)


class AgreedAsOf(Strict):
    value: ranged(0, 100) = measured(..., "the value agreed", ISSUE_SCALE)
    round: int = measured(..., "round it was agreed", ROUND, ge=1)

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

    round: int | None = measured(None, "rounds already played (give this or date)", ROUNDS, ge=1)
    date: Day | None = Field(None, description="the date of the last round played (give this or round)")
    flags: dict[str, bool] = Field(default_factory=dict, description="world flags as they stand")
    talks_opened: int | None = measured(None, "round the talks opened (unset: not yet)", ROUND, ge=1)
    events: dict[str, EventAsOf] = Field(default_factory=dict, description="events that have happened")
    preconditions: dict[str, PreconditionAsOf] = Field(default_factory=dict, description="met or waived")
    declared: dict[str, int] = measured(about="phase -> round it was declared", unit=ROUND, default_factory=dict)
    consented: dict[str, int] = measured(
        about="phase -> round every party explicitly accepted it (default: its declaration, unless announced)",
        unit=ROUND,
        default_factory=dict,
    )
    agreed: dict[str, AgreedAsOf] = Field(default_factory=dict, description="issue -> value and round agreed")
    milestones: dict[str, int] = measured(about="milestone -> round carried out", unit=ROUND, default_factory=dict)
    pressure: dict[str, ranged(0, 10)] = measured(
        about="actor -> pressure on it now", unit=PRESSURE, default_factory=dict
    )

    @model_validator(mode="after")
    def _when(self):
        if (self.round is None) == (self.date is None):
            raise ValueError("give exactly one of round, date (the last round played)")
        return self
