"""What-if: the scenario's uncertain parameters pinned to chosen values, played as a batch in this process.

A pinned parameter takes the chosen value in every run (an override of its draws); the others are
drawn as in the scenario, from the same streams, so the what-if and the unmodified scenario differ
only by the pins. Saved as a variant file that ``extends:`` the scenario, the pins replay the same
numbers with ``negsim run`` at the same seed and run count.

The batch is played block by block through the batch layer (:func:`sim.batch.runner.simulate`), so a
newer request supersedes the one in flight between two blocks (:class:`Latest`), and the first block
gives an early estimate while the rest is played.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import get_args

import numpy as np
import pandas as pd

from sim.analysis.summary import summarize
from sim.app.places import AppError, message, whole
from sim.batch.runner import simulate
from sim.engine.tables import run_table
from sim.scenario.distributions import BaseDistribution, Choice, Normal
from sim.scenario.edit import Source, edited
from sim.scenario.errors import ScenarioError
from sim.scenario.labels import Names
from sim.scenario.parameters import uncertain
from sim.scenario.schema import MAX_RUNS, STRATEGIES, Actor, Protocol, Scenario

RUNS = 5_000
FIRST_BLOCK = 1_000  # runs of the early estimate; the rest follow in one block
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

    def check(self, value) -> float:
        """``value`` (a number, or text typed into the page) if this parameter can take it, else an
        :class:`AppError` saying its range."""
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise AppError(f"{self.label}: {value.strip()[:40]!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise AppError(f"{self.label}: {value!r} is not a number")
        if self.choices and not any(math.isclose(value, c) for c in self.choices):
            raise AppError(f"{self.label}: {value:g} is not one of {', '.join(f'{c:g}' for c in self.choices)}")
        if not self.low - 1e-12 <= value <= self.high + 1e-12:
            raise AppError(
                f"{self.label} ({self.path}): {value:g} is outside its range {self.low:g} to {self.high:g} "
                f"({self.distribution})"
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
    how each tabling third party drafts. ``path`` is the field, as ``negsim sweep`` names fields; ``ruled_out``
    gives each option the scenario cannot take, with the reason."""

    path: str
    label: str
    options: tuple[str, ...]
    current: str
    ruled_out: dict[str, str] = field(default_factory=dict)

    @property
    def possible(self) -> list[str]:
        return [o for o in self.options if o not in self.ruled_out]


def assumptions(spec: Scenario, src: Source | None = None) -> list[Assumption]:
    """The protocol's rule, each principal's concession strategy and each tabling third party's bridging; with
    ``src`` (the scenario's file), each option the scenario cannot take on its own is ruled out, with why."""
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
    if src is None:
        return out
    return [Assumption(a.path, a.label, a.options, a.current, _ruled_out(src, a)) for a in out]


def _ruled_out(src: Source, a: Assumption) -> dict[str, str]:
    out = {}
    for option in a.options:
        if option == a.current:
            continue
        try:
            assumed(src, {a.path: option})
        except ScenarioError as exc:
            problem = exc.problems[0]
            out[option] = f"{problem.path}: {problem.message}" if problem.path else problem.message
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


# ------------------------------------------------------------------ playing
@dataclass(frozen=True)
class Inputs:
    """What the what-if's numbers are for: the scenario with the chosen assumptions (``spec``), the pinned values,
    the run count and the seed. ``key`` tells two sets of inputs apart (the scenario by its choices)."""

    spec: Scenario
    choices: tuple[tuple[str, str], ...] = ()
    pins: tuple[tuple[str, float], ...] = ()
    runs: int = RUNS
    seed: int = 0

    @property
    def key(self) -> tuple:
        return self.choices, self.pins, self.runs, self.seed

    @property
    def base(self) -> Inputs:
        """The unmodified scenario at the same runs and seed (``spec`` then is the scenario without choices)."""
        return Inputs(self.spec, (), (), self.runs, self.seed)


def runs_checked(runs) -> int:
    return whole(runs, "runs", 1, MAX_RUNS + 1)


def blocks(runs: int) -> list[tuple[int, int]]:
    """The blocks a what-if batch is played in: a first small one (the early estimate), then the rest (each
    block costs its rounds' overhead once; a newer request stops a block between two rounds anyway)."""
    return [(0, min(FIRST_BLOCK, runs))] + ([(FIRST_BLOCK, runs)] if runs > FIRST_BLOCK else [])


