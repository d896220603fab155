"""The result schema: outcome and reason codes, column names, and the tables a played model yields.

Every layer above the engine writes and reads results through this module, so a name is
spelled once. The per-run table (:func:`run_table`, one row per run) has the columns

- ``run`` (its index in the batch), ``outcome`` (transition / collapse / stalemate), the ``round``
  and ``date`` the run ended;
- ``blocker`` and ``reason`` when there was no transition (reason texts such as
  ``precondition: remains``, see :func:`reason_text`);
- one column per *family* below and scenario id, e.g. ``package.weapons``,
  ``precondition.remains.round`` or ``param.actors.israel.reservation``.

The trajectory table (:func:`trajectory_table`) holds the per-round state of the recorded runs,
long format: run, round, actor, issue, stated position, tabled package, threshold, pressure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the engine's model imports this module
    import pandas as pd

    from sim.engine.model import NegotiationModel
    from sim.scenario.labels import Names

# How a run ends; ONGOING while it is still being negotiated.
ONGOING, TRANSITION, COLLAPSED, STALEMATE = 0, 1, 2, 3
OUTCOMES = {TRANSITION: "transition", COLLAPSED: "collapse", STALEMATE: "stalemate"}
OUTCOME_ORDER = list(OUTCOMES.values())
SUCCESS = OUTCOMES[TRANSITION]

# Why a principal says no, in order of precedence when several apply; and what the reason refers to.
PRECONDITION, RED_LINE, OFFER, COLLAPSE, INCOMPATIBLE = 1, 2, 3, 4, 5
REASONS = {
    PRECONDITION: "precondition",
    RED_LINE: "red line",
    OFFER: "offer below aspiration",
    COLLAPSE: "collapse",
    INCOMPATIBLE: "red lines incompatible",
}
REFERS_TO = {PRECONDITION: "preconditions", RED_LINE: "red_lines", COLLAPSE: "events", INCOMPATIBLE: "issues"}

# Column families: a template per family, filled with a scenario id (a parameter path for ``param``).
FAMILIES = {
    "package": "package.{}",  # the agreed value on an issue (NaN without a transition)
    "precondition": "precondition.{}",  # met / waived / unmet
    "precondition_round": "precondition.{}.round",  # the round it was met or waived (-1: neither)
    "red_line_bound": "red_line.{}.bound",  # whether the agreed package sits on the red line
    "event_round": "event.{}.round",  # the first round an event happened (-1: never)
    "event_count": "event.{}.count",  # how often it happened
    "pressure": "pressure.{}",  # the pressure on an actor when the run ended
    "param": "param.{}",  # the value an uncertain parameter took in the run
}
_PATTERNS = {
    family: re.compile(
        "^" + re.escape(template).replace(r"\{\}", "(.+)" if family == "param" else "([a-z][a-z0-9_]*)") + "$"
    )
    for family, template in FAMILIES.items()
}
TRAJECTORY_COLUMNS = ["run", "round", "actor", "issue", "position", "package", "threshold", "pressure"]


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


def reasons(model: NegotiationModel) -> np.ndarray:
    """A reason text per run (empty for a transition)."""
    spec = model.spec
    refs = {
        PRECONDITION: [p.id for p in spec.preconditions],
        RED_LINE: [r.id for r in spec.red_lines],
        COLLAPSE: [e.id for e in spec.events],
        INCOMPATIBLE: spec.issue_ids(),
    }
    labels = np.empty(model.block_size, dtype=object)
    labels[:] = ""
    for code in REASONS:
        hit = model.reason == code
        if not hit.any():
            continue
        if code in refs:
            names = np.array(refs[code] + ["?"], dtype=object)
            labels[hit] = REASONS[code] + ": " + names[model.reason_ref[hit]]
        else:
            labels[hit] = REASONS[code]
    return labels


def run_table(model: NegotiationModel) -> pd.DataFrame:
    """The outcome of every run of a played model, one row per run."""
    import pandas as pd

    spec = model.spec
    if not set(np.unique(model.outcome)) <= set(OUTCOMES):
        raise RuntimeError("a run ended without an outcome: the model was not played to its end")
    start = np.datetime64(spec.meta.start_date, "D")
    cols: dict[str, object] = {
        "run": model.run_ids,
        "outcome": pd.Categorical.from_codes(model.outcome - 1, OUTCOME_ORDER),
        "round": model.end_round.astype(np.int32),
        "date": (start + model.end_round.astype("timedelta64[D]") * spec.meta.round_days).astype("datetime64[ms]"),
        "blocker": np.array(["", *(a.id for a in spec.actors)], dtype=object)[model.blocker + 1],
        "reason": reasons(model),
    }
    for i, issue in enumerate(spec.issue_ids()):
        cols[column("package", issue)] = model.package[:, i]
    for j, p in enumerate(spec.preconditions):
        met, waived = model.precondition_met[:, j], model.precondition_waived[:, j]
        cols[column("precondition", p.id)] = np.where(met >= 0, "met", np.where(waived >= 0, "waived", "unmet"))
        cols[column("precondition_round", p.id)] = np.where(met >= 0, met, waived)
    done = model.outcome == TRANSITION
    for j, r in enumerate(spec.red_lines):
        at = model.package[:, model.red_line_issue[j]]
        on_min = np.abs(at - model.red_line_min[:, j]) < 1e-6
        on_max = np.abs(at - model.red_line_max[:, j]) < 1e-6
        cols[column("red_line_bound", r.id)] = done & (on_min | on_max)
    for j, e in enumerate(spec.events):
        cols[column("event_round", e.id)] = model.world.first_round[:, j]
        cols[column("event_count", e.id)] = model.world.count[:, j]
    for k, a in enumerate(spec.actors):
        cols[column("pressure", a.id)] = model.pressure[:, k]
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
        runs, position, package = records["run"][k], records["position"][k], records["package"][k]
        threshold, pressure = records["threshold"][k], records["pressure"][k]
        r, a, i = np.meshgrid(np.arange(len(runs)), np.arange(len(actors)), np.arange(len(issues)), indexing="ij")
        frames.append(
            pd.DataFrame(
                {
                    "run": runs[r.ravel()],
                    "round": round_,
                    "actor": np.array(actors)[a.ravel()],
                    "issue": np.array(issues)[i.ravel()],
                    "position": position[r, a, i].ravel(),
                    "package": package[r, i].ravel(),
                    "threshold": threshold[r, a].ravel(),
                    "pressure": pressure[r, a].ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def decoded(df: pd.DataFrame) -> pd.DataFrame:
    """A per-run table read back from a file, with its outcome as the ordered categorical it was written as."""
    import pandas as pd

    if "outcome" in df:
        df["outcome"] = pd.Categorical(df["outcome"], categories=OUTCOME_ORDER)
    return df
