"""The scenario language's building blocks: strict objects that carry a ``basis``, and numbers (or distributions)
with their range, their meaning and their unit, which the JSON Schema shows (``description``, ``unit``)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticUndefined

from sim.scenario.distributions import Distribution

Number = float | Distribution


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


class Range(NamedTuple):
    """The interval a ranged number lies in, kept beside its validator for readers of the schema (the docs), and
    shown in the JSON Schema (``minimum``, ``maximum`` on its number branch)."""

    lo: float
    hi: float

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") in ("number", "integer"):
                branch.update(minimum=self.lo, maximum=self.hi)
        return schema


def ranged(lo: float, hi: float):
    """A number-or-distribution type restricted to [lo, hi]."""
    return Annotated[Number, AfterValidator(lambda v: check_range(v, lo, hi)), Range(lo, hi)]


UnitInterval = ranged(0, 1)
Scale = ranged(0, 100)
Cost = ranged(0, 1e6)

# Units of the language's numbers. A number on an issue's axis is in ISSUE_SCALE, which
# :func:`sim.scenario.parameters.unit_of` tells in the issue's own words (what 0 and 100 mean on it).
ISSUE_SCALE = "issue scale (0-100)"
UTILITY = "utility (0-1)"
PRESSURE = "pressure (utility)"
CAPITAL = "political capital"
SHARE = "share (0-1)"
CHANCE_A_ROUND = "chance a round"
MULTIPLIER = "multiplier"
ROUND = "round number"
ROUNDS = "rounds"


def measured(default=PydanticUndefined, about: str = "", unit: str = "", **constraints):
    """A numeric field with what it means and its unit, both shown by the JSON Schema (``description``, ``unit``)."""
    return Field(default, description=about, json_schema_extra={"unit": unit}, **constraints)


DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")


def written_date(value):
    """A date as people write it (``2024-11-27``, ``27 Nov 2024``, ``November 27, 2024``) as a date; other values
    pass through for the schema to judge."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.replace(".", "").split())
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: '{value}' (write it as 2024-11-27, 27 Nov 2024 or November 27, 2024)")


Day = Annotated[
    dt.date,
    BeforeValidator(written_date),
    WithJsonSchema({"type": "string", "description": "a date: 2024-11-27, 27 Nov 2024 or November 27, 2024"}),
]
