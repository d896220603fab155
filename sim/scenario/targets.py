"""Calibration targets: how often outcomes happened in a reference class, with their own uncertainty.

A targets file names the cases of a reference class and what was observed in each (an outcome, as
``negsim sensitivity --outcome`` names it, that did or did not happen within the case's horizon), and
the targets: an outcome whose frequency the calibration should reproduce. A target's frequency is
counted from the cases that observe it (k of n, with the Jeffreys Beta(k + 1/2, n - k + 1/2) mean
and standard deviation as its value and uncertainty), or stated directly with ``frequency`` and ``sd``.
A case says what kind of agreement it was (``type``: time-limited, ending at an expiry unless extended,
or open-ended), and a target may count only cases of some types (``types``): a time-limited truce that
ends at its expiry says little about the breakdown of an open-ended ceasefire.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from scipy import stats

from sim.scenario.checks import duplicate_ids
from sim.scenario.fields import Sourced, Strict
from sim.scenario.loader import read, validate
from sim.scenario.schema import ID

CEASEFIRE_TYPES = ("time_limited", "open_ended")


class Case(Sourced):
    """A case of the reference class: what happened within its horizon."""

    id: str = Field(pattern=ID)
    label: str = ""
    scenario: str | None = Field(None, description="the case's scenario file, as of its start (relative to this file)")
    type: Literal[CEASEFIRE_TYPES] | None = Field(
        None, description="time_limited (it ends at an expiry unless extended) or open_ended"
    )
    observed: dict[str, bool] = Field(min_length=1, description="measure -> whether it happened within the horizon")


class Target(Sourced):
    """A measure's frequency the calibrated scenario should reproduce (the file calls the measure ``outcome``)."""

    measure: str = Field(alias="outcome", description="declared, collapse, agreed:<issue> or implemented:<milestone>")
    label: str = ""
    types: list[Literal[CEASEFIRE_TYPES]] = Field(
        default_factory=list, description="count only cases of these types (default: every case)"
    )
    frequency: float | None = Field(None, ge=0, le=1, description="stated frequency (else counted from the cases)")
    sd: float | None = Field(None, gt=0, le=0.5, description="its uncertainty, one standard deviation")

    @model_validator(mode="after")
    def _both(self):
        if (self.frequency is None) != (self.sd is None):
            raise ValueError("give frequency and sd together (or neither, to count them from the cases)")
        return self


class Targets(Strict):
    """A targets file: the reference class and the frequencies to reproduce."""

    name: str = Field(min_length=1)
    description: str = ""
    reference: str = Field(min_length=1, description="where the reference class and its cases are described")
    cases: list[Case] = Field(default_factory=list)
    targets: list[Target] = Field(min_length=1)

    def counts(self, measure: str, types: list[str] | None = None) -> tuple[int, int]:
        """(cases in which ``measure`` happened, cases that observe it), among cases of ``types`` if given."""
        seen = [c.observed[measure] for c in self.cases if measure in c.observed and (not types or c.type in types)]
        return sum(seen), len(seen)

    def value(self, target: Target) -> tuple[float, float]:
        """A target's frequency and its standard deviation."""
        if target.frequency is not None:
            return target.frequency, target.sd
        k, n = self.counts(target.measure, target.types)
        belief = stats.beta(k + 0.5, n - k + 0.5)
        return float(belief.mean()), float(belief.std())

    def incoherences(self) -> list[tuple[str, str]]:
        """Cross-field problems as (dotted path, message)."""
        out = duplicate_ids([c.id for c in self.cases], "cases", "case")
        measures = [t.measure for t in self.targets]
        twice = [i for i, m in enumerate(measures) if m in measures[:i]]
        out += [(f"targets.{i}.outcome", f"'{measures[i]}' is a target twice") for i in twice]
        for i, t in enumerate(self.targets):
            if t.frequency is None and self.counts(t.measure, t.types)[1] == 0:
                among = f" among cases of type {', '.join(t.types)}" if t.types else ""
                out.append((f"targets.{i}", f"no case observes '{t.measure}'{among}: give frequency and sd, or cases"))
        return out


def load_targets(path: str | Path) -> tuple[Targets, dict]:
    """A validated targets file and its line map (path -> (file, line)), for problems found later."""
    data, where = read(path)
    return validate(data, where, str(path), Targets, Targets.incoherences), where
