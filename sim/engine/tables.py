"""The tables a played model yields: one row per run (:func:`run_table`), the recorded runs' rounds
(:func:`trajectory_table`), and whether each run reached a measure (:func:`measure`). Column names and
codes come from :mod:`sim.engine.columns`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine import implementation
from sim.engine.columns import (
    COALITION,
    COLLAPSE,
    COLLAPSED,
    DECLARED,
    INCOMPATIBLE,
    OUTCOME_ORDER,
    OUTCOMES,
    PRECONDITION,
    RATIFICATION,
    REASONS,
    RED_LINE,
    RULES,
    TRAJECTORY_COLUMNS,
    collapse_causes,
    column,
)

if TYPE_CHECKING:
    from sim.engine.model import NegotiationModel


def measure(model: NegotiationModel, what: str) -> np.ndarray:
    """Whether each run of a played model reached ``what`` (one of :func:`measures`) by the horizon."""
    kind, _, ident = what.partition(":")
    if what == "declared":
        return model.outcome == DECLARED
    if what == "collapse":
        return model.outcome == COLLAPSED
    if what == "consented":
        return model.consented_round[:, 0] >= 0
    if kind == "agreed":
        return model.agreed_round[:, model.issue_index[ident]] >= 0
    return model.milestone_round[:, [m.id for m in model.spec.milestones].index(ident)] >= 0


def _reason_texts(codes: np.ndarray, refs: np.ndarray, spec) -> np.ndarray:
    """A reason text per run from reason codes and the index of what each refers to."""
    named = {
        PRECONDITION: [p.id for p in spec.preconditions],
        RED_LINE: [r.id for r in spec.red_lines],
        COLLAPSE: collapse_causes(spec),
        INCOMPATIBLE: spec.issue_ids(),
        RATIFICATION: [v.id for v in spec.veto_players],
    }
    labels = np.full(len(codes), "", dtype=object)
    for code in REASONS:
        hit = codes == code
        if not hit.any():
            continue
        if code in named:
            names = np.array([*named[code], "?"], dtype=object)
            labels[hit] = REASONS[code] + ": " + names[refs[hit]]
        else:
            labels[hit] = REASONS[code]
    return labels


def _parties(spec) -> np.ndarray:
    """Blocker ids by index: actors, then domestic veto players; index -1 is nobody."""
    return np.array(["", *(a.id for a in spec.actors), *(v.id for v in spec.veto_players)], dtype=object)


def run_table(model: NegotiationModel) -> pd.DataFrame:
    """The outcomes of every run of a played model, one row per run."""
    spec = model.spec
    outcome = model.outcome
    if not set(np.unique(outcome)) <= set(OUTCOMES):
        raise RuntimeError("a run has no outcome: the model was not played to its end")
    start = np.datetime64(spec.meta.start_date, "D")
    end = model.end_round.astype(np.int32)
    parties = _parties(spec)
    cols: dict[str, object] = {
        "run": model.run_ids,
        "outcome": pd.Categorical.from_codes(outcome - 1, OUTCOME_ORDER),
        "round": end,
        "date": (start + end.astype("timedelta64[D]") * spec.meta.round_days).astype("datetime64[ms]"),
        "collapse_round": model.collapse_round.astype(np.int32),
        "collapse_cause": np.array(["", *model.causes], dtype=object)[model.collapse_ref + 1],
        "blocker": parties[model.blocker + 1],
        "reason": _reason_texts(model.reason, model.reason_ref, spec),
        "open_blocker": parties[model.open_blocker + 1],
        "open_reason": _reason_texts(model.open_reason, model.open_ref, spec),
    }
    if model.coalition is not None:
        ids = np.array([p.actor.id for p in model.principals], dtype=object)
        cols[COALITION] = ["+".join(sorted(ids[row])) for row in model.coalition]
    for h, phase in enumerate(model.phases):
        cols[column("phase_round", phase.id)] = model.declared_round[:, h]
        rule = np.array(RULES, dtype=object)[model.phase_rule[:, h]]
        cols[column("phase_rule", phase.id)] = rule
        by = np.where(rule == "non_objection", "+".join(phase.gate.declared_by), "+".join(phase.gate.consent))
        cols[column("phase_by", phase.id)] = np.where(model.declared_round[:, h] >= 0, by, "")
        cols[column("consented_round", phase.id)] = model.consented_round[:, h]
    for i, issue in enumerate(spec.issue_ids()):
        cols[column("agreed_round", issue)] = model.agreed_round[:, i]
        cols[column("agreed_value", issue)] = model.agreed_value[:, i]
    for k, m in enumerate(spec.milestones):
        cols[column("milestone_round", m.id)] = model.milestone_round[:, k]
        if m.deadline is not None:
            cols[column("milestone_status", m.id)] = model.milestone_status[:, k]
            due = implementation.due(model, k)
            cols[column("milestone_due", m.id)] = np.where(np.isfinite(due), due, -1).astype(np.int32)
    for j, x in enumerate(spec.expiries):
        if x.leave:
            cols[column("expiry_left", x.id)] = np.array(["", *(a.id for a in spec.actors)], dtype=object)[
                model.expiry_left[:, j] + 1
            ]
    for j, p in enumerate(spec.preconditions):
        met, waived = model.precondition_met[:, j], model.precondition_waived[:, j]
        cols[column("precondition", p.id)] = np.where(met >= 0, "met", np.where(waived >= 0, "waived", "unmet"))
        cols[column("precondition_round", p.id)] = np.where(met >= 0, met, waived)
    for j, r in enumerate(spec.red_lines):
        at = model.agreed_value[:, model.red_line_issue[j]]
        on_bound = (np.abs(at - model.red_line_min[:, j]) < 1e-6) | (np.abs(at - model.red_line_max[:, j]) < 1e-6)
        cols[column("red_line_bound", r.id)] = on_bound
        cols[column("red_line_relaxed", r.id)] = model.relaxed_round[:, j]
    for v, player in enumerate(spec.veto_players):
        cols[column("veto_unmet", player.id)] = model.veto_unmet[:, v]
    for g, guarantee in enumerate(spec.guarantees):
        cols[column("guarantee_round", guarantee.id)] = model.guarantee_round[:, g]
    for j, e in enumerate(spec.events):
        cols[column("event_round", e.id)] = model.world.first_round[:, j]
        cols[column("event_count", e.id)] = model.world.count[:, j]
    for k, a in enumerate(spec.actors):
        cols[column("pressure", a.id)] = model.pressure[:, k]
        if a.role == "principal":
            cols[column("audience_cost", a.id)] = model.audience_cost[:, k]
        elif a.role != "spoiler":
            cols[column("budget", a.id)] = model.budget[:, k]
    for mechanism in spec.mechanisms:
        cols[column("mechanism", mechanism.id)] = model.numbers.alternatives(mechanism.id)
    for path, drawn in model.numbers.drawn.items():
        cols[column("param", path)] = np.broadcast_to(drawn, model.block_size)
    return pd.DataFrame(cols)


def trajectory_table(model: NegotiationModel) -> pd.DataFrame:
    """Per-round state of the recorded runs, long format: the model's data collector's table, one piece a round."""
    rounds = model.datacollector.tables["trajectories"]
    if not rounds["run"]:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    return pd.DataFrame({name: np.concatenate(rounds[name]) for name in TRAJECTORY_COLUMNS})
