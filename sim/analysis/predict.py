"""Other model families run on a scenario: their inputs read from it, and their point prediction.

:func:`inputs` reads a scenario as the agent-based model reads it at its start (saliences renormalised
to sum to 1 per actor, red lines as stated and not relaxed, positions before any event moves them,
every seated actor, i.e. all but spoilers; veto players, vetoes, leverage and events play no part):
uncertain numbers at each distribution's median (``ppf(0.5)``) unless a seed or a run count asks for
draws, which are then exactly the agent-based runs' own draws. :func:`predict` feeds the
one-dimensional families saliences relative to each actor's most salient issue (1 for it, the others in
proportion): the scale of the EUM's and the compromise model's data, where salience is how much an
issue matters to an actor, and where the EUM reads it as the probability that a challenged actor
resists. (A scenario's saliences are shares of attention summing to 1; read as such, every actor of a
five-issue scenario would resist a challenge with a probability below 0.4 on every issue.) The Nash
solution uses the shares, on which the scenario's reservation values are defined.
An ``as_of`` scenario's events already played have moved some positions and reservations; only the engine's
resuming knows how, so for such a scenario the model is built to read them.
:mod:`sim.analysis.prediction_folder` writes a prediction as a results folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.families import MODEL_FAMILIES, MOVES, EUMRounds, compromise, eum, median, nash
from sim.engine import rules
from sim.engine.model import NegotiationModel
from sim.engine.numbers import Numbers
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loader import load, read
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario


class FamilyError(ValueError):
    """A scenario a model family cannot be applied to; ``path`` is the scenario field at fault."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


@dataclass
class Inputs:
    """What the families read from a scenario, for ``n`` parameter draws (1 at the medians)."""

    scenario: Scenario
    seed: int | None  # None: every distribution at its median
    actors: list[str]  # the seated actors, in scenario order
    positions: np.ndarray  # (n, A, I)
    salience: np.ndarray  # (n, A, I), summing to 1 per actor, as the agent-based model weighs issues
    capability: np.ndarray  # (n, A)
    principals: list[str]
    ideal: np.ndarray  # the principals': (n, P, I)
    principal_salience: np.ndarray  # (n, P, I)
    reservation: np.ndarray  # (n, P)
    low: np.ndarray  # (n, I): the packages the principals' red lines allow
    high: np.ndarray

    @property
    def draws(self) -> int:
        return self.positions.shape[0]

    @property
    def relative_salience(self) -> np.ndarray:
        """Saliences on the scale of the EUM and compromise-model data: 1 for the issue an actor cares
        about most, the others in proportion (an actor with no salience at all keeps zeros)."""
        top = self.salience.max(axis=-1, keepdims=True)
        return self.salience / np.where(top > 0, top, 1.0)


def inputs(scenario: Scenario, seed: int | None = None, runs: int | None = None) -> Inputs:
    """The scenario's inputs as the agent-based model reads them at its start.

    Without ``seed`` and ``runs`` every distribution is at its median (one draw); with either, ``runs``
    (default: the scenario's) draws at ``seed`` (default: the scenario's): draw i's numbers are those of
    the agent-based model's run i.
    """
    medians = seed is None and runs is None
    overrides = (
        {path: np.asarray(d.ppf(0.5), dtype=float) for path, d in uncertain(scenario).items()} if medians else None
    )
    at = scenario.meta.seed if medians else scenario.meta.seed_or(seed)
    run_ids = np.arange(1 if medians else runs or scenario.meta.runs, dtype=np.int64)
    if scenario.as_of is None:
        start = _stated(scenario, Numbers(scenario, at, run_ids, overrides), len(run_ids))
    else:
        start = _resumed(NegotiationModel(scenario, run_ids, seed=at, overrides=overrides))
    return Inputs(scenario, None if medians else at, [a.id for a in scenario.seated], *start[:3],
                  [a.id for a in scenario.principals], *start[3:])  # fmt: skip


