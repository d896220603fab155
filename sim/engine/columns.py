"""The result schema: outcome and reason codes, column names and reason texts (a leaf: it imports nothing of the model).

Every layer writes and reads results through these names, so a name is spelled once. The per-run
table (:func:`sim.engine.tables.run_table`, one row per run) has the columns

- ``run`` (its index in the batch), ``outcome`` (declared / collapse / stalemate: whether the
  scenario's first phase was declared, the ceasefire collapsed before that, or neither by the
  horizon), the ``round`` and ``date`` of that outcome (the horizon for a stalemate), and
  ``collapse_round`` (-1 if none: a collapse after a declaration leaves the outcome ``declared``);
- ``collapse_cause``: what collapsed it (an event's id, ``breakdown``, an expiry's id, or
  ``<phase>_framework`` for a framework that broke over its ambiguity, ``<milestone>_missed`` for a missed
  deadline; empty if it held);
- ``blocker`` and ``reason``: what last stopped the first phase's declaration (empty once
  declared; reason texts such as ``precondition: remains``, see :func:`reason_text`);
  ``open_blocker`` and ``open_reason``: what last stopped an agreement on the issues still open;
- ``coalition`` (scenarios with more than two principals): the principals who accepted the first phase's
  declaration, sorted and '+'-joined (empty if it was not declared);
- one column per *kind* below and scenario id, e.g. ``agreed.weapons.round``,
  ``milestone.committee_governing.round`` or ``param.actors.israel.reservation``; a milestone with a deadline
  also has ``.status`` (a code of ``MILESTONE_STATUSES``) and ``.due``, a renewable agreement ``expiry.<id>.left``.

The trajectory table (:func:`sim.engine.tables.trajectory_table`) holds the per-round state of the recorded runs,
long format: run, round, actor, issue, stated position, tabled package, threshold, value, pressure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario.labels import Names

# How a run ends.
DECLARED, COLLAPSED, STALEMATE = 1, 2, 3
OUTCOMES = {DECLARED: "declared", COLLAPSED: "collapse", STALEMATE: "stalemate"}
OUTCOME_ORDER = list(OUTCOMES.values())
SUCCESS = OUTCOMES[DECLARED]

# How a phase is declared (codes of the gate's rule).
CONSENT, NON_OBJECTION, FRAMEWORK = 0, 1, 2
RULES = ("consent", "non_objection", "framework")

# Why a proposal failed, and what the reason refers to. RATIFICATION is a domestic veto player's refusal;
# OBJECTION a party that would openly object to an announcement; UNANNOUNCED a third party not ready to announce.
PRECONDITION, RED_LINE, OFFER, COLLAPSE, INCOMPATIBLE, RATIFICATION, NO_TALKS, OBJECTION, UNANNOUNCED = range(1, 10)
REASONS = {
    PRECONDITION: "precondition",
    RED_LINE: "red line",
    OFFER: "offer below aspiration",
    COLLAPSE: "collapse",
    INCOMPATIBLE: "red lines incompatible",
    RATIFICATION: "ratification refused",
    NO_TALKS: "talks never opened",
    OBJECTION: "would object to the announcement",
    UNANNOUNCED: "not ready to announce",
}
REFERS_TO = {
    PRECONDITION: "preconditions",
    RED_LINE: "red_lines",
    COLLAPSE: "causes",
    INCOMPATIBLE: "issues",
    RATIFICATION: "veto_players",
}
COALITION = "coalition"  # with more than two principals: those who accepted the first phase, sorted, '+'-joined
BREAKDOWN = "breakdown"  # what a collapse from the risk's own hazard (no event) refers to
FRAMEWORK_BROKE = "{}_framework"  # a framework declared for a phase that broke over its ambiguity
MISSED_DEADLINE = "{}_missed"  # a milestone whose missed deadline collapsed the ceasefire

# How a milestone with a deadline ends (codes of its ``status`` column): still pending at the horizon, done by its
# deadline, partly done by its final deadline, done after an extension, or missed.
PENDING, DONE, PARTIAL, EXTENDED, MISSED = range(5)
MILESTONE_STATUSES = ("pending", "done", "partial", "extended", "missed")

# Column kinds: a template per kind, filled with a scenario id (a parameter path for ``param``).
COLUMN_KINDS = {
    "phase_round": "phase.{}.round",  # the round a phase was declared (-1: not by the horizon)
    "phase_rule": "phase.{}.rule",  # how it was declared (or would have been): consent, non_objection, framework
    "phase_by": "phase.{}.by",  # who declared it: its parties, or the third parties that announced it
    "consented_round": "phase.{}.consented_round",  # when every party explicitly accepted its terms (-1: not)
    "agreed_round": "agreed.{}.round",  # the round an issue was agreed (-1: not by the horizon)
    "agreed_value": "agreed.{}.value",  # the value it was agreed at (NaN: not agreed)
    "milestone_round": "milestone.{}.round",  # the round a milestone was carried out (-1: not)
    "milestone_status": "milestone.{}.status",  # with a deadline: how it ended (a code of MILESTONE_STATUSES)
    "milestone_due": "milestone.{}.due",  # with a deadline: the round it was last due by, extensions included
    "expiry_left": "expiry.{}.left",  # a renewable agreement: the party that left it ("": nobody)
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
    "veto_unmet": "veto_player.{}.unmet",  # its terms could not be drafted inside the red lines in some round
    "mechanism": "mechanism.{}",  # the alternative of a structural mechanism the run drew
    "param": "param.{}",  # the value an uncertain parameter took in the run
}
_PATTERNS = {
    kind: re.compile(
        "^" + re.escape(template).replace(r"\{\}", "(.+)" if kind == "param" else "([a-z][a-z0-9_]*)") + "$"
    )
    for kind, template in COLUMN_KINDS.items()
}
TRAJECTORY_COLUMNS = ["run", "round", "actor", "issue", "position", "package", "threshold", "value", "pressure"]


def column(kind: str, ident: str) -> str:
    """The column of ``kind`` for a scenario id: ``column("event_round", "summit")`` -> ``event.summit.round``."""
    return COLUMN_KINDS[kind].format(ident)


def idents(columns, kind: str) -> list[str]:
    """The ids that ``columns`` hold a column of ``kind`` for, in column order."""
    pattern = _PATTERNS[kind]
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


def reason_beside(why: str, who: str) -> str:
    """A reason shown beside the party it names, without naming it twice: ``ratification refused: Hamas's military
    wing`` beside ``Hamas's military wing`` -> ``ratification refused``."""
    kind, _, ref = why.partition(": ")
    return kind if ref == who else why


