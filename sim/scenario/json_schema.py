"""The JSON Schema of scenario files (``negsim schema``), as the validator sees them.

A full file must hold what the validator requires (``meta``, ``issues``, ``actors``, each object's required
fields); a variant (a file with ``extends:``) sets only what it overrides, so for it only ids and distribution kinds
stay required. JSON Schema's ``if``/``then``/``else`` chooses between the two. Every field has a description, and
every number its unit and range (:func:`sim.scenario.fields.measured`, :func:`~sim.scenario.fields.ranged`).

What JSON Schema cannot say is left to ``negsim validate``: references between objects (an unknown actor or
issue), saliences summing to 1, a distribution's support inside a field's range, and the other checks across fields
(:mod:`sim.scenario.checks`).
"""

from __future__ import annotations

import copy
from typing import Any

from sim.scenario.loader import REQUIRED_META
from sim.scenario.schema import Scenario

EXTENDS = {"type": "string", "description": "scenario file this one deep-merges onto (a variant)"}

# What the fields the language leaves undescribed hold, by name (numbers say so where they are declared).
DESCRIPTIONS = {
    "id": "identifier: lower case letters, digits and _ (other objects refer to it)",
    "name": "the name outputs show",
    "label": "the words outputs show for it",
    "description": "what the scenario is about, in a few sentences",
    "role": "principal (negotiates, must accept), broker, mediator, stakeholder (third parties), or spoiler",
    "actor": "the actor's id",
    "issue": "the issue's id",
    "issues": "the ids of the issues it is about",
    "principal": "the principal's id",
    "flag": "a world-state flag that meets it once set",
    "waivable": "whether its actor may waive it under pressure",
    "toward": "the actor whose ideal it moves toward",
    "dist": "the distribution's kind",
    "strategy": "how it concedes: boulware (late), conceder (early), linear, responsive, hardline, zeuthen or "
    "subgame_perfect",
    "from": "the actor that acts (its id)",
    "to": "the actor acted on (its id)",
    "on": "block: press only while the target blocks; always: press every round",
    "when": "when it holds (rounds and flags)",
    "effects": "what happening does to the world, the actors and their bounds",
    "set": "flags it sets",
    "unset": "flags it unsets",
    "gate": "what it takes to declare the phase",
    "phase": "the phase it belongs to (its id)",
    "by": "the principal's id",
    "of": "the third party's id",
    "alternatives": "the ways the mechanism might work (one drawn per run)",
    "rule": "how packages are drafted: compromise, bridging, nash or alternating offers",
    "flags": "flag -> whether it is set at the start",
    "start_date": "the date of round 0",
}


# The sections of a scenario file.
SECTIONS = {
    "meta": "the scenario's name, dates, rounds, seed and runs",
    "issues": "what is negotiated: each an axis from 0 to 100 whose ends say what 0 and 100 mean",
    "actors": "who takes part: principals, third parties and spoilers",
    "red_lines": "the least or most a principal accepts on an issue",
    "preconditions": "states of the world an actor needs before an act (a declaration, a milestone)",
    "phases": "the stages declared in order, and the gates that declare them",
    "leverage": "pressure one actor puts on another",
    "guarantees": "guarantees or side-payments that raise a principal's value of packages",
    "vetoes": "a principal ruling out a third party's role on an issue",
    "veto_players": "domestic veto players (coalition partners, internal wings) with red lines of their own",
    "world": "the world-state flags at the start",
    "events": "what happens in the world: scheduled, by hazard, repeatedly, or convened",
    "milestones": "implementation steps once their issues are agreed",
    "risk": "how the risk of breakdown responds to the state of the talks",
    "protocol": "how packages are drafted and when talks open",
    "outputs": "recorded trajectories and figures drawn",
}


def _described(node: Any) -> Any:
    """Give each property without a description the one :data:`DESCRIPTIONS` has for its name."""
    if isinstance(node, dict):
        out = {k: _described(v) for k, v in node.items()}
        for name, prop in out.get("properties", {}).items():
            if isinstance(prop, dict) and "description" not in prop and name in DESCRIPTIONS:
                prop["description"] = DESCRIPTIONS[name]
        return out
    return [_described(v) for v in node] if isinstance(node, list) else node


def _partial(node: Any) -> Any:
    """A variant's view of a schema: only ids and distribution kinds required, no least number of items, and
    references to the partial definitions (``PartialX`` for ``X``)."""
    if isinstance(node, dict):
        out = {k: _partial(v) for k, v in node.items() if k != "minItems"}
        if isinstance(out.get("$ref"), str):
            out["$ref"] = out["$ref"].replace("#/$defs/", "#/$defs/Partial")
        if "mapping" in out and "propertyName" in node:  # a discriminator's mapping of distributions
            out["mapping"] = {k: v.replace("#/$defs/", "#/$defs/Partial") for k, v in node["mapping"].items()}
        if "required" in node:
            kept = [k for k in node["required"] if k in ("id", "dist")]
            out.pop("required")
            if kept:
                out["required"] = kept
        return out
    return [_partial(v) for v in node] if isinstance(node, list) else node


def scenario_schema() -> dict:
    """The JSON Schema of a scenario file: a full file, or a variant when it has ``extends:``."""
    full = Scenario.model_json_schema(by_alias=True)
    full["$defs"]["Meta"]["required"] = ["name", *REQUIRED_META]  # a file says its own date and seed
    for name, prop in full["properties"].items():
        prop.setdefault("description", SECTIONS.get(name, ""))
    full = _described(full)
    defs = full.pop("$defs")
    partial = _partial({"$defs": defs, **full})
    partial_defs = {f"Partial{k}": v for k, v in partial.pop("$defs").items()}
    partial["properties"]["extends"] = EXTENDS
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "negsim scenario",
        "description": full.get("description", ""),
        "type": "object",
        "properties": {**copy.deepcopy(partial["properties"])},
        "if": {"required": ["extends"]},
        "then": {"$ref": "#/$defs/PartialScenario"},
        "else": {"$ref": "#/$defs/Scenario"},
        "$defs": {**defs, "Scenario": full, **partial_defs, "PartialScenario": partial},
    }
