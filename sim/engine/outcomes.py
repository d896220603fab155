"""The result schema: outcome and reason codes, column names, and the tables a played model yields.

Every layer above the engine writes and reads results through this module, so a name is
spelled once. The per-run table (:func:`run_table`, one row per run) has the columns

- ``run`` (its index in the batch), ``outcome`` (declared / collapse / stalemate: whether the
  scenario's first phase was declared, the ceasefire collapsed before that, or neither by the
  horizon), the ``round`` and ``date`` of that outcome (the horizon for a stalemate), and
  ``collapse_round`` (-1 if none: a collapse after a declaration leaves the outcome ``declared``);
- ``blocker`` and ``reason``: what last stopped the first phase's declaration (empty once
  declared; reason texts such as ``precondition: remains``, see :func:`reason_text`);
  ``open_blocker`` and ``open_reason``: what last stopped an agreement on the issues still open;
- one column per *family* below and scenario id, e.g. ``agreed.weapons.round``,
  ``milestone.committee_governing.round`` or ``param.actors.israel.reservation``.

The trajectory table (:func:`trajectory_table`) holds the per-round state of the recorded runs,
long format: run, round, actor, issue, stated position, tabled package, threshold, value, pressure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the engine's model imports this module
    import pandas as pd

    from sim.engine.model import NegotiationModel
    from sim.scenario.labels import Names

# How a run ends.
DECLARED, COLLAPSED, STALEMATE = 1, 2, 3
OUTCOMES = {DECLARED: "declared", COLLAPSED: "collapse", STALEMATE: "stalemate"}
OUTCOME_ORDER = list(OUTCOMES.values())
SUCCESS = OUTCOMES[DECLARED]

# Why a proposal failed, and what the reason refers to. RATIFICATION is a domestic veto player's refusal.
PRECONDITION, RED_LINE, OFFER, COLLAPSE, INCOMPATIBLE, RATIFICATION, NO_TALKS = 1, 2, 3, 4, 5, 6, 7
REASONS = {
    PRECONDITION: "precondition",
    RED_LINE: "red line",
    OFFER: "offer below aspiration",
    COLLAPSE: "collapse",
    INCOMPATIBLE: "red lines incompatible",
    RATIFICATION: "ratification refused",
    NO_TALKS: "talks never opened",
}
REFERS_TO = {
    PRECONDITION: "preconditions",
    RED_LINE: "red_lines",
    COLLAPSE: "events",
    INCOMPATIBLE: "issues",
    RATIFICATION: "veto_players",
}
BREAKDOWN = "breakdown"  # what a collapse from the risk's own hazard (no event) refers to

# Column families: a template per family, filled with a scenario id (a parameter path for ``param``).
FAMILIES = {
    "phase_round": "phase.{}.round",  # the round a phase was declared (-1: not by the horizon)
    "agreed_round": "agreed.{}.round",  # the round an issue was agreed (-1: not by the horizon)
    "agreed_value": "agreed.{}.value",  # the value it was agreed at (NaN: not agreed)
    "milestone_round": "milestone.{}.round",  # the round a milestone was carried out (-1: not)
    "precondition": "precondition.{}",  # met / waived / unmet
    "precondition_round": "precondition.{}.round",  # the round it was met or waived (-1: neither)
    "red_line_bound": "red_line.{}.bound",  # whether its issue was agreed on the red line
    "red_line_relaxed": "red_line.{}.relaxed",  # the round it was relaxed (-1: never)
    "guarantee_round": "guarantee.{}.round",  # the round a guarantee was offered (-1: never)
    "event_round": "event.{}.round",  # the first round an event happened (-1: never)
    "event_count": "event.{}.count",  # how often it happened
    "pressure": "pressure.{}",  # the pressure on an actor at the horizon
    "budget": "budget.{}",  # what a third party had left of its budget
    "audience_cost": "audience_cost.{}",  # the audience costs a principal paid for relaxing red lines
    "param": "param.{}",  # the value an uncertain parameter took in the run
}
_PATTERNS = {
    family: re.compile(
        "^" + re.escape(template).replace(r"\{\}", "(.+)" if family == "param" else "([a-z][a-z0-9_]*)") + "$"
    )
    for family, template in FAMILIES.items()
}
TRAJECTORY_COLUMNS = ["run", "round", "actor", "issue", "position", "package", "threshold", "value", "pressure"]


def column(family: str, ident: str) -> str:
    """The column of ``family`` for a scenario id: ``column("event_round", "summit")`` -> ``event.summit.round``."""
    return FAMILIES[family].format(ident)


def idents(columns, family: str) -> list[str]:
    """The ids that ``columns`` hold a column of ``family`` for, in column order."""
    pattern = _PATTERNS[family]
    return [m.group(1) for c in columns if (m := pattern.match(c))]


def reason_text(code: int, ref: str = "") -> str:
    """A reason as text: ``precondition: remains``; a reason without a reference is just its kind."""
    return f"{REASONS[code]}: {ref}" if ref else REASONS[code]


def reason_words(text: str, names: Names) -> str:
    """A reason in the scenario's own labels: ``precondition: remains`` -> ``precondition: remains recovered``."""
    kind, _, ref = text.partition(": ")
    section = {REASONS[code]: attr for code, attr in REFERS_TO.items()}.get(kind)
    if not ref:
        return kind
    return f"{kind}: {(getattr(names, section) if section else {}).get(ref) or names.readable(ref)}"


