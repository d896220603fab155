"""What moves P(declared): one-at-a-time sweeps and tornadoes, and global indices (SALib).

Sweeps edit the scenario data (as read from YAML) by dotted path, list items by ``id``
(e.g. ``actors.israel.reservation``; see :mod:`sim.scenario.edit`), validate each edited scenario and play it
with the same seed, so every value meets the same random streams. Global designs sample the scenario's
uncertain parameters in SALib's unit hypercube, map them through each distribution's inverse
CDF and play all design points as per-run overrides; each point replays the same run
indices (common random numbers), so P(declared) is a deterministic function of the
design point and a parameter that cannot matter gets an index of exactly zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.design import DesignError, at_quantiles, checked, frequencies
from sim.analysis.summary import probabilities
from sim.batch.runner import run_batch
from sim.scenario.edit import edited, source
from sim.scenario.labels import Names
from sim.scenario.parameters import uncertain, unit_of
from sim.scenario.schema import Scenario


# ------------------------------------------------------------------ one at a time
def _play(scenario: Scenario, runs: int | None, seed: int | None) -> dict:
    probs = probabilities(run_batch(scenario, runs=runs, seed=seed))
    t = probs["declared"]
    return {
        "runs": t["n"],
        "p_declared": t["p"],
        "low": t["low"],
        "high": t["high"],
        "p_collapse": probs["collapse"]["p"],
        "p_stalemate": probs["stalemate"]["p"],
    }


def _info(scenario: Scenario, fields, runs: int | None, seed: int | None, **extra) -> dict:
    """Scenario name, runs and seed, ``labels``: each of ``fields`` as the scenario names it, and ``units``: what
    each is in."""
    names = Names(scenario)
    return {
        "scenario": scenario.meta.name,
        "runs": runs or scenario.meta.runs,
        "seed": scenario.meta.seed_or(seed),
        "labels": {f: names.field(f) for f in fields},
        "units": {f: unit_of(scenario, f) for f in fields},
        **extra,
    }


def sweeps(path_or_data, grid: dict[str, list], runs: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """P(outcome) at each value of each field in ``grid``, one field at a time; ``attrs`` hold the baseline.

    Every edited scenario is validated before any is played; all are played with the same seed.
    """
    src = source(path_or_data)
    base = edited(src)
    variants = [(field, v, edited(src, {field: v})) for field, values in grid.items() for v in values]
    table = pd.DataFrame([{"field": field, "value": v, **_play(s, runs, seed)} for field, v, s in variants])
    table.attrs = _info(base, grid, runs, seed, baseline=_play(base, runs, seed)["p_declared"])
    return table


def sweep(path_or_data, field: str, values, runs: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """P(outcome) at each value of ``field``."""
    return sweeps(path_or_data, {field: list(values)}, runs, seed)


def tornado(
    path_or_data, ranges: dict[str, tuple[float, float]], runs: int | None = None, seed: int | None = None
) -> pd.DataFrame:
    """P(declared) with each field at its low and its high value, against the baseline; widest swing first."""
    return swings(sweeps(path_or_data, {field: list(lo_hi) for field, lo_hi in ranges.items()}, runs, seed))


def swings(table: pd.DataFrame) -> pd.DataFrame:
    """Per field of a :func:`sweeps` table: P(declared) at its lowest and highest value and the swing between.

    ``margin`` is the larger 95% half-width of the two ends: swings well inside it are noise.
    """
    rows = []
    for field, rows_of in table.groupby("field", sort=False):
        lo, hi = rows_of.loc[rows_of["value"].idxmin()], rows_of.loc[rows_of["value"].idxmax()]
        rows.append(
            {
                "field": field,
                "low": lo["value"],
                "high": hi["value"],
                "p_at_low": lo["p_declared"],
                "p_at_high": hi["p_declared"],
                "swing": hi["p_declared"] - lo["p_declared"],
                "margin": max(lo["high"] - lo["low"], hi["high"] - hi["low"]) / 2,
            }
        )
    out = pd.DataFrame(rows).sort_values("swing", key=abs, ascending=False, kind="stable", ignore_index=True)
    out.attrs = dict(table.attrs)
    return out


# ------------------------------------------------------------------ global
def reached_at(scenario: Scenario, unit: np.ndarray, runs_per_point: int, seed: int | None = None,
               measure: str = "declared") -> np.ndarray:  # fmt: skip
    """P(``measure``) at each design point: rows of ``unit`` are quantiles of the uncertain parameters."""
    dists = uncertain(scenario)
    values = {p: at_quantiles(d, unit[:, j]) for j, (p, d) in enumerate(dists.items())}
    return frequencies(scenario, values, runs_per_point, seed, [measure])[:, 0]


def _problem(scenario: Scenario, margin: float = 0.0) -> dict:
    names = list(uncertain(scenario))
    if not names:
        raise DesignError(f"{scenario.meta.name}: no uncertain parameters (give some fields a distribution)")
    return {"num_vars": len(names), "names": names, "bounds": [[margin, 1 - margin]] * len(names)}


def _ranked(scenario: Scenario, columns: dict, by: str, info: dict) -> pd.DataFrame:
    dists = uncertain(scenario)
    out = pd.DataFrame(columns, index=pd.Index(list(dists), name="parameter"))
    out["low"] = [d.support()[0] for d in dists.values()]
    out["high"] = [d.support()[1] for d in dists.values()]
    out = out.sort_values(by, ascending=False)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs = info
    return out


def sobol(scenario: Scenario, runs_per_point: int = 50, N: int = 256, seed: int | None = None,
          measure: str = "declared") -> pd.DataFrame:  # fmt: skip
    """First-order and total Sobol indices of P(``measure``) over the uncertain parameters (Saltelli design).

    ``N`` (a power of 2) base points give N x (parameters + 2) design points. Rows are parameters,
    most influential (total index) first, with 95% bootstrap half-widths.
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if N < 2 or N & (N - 1):
        raise DesignError(f"Sobol needs a power of 2 base points (got {N})")
    seed = scenario.meta.seed_or(seed)
    problem = _problem(scenario)
    unit = sample.sample(problem, N, calc_second_order=False, seed=seed)
    p, info = _evaluated(scenario, problem, unit, runs_per_point, seed, measure, "sobol")
    si = analyze.analyze(problem, p, calc_second_order=False, seed=seed)
    return _ranked(
        scenario,
        {"first": si["S1"], "first_conf": si["S1_conf"], "total": si["ST"], "total_conf": si["ST_conf"]},
        "total",
        info,
    )


