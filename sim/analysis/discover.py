"""Scenario discovery: the regions of the sampled parameters in which a measure is most likely reached.

A measure is what a run can reach: ``declared``, ``collapse``, ``agreed:<issue>`` or ``implemented:<milestone>``
(``--outcome`` on the command line). The EMA Workbench's PRIM (patient rule induction) peels a box around the
runs that reach it, trading coverage (the share of those runs inside the box) against density (the share of
runs inside the box that reach it); the chosen box is the densest on the peeling trajectory whose
coverage is still at least ``min_coverage``, less the restrictions whose quasi-p value exceeds ``max_qp``
(which a box this good would show by chance). Its CART (a classification tree, scikit-learn) gives a
second view: the leaves where it is likeliest. Both read a results folder's sampled
parameters (``param.*`` columns) and report boxes in the scenario's own words.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.design import DesignError, checked
from sim.analysis.prediction_folder import agent_based
from sim.batch.folder import SCENARIO, ResultsError, ResultsFolder
from sim.engine.columns import idents, reached
from sim.scenario.errors import ScenarioError
from sim.scenario.labels import Names
from sim.scenario.parameters import uncertain, unit_of


def parameters(table: pd.DataFrame) -> pd.DataFrame:
    """The sampled parameters of a per-run table, one column per parameter path (constants left out)."""
    x = table[[c for c in table.columns if c.startswith("param.")]]
    x = x.rename(columns=dict(zip(x.columns, idents(x.columns, "param"), strict=True)))
    return x.loc[:, x.nunique() > 1].astype(float)


def discover(folder: str | Path, measure: str = "declared", min_coverage: float = 0.5, mass_min: float = 0.05,
             peel_alpha: float = 0.05, max_qp: float = 0.05) -> dict:  # fmt: skip
    """PRIM's peeling trajectory and chosen box, and CART's likeliest leaves, for ``measure`` in a results folder."""
    with warnings.catch_warnings():  # it warns that an optional back-end it never uses here is missing
        warnings.simplefilter("ignore", UserWarning)
        from ema_workbench.analysis import cart, prim

    agent_based(folder, "; discovery needs a batch")
    results = ResultsFolder.open(folder)
    folder, meta = results.path, results.meta
    try:
        spec = results.scenario
    except ScenarioError as exc:
        raise ResultsError(f"{results / SCENARIO}: not a valid scenario ({exc.problems[0].message})") from None
    measure = checked(spec, measure)
    table = results.runs()
    x = parameters(table)
    if x.empty:
        raise DesignError(f"{folder}: the runs sampled no uncertain parameters: nothing to discover")
    y = reached(table, measure)
    if not 0 < y.sum() < len(y):
        raise DesignError(f"{folder}: '{measure}' happens in {'every' if y.all() else 'no'} run: nothing to tell apart")
    names = Names(spec)
    dists = uncertain(spec)
    with warnings.catch_warnings():  # pandas deprecations inside the workbench, not ours
        warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
        box = prim.Prim(x, y, mass_min=mass_min, peel_alpha=peel_alpha).find_box()
    trajectory = box.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].astype(float)
    eligible = trajectory[trajectory["coverage"] >= min_coverage]
    chosen = int(eligible.loc[eligible["density"].idxmax(), "id"]) if len(eligible) else 0
    drawn = lambda path: [x[path].min(), x[path].max()]  # a mechanism's alternative may set a value off the prior's
    span = lambda path: [f(a, b) for f, a, b in zip((min, max), dists[path].support(), drawn(path), strict=True)] \
        if path in dists else drawn(path)  # fmt: skip
    describe = lambda path: {"parameter": path, "label": names.field(path), "unit": unit_of(spec, path),
                             "range": [float(v) for v in span(path)]}  # fmt: skip
    box.select(chosen)
    dropped = _prune(box, max_qp)
    final = box.peeling_trajectory.iloc[-1] if dropped else trajectory.loc[chosen]
    limits = []
    lims, p_values = box.box_lims[box._cur_box], box.p_values[box._cur_box]
    for path in _restricted(lims, box.box_lims[0]):
        low, high = float(lims[path].iloc[0]), float(lims[path].iloc[1])
        limits.append({**describe(path), "low": low, "high": high, "qp": [_qp(v) for v in p_values.get(path, [])]})
    tree = cart.CART(x, y, mass_min=mass_min)
    tree.build_tree()
    leaves = []
    for lims_, stats in zip(tree.boxes, tree.stats, strict=True):
        rules = [{**describe(p), "low": float(lims_[p].iloc[0]), "high": float(lims_[p].iloc[1])}
                 for p in _restricted(lims_, _init(x))]  # fmt: skip
        leaves.append({**{k: float(stats[k]) for k in ("coverage", "density", "mass")}, "rules": rules})
    leaves.sort(key=lambda leaf: -leaf["density"])
    return {
        "scenario": spec.meta.name,
        "folder": str(folder),
        "runs": len(y),
        "seed": meta.get("seed"),
        "outcome": measure,
        "base_rate": float(y.mean()),
        "parameters": len(x.columns),
        "min_coverage": min_coverage,
        "mass_min": mass_min,
        "peel_alpha": peel_alpha,
        "trajectory": trajectory.to_dict(orient="records"),
        "chosen": chosen,
        "max_qp": max_qp,
        "dropped": [describe(p) for p in dropped],
        "box": {**{k: float(final[k]) for k in ("coverage", "density", "mass")}, "limits": limits},
        "cart": {"leaves": leaves, "tree": _tree_text(tree, names, x.columns)},
    }


def _prune(box, max_qp: float) -> list[str]:
    """Drop, one at a time and the weakest first, the chosen box's restrictions whose quasi-p value (the chance
    that a restriction this good arises by chance, Bryant & Lempert 2010) exceeds ``max_qp``; return them."""
    dropped = []
    while True:
        i = box._cur_box
        weak = {path: min(q for q in qps if q >= 0) for path, qps in box.p_values[i].items()
                if any(q >= 0 for q in qps) and min(q for q in qps if q >= 0) > max_qp}  # fmt: skip
        weak = {p: q for p, q in weak.items() if p in _restricted(box.box_lims[i], box.box_lims[0])}
        if not weak:
            return dropped
        worst = max(weak, key=weak.get)
        box.drop_restriction(worst, i)
        dropped.append(worst)


def _init(x: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([x.min(), x.max()])


def _restricted(lims: pd.DataFrame, init: pd.DataFrame) -> list[str]:
    """The parameters a box restricts: its limits differ from the whole sample's."""
    return [c for c in lims.columns if not np.allclose(lims[c].to_numpy(float), init[c].to_numpy(float))]


