"""What-if: the scenario's uncertain parameters pinned to chosen values, replayed as a batch in this process.

A pinned parameter takes the chosen value in every run (an override of its draws); the others are
drawn as in the scenario, from the same streams, so the what-if and the unmodified scenario differ
only by the pins. Saved as a variant file that ``extends:`` the scenario, the pins replay the same
numbers with ``negsim run`` at the same seed and run count.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np
import yaml
from pydantic import BaseModel

from sim.analysis.summary import summarize
from sim.app.places import AppError
from sim.engine.model import NegotiationModel
from sim.engine.tables import run_table
from sim.scenario.distributions import BaseDistribution, Choice, Normal
from sim.scenario.edit import Source, edited
from sim.scenario.labels import Names
from sim.scenario.parameters import uncertain
from sim.scenario.schema import STRATEGIES, Actor, Protocol, Scenario

RUNS = 5_000
RULES = get_args(Protocol.model_fields["rule"].annotation)
BRIDGING = get_args(Actor.model_fields["bridging"].annotation)
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


@dataclass(frozen=True)
class Assumption:
    """A selector for one of the scenario's main assumptions: how packages are tabled, how principals concede,
    how each tabling third party drafts. ``path`` is the field, as ``negsim sweep`` names fields."""

    path: str
    label: str
    options: tuple[str, ...]
    current: str


def assumptions(spec: Scenario) -> list[Assumption]:
    """The protocol's rule, each principal's concession strategy and each tabling third party's bridging."""
    names = Names(spec)
    out = [Assumption("protocol.rule", "how packages are tabled (protocol rule)", RULES, spec.protocol.rule)]
    out += [
        Assumption(
            f"actors.{a.id}.concession.strategy",
            f"{names.actor(a.id)}: how it concedes",
            STRATEGIES,
            a.concession.strategy,
        )
        for a in spec.actors
        if a.role == "principal" and a.concession is not None
    ]
    out += [
        Assumption(
            f"actors.{t}.bridging",
            f"{names.actor(t)}: how it drafts a bridging package",
            BRIDGING,
            spec.actors[spec.actor_index(t)].bridging,
        )
        for t in spec.protocol.tabled_by
    ]
    return out


def assumed(src: Source, choices: dict[str, str]) -> Scenario:
    """The scenario with the chosen assumptions (a choice that does not validate: its one-line problem)."""
    return edited(src, choices)


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
    ``pins`` fixed, played in this process as one block (the last :data:`KEEP` answers are kept)."""
    seed = spec.meta.seed_or(seed)
    key = (id(spec), tuple(sorted(checked(spec, pins or {}).items())), runs, seed)
    kept = _played.get(key)
    if kept is None:
        overrides = {path: np.full(runs, value) for path, value in key[1]}
        model = NegotiationModel(spec, range(runs), seed=seed, overrides=overrides).run()
        kept = (spec, summarize(run_table(model), {"seed": seed}, spec))  # the spec kept: its id stays its own
        with _lock:  # browser tabs are served from threads of their own
            _played[key] = kept
            while len(_played) > KEEP:
                _played.pop(next(iter(_played)))
    return kept[1]


KEEP = 32
_lock = threading.Lock()
_played: dict[tuple, tuple[Scenario, dict]] = {}


def headline(summary: dict) -> dict[str, dict]:
    """The what-if's measures by label: P(declared), P(agreed) per issue, P(implemented) per milestone,
    P(collapse) before a declaration, each a proportion with its Wilson interval."""
    out = {"declared": summary["probabilities"]["declared"], "collapse": summary["probabilities"]["collapse"]}
    out.update({f"agreed: {a['label']}": a for a in summary["agreements"]})
    out.update({f"implemented: {m['label']}": m for m in summary["milestones"]})
    return out


# ------------------------------------------------------------------ variant files
def variant_data(
    spec: Scenario, data: dict, extends: str, pins: dict[str, float], choices: dict[str, str] | None = None
) -> dict:
    """A variant that ``extends:`` the scenario file and fixes each pinned parameter and each chosen assumption,
    with its basis."""
    pins, choices = checked(spec, pins), choices or {}
    if not pins and not choices:
        raise AppError("nothing to save: move a slider or choose an assumption first")
    knob = {k.path: k for k in knobs(spec)}
    assumption = {a.path: a for a in assumptions(spec)}
    said = [f"{knob[p].label} = {v:g}" for p, v in pins.items()]
    said += [f"{assumption[p].label}: {v}" for p, v in choices.items()]
    variant: dict = {
        "extends": extends,
        "meta": {"name": f"{spec.meta.name} - what-if", "description": "Saved from negsim app: " + "; ".join(said)},
    }
    for path, value in pins.items():
        why = f"what-if in negsim app: fixed at {value:g} (the scenario draws it from {knob[path].distribution})"
        _place(variant, spec, data, path, value, why)
    for path, option in choices.items():
        why = f"what-if in negsim app: assumed {option} (the scenario assumes {assumption[path].current})"
        _place(variant, spec, data, path, option, why)
    return variant


def _place(variant: dict, spec: Scenario, data: dict, path: str, value: float | str, basis: str) -> None:
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