def _evaluated(scenario, problem, unit, runs_per_point, seed, measure, method):
    """P(``measure``) at each design point of ``unit``, and the design's description for the table."""
    p = reached_at(scenario, unit, runs_per_point, seed, checked(scenario, measure))
    info = _info(
        scenario,
        problem["names"],
        len(unit) * runs_per_point,
        seed,
        method=method,
        points=len(unit),
        runs_per_point=runs_per_point,
        outcome=measure,
        p_mean=float(p.mean()),
        p_spread=float(p.std()),
    )
    return p, info


def morris(scenario: Scenario, runs_per_point: int = 50, trajectories: int = 20, seed: int | None = None,
           levels: int = 4, measure: str = "declared") -> pd.DataFrame:  # fmt: skip
    """Morris elementary effects of P(``measure``): mu* (mean absolute effect, with 95% half-width) and sigma.

    Each parameter moves on ``levels`` equally likely quantiles of its distribution (the
    centres of ``levels`` equal-probability bins); effects are per unit of quantile.
    """
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    seed = scenario.meta.seed_or(seed)
    problem = _problem(scenario, margin=0.5 / levels)
    unit = sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    p, info = _evaluated(scenario, problem, unit, runs_per_point, seed, measure, "morris")
    si = analyze.analyze(problem, unit, p, num_levels=levels, seed=seed)
    return _ranked(
        scenario,
        {"mu_star": si["mu_star"], "mu_star_conf": si["mu_star_conf"], "mu": si["mu"], "sigma": si["sigma"]},
        "mu_star",
        info,
    )


# ------------------------------------------------------------------ plain text
def sweep_text(table: pd.DataFrame) -> str:
    """A sweep table as readable lines, one per value."""
    w = table["field"].str.len().max() + 2
    lines = [
        f"{table.attrs.get('scenario', '')}  ({table.attrs.get('runs', 0):,} runs per value, seed "
        f"{table.attrs.get('seed')}; baseline P(declared) {table.attrs.get('baseline', float('nan')):.3f})",
        "",
        f"{'field':<{w}}{'value':>10}{'P(declared)':>15}   95% interval    {'P(collapse)':>12}{'P(stalemate)':>13}",
    ]
    for r in table.itertuples():
        lines.append(
            f"{r.field:<{w}}{r.value:>10g}{r.p_declared:>15.3f}   [{r.low:.3f}, {r.high:.3f}]  "
            f"{r.p_collapse:>12.3f}{r.p_stalemate:>13.3f}"
        )
    return "\n".join(lines) + "\n"


def swings_text(table: pd.DataFrame) -> str:
    """A tornado table as readable lines, widest swing first."""
    w = table["field"].str.len().max() + 2
    lines = [
        f"tornado: P(declared) at each field's low and high value (baseline {table.attrs['baseline']:.3f})",
        "",
        f"{'rank':<6}{'field':<{w}}{'P at low value':<20}{'P at high value':<20}{'swing':>7}   noise +/-",
    ]
    for rank, r in enumerate(table.itertuples(), 1):
        at_low, at_high = f"{r.p_at_low:.3f} at {r.low:g}", f"{r.p_at_high:.3f} at {r.high:g}"
        lines.append(f"{rank:<6}{r.field:<{w}}{at_low:<20}{at_high:<20}{r.swing:>+7.3f}   {r.margin:.3f}")
    return "\n".join(lines) + "\n"


def indices_text(indices: pd.DataFrame) -> str:
    """Sobol or Morris indices as readable lines, most influential first."""
    a = indices.attrs
    sobol = a.get("method") == "sobol"
    head = (
        f"{a.get('scenario', '')}  ({a['method']}: {a['points']:,} design points x {a['runs_per_point']} runs, "
        f"seed {a['seed']}; mean P({a.get('outcome', 'declared')}) {a['p_mean']:.3f}, "
        f"spread across points {a['p_spread']:.3f})"
    )
    cols = ("first", "total") if sobol else ("mu_star", "sigma")
    names = ("first-order", "total") if sobol else ("mu*", "sigma")
    lines = [head, "", f"{'rank':<6}{'parameter':<46}{'range':>16}{names[0]:>20}{names[1]:>20}"]
    for name, r in indices.iterrows():
        first = f"{r[cols[0]]:.3f} +/- {r[f'{cols[0]}_conf']:.3f}"
        second = f"{r[cols[1]]:.3f} +/- {r[f'{cols[1]}_conf']:.3f}" if sobol else f"{r[cols[1]]:.3f}"
        lines.append(f"{int(r['rank']):<6}{name:<46}{f'{r.low:g} - {r.high:g}':>16}{first:>20}{second:>20}")
    return "\n".join(lines) + "\n"
