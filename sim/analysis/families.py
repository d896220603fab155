"""Other model families on a negsim scenario: point predictions from the same inputs as the agent-based model.

Political forecasting has established models that read what a scenario already gives, the actors'
positions, saliences and capabilities, and predict an outcome; running them beside the agent-based
model shows how much of a briefing's answer is the model's own. One pure numpy function per family,
broadcasting over any leading dimensions (a block of parameter draws, issues):

* :func:`compromise`: the compromise model (Achen): the capability x salience weighted mean of the
  positions, issue by issue. It is :func:`sim.engine.rules.weighted_compromise`.
* :func:`median`: the capability x salience weighted median, issue by issue: the position minimising the
  weighted distance to all actors, which is also the pairwise-vote (median voter) winner under linear
  utilities. Tie convention: where the cumulative weight reaches exactly half the total (within 1e-9
  of it) at a position, every point between that position and the next one with weight minimises the
  weighted distance; the median is then the midpoint of that interval (for two actors at 0 and 100 of
  equal weight, 50), so it does not depend on which end of the scale is called 0.
* :func:`eum`: Bueno de Mesquita's expected utility model, issue by issue, in the variant of Scholz,
  Calbert & Smith (2011) as the jmckib replication implements it (github.com/jmckib/bdm-scholz-expected-
  utility-model @ 55f63e9), formula by formula, including its departures from BdM's text: the win
  probability's denominator sums the absolute votes over all ordered pairs of actors, risk exponents
  compare each actor's exposure to challenges across actors (computed at r = 1, then P and the expected
  utilities recomputed with them), the status-quo weight Q = 1 (so T, Ub, Uw drop out), the scale range
  is max - min of the initial positions, offers are judged from the receiver's side with its own risk
  exponent, a confrontation it would lose is taken first (the nearest), else the compromise with the
  smallest *position-valued* key (|a| x_i + |b| x_j) / (|a| + |b|), capitulation never (unreachable in
  jmckib because of a typo, kept), ties go to the first actor in scenario order, and every actor moves at
  once. Each round reports the weighted median of the positions (the median voter, with the median's tie
  convention above; jmckib would report one end of a tied interval) and the weighted mean. The model does
  not converge in general (it cycles on the EC emissions data), so the prediction is the median after a
  fixed number of rounds (10, as the replications run it), and the rounds are kept to show it.
* :func:`nash`: the Nash bargaining solution of the two principals over all issues at once
  (:func:`sim.engine.rules.frontier` and :func:`~sim.engine.rules.nash_point`): the package maximising the
  product of their utility gains over their reservation values, inside both principals' red lines. An
  issue on which their red lines do not meet has no package (NaN); the others are bargained over with
  saliences renormalised over them, as a principal judges a package that leaves issues open in the
  agent-based model. When no package gives both more than their reservation values, ``feasible`` is
  False and the package is the one that maximises the smaller gain.

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
:func:`write_folder` writes a point prediction as a results folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.folder import (
    RUNS,
    TRAJECTORIES,
    atomic_write,
    chunk_path,
    locked,
    read_meta,
    write_meta,
    write_parquet,
)
from sim.batch.runner import Batch, load_results, load_trajectories, prepare_folder
from sim.engine import rules
from sim.engine.model import NegotiationModel
from sim.scenario.labels import Names
from sim.scenario.loader import load
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

FAMILIES = ("compromise", "median", "eum", "nash")
EUM_ROUNDS = 10
TIE = 1e-9  # a cumulative weight within TIE x the total of half of it counts as exactly half
MOVES = ("", "confrontation", "compromise")  # what an actor did in an EUM round: codes 0, 1, 2


class FamilyError(ValueError):
    """A scenario a model family cannot be applied to; ``path`` is the scenario field at fault."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


# ---------------------------------------------------------------------------------------- one-dimensional