def is_collapse(text: str) -> bool:
    return text.partition(": ")[0] == REASONS[COLLAPSE]


def measures(spec) -> list[str]:
    """What a run can reach, by name: ``declared``, ``consented`` (every party of the first phase explicitly
    accepted its terms), ``collapse`` (before a declaration), ``agreed:<issue>``, ``implemented:<milestone>``."""
    return ["declared", "consented", "collapse", *(f"agreed:{i}" for i in spec.issue_ids()),
            *(f"implemented:{m.id}" for m in spec.milestones)]  # fmt: skip


def collapse_causes(spec) -> list[str]:
    """What can collapse a ceasefire, in the order the engine refers to them: events, the breakdown hazard,
    expiries, each phase's framework breaking over its ambiguity, and each milestone's missed deadline."""
    phases = [FRAMEWORK_BROKE.format(p.id) for p in spec.ordered_phases()]
    missed = [MISSED_DEADLINE.format(m.id) for m in spec.milestones]
    return [*(e.id for e in spec.events), BREAKDOWN, *(x.id for x in spec.expiries), *phases, *missed]


def reached(table: pd.DataFrame, what: str) -> np.ndarray:
    """Whether each run of a per-run table reached ``what`` (one of :func:`measures`), as
    :func:`sim.engine.tables.measure` says of a played model."""
    kind, _, ident = what.partition(":")
    if what in ("declared", "collapse"):
        return (table["outcome"] == what).to_numpy()
    if what == "consented":
        first = idents(table.columns, "consented_round")[0]
        return (table[column("consented_round", first)] >= 0).to_numpy()
    return (table[column("agreed_round" if kind == "agreed" else "milestone_round", ident)] >= 0).to_numpy()


def decoded(df: pd.DataFrame) -> pd.DataFrame:
    """A per-run table read back from a file, with its outcome as the ordered categorical it was written as."""
    import pandas as pd

    if "outcome" in df:
        df["outcome"] = pd.Categorical(df["outcome"], categories=OUTCOME_ORDER)
    return df
