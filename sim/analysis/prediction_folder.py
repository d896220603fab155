"""A point prediction as a results folder: its summary (``summary.json`` and ``summary.txt``), writing and
rereading it, and telling such a folder from an agent-based batch's.

``runs/chunk-000000.parquet`` holds the prediction (one row per parameter draw), for the EUM
``trajectories/chunk-000000.parquet`` its rounds; ``meta.json`` records the family as ``model`` (``abm``, or
no ``model``, for the agent-based model).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.analysis.families import EUM_ROUNDS
from sim.analysis.predict import Prediction, inputs, value_column
from sim.batch.errors import ResultsError
from sim.batch.folder import (
    RUNS,
    SUMMARY_JSON,
    SUMMARY_TEXT,
    TRAJECTORIES,
    ResultsFolder,
    atomic_write,
    chunk_path,
    locked,
    write_meta,
    write_parquet,
)
from sim.batch.runner import Batch, prepare_folder
from sim.scenario.labels import Names

TITLES = {
    "compromise": "compromise model (capability x salience weighted mean; Achen)",
    "median": "weighted median (capability x salience)",
    "eum": f"expected utility model (Bueno de Mesquita; Scholz et al.'s variant as jmckib implements it, "
    f"median after {EUM_ROUNDS} rounds)",
    "nash": "Nash bargaining solution of the two principals (disagreement at their reservation values, "
    "inside their red lines)",
}


def prediction_summary(prediction: Prediction) -> dict:
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


def prediction_text(summary: dict) -> str:
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


def family_of(meta: dict) -> str:
    """The model family a results folder's ``meta.json`` records (``abm`` for the agent-based model)."""
    return meta.get("model", "abm")


def point_family(folder: str | Path) -> str | None:
    """The model family of a point prediction's results folder, else None (an agent-based batch, or no results)."""
    if not ResultsFolder.holds_results(folder):
        return None
    family = family_of(ResultsFolder.open(folder).meta)
    return None if family == "abm" else family


def agent_based(folder: str | Path, why: str) -> None:
    """Refuse a point prediction's results folder where an agent-based batch is needed, saying ``why``."""
    if family := point_family(folder):
        raise ResultsError(f"{folder}: holds a point prediction (model {family}){why}")


def rewrite_summary(folder: str | Path) -> dict:
    """Recompute a point prediction's summary from its results folder (its tables, and its scenario read
    at the folder's parameters), rewrite ``summary.json``/``summary.txt`` and return it."""
    results = ResultsFolder.open(folder)
    meta = results.meta
    drawn = meta.get("parameters") == "drawn"
    data = inputs(results.scenario, meta["seed"] if drawn else None, meta["runs"] if drawn else None)
    rounds = results.trajectories()
    prediction = Prediction(family_of(meta), data, results.runs(), rounds if len(rounds) else None)
    return write_summary(results.path, prediction)


def write_summary(folder: Path, prediction: Prediction) -> dict:
    summary = prediction_summary(prediction)
    atomic_write(folder / SUMMARY_JSON, json.dumps(summary, indent=2, default=float))
    atomic_write(folder / SUMMARY_TEXT, prediction_text(summary))
    return summary
