"""Calibration: fit a scenario's uncertain parameters to a reference class's frequencies by ABC-SMC.

The sampler is pyabc's sequential Monte Carlo approximate Bayesian computation. Each chosen
parameter is sampled as a quantile of its distribution in the scenario (a uniform prior on (0, 1)
mapped through the inverse CDF, so the scenario's distribution is the prior whatever its kind); a
particle is played as one design point of :func:`sim.analysis.design.frequencies` (the same
run indices and seed for every particle: common random numbers; the parameters not calibrated are
drawn per run as usual); its distance to the targets is the Euclidean norm of the differences in
frequency, each in units of its target's standard deviation. Populations stop at a tolerance of
``min_epsilon`` standard deviations or after ``generations`` populations.

Every finished population is kept in ``abc.db`` (SQLite) in the calibration folder, so an
interrupted calibration resumes from its last complete population. The posterior goes into a new
scenario file that ``extends:`` the original (:mod:`sim.analysis.calibrated_scenario`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.analysis.design import DesignError, at_quantiles, frequencies
from sim.analysis.errors import AnalysisError
from sim.analysis.intervals import Z95
from sim.batch.folder import atomic_write
from sim.engine.columns import measures
from sim.scenario.distributions import Beta, Choice, Normal
from sim.scenario.errors import Problem, ScenarioError, did_you_mean
from sim.scenario.labels import Names
from sim.scenario.loader import dump, load
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario
from sim.scenario.targets import Targets

STATE = "calibration.json"
DATABASE = "abc.db"
POSTERIOR = "posterior.csv"


class CalibrationError(AnalysisError):
    """A calibration that cannot be run or resumed as asked (the message is one line naming the path)."""


@dataclass
class Settings:
    """How hard to look: particles per population, populations, final tolerance, runs per particle."""

    population: int = 100
    generations: int = 6
    min_epsilon: float = 1.0
    runs_per_point: int = 200
    seed: int | None = None
    predictive_draws: int = 40


# ------------------------------------------------------------------ inputs
def check_targets(spec: Scenario, scenario_path: Path, targets: Targets, targets_path: Path, where: dict) -> None:
    """Refuse targets the scenario cannot reach, or that come from the case being calibrated, on their lines."""
    problems = []
    line = lambda path: where.get(path, (str(targets_path), 1))
    known = measures(spec)
    for i, t in enumerate(targets.targets):
        if t.measure not in known:
            hint = did_you_mean(t.measure, known, f" (one of: {', '.join(known)})")
            msg = f"not an outcome of {spec.meta.name}{hint}"
            problems.append(Problem(*line(f"targets.{i}.outcome"), f"targets.{i}.outcome", msg))
    for i, case in enumerate(targets.cases):
        if case.scenario is None:
            continue
        path = targets_path.parent / case.scenario
        same = path.resolve() == scenario_path.resolve()
        if not same and path.is_file():
            try:
                same = load(path).meta.name == spec.meta.name
            except ScenarioError:
                same = False
        if same:
            msg = ("this case is the scenario being calibrated: targets never come from the case being scored "
                   "(leave it out of the reference class)")  # fmt: skip
            problems.append(Problem(*line(f"cases.{i}.scenario"), f"cases.{case.id}.scenario", msg))
    if problems:
        raise ScenarioError(problems)


def chosen(spec: Scenario, params: list[str] | None) -> list[str]:
    """The uncertain parameters to calibrate: ``params`` (checked), or all of them."""
    dists = uncertain(spec)
    if not dists:
        raise DesignError(f"{spec.meta.name}: no uncertain parameters to calibrate (give some fields a distribution)")
    for p in params or []:
        if p not in dists:
            hint = did_you_mean(p, list(dists))
            raise DesignError(f"--param {p}: not an uncertain parameter of {spec.meta.name}{hint}")
    return list(dict.fromkeys(params)) if params else list(dists)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ------------------------------------------------------------------ the sampler
Play = Callable[[dict[str, np.ndarray], int], np.ndarray]  # (values per design point, seed) -> points x targets


def by_horizon(spec: Scenario, targets: Targets, settings: Settings) -> Play:
    """The targets' frequencies as calibration counts them by default: each target's measure by the horizon."""
    measures = [t.measure for t in targets.targets]
    return lambda values, seed: frequencies(spec, values, settings.runs_per_point, seed, measures)


def calibrate(
    spec: Scenario,
    targets: Targets,
    params: list[str],
    folder: Path,
    settings: Settings,
    resume: bool = False,
    overwrite: bool = False,
    play: Play | None = None,
) -> dict:
    """Run (or resume) ABC-SMC in ``folder``; return the result (posterior, predictive check, run facts).

    ``play`` gives the targets' frequencies at design points (by default each target's measure by the horizon,
    :func:`sim.analysis.design.frequencies`); a caller whose targets are counted otherwise (e.g. by a date) gives
    its own."""
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    seed = spec.meta.seed_or(settings.seed)
    dists = uncertain(spec)
    play = play or by_horizon(spec, targets, settings)
    observed = {f"t{k}": targets.value(t)[0] for k, t in enumerate(targets.targets)}
    sd = {f"t{k}": targets.value(t)[1] for k, t in enumerate(targets.targets)}
    state = {
        "scenario": spec.meta.name,
        "scenario_hash": _digest(dump(spec)),
        "targets": targets.name,
        "targets_hash": _digest(targets.model_dump_json(by_alias=True)),
        "parameters": params,
        "population": settings.population,
        "runs_per_point": settings.runs_per_point,
        "seed": seed,
        "min_epsilon": settings.min_epsilon,
    }
    db = folder / DATABASE
    t0 = _stored(db) if _prepare(folder, state, resume, overwrite) else 0

    def model(particle):
        values = {p: at_quantiles(dists[p], np.array([particle[f"u{j}"]])) for j, p in enumerate(params)}
        return {f"t{k}": float(x) for k, x in enumerate(play(values, seed)[0])}

    def distance(x, y):
        return math.sqrt(sum(((x[k] - y[k]) / sd[k]) ** 2 for k in sd))

    prior = pyabc.Distribution(**{f"u{j}": pyabc.RV("uniform", 0, 1) for j in range(len(params))})
    abc = pyabc.ABCSMC(model, prior, distance, population_size=settings.population,
                       sampler=pyabc.sampler.SingleCoreSampler())  # fmt: skip
    caller = np.random.get_state()  # pyabc draws from numpy's global generator: seed it, then give it back
    np.random.seed((seed + t0) % 2**32)
    history = abc.load(f"sqlite:///{db}", 1) if t0 > 0 else abc.new(f"sqlite:///{db}", observed)
    done = _epsilons(history)
    left = settings.generations - t0
    try:
        if left > 0 and not (done and done[-1] <= settings.min_epsilon):
            history = abc.run(minimum_epsilon=settings.min_epsilon, max_nr_populations=left)
    except BaseException:
        _write_state(folder, {**state, "status": "interrupted", "populations": history.max_t + 1})
        raise
    finally:
        np.random.set_state(caller)
    result = _result(history, spec, targets, params, settings, seed, state, play)
    _write_state(folder, {**state, "status": "complete", "populations": result["populations"]})
    return result


def _stored(db: Path) -> int:
    """Complete populations in the database (0 if it holds none, e.g. after a kill before the first; then it is
    cleared so that the calibration starts again as run 1)."""
    import pyabc

    if db.exists():
        history = pyabc.History(f"sqlite:///{db}", _id=1)
        done = history.max_t if any(r.id == 1 for r in history.all_runs()) else None
        if done is not None and done >= 0:
            return done + 1
    db.unlink(missing_ok=True)
    return 0


def _prepare(folder: Path, state: dict, resume: bool, overwrite: bool) -> bool:
    """Check the folder against the calibration asked; whether it resumes one begun there (else it is new)."""
    path = folder / STATE
    if path.exists() and resume:
        try:
            begun = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"{path}: unreadable ({exc}); start again with --overwrite") from None
        for key in ("scenario_hash", "targets_hash", "parameters", "population", "runs_per_point", "seed"):
            if begun.get(key) != state[key]:
                raise CalibrationError(f"{path}: cannot resume: the {key.replace('_', ' ')} differs from the "
                                       "calibration begun here (start again with --overwrite)")  # fmt: skip
        return True
    if path.exists() and not overwrite:
        raise CalibrationError(f"{folder}: already holds a calibration (--resume finishes it, --overwrite replaces it)")
    if folder.exists() and any(folder.iterdir()) and not path.exists() and not overwrite:
        raise CalibrationError(f"{folder}: exists and is not a calibration folder (choose another --folder)")
    for name in (DATABASE, POSTERIOR, "result.json"):
        (folder / name).unlink(missing_ok=True)
    _write_state(folder, {**state, "status": "running", "populations": 0})
    return False


def _write_state(folder: Path, state: dict) -> None:
    atomic_write(folder / STATE, json.dumps(state, indent=2))


def _epsilons(history) -> list[float]:
    if history.max_t < 0:
        return []
    return [float(e) for e in history.get_all_populations().query("t >= 0")["epsilon"]]


# ------------------------------------------------------------------ the posterior
def _result(history, spec, targets, params, settings, seed, state, play: Play) -> dict:
    dists = uncertain(spec)
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    posterior = pd.DataFrame({p: at_quantiles(dists[p], frame[f"u{j}"].to_numpy()) for j, p in enumerate(params)})
    posterior["weight"] = weights
    names = Names(spec)
    rows = []
    for p in params:
        x = posterior[p].to_numpy()
        lo, hi = _weighted_quantiles(x, weights, [0.025, 0.975])
        prior_x = prior_draws(spec, [p])[p]
        rows.append({
            "parameter": p, "label": names.field(p), "prior": _describe(dists[p]),
            "prior_mean": float(prior_x.mean()), "prior_low": float(np.quantile(prior_x, 0.025)),
            "prior_high": float(np.quantile(prior_x, 0.975)), "mean": float(np.sum(weights * x)),
            "low": float(lo), "high": float(hi), "fitted": fitted(dists[p], x, weights),
        })  # fmt: skip
    epsilons = _epsilons(history)
    return {
        **state,
        "pyabc": _pyabc_version(),
        "populations": history.max_t + 1,
        "epsilons": epsilons,
        "simulations": int(history.total_nr_simulations),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "parameters": rows,
        "posterior": posterior,
        "predictive": predictive(targets, params, posterior, settings, seed, play),
    }


def prior_draws(spec: Scenario, params: list[str], n: int = 4000) -> dict[str, np.ndarray]:
    """Evenly spaced quantiles of each parameter's prior (the scenario's distribution), for a figure."""
    dists = uncertain(spec)
    return {p: at_quantiles(dists[p], (np.arange(n) + 0.5) / n) for p in params}


def _pyabc_version() -> str:
    import pyabc

    return pyabc.__version__


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return np.array([x[order][min(np.searchsorted(cum, q * cum[-1]), len(x) - 1)] for q in qs])


def _describe(dist) -> str:
    return yaml.safe_dump(dist.model_dump(by_alias=True, exclude_none=True), default_flow_style=True).strip()


def fitted(prior, x: np.ndarray, w: np.ndarray) -> dict:
    """The posterior of one parameter as a scenario distribution on the prior's support: a choice with the
    posterior's weights for a choice; a beta by the weighted moments on a finite support; else a normal."""
    if isinstance(prior, Choice):
        weights = [float(np.sum(w[np.isclose(x, v)])) for v in prior.values]
        return {"dist": "choice", "values": list(prior.values), "weights": [round(v, 4) for v in weights]}
    lo, hi = prior.support()
    mean = float(np.sum(w * x))
    var = float(np.sum(w * (x - mean) ** 2))
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        m, v = (mean - lo) / (hi - lo), var / (hi - lo) ** 2
        m = min(max(m, 1e-3), 1 - 1e-3)
        common = max(m * (1 - m) / max(v, 1e-9) - 1, 1e-2)
        dist = Beta(dist="beta", a=m * common, b=(1 - m) * common, low=lo, high=hi)
        return {"dist": "beta", "a": _r(dist.a), "b": _r(dist.b), "low": lo, "high": hi}
    out = {"dist": "normal", "mean": _r(mean), "sd": _r(max(math.sqrt(var), 1e-9))}
    if isinstance(prior, Normal):
        out.update({k: v for k, v in (("low", prior.low), ("high", prior.high)) if math.isfinite(v)})
    return out


