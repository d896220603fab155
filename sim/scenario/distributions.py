"""Distributions a scenario may give instead of a number, and their inverse-CDF sampling.

Sampling goes through the inverse CDF of counter-based uniforms (:mod:`sim.engine.streams`), so
a parameter's draw for run *i* depends only on the root seed, *i* and the parameter's path.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

FIELDS_UNIT = {"unit": "the unit of the field it is given for"}  # a distribution's numbers, in the JSON Schema
SHAPE = {"unit": "shape (none)"}


def _in_units(default=..., about: str = "", **constraints):
    """A distribution's number, in the units of the field it is given for (``description``, ``unit``)."""
    return Field(default, description=about, json_schema_extra=FIELDS_UNIT, **constraints)


class BaseDistribution(BaseModel):
    """What every distribution has: its support, and ``ppf`` (the inverse CDF) for sampling."""

    model_config = ConfigDict(extra="forbid")

    def support(self) -> tuple[float, float]:
        """The smallest and largest value a draw can take."""
        raise NotImplementedError


def _finite(*values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ValueError("distribution parameters must be finite numbers")


class Uniform(BaseDistribution):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float = _in_units(about="the smallest value")
    high: float = _in_units(about="the largest value")

    @model_validator(mode="after")
    def _check(self):
        _finite(self.low, self.high)
        if not self.low <= self.high:
            raise ValueError(f"uniform needs low <= high (got {self.low} > {self.high})")
        return self

    def support(self):
        return self.low, self.high

    def ppf(self, u):
        return self.low + (self.high - self.low) * u


class Normal(BaseDistribution):
    """Normal(mean, sd), clipped to [low, high] when given."""

    dist: Literal["normal"]
    mean_: float = _in_units(about="the mean (before clipping)", alias="mean")
    sd: float = _in_units(about="the standard deviation (before clipping)", gt=0)
    low: float = _in_units(-math.inf, "where draws are clipped below (default: not at all)")
    high: float = _in_units(math.inf, "where draws are clipped above (default: not at all)")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _check(self):
        _finite(self.mean_, self.sd)
        if not self.low < self.high:
            raise ValueError("normal needs low < high")
        return self

    def support(self):
        return self.low, self.high

    def ppf(self, u):
        from scipy import special

        return np.clip(self.mean_ + self.sd * special.ndtri(u), self.low, self.high)


class Beta(BaseDistribution):
    """Beta(a, b) scaled to [low, high] (default [0, 1])."""

    dist: Literal["beta"]
    a: float = Field(gt=0, description="first shape parameter (weight toward high)", json_schema_extra=SHAPE)
    b: float = Field(gt=0, description="second shape parameter (weight toward low)", json_schema_extra=SHAPE)
    low: float = _in_units(0.0, "the value a draw of 0 scales to")
    high: float = _in_units(1.0, "the value a draw of 1 scales to")

    @model_validator(mode="after")
    def _check(self):
        _finite(self.a, self.b, self.low, self.high)
        if not self.low < self.high:
            raise ValueError("beta needs low < high")
        return self

    def support(self):
        return self.low, self.high

    def ppf(self, u):
        from scipy import special

        return self.low + (self.high - self.low) * special.betaincinv(self.a, self.b, u)


class Triangular(BaseDistribution):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float = _in_units(about="the smallest value")
    mode: float = _in_units(about="the likeliest value")
    high: float = _in_units(about="the largest value")

    @model_validator(mode="after")
    def _check(self):
        _finite(self.low, self.mode, self.high)
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def support(self):
        return self.low, self.high

    def ppf(self, u):
        lo, m, hi = self.low, self.mode, self.high
        cut = (m - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (m - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - m))
        return np.where(u < cut, left, right)


class Choice(BaseDistribution):
    """One of a list of values, with optional weights."""

    dist: Literal["choice"]
    values: list[float] = _in_units(about="the values it chooses among", min_length=1)
    weights: list[float] | None = Field(
        None, description="each value's relative weight (default: equal)", json_schema_extra={"unit": "weight"}
    )

    @model_validator(mode="after")
    def _check(self):
        _finite(*self.values)
        if self.weights is not None:
            _finite(*self.weights)
            if len(self.weights) != len(self.values):
                raise ValueError("choice needs as many weights as values")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("choice weights must be >= 0 with a positive sum")
        return self

    def support(self):
        return min(self.values), max(self.values)

    def _probs(self):
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, float)
        return w / w.sum()

    def ppf(self, u):
        idx = np.searchsorted(np.cumsum(self._probs())[:-1], u, side="right")
        return np.asarray(self.values, dtype=float)[idx]


Distribution = Annotated[Uniform | Normal | Beta | Triangular | Choice, Field(discriminator="dist")]
