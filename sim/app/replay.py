"""One run of a batch replayed round by round, as plain data for the page.

A run's numbers depend only on the scenario, the root seed and its index, so a Mesa model of a
block of one run (that index) steps through exactly the run the batch played in its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.engine import tables
from sim.engine.columns import REASONS
from sim.engine.model import NegotiationModel
from sim.scenario.labels import Names
from sim.scenario.schema import Scenario


def model_for(spec: Scenario, run: int, seed: int | None = None) -> NegotiationModel:
    """The Mesa model of run ``run`` alone (its data collector records every round)."""
    if run < 0:
        raise ValueError(f"run {run}: run indices start at 0")
    return NegotiationModel(**model_parameters(spec, run, seed))


def model_parameters(spec: Scenario, run: int, seed: int | None = None) -> dict:
    """The arguments that make the model of one run again (Mesa's controller resets with them)."""
    return {"spec": spec, "run_ids": [run], "seed": spec.meta.seed_or(seed), "trajectories": run + 1}


@dataclass
class Frame:
    """What the table looks like after a round (round 0: before the first), for one run."""

    round: int
    date: str
    running: bool
    outcome: str
    issues: list[dict]  # per issue: label, tabled, agreed round/value, positions {actor: value}, red lines
    principals: list[dict]  # per principal: name, value, threshold, answer, reason
    actors: list[dict]  # per actor: name, role, pressure, budget
    flags: list[str]  # world flags that hold
    happened: list[str]  # what happened this round, in words
    event_counts: list[int]  # how often each event has happened so far
    talks_open: bool = False
    on_table: list[str] = field(default_factory=list)  # what the principals answered this round, in words


def frame(model: NegotiationModel, before: Frame | None = None) -> Frame:
    """The state of the single run of ``model`` after its last round, with what changed since ``before``."""
    spec, names = model.spec, Names(model.spec)
    t = int(model.steps)
    row = tables.run_table(model).iloc[0]
    positions = model.stated_positions()[0]
    issues = []
    for i, issue in enumerate(spec.issues):
        lines = [
            {
                "actor": names.actor(r.actor),
                "label": names.red_lines[r.id],
                "min": _finite(model.red_line_min[0, j]),
                "max": _finite(model.red_line_max[0, j]),
                "relaxed": int(model.relaxed_round[0, j]),
            }
            for j, r in enumerate(spec.red_lines)
            if r.issue == issue.id
        ]
        issues.append(
            {
                "id": issue.id,
                "label": issue.label,
                "low": issue.low,
                "high": issue.high,
                "tabled": float(model.tabled[0, i]),
                "agreed_round": int(model.agreed_round[0, i]),
                "agreed_value": _finite(model.agreed_value[0, i]),
                "positions": {names.actor(a.id): float(positions[model.actor_index[a.id], i]) for a in spec.seated},
                "red_lines": lines,
            }
        )
    answers = model.answers
    principals = []
    for p in model.principals:
        a = p.index
        value = _finite(model.value[0, a])
        refused = [spec.issues[i].label for i in np.flatnonzero(answers["issues"][0, a])]
        if answers["blocked"][0, a]:
            answer, why = "no", f"{REASONS[int(answers['reason'][0, a])]} ({', '.join(refused)})"
        elif not model.talks_open[0]:
            answer, why = "-", "talks have not opened"
        else:
            answer, why = ("yes", "") if value is not None else ("-", "no package to answer")
        principals.append(
            {
                "name": names.actor(spec.actors[a].id),
                "value": value,
                "threshold": float(model.threshold[0, a]),
                "answer": answer,
                "reason": why,
            }
        )
    actors = [
        {
            "name": names.actor(a.id),
            "role": a.role,
            "pressure": float(model.pressure[0, k]),
            "budget": float(model.budget[0, k]) if a.role not in ("principal", "spoiler") else None,
        }
        for k, a in enumerate(spec.actors)
    ]
    flags = [f for k, f in enumerate(model.world.flag_names) if model.world.flags[0, k]]
    return Frame(
        round=t,
        date=str(row["date"].date()),
        running=bool(model.running),
        outcome=_outcome(model, row),
        issues=issues,
        principals=principals,
        actors=actors,
        flags=flags,
        happened=_happened(model, names, t, before.event_counts if before else None) if t else [],
        event_counts=[int(c) for c in model.world.count[0]],
        talks_open=bool(model.talks_open[0]),
        on_table=_on_table(model, names, t),
    )


def _finite(x) -> float | None:
    return float(x) if np.isfinite(x) else None


def _outcome(model: NegotiationModel, row) -> str:
    """The run's state in words: its outcome once there is one (talks may go on over the issues left open)."""
    declared, collapsed = model.declared_round[0, 0] >= 0, model.collapse_round[0] >= 0
    if declared or collapsed:
        going_on = "; talks go on over the issues left open" if declared and model.running else ""
        return f"{row['outcome']} in round {int(model.end_round[0])}{going_on}"
    if not model.running:
        return f"{row['outcome']}: nothing declared by the horizon (round {model.horizon})"
    if not model.talks_open[0]:
        return "talks have not opened yet"
    why = row["reason"]
    return f"in talks (last blocked by {row['blocker'] or '-'}: {why})" if why else "in talks"


def _on_table(model: NegotiationModel, names: Names, t: int) -> list[str]:
    """What was put to the principals in round ``t``: the next phase's gate package, and the issues left open
    inside the phases declared before it (an issue agreed this round was still on the table)."""
    if t == 0 or not model.talks_open[0] or model.collapse_round[0] not in (-1, t):
        return []
    spec, declared, agreed = model.spec, model.declared_round[0], model.agreed_round[0]
    pending = (agreed < 0) | (agreed == t)
    labels = lambda mask: ", ".join(spec.issues[i].label for i in np.flatnonzero(mask))
    out = []
    before = (declared >= 0) & (declared < t)
    h = int(before.sum())
    if h < len(model.phases):
        gate = labels(model.phase_settle[h] & pending)
        out.append(f"the gate package ({names.phases[model.phases[h].id]}): {gate}")
    left = (before[:, None] & model.phase_defer).any(axis=0) & pending
    if left.any():
        out.append(f"the issues left open in declared phases: {labels(left)}")
    return out


def _happened(model: NegotiationModel, names: Names, t: int, counts: list[int] | None) -> list[str]:
    """Events, guarantees, declarations, agreements, milestones, relaxed red lines and a collapse of round ``t``
    (events by their count against ``counts`` of the round before, else by their first round)."""
    spec, w = model.spec, model.world
    fired = w.count[0] > np.asarray(counts) if counts is not None else w.first_round[0] == t
    out = [f"event: {names.events[e.id]}" for j, e in enumerate(spec.events) if fired[j]]
    dated = (  # what happened, its names, and the round each happened in (-1: not yet)
        ("guarantee offered", [names.guarantees[g.id] for g in spec.guarantees], model.guarantee_round[0]),
        ("precondition met", [names.preconditions[p.id] for p in spec.preconditions], model.precondition_met[0]),
        ("precondition waived", [names.preconditions[p.id] for p in spec.preconditions], model.precondition_waived[0]),
        ("red line relaxed", [names.red_lines[r.id] for r in spec.red_lines], model.relaxed_round[0]),
        ("declared", [names.phases[p.id] for p in model.phases], model.declared_round[0]),
        (
            "agreed",
            [f"{i.label} at {v:.1f}" for i, v in zip(spec.issues, model.agreed_value[0], strict=True)],
            model.agreed_round[0],
        ),
        ("milestone carried out", [names.milestones[m.id] for m in spec.milestones], model.milestone_round[0]),
    )
    for what, labels, rounds in dated:
        out += [f"{what}: {label}" for label, r in zip(labels, rounds, strict=True) if r == t]
    if model.collapse_round[0] == t:
        out.append(spec.meta.outcome_words.collapsed)
    return out