def _r(v: float) -> float:
    return float(f"{v:.6g}")


def predictive(
    targets: Targets, params, posterior: pd.DataFrame, settings: Settings, seed: int, play: Play
) -> list[dict]:
    """Posterior predictive check: the targets' frequencies at particles drawn by weight, played on runs the
    calibration never saw (seed + 1); a target is reproduced when the predictive mean lies within 1.96 of its
    standard deviations."""
    rng = np.random.default_rng(seed)
    draws = rng.choice(len(posterior), size=settings.predictive_draws, p=posterior["weight"].to_numpy())
    values = {p: posterior[p].to_numpy(dtype=float)[draws] for p in params}
    f = play(values, seed + 1)
    out = []
    for k, t in enumerate(targets.targets):
        p, sd = targets.value(t)
        mean = float(f[:, k].mean())
        out.append({
            "outcome": t.measure, "label": t.label or t.measure, "target": p, "sd": sd, "mean": mean,
            "low": float(np.quantile(f[:, k], 0.025)), "high": float(np.quantile(f[:, k], 0.975)),
            "reproduced": bool(abs(mean - p) <= Z95 * sd),
        })  # fmt: skip
    return out


def write_result(folder: Path, result: dict) -> None:
    """``posterior.csv`` (particles in parameter units, with weights) and ``result.json`` in the folder."""
    atomic_write(folder / POSTERIOR, result["posterior"].to_csv(index=False))
    kept = {k: v for k, v in result.items() if k != "posterior"}
    atomic_write(folder / "result.json", json.dumps(kept, indent=2, default=float))


