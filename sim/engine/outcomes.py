"""Per-run outcomes of a played block as a tidy table (one row per run).

Columns: ``run``, ``outcome`` (transition / collapse / stalemate), ``round`` and ``date`` the
run ended, ``blocker`` and ``reason`` when there was no transition, ``package.<issue>``,
``precondition.<id>`` (met / waived / unmet) with ``.round``, ``red_line.<id>.bound``,
``event.<id>.round`` (-1 if it never happened) and ``.count``, ``pressure.<actor>`` at the end,
and ``param.<path>`` for each sampled parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.agents import COLLAPSE, INCOMPATIBLE, PRECONDITION, REASONS, RED_LINE
from sim.engine.model import OUTCOMES, TRANSITION, NegotiationModel

OUTCOME_ORDER = ["transition", "collapse", "stalemate"]


def reasons(model: NegotiationModel) -> np.ndarray:
    """A readable reason per run, e.g. ``precondition: remains`` or ``collapse: incidents``."""
    spec = model.spec
    refs = {
        PRECONDITION: [p.id for p in spec.preconditions],
        RED_LINE: [r.id for r in spec.red_lines],
        COLLAPSE: [e.id for e in spec.events],
        INCOMPATIBLE: spec.issue_ids(),
    }
    labels = np.empty(model.block_size, dtype=object)
    labels[:] = ""
    for code, text in REASONS.items():
        hit = model.reason == code
        if not hit.any():
            continue
        if code in refs:
            names = np.array(refs[code] + ["?"], dtype=object)
            labels[hit] = text + ": " + names[model.reason_ref[hit]]
        else:
            labels[hit] = text
    return labels


def table(model: NegotiationModel) -> pd.DataFrame:
    """The outcome of every run in ``model`` (after :meth:`NegotiationModel.run`)."""
    spec = model.spec
    start = np.datetime64(spec.meta.start_date, "D")
    cols: dict[str, object] = {
        "run": model.runs,
        "outcome": pd.Categorical.from_codes(model.outcome - 1, OUTCOME_ORDER),
        "round": model.end_round.astype(np.int32),
        "date": (start + model.end_round.astype("timedelta64[D]") * spec.meta.round_days).astype("datetime64[ms]"),
        "blocker": np.array([""] + [a.id for a in spec.actors], dtype=object)[model.blocker + 1],
        "reason": reasons(model),
    }
    for i, issue in enumerate(spec.issue_ids()):
        cols[f"package.{issue}"] = model.package[:, i]
    for j, p in enumerate(spec.preconditions):
        met, waived = model.precondition_met[:, j], model.precondition_waived[:, j]
        cols[f"precondition.{p.id}"] = np.where(met >= 0, "met", np.where(waived >= 0, "waived", "unmet"))
        cols[f"precondition.{p.id}.round"] = np.where(met >= 0, met, waived)
    done = model.outcome == TRANSITION
    for j, r in enumerate(spec.red_lines):
        at = model.package[:, model.red_line_issue[j]]
        on_min = np.abs(at - model.red_line_min[:, j]) < 1e-6
        on_max = np.abs(at - model.red_line_max[:, j]) < 1e-6
        cols[f"red_line.{r.id}.bound"] = done & (on_min | on_max)
    for j, e in enumerate(spec.events):
        cols[f"event.{e.id}.round"] = model.world.first_round[:, j]
        cols[f"event.{e.id}.count"] = model.world.count[:, j]
    for k, a in enumerate(spec.actors):
        cols[f"pressure.{a.id}"] = model.pressure[:, k]
    n = model.block_size
    for path in model.values.drawn:
        cols[f"param.{path}"] = np.broadcast_to(model.values.drawn[path], n)
    if not set(np.unique(model.outcome)) <= set(OUTCOMES):
        raise RuntimeError("a run ended without an outcome: the model was not played to its end")
    return pd.DataFrame(cols)


def trajectories(model: NegotiationModel) -> pd.DataFrame:
    """Per-round state of the recorded runs, long format: run, round, actor, issue, position, ..."""
    spec = model.spec
    if not model.trajectory:
        return pd.DataFrame(columns=["run", "round", "actor", "issue", "position", "package", "threshold", "pressure"])
    actors, issues = [a.id for a in spec.actors], spec.issue_ids()
    frames = []
    for rec in model.trajectory:
        r, a, i = np.meshgrid(np.arange(len(rec["run"])), np.arange(len(actors)), np.arange(len(issues)), indexing="ij")
        frames.append(pd.DataFrame({
            "run": rec["run"][r.ravel()],
            "round": rec["round"],
            "actor": np.array(actors)[a.ravel()],
            "issue": np.array(issues)[i.ravel()],
            "position": rec["position"][r, a, i].ravel(),
            "package": rec["package"][r, i].ravel(),
            "threshold": rec["threshold"][r, a].ravel(),
            "pressure": rec["pressure"][r, a].ravel(),
        }))
    return pd.concat(frames, ignore_index=True)