def _qp(value: float) -> float | None:
    return None if value is None or value < 0 or not math.isfinite(value) else float(value)


def _tree_text(tree, names: Names, columns) -> str:
    from sklearn.tree import export_text

    return export_text(tree.clf, feature_names=[names.field(c) for c in columns], class_names=["no", "yes"],
                       decimals=3, show_weights=True)  # fmt: skip


# ------------------------------------------------------------------ plain text
def bounds_text(rule: dict) -> str:
    """A box's limit on one parameter: ``at most``, ``at least`` or ``between``, against its whole range (a limit
    within a thousandth of the range's end is that end: the runs' draws fall just inside it)."""
    lo, hi = rule["range"]
    low, high = rule["low"], rule["high"]
    near = lambda a, b: abs(a - b) <= 1e-3 * (hi - lo)
    if near(low, lo):
        return f"at most {high:.4g}"
    if near(high, hi):
        return f"at least {low:.4g}"
    return f"between {low:.4g} and {high:.4g}"


def _interval(rule: dict) -> str:
    what = f" ({rule['unit']})" if rule["unit"] else ""
    lo, hi = rule["range"]
    return f"{rule['label']}: {bounds_text(rule)}{what}; range {lo:.4g} to {hi:.4g}"


def discovery_text(found: dict) -> str:
    """The peeling trajectory, the chosen box and CART's likeliest leaves, in the scenario's words."""
    b = found["box"]
    n = len(found["dropped"])
    less = f", less {n} restriction(s) with quasi-p > {found['max_qp']:g}" if n else ""
    lines = [
        f"{found['scenario']}: where P({found['outcome']}) is highest ({found['runs']:,} runs, seed {found['seed']}, "
        f"{found['parameters']} uncertain parameters; P({found['outcome']}) = {found['base_rate']:.3f} over all runs)",
        "",
        "PRIM peeling trajectory (coverage: share of the runs reaching it that lie in the box; density: share of the "
        "box's runs that reach it)",
        f"{'box':>5}{'coverage':>10}{'density':>10}{'mass':>8}{'restricted':>12}",
    ]
    for step in found["trajectory"]:
        mark = "  <- chosen" if int(step["id"]) == found["chosen"] else ""
        lines.append(f"{int(step['id']):>5}{step['coverage']:>10.3f}{step['density']:>10.3f}{step['mass']:>8.3f}"
                     f"{int(step['res_dim']):>12}{mark}")  # fmt: skip
    lines += [
        "",
        f"chosen box {found['chosen']} (the densest with coverage >= {found['min_coverage']:g}{less}): "
        f"P({found['outcome']}) = {b['density']:.3f} inside it, against {found['base_rate']:.3f} overall; it holds "
        f"{b['coverage']:.0%} of the runs that reach it and {b['mass']:.0%} of all runs, where",
    ]
    if not b["limits"]:
        lines.append(f"  - nothing: no restriction is clear of chance; no region of these parameters makes "
                     f"{found['outcome']} markedly likelier")  # fmt: skip
    for rule in b["limits"]:
        qp = ", ".join(f"{v:.2g}" for v in rule["qp"] if v is not None)
        lines.append(f"  - {_interval(rule)}" + (f"  [quasi-p {qp}]" if qp else ""))
    lines += ["", f"CART leaves where {found['outcome']} is likeliest (a second view):"]
    for leaf in found["cart"]["leaves"][:3]:
        share = f"{leaf['mass']:.0%} of the runs (coverage {leaf['coverage']:.0%})"
        lines.append(f"  P = {leaf['density']:.3f} in {share}:")
        lines += [f"    - {_interval(rule)}" for rule in leaf["rules"]]
    return "\n".join(lines) + "\n"
