"""Hindsight in a case file: what a scenario written as of its start takes from after it.

A case file is scored against what happened, so what it encodes must have been known at its start. Every event
and expiry (what can end the talks or the ceasefire) cites claims of the seed digests dated on or before the
start, or says it is an assumption; no claim it cites may be dated after the start; and an event whose occurrence
was unknown at the start (one drawn by hazard or rate, or convened) may not be encoded as certain to collapse
the ceasefire, nor a scheduled one as certain to happen and collapse it, nor an expiry as certain to end it
unless a claim dated by the start says so.
"""

from __future__ import annotations

import re

from sim.scenario.digest import Claim
from sim.scenario.fields import bounds
from sim.scenario.schema import Scenario

CLAIM_ID = re.compile(r"\b[a-z]{1,8}-\d+\b")
ASSUMPTION = re.compile(r"\s*assumption\b", re.I)


def cited(basis: dict[str, str], claims: dict[str, Claim]) -> dict[str, list[str]]:
    """Field -> the ids of the digest's claims its basis entry cites."""
    return {field: [c for c in CLAIM_ID.findall(text) if c in claims] for field, text in basis.items()}


def hindsight(scenario: Scenario, claims: dict[str, Claim]) -> list[tuple[str, str]]:
    """(dotted path, message) for each thing the scenario's events and expiries take from after its start."""
    start = scenario.meta.start_date
    out = []
    for section, objects in (("events", scenario.events), ("expiries", scenario.expiries)):
        for i, obj in enumerate(objects):
            where = f"{section}.{i}"
            ids = cited(obj.basis, claims)
            for field, found in ids.items():
                for c in found:
                    if claims[c].date and claims[c].date > start:
                        why = f"cites {c}, dated {claims[c].date}, after the case's start ({start}): not known then"
                        out.append((f"{where}.basis.{field}", why))
            known = {f for f, found in ids.items() if any(claims[c].date and claims[c].date <= start for c in found)}
            if not known and not (obj.basis and all(ASSUMPTION.match(t) for t in obj.basis.values())):
                why = f"cites no claim dated on or before the case's start ({start}) nor says it is an assumption"
                out.append((f"{where}.basis", why))
            out += _certain(where, obj, known)
    return out


def _certain(where: str, obj, known: set[str]) -> list[tuple[str, str]]:
    """An outcome unknown at the start encoded as certain."""
    if hasattr(obj, "trigger"):  # an event
        certain_collapse = bounds(obj.collapse)[0] >= 1
        if certain_collapse and obj.trigger != "at_round":
            how = {"hazard": "drawn by a hazard", "rate": "drawn at a rate", "convened_by": "convened by an actor"}
            why = f"a collapse of 1.0 on an event {how[obj.trigger]}: whether and when it happens was unknown at the "
            return [(f"{where}.collapse", why + "start; give it a chance below 1")]
        if certain_collapse and bounds(obj.probability)[0] >= 1 and not {"at_round", "probability"} <= known:
            why = "a scheduled event certain to happen and to collapse the ceasefire: cite claims dated by the start "
            return [(f"{where}.probability", why + "for its round and probability, or give it a chance below 1")]
        return []
    if bounds(obj.probability)[0] >= 1 and "probability" not in known:
        why = "an expiry certain to end the ceasefire (probability 1) with no claim dated by the start that it ends "
        return [(f"{where}.probability", why + "then; cite one, or give it a chance below 1")]
    return []