def is_collapse(text: str) -> bool:
    return text.partition(": ")[0] == REASONS[COLLAPSE]


def measures(spec) -> list[str]:
    """What a run can reach, by name: ``declared``, ``collapse`` (before a declaration), ``agreed:<issue>``,
    ``implemented:<milestone>``."""
    return ["declared", "collapse", *(f"agreed:{i}" for i in spec.issue_ids()),
            *(f"implemented:{m.id}" for m in spec.milestones)]  # fmt: skip


def measure(model: NegotiationModel, what: str) -> np.ndarray:
    """Whether each run of a played model reached ``what`` (one of :func:`measures`) by the horizon."""
    kind, _, ident = what.partition(":")
    if what == "declared":
        return model.outcome == DECLARED
    if what == "collapse":
        return model.outcome == COLLAPSED
    if kind == "agreed":
        return model.agreed_round[:, model.issue_index[ident]] >= 0
    return model.milestone_round[:, [m.id for m in model.spec.milestones].index(ident)] >= 0


def reached(table: pd.DataFrame, what: str) -> np.ndarray:
    """Whether each run of a per-run table reached ``what`` (one of :func:`measures`), as :func:`measure`
    says of a played model."""
    kind, _, ident = what.partition(":")
    if what in ("declared", "collapse"):
        return (table["outcome"] == what).to_numpy()
    family = "agreed_round" if kind == "agreed" else "milestone_round"
    return (table[column(family, ident)] >= 0).to_numpy()


def _reason_texts(codes: np.ndarray, refs: np.ndarray, spec) -> np.ndarray:
    """A reason text per run from reason codes and the index of what each refers to."""
    named = {
        PRECONDITION: [p.id for p in spec.preconditions],
        RED_LINE: [r.id for r in spec.red_lines],
        COLLAPSE: [*(e.id for e in spec.events), BREAKDOWN],
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
    import pandas as pd

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
        "blocker": parties[model.blocker + 1],
        "reason": _reason_texts(model.reason, model.reason_ref, spec),
        "open_blocker": parties[model.open_blocker + 1],
        "open_reason": _reason_texts(model.open_reason, model.open_ref, spec),
    }
    for h, phase in enumerate(model.phases):
        cols[column("phase_round", phase.id)] = model.declared_round[:, h]
    for i, issue in enumerate(spec.issue_ids()):
        cols[column("agreed_round", issue)] = model.agreed_round[:, i]
        cols[column("agreed_value", issue)] = model.agreed_value[:, i]
    for k, m in enumerate(spec.milestones):
        cols[column("milestone_round", m.id)] = model.milestone_round[:, k]
    for j, p in enumerate(spec.preconditions):
        met, waived = model.precondition_met[:, j], model.precondition_waived[:, j]
        cols[column("precondition", p.id)] = np.where(met >= 0, "met", np.where(waived >= 0, "waived", "unmet"))
        cols[column("precondition_round", p.id)] = np.where(met >= 0, met, waived)
    for j, r in enumerate(spec.red_lines):
        at = model.agreed_value[:, model.red_line_issue[j]]
        on_bound = (np.abs(at - model.red_line_min[:, j]) < 1e-6) | (np.abs(at - model.red_line_max[:, j]) < 1e-6)
        cols[column("red_line_bound", r.id)] = on_bound
        cols[column("red_line_relaxed", r.id)] = model.relaxed_round[:, j]
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
    for path, drawn in model.values.drawn.items():
        cols[column("param", path)] = np.broadcast_to(drawn, model.block_size)
    return pd.DataFrame(cols)


def trajectory_table(model: NegotiationModel) -> pd.DataFrame:
    """Per-round state of the recorded runs (the model's data collector), long format."""
    import pandas as pd

    records = model.datacollector.model_vars
    if not records.get("round"):
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    actors, issues = [a.id for a in model.spec.actors], model.spec.issue_ids()
    frames = []
    for k, round_ in enumerate(records["round"]):
        runs = records["run"][k]
        r, a, i = np.meshgrid(np.arange(len(runs)), np.arange(len(actors)), np.arange(len(issues)), indexing="ij")
        per_actor = {name: records[name][k][r, a].ravel() for name in ("threshold", "value", "pressure")}
        frames.append(
            pd.DataFrame(
                {
                    "run": runs[r.ravel()],
                    "round": round_,
                    "actor": np.array(actors)[a.ravel()],
                    "issue": np.array(issues)[i.ravel()],
                    "position": records["position"][k][r, a, i].ravel(),
                    "package": records["package"][k][r, i].ravel(),
                    **per_actor,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[TRAJECTORY_COLUMNS]


def decoded(df: pd.DataFrame) -> pd.DataFrame:
    """A per-run table read back from a file, with its outcome as the ordered categorical it was written as."""
    import pandas as pd

    if "outcome" in df:
        df["outcome"] = pd.Categorical(df["outcome"], categories=OUTCOME_ORDER)
    return df