def _stated(scenario: Scenario, numbers: Numbers, n: int) -> tuple[np.ndarray, ...]:
    """The start arrays of :class:`Inputs` read as the runs read their numbers, without building the model."""
    issues = scenario.issue_ids()
    each = lambda number, default=0.0: np.broadcast_to(numbers(number, default), n)
    per_actor = lambda actors, field: np.stack([each(field(a)) for a in actors], axis=1).astype(float)
    per_issue = lambda actors, field: np.stack(
        [np.stack([each(field(a).get(i)) for i in issues], axis=-1) for a in actors], axis=1
    ).astype(float)
    shares = lambda salience: salience / np.maximum(salience.sum(axis=-1, keepdims=True), rules.EPS)
    seated, principals = scenario.seated, scenario.principals
    low, high = np.zeros((n, len(issues))), np.full((n, len(issues)), 100.0)
    for r in scenario.red_lines:  # the packages the principals' red lines allow
        if r.actor in {a.id for a in principals}:
            i = issues.index(r.issue)
            low[:, i] = np.maximum(low[:, i], each(r.min, -np.inf))
            high[:, i] = np.minimum(high[:, i], each(r.max, np.inf))
    return (
        per_issue(seated, lambda a: a.position),
        shares(per_issue(seated, lambda a: a.salience)),
        per_actor(seated, lambda a: a.capability),
        per_issue(principals, lambda a: a.position),
        shares(per_issue(principals, lambda a: a.salience)),
        per_actor(principals, lambda a: a.reservation),
        low,
        high,
    )


def _resumed(model: NegotiationModel) -> tuple[np.ndarray, ...]:
    """The start arrays of :class:`Inputs` of a scenario with ``as_of``: the events already played have moved
    some positions and reservations, and only the engine's resuming knows how, so the model is built."""
    seated = [model.actor_index[a.id] for a in model.spec.seated]
    p = list(model.principal_index)
    parties = np.zeros(model.capability.shape, dtype=bool)
    parties[:, p] = True
    low, high = model.box(parties)
    return (
        model.ideal[:, seated],
        model.salience[:, seated],
        model.capability[:, seated],
        model.ideal[:, p],
        model.salience[:, p],
        model.reservation[:, p],
        low,
        high,
    )


@dataclass
class Prediction:
    """A family's prediction on a scenario: ``table`` has one row per parameter draw (``run``) with the
    predicted value per issue in ``predicted.<issue>.value``; ``rounds`` the EUM's rounds (else None)."""

    family: str
    inputs: Inputs
    table: pd.DataFrame
    rounds: pd.DataFrame | None = None


VALUE = re.compile(r"^predicted\.(\w+)\.value$")


def value_column(issue: str) -> str:
    return f"predicted.{issue}.value"


def predicted_issues(columns) -> list[str]:
    """The issues a prediction table holds a predicted value for, in column order."""
    return [m.group(1) for c in columns if (m := VALUE.match(c))]


def check(scenario: Scenario, family: str) -> None:
    """Raise :class:`FamilyError` if ``family`` is unknown or cannot be applied to ``scenario``."""
    if family not in MODEL_FAMILIES:
        raise FamilyError("model", f"unknown model family '{family}' (expected one of: {', '.join(MODEL_FAMILIES)})")
    if family == "nash" and len(scenario.principals) != 2:
        found = ", ".join(a.id for a in scenario.principals) or "none"
        raise FamilyError(
            "actors", f"the nash family needs exactly two principals (found {len(scenario.principals)}: {found})"
        )