def compromise(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """The compromise model: capability x salience weighted mean of positions (..., A, I) -> (..., I)."""
    return rules.weighted_compromise(positions, capability, salience)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted median of ``values`` (..., A) over the last axis; the midpoint of the interval on a tie.

    Zero total weight counts every value equally.
    """
    values, weights = np.broadcast_arrays(np.asarray(values, float), np.asarray(weights, float))
    total = weights.sum(axis=-1, keepdims=True)
    weights = np.where(total > 0, weights, 1.0)
    order = np.argsort(values, axis=-1, kind="stable")
    xs, ws = np.take_along_axis(values, order, -1), np.take_along_axis(weights, order, -1)
    cum = np.cumsum(ws, axis=-1)
    half, tol = cum[..., -1:] / 2, TIE * cum[..., -1:]
    low = np.argmax(cum >= half - tol, axis=-1)  # the first position reaching half the weight
    high = np.argmax(cum > half + tol, axis=-1)  # the first position passing it
    pick = lambda k: np.take_along_axis(xs, k[..., None], -1)[..., 0]
    return (pick(low) + pick(high)) / 2


def median(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """The weighted median model: positions (..., A, I) weighted by capability x salience -> (..., I)."""
    w = capability[..., None] * salience
    return weighted_median(np.swapaxes(positions, -1, -2), np.swapaxes(w, -1, -2))


# ---------------------------------------------------------------------------------------- EUM


@dataclass
class EUMRounds:
    """An EUM run on one issue, for leading dimensions ``...``, ``A`` actors and ``T`` rounds.

    ``positions`` (..., T+1, A), round 0 the input; ``risk`` (..., T+1, A), the risk exponents each round
    used (NaN in round 0); ``move`` (..., T+1, A) codes into :data:`MOVES`, ``toward`` (..., T+1, A) the
    actor moved toward (-1: none); ``median`` and ``mean`` (..., T+1) each round's weighted median and mean.
    """

    positions: np.ndarray
    risk: np.ndarray
    move: np.ndarray
    toward: np.ndarray
    median: np.ndarray
    mean: np.ndarray

    @property
    def prediction(self) -> np.ndarray:
        """The model's forecast: the weighted median after the last round."""
        return self.median[..., -1]


def win_probability(x: np.ndarray, w: np.ndarray, r: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """P[i, j] (..., A, A): the share of all votes that back i's position over j's (jmckib / Scholz's code).

    Voter k's vote for a over b is w_k [(|x_k - x_b| / R)^r_k - (|x_k - x_a| / R)^r_k]; the numerator sums
    the votes for i over j that are positive, the denominator the absolute votes over every ordered pair.
    """
    u = (np.abs(x[..., :, None] - x[..., None, :]) / scale[..., None, None]) ** r[..., :, None]  # (.., k, a)
    votes = w[..., :, None, None] * (u[..., :, None, :] - u[..., :, :, None])  # (..., k, a, b)
    total = np.abs(votes).sum(axis=(-3, -2, -1))
    return np.maximum(votes, 0.0).sum(axis=-3) / np.where(total > 0, total, 1.0)[..., None, None]


def expected_utility(p: np.ndarray, d: np.ndarray, resist: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The expected utility of a challenge won with probability ``p`` over distance ``d`` (a share of the
    scale), against a target that resists with probability ``resist``, to an estimator of risk exponent
    ``r``; with Q = 1 the status quo is the only alternative to a challenge."""
    success = 2 - 4 * (0.5 - 0.5 * d) ** r
    failure = 2 - 4 * (0.5 + 0.5 * d) ** r
    status_quo = 2 - 4 * 0.5**r
    return resist * (p * success + (1 - p) * failure) + (1 - resist) * success - status_quo


def risk_exponents(exposure: np.ndarray) -> np.ndarray:
    """r_i = (1 - R_i/3) / (1 + R_i/3), with R_i the actor's exposure placed on [-1, 1] across actors
    (all 1 when every actor is equally exposed)."""
    hi, lo = exposure.max(axis=-1, keepdims=True), exposure.min(axis=-1, keepdims=True)
    spread = hi - lo
    rel = np.where(spread > 0, (2 * exposure - hi - lo) / np.where(spread > 0, spread, 1.0), 0.0)
    return (1 - rel / 3) / (1 + rel / 3)


def eum_round(x: np.ndarray, w: np.ndarray, salience: np.ndarray, scale: np.ndarray):
    """One round of the jmckib EUM: (new positions, risk exponents, move codes, toward) for positions (..., A)."""
    n = x.shape[-1]
    d = np.abs(x[..., :, None] - x[..., None, :]) / scale[..., None, None]
    ones = np.ones_like(x)
    p1 = win_probability(x, w, ones, scale)
    e1 = expected_utility(p1, d, salience[..., None, :], 1.0)  # [i, j]: i challenges j, at r = 1
    exposure = np.where(np.eye(n, dtype=bool), 0.0, e1).sum(axis=-2)  # what the others expect from challenging i
    r = risk_exponents(exposure)
    p = win_probability(x, w, r, scale)
    own = r[..., :, None]  # receiver i estimates both sides with its own exponent
    a = expected_utility(p, d, salience[..., None, :], own)  # i challenging j
    b = expected_utility(np.swapaxes(p, -1, -2), d, salience[..., :, None], own)  # j challenging i
    other = x[..., :, None] != x[..., None, :]
    confront = other & (b > a) & (a > 0)
    settle = other & (b > 0) & (a < 0) & (b > np.abs(a))
    gap = np.abs(x[..., None, :] - x[..., :, None])
    nearest = np.argmin(np.where(confront, gap, np.inf), axis=-1)  # first in scenario order on a tie
    key = (np.abs(a) * x[..., :, None] + np.abs(b) * x[..., None, :]) / np.where(settle, np.abs(a) + np.abs(b), 1.0)
    chosen = np.argmin(np.where(settle, key, np.inf), axis=-1)
    take = lambda m, k: np.take_along_axis(m, k[..., None], -1)[..., 0]
    towards = x[..., None, :] - x[..., :, None]
    split = x + take(towards * np.abs(a / np.where(b != 0, b, 1.0)), chosen)
    confronts, settles = confront.any(axis=-1), settle.any(axis=-1)
    new = np.where(confronts, take(np.broadcast_to(x[..., None, :], a.shape), nearest), np.where(settles, split, x))
    move = np.where(confronts, 1, np.where(settles, 2, 0))
    toward = np.where(confronts, nearest, np.where(settles, chosen, -1))
    return new, r, move, toward


def eum(positions: np.ndarray, capability: np.ndarray, salience: np.ndarray, rounds: int = EUM_ROUNDS) -> EUMRounds:
    """The jmckib EUM on one issue: positions, capabilities and saliences (..., A), saliences on [0, 1]."""
    x = np.asarray(positions, dtype=float)
    capability, salience = np.broadcast_arrays(np.asarray(capability, float), np.asarray(salience, float))
    w = capability * salience
    spread = x.max(axis=-1) - x.min(axis=-1)
    scale = np.where(spread > 0, spread, 1.0)
    nan = np.full_like(x, np.nan)
    history = [(x, nan, np.zeros(x.shape, int), np.full(x.shape, -1))]
    for _ in range(rounds):
        history.append(eum_round(history[-1][0], w, salience, scale))
    positions, risk, move, toward = (np.stack(h, axis=-2) for h in zip(*history, strict=True))
    mean = rules.weighted_compromise(np.swapaxes(positions, -1, -2), capability, salience[..., None])
    return EUMRounds(positions, risk, move, toward, weighted_median(positions, w[..., None, :]), mean)


# ---------------------------------------------------------------------------------------- Nash


def nash(ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, low: np.ndarray, high: np.ndarray):
    """The Nash bargaining solution of two principals: ideals and saliences (..., 2, I), reservation values
    (..., 2), the red-line box ``low``..``high`` (..., I) of both.

    Returns (package (..., I), NaN where the red lines do not meet; utilities (..., 2) over the issues
    bargained; feasible (...): whether the package gives both more than their reservation values).
    """
    meet = low <= high + 1e-9
    weights = rules.restricted(salience, meet[..., None, :])
    lo, hi = np.where(meet, low, 0.0), np.where(meet, high, 100.0)
    frontier = rules.frontier(ideal[..., 0, :], ideal[..., 1, :], weights[..., 0, :], weights[..., 1, :], lo, hi)
    package, utilities, feasible = rules.nash_point(*frontier, reservation)
    return np.where(meet, package, np.nan), utilities, feasible & meet.any(axis=-1)


# ---------------------------------------------------------------------------------------- a scenario


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
    if seed is None and runs is None:
        medians = {path: np.asarray(dist.ppf(0.5), dtype=float) for path, dist in uncertain(scenario).items()}
        model = NegotiationModel(scenario, [0], seed=scenario.meta.seed, overrides=medians)
    else:
        seed = scenario.meta.seed_or(seed)
        model = NegotiationModel(scenario, range(runs or scenario.meta.runs), seed=seed)
    seated = [model.actor_index[a.id] for a in scenario.seated]
    p = list(model.principal_index)
    parties = np.zeros(model.capability.shape, dtype=bool)
    parties[:, p] = True
    low, high = model.box(parties)
    return Inputs(
        scenario,
        seed,
        [a.id for a in scenario.seated],
        model.ideal[:, seated],
        model.salience[:, seated],
        model.capability[:, seated],
        [a.id for a in scenario.principals],
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
    if family not in FAMILIES:
        raise FamilyError("model", f"unknown model family '{family}' (expected one of: {', '.join(FAMILIES)})")
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


# ---------------------------------------------------------------------------------------- results folder

TITLES = {
    "compromise": "compromise model (capability x salience weighted mean; Achen)",
    "median": "weighted median (capability x salience)",
    "eum": f"expected utility model (Bueno de Mesquita; Scholz et al.'s variant as jmckib implements it, "
    f"median after {EUM_ROUNDS} rounds)",
    "nash": "Nash bargaining solution of the two principals (disagreement at their reservation values, "
    "inside their red lines)",
}


def summarize(prediction: Prediction) -> dict:
    """A point prediction as plain data (JSON-ready): per issue the predicted value, with its spread over
    the parameter draws when there are several, and the range of the actors' positions."""
    data, table = prediction.inputs, prediction.table
    names = Names(data.scenario)
    drawn = data.seed is not None
    out = {
        "model": prediction.family,
        "title": TITLES[prediction.family],
        "scenario": data.scenario.meta.name,
        "runs": data.draws,
        "seed": data.seed,
        "parameters": "drawn" if drawn else "medians",
        "issues": [],
    }
    for k, issue in enumerate(data.scenario.issue_ids()):
        values = table[value_column(issue)].to_numpy()
        known = values[~np.isnan(values)]
        quantiles = np.quantile(known, [0.05, 0.5, 0.95]) if known.size else [np.nan] * 3
        out["issues"].append(
            {
                "issue": issue,
                "label": names.issues.get(issue, issue),
                "value": float(quantiles[1]),
                "q05": float(quantiles[0]),
                "q95": float(quantiles[2]),
                "undetermined": float(np.isnan(values).mean()),
                "actors_low": float(data.positions[..., k].min()),
                "actors_high": float(data.positions[..., k].max()),
            }
        )
    if prediction.family == "nash":
        out["feasible"] = float(table["feasible"].mean())
        out["utilities"] = {p: float(table[f"utility.{p}"].median()) for p in data.principals}
        out["reservation"] = {p: float(np.median(data.reservation[:, k])) for k, p in enumerate(data.principals)}
        out["red_lines"] = {
            issue: [float(np.median(data.low[:, k])), float(np.median(data.high[:, k]))]
            for k, issue in enumerate(data.scenario.issue_ids())
        }
    if prediction.rounds is not None:
        per_round = prediction.rounds.groupby(["issue", "round"], sort=False)[["median", "mean"]].median()
        out["rounds"] = {
            issue: {what: per_round.loc[issue, what].tolist() for what in ("median", "mean")}
            for issue in data.scenario.issue_ids()
        }
    return out


def text(summary: dict) -> str:
    """A point prediction's summary as readable lines."""
    drawn = summary["parameters"] == "drawn"
    how = (
        f"{summary['runs']:,} parameter draws, seed {summary['seed']}: the median over the draws [5%, 95%]"
        if drawn
        else "every uncertain number at its distribution's median"
    )
    lines = [f"{summary['scenario']}", f"model: {summary['title']}", f"parameters: {how}", ""]
    w = max(len(i["label"]) for i in summary["issues"]) + 2
    red_lines = summary.get("red_lines", {})
    spread = lambda x: x.center(18) if drawn else "  "
    header = f"{'issue':<{w}}{'predicted':>10}{spread('[5%, 95%]')}{'actors':<12}"
    lines.append((header + ("principals' red lines" + (" (median)" if drawn else "") if red_lines else "")).rstrip())
    for i in summary["issues"]:
        known = not np.isnan(i["value"])
        cells = [f"{i['label']:<{w}}", f"{i['value']:>10.1f}" if known else f"{'-':>10}"]
        cells.append(spread(f"[{i['q05']:.1f}, {i['q95']:.1f}]" if known else ""))
        cells.append(f"{i['actors_low']:g}-{i['actors_high']:g}".ljust(12))
        if i["issue"] in red_lines:
            low, high = red_lines[i["issue"]]
            cells.append(f"{low:.3g}-{high:.3g}" + (": they do not meet" if low > high and not drawn else ""))
        if drawn and i["undetermined"] > 0:
            cells.append(f"; no package in {i['undetermined']:.1%} of draws (red lines do not meet)")
        lines.append("".join(cells).rstrip())
    if "feasible" in summary:
        gains = ", ".join(
            f"{p} {u:.3f} (reservation {summary['reservation'][p]:.3f})" for p, u in summary["utilities"].items()
        )
        both = f"{summary['feasible']:.1%} of draws" if drawn else ("yes" if summary["feasible"] else "no")
        lines += ["", f"utilities: {gains}", f"both gain over their reservation values: {both}"]
    if "rounds" in summary:
        lines += ["", "weighted median of the positions, round by round (round 0: as given)"]
        labels = {i["issue"]: i["label"] for i in summary["issues"]}
        for issue, series in summary["rounds"].items():
            lines.append(f"{labels[issue]:<{w}}" + " ".join(f"{v:5.1f}" for v in series["median"]))
    return "\n".join(lines) + "\n"


def write_folder(prediction: Prediction, folder: str | Path, overwrite: bool = False) -> dict:
    """Write a point prediction as a results folder and return its summary.

    ``runs/chunk-000000.parquet`` holds the prediction (one row per parameter draw), for the EUM
    ``trajectories/chunk-000000.parquet`` its rounds; ``meta.json`` records the family (``model``),
    ``summary.json`` and ``summary.txt`` what it predicts. A folder holding results is kept unless
    ``overwrite``.
    """
    folder, data = Path(folder), prediction.inputs
    with locked(folder):
        batch = Batch(data.scenario, data.draws, data.seed, block_size=data.draws)
        prepare_folder(folder, batch, resume=False, overwrite=overwrite)
        write_parquet(chunk_path(folder, RUNS, 0), prediction.table)
        if prediction.rounds is not None:
            write_parquet(chunk_path(folder, TRAJECTORIES, 0), prediction.rounds)
        summary = write_summary(folder, prediction)
        meta = batch.meta()
        meta.update(model=prediction.family, parameters=summary["parameters"], status="complete")
        if prediction.rounds is not None:
            meta.update(rounds=EUM_ROUNDS, trajectories=data.draws)
        write_meta(folder, meta)
    return summary


def model_of(meta: dict) -> str:
    """The model family a results folder's ``meta.json`` records (``abm`` for the agent-based model)."""
    return meta.get("model", "abm")


def rewrite_summary(folder: str | Path) -> dict:
    """Recompute a point prediction's summary from its results folder (its tables, and its scenario read
    at the folder's parameters), rewrite ``summary.json``/``summary.txt`` and return it."""
    folder = Path(folder)
    meta = read_meta(folder)
    drawn = meta.get("parameters") == "drawn"
    scenario = load(folder / "scenario.yaml")
    data = inputs(scenario, meta["seed"] if drawn else None, meta["runs"] if drawn else None)
    rounds = load_trajectories(folder)
    prediction = Prediction(model_of(meta), data, load_results(folder), rounds if len(rounds) else None)
    return write_summary(folder, prediction)


def write_summary(folder: Path, prediction: Prediction) -> dict:
    summary = summarize(prediction)
    atomic_write(folder / "summary.json", json.dumps(summary, indent=2, default=float))
    atomic_write(folder / "summary.txt", text(summary))
    return summary