# ------------------------------------------------------------------ plain text
def calibration_text(result: dict) -> str:
    """Prior against posterior per parameter, and the posterior predictive check, as readable lines."""
    eps = ", ".join(f"{e:.2f}" for e in result["epsilons"])
    lines = [
        f"{result['scenario']}: calibrated to {result['targets']} by ABC-SMC (pyabc {result['pyabc']})",
        f"{result['populations']} populations of {result['population']} particles x {result['runs_per_point']} runs "
        f"({result['simulations']:,} particles played), seed {result['seed']}; tolerance by population (sd): {eps}",
        "",
        f"{'parameter':<58}{'prior mean [95%]':>28}  {'posterior mean [95%]':>28}",
    ]
    for r in result["parameters"]:
        prior = f"{r['prior_mean']:.3g} [{r['prior_low']:.3g}, {r['prior_high']:.3g}]"
        post = f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]"
        lines.append(f"{r['label'][:57]:<58}{prior:>28}  {post:>28}")
    lines += ["", "posterior predictive check (frequency of each target at posterior draws, new runs):", ""]
    lines.append(f"{'target':<34}{'observed':>16}{'predicted [95%]':>26}   reproduced")
    for c in result["predictive"]:
        observed = f"{c['target']:.3f} ± {c['sd']:.3f}"
        predicted = f"{c['mean']:.3f} [{c['low']:.3f}, {c['high']:.3f}]"
        lines.append(f"{c['label'][:33]:<34}{observed:>16}{predicted:>26}   {'yes' if c['reproduced'] else 'NO'}")
    return "\n".join(lines) + "\n"