def play(
    spec: Scenario,
    pins: dict[str, float] | None = None,
    runs: int = RUNS,
    seed: int | None = None,
    current: Callable[[], bool] = lambda: True,
    early: Callable[[dict, int], None] | None = None,
) -> dict | None:
    """The summary (probabilities with Wilson intervals, cumulative curve, blockers, ...) of ``runs`` runs with
    ``pins`` fixed, played block by block; ``early(summary, runs so far)`` gets the first block's estimate. Once
    ``current()`` turns false (a newer request came) the batch stops, between two rounds, and gives None. The last
    :data:`KEEP` answers are kept."""
    seed = spec.meta.seed_or(seed)
    pins = checked(spec, pins or {})
    key = (id(spec), tuple(sorted(pins.items())), runs, seed)
    kept = _played.get(key)
    if kept is not None:
        return kept[1]
    tables = []
    for start, stop in blocks(runs):
        overrides = {path: np.full(stop - start, value) for path, value in pins.items()}
        model = simulate(spec, stop - start, seed, overrides=overrides, first=start, stop=lambda: not current())
        if not current():
            return None
        tables.append(run_table(model))
        if early is not None and start == 0 and stop < runs:
            early(summarize(tables[0], {"seed": seed}, spec), stop)
    summary = summarize(pd.concat(tables, ignore_index=True), {"seed": seed}, spec)
    with _lock:  # browser tabs are served from threads of their own
        _played[key] = (spec, summary)  # the spec kept: its id stays its own
        while len(_played) > KEEP:
            _played.pop(next(iter(_played)))
    return summary


KEEP = 32
log = logging.getLogger("negsim.app")
_lock = threading.Lock()
_played: dict[tuple, tuple[Scenario, dict]] = {}


@dataclass(frozen=True)
class Numbers:
    """What the page shows for ``inputs``: the scenario's summary and the what-if's after ``done`` runs (all of
    them once final), or the one-line ``problem`` that stopped it."""

    inputs: Inputs
    base: dict | None = None
    now: dict | None = None
    done: int = 0
    problem: str = ""

    @property
    def final(self) -> bool:
        return self.done == self.inputs.runs


class Latest:
    """One tab's what-if batches, played on one thread of its own: each request supersedes the one in flight,
    which stops between two blocks. ``show`` gets the early estimate and the final numbers of the request that
    is still the latest (the generation counter tells)."""

    def __init__(self, show: Callable[[Numbers], None]):
        self.show = show
        self.generation = 0
        self._lock = threading.Lock()
        self._wanted: tuple[int, Inputs, Scenario] | None = None
        self._thread: threading.Thread | None = None

    def ask(self, inputs: Inputs, base: Scenario) -> int:
        """Play ``inputs`` (and ``base``, the scenario without choices, for the comparison); its generation."""
        with self._lock:
            self.generation += 1
            self._wanted = (self.generation, inputs, base)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="negsim what-if", daemon=True)
                self._thread.start()
            return self.generation

    def current(self, generation: int) -> bool:
        return self.generation == generation

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._wanted is None:
                    self._thread = None
                    return
                generation, inputs, base = self._wanted
                self._wanted = None
            try:
                self._answer(generation, inputs, base)
            except Exception as exc:  # showing failed (a tab closed meanwhile): the thread serves the next request
                log.warning("negsim app: what-if not shown: %s", message(exc))

    def _answer(self, generation: int, inputs: Inputs, base_spec: Scenario) -> None:
        current = lambda: self.current(generation)
        try:
            base = play(base_spec, {}, inputs.runs, inputs.seed, current)
            if base is None:
                return

            def early(summary: dict, done: int) -> None:
                if current():
                    self.show(Numbers(inputs, base, summary, done))

            now = play(inputs.spec, dict(inputs.pins), inputs.runs, inputs.seed, current, early)
        except Exception as exc:  # of any type: the tab says it in one line and keeps working
            if current():
                self.show(Numbers(inputs, problem=f"the what-if failed: {message(exc)}"))
            return
        if now is not None and current():
            self.show(Numbers(inputs, base, now, inputs.runs))


def headline(summary: dict) -> dict[str, dict]:
    """The what-if's measures by label: P(declared) (the mixture), P(declared) under each alternative of each
    structural mechanism, P(every party consented), P(agreed) per issue, P(implemented) per milestone, P(collapse)
    before a declaration, each a proportion with its Wilson interval."""
    out = {"declared": summary["probabilities"]["declared"]}
    for m in summary.get("mechanisms", []):
        out.update(
            {f"declared if {a['label']}": a["probabilities"]["declared"] for a in m["alternatives"] if a["runs"]}
        )
    out.update({"every party consented": summary["consented"], "collapse": summary["probabilities"]["collapse"]})
    out.update({f"agreed: {a['label']}": a for a in summary["agreements"]})
    out.update({f"implemented: {m['label']}": m for m in summary["milestones"]})
    return out