def predict(scenario: Scenario, family: str, seed: int | None = None, runs: int | None = None) -> Prediction:
    """Run one family on a scenario (see :func:`inputs` for which numbers it reads).

    The one-dimensional families (compromise, median, eum) weigh actors by capability x salience with
    saliences relative to each actor's most salient issue (:attr:`Inputs.relative_salience`); the Nash
    solution measures utilities with the saliences the agent-based model uses, on which the reservation
    values are defined.
    """
    check(scenario, family)
    data = inputs(scenario, seed, runs)
    issues = scenario.issue_ids()
    table = pd.DataFrame({"run": np.arange(data.draws)})
    rounds = None
    salience = data.relative_salience
    if family == "compromise":
        values = compromise(data.positions, data.capability, salience)
    elif family == "median":
        values = median(data.positions, data.capability, salience)
    elif family == "eum":
        result = eum_per_issue(data.positions, data.capability, salience)
        values = np.moveaxis(result.prediction, 0, -1)
        for k, issue in enumerate(issues):
            table[f"eum_mean.{issue}.value"] = result.mean[k, :, -1]
        rounds = eum_rounds_table(result, issues, data.actors)
    else:
        values, utilities, feasible = nash(data.ideal, data.principal_salience, data.reservation, data.low, data.high)
        table["feasible"] = feasible
        for k, who in enumerate(data.principals):
            table[f"utility.{who}"] = utilities[:, k]
    for k, issue in enumerate(issues):
        table[value_column(issue)] = values[:, k]
    front = ["run", *(value_column(i) for i in issues)]
    return Prediction(family, data, table[front + [c for c in table.columns if c not in front]], rounds)


def eum_per_issue(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray, block: int = 1000):
    """The EUM on each issue of ``positions`` and ``salience`` (n, A, I), ``capability`` (n, A): an
    :class:`EUMRounds` for leading dimensions (I, n), computed ``block`` draws at a time (its arrays grow
    with the cube of the number of actors)."""
    per_issue = lambda m: np.moveaxis(m, -1, 0)  # (n, A, I) -> (I, n, A)
    parts = [
        eum(per_issue(positions[k : k + block]), capability[None, k : k + block], per_issue(salience[k : k + block]))
        for k in range(0, len(positions), block)
    ]
    fields = EUMRounds.__dataclass_fields__
    return EUMRounds(**{f: np.concatenate([getattr(p, f) for p in parts], axis=1) for f in fields})


def eum_rounds_table(result: EUMRounds, issues: list[str], actors: list[str]) -> pd.DataFrame:
    """The EUM's rounds, one row per (run, issue, round): the median and mean, and per actor its position,
    the risk exponent it used and its move (``compromise:<actor>``, ``confrontation:<actor>`` or empty)."""
    n_issues, n_runs, n_rounds, _ = result.positions.shape
    run, issue, round_ = (g.ravel() for g in np.meshgrid(*map(np.arange, (n_runs, n_issues, n_rounds)), indexing="ij"))
    flat = lambda m: np.moveaxis(m, 0, 1).reshape(n_runs * n_issues * n_rounds, *m.shape[3:])
    table = {
        "run": run,
        "issue": np.asarray(issues, dtype=object)[issue],
        "round": round_,
        "median": flat(result.median),
        "mean": flat(result.mean),
    }
    positions, risk, move, toward = (flat(m) for m in (result.positions, result.risk, result.move, result.toward))
    names = np.asarray(actors, dtype=object)
    for k, actor in enumerate(actors):
        table[f"position.{actor}"] = positions[:, k]
        table[f"risk.{actor}"] = risk[:, k]
        label = np.asarray(MOVES, dtype=object)[move[:, k]] + ":" + names[np.maximum(toward[:, k], 0)]
        table[f"move.{actor}"] = np.where(move[:, k] > 0, label, "")
    return pd.DataFrame(table)


def predict_file(path: str | Path, family: str, seed: int | None = None, runs: int | None = None) -> Prediction:
    """:func:`predict` on a scenario file: a scenario the family cannot be applied to is refused on its line."""
    scenario = load(path)
    try:
        return predict(scenario, family, seed, runs)
    except FamilyError as exc:
        file, line = read(path)[1].get(exc.path, (str(path), 1))
        raise ScenarioError([Problem(file, line, exc.path, exc.message)]) from None
