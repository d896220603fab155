"""What-if: the scenario's uncertain parameters pinned to chosen values, replayed as a batch in this process.

A pinned parameter takes the chosen value in every run (an override of its draws); the others are
drawn as in the scenario, from the same streams, so the what-if and the unmodified scenario differ
only by the pins. Saved as a variant file that ``extends:`` the scenario, the pins replay the same
numbers with ``negsim run`` at the same seed and run count.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel

from sim.analysis.summary import summarize
from sim.app.places import AppError
from sim.engine.model import NegotiationModel
from sim.engine.outcomes import run_table
from sim.scenario.distributions import BaseDistribution, Choice, Normal
from sim.scenario.labels import Names
from sim.scenario.loader import dump, validate
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

RUNS = 5_000
STEPS = 100  # slider positions across a parameter's range
PLAUSIBLE_SD = 3.0  # an unbounded normal's stated plausible range: mean +/- 3 sd


@dataclass(frozen=True)
class Knob:
    """A slider (or, for a choice, a selector) for one uncertain parameter, bounded by its own distribution."""

    path: str
    label: str
    low: float
    high: float
    default: float  # the distribution's median: where the slider rests while the parameter is drawn
    step: float
    choices: tuple[float, ...] = ()
    distribution: str = ""

    def check(self, value: float) -> float:
        """``value`` if this parameter can take it, else an :class:`AppError` saying its range."""
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise AppError(f"{self.path}: {value!r} is not a number")
        if self.choices and not any(math.isclose(value, c) for c in self.choices):
            raise AppError(f"{self.path}: {value:g} is not one of {', '.join(f'{c:g}' for c in self.choices)}")
        if not self.low - 1e-12 <= value <= self.high + 1e-12:
            raise AppError(
                f"{self.path}: {value:g} is outside its range {self.low:g} to {self.high:g} ({self.distribution})"
            )
        return float(value)


def _range(dist: BaseDistribution) -> tuple[float, float]:
    low, high = dist.support()
    if isinstance(dist, Normal):  # a normal's own clip, else its stated plausible range
        low = max(low, dist.mean_ - PLAUSIBLE_SD * dist.sd)
        high = min(high, dist.mean_ + PLAUSIBLE_SD * dist.sd)
    return float(low), float(high)


def _described(dist: BaseDistribution) -> str:
    fields = dist.model_dump(by_alias=True, exclude={"dist"}, exclude_none=True)
    shown = {k: v for k, v in fields.items() if not (isinstance(v, float) and math.isinf(v))}
    return f"{dist.dist} " + ", ".join(
        f"{k} {v:g}" if isinstance(v, float | int) else f"{k} {v}" for k, v in shown.items()
    )


def knobs(spec: Scenario) -> list[Knob]:
    """A knob for each uncertain parameter, in scenario order."""
    names = Names(spec)
    out = []
    for path, dist in uncertain(spec).items():
        low, high = _range(dist)
        median = float(np.asarray(dist.ppf(np.array([0.5])))[0])
        step = _step(low, high)
        out.append(
            Knob(
                path=path,
                label=names.field(path),
                low=low,
                high=high,
                default=round(round(median / step) * step, 10) if step and not isinstance(dist, Choice) else median,
                step=step,
                choices=tuple(sorted(set(dist.values))) if isinstance(dist, Choice) else (),
                distribution=_described(dist),
            )
        )
    return out


def _step(low: float, high: float) -> float:
    """A round step giving about :data:`STEPS` positions between ``low`` and ``high``."""
    if high <= low:
        return 0.0
    raw = (high - low) / STEPS
    return float(10 ** math.floor(math.log10(raw)))


def checked(spec: Scenario, pins: dict[str, float]) -> dict[str, float]:
    """``pins`` with each value checked against its knob (an unknown path or a value out of range: AppError)."""
    by_path = {k.path: k for k in knobs(spec)}
    out = {}
    for path, value in pins.items():
        if path not in by_path:
            raise AppError(f"{path}: not an uncertain parameter of {spec.meta.name}")
        out[path] = by_path[path].check(value)
    return out


def play(spec: Scenario, pins: dict[str, float] | None = None, runs: int = RUNS, seed: int | None = None) -> dict:
    """The summary (probabilities with Wilson intervals, cumulative curve, blockers, ...) of ``runs`` runs with
    ``pins`` fixed, played in this process as one block."""
    seed = spec.meta.seed_or(seed)
    pins = checked(spec, pins or {})
    return _played(dump(spec), tuple(sorted(pins.items())), runs, seed)


@functools.lru_cache(maxsize=32)
def _played(text: str, pins: tuple, runs: int, seed: int) -> dict:
    spec = validate(yaml.safe_load(text))
    overrides = {path: np.full(runs, value) for path, value in pins}
    model = NegotiationModel(spec, range(runs), seed=seed, overrides=overrides).run()
    return summarize(run_table(model), {"seed": seed}, spec)


def headline(summary: dict) -> dict[str, dict]:
    """The what-if's measures by label: P(declared), P(agreed) per issue, P(implemented) per milestone,
    P(collapse) before a declaration, each a proportion with its Wilson interval."""
    out = {"declared": summary["probabilities"]["declared"], "collapse": summary["probabilities"]["collapse"]}
    out.update({f"agreed: {a['label']}": a for a in summary["agreements"]})
    out.update({f"implemented: {m['label']}": m for m in summary["milestones"]})
    return out


# ------------------------------------------------------------------ variant files
def variant_data(spec: Scenario, data: dict, extends: str, pins: dict[str, float]) -> dict:
    """A variant that ``extends:`` the scenario file and fixes each pinned parameter, with its basis."""
    pins = checked(spec, pins)
    if not pins:
        raise AppError("nothing to save: move a slider first")
    knob = {k.path: k for k in knobs(spec)}
    variant: dict = {
        "extends": extends,
        "meta": {
            "name": f"{spec.meta.name} - what-if",
            "description": "Saved from negsim app: " + "; ".join(f"{knob[p].label} = {v:g}" for p, v in pins.items()),
        },
    }
    for path, value in pins.items():
        _place(
            variant,
            spec,
            data,
            path,
            value,
            f"what-if in negsim app: fixed at {value:g} (the scenario draws it from {knob[path].distribution})",
        )
    return variant


def _place(variant: dict, spec: Scenario, data: dict, path: str, value: float, basis: str) -> None:
    """Set ``path`` in ``variant`` as a deep merge onto ``data`` expects it (list items as ``{id: ...}``), with
    ``basis`` in the ``basis:`` of the nearest object that has one."""
    parts = path.split(".")
    obj, node, out, holder = spec, data, variant, None
    for depth, part in enumerate(parts[:-1]):
        obj = _child(obj, part)
        if isinstance(node, list):
            node = next(x for x in node if isinstance(x, dict) and x.get("id") == part)
            found = next((x for x in out if x.get("id") == part), None)
            if found is None:
                found = {"id": part}
                out.append(found)
            out = found
        else:
            node = node.get(part, {})
            out = out.setdefault(part, [] if isinstance(node, list) else {})
        if isinstance(obj, BaseModel) and "basis" in type(obj).model_fields:
            holder = (out, ".".join(parts[depth + 1 :]))
    out[parts[-1]] = value
    if holder is not None:
        holder[0].setdefault("basis", {})[holder[1]] = basis


def _child(obj, part: str):
    """One step down a parameter path in the validated scenario (fields by alias, list items by id)."""
    if isinstance(obj, BaseModel):
        name = next((n for n, f in type(obj).model_fields.items() if (f.alias or n) == part), part)
        return getattr(obj, name)
    if isinstance(obj, list):
        return next(x for x in obj if getattr(x, "id", None) == part)
    return obj[part]


def variant_text(variant: dict) -> str:
    return "# A what-if saved by negsim app.\n" + yaml.safe_dump(
        variant, sort_keys=False, allow_unicode=True, width=110
    )


def save_variant(path: Path, text: str, overwrite: bool = False) -> Path:
    """Write the variant file; an existing file is kept unless ``overwrite`` (the page asks first)."""
    from sim.batch.folder import atomic_write

    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (confirm to replace it)")
    atomic_write(path, text)
    return path
