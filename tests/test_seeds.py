"""The seed digest is well formed, and every number a scenario sets says what it rests on.

Scenario files are read raw (not merged), so a variant is checked on what it sets itself. The rule:

- every field of a sourced object (an issue, actor, red line, precondition, phase, leverage,
  guarantee, veto, veto player, event, milestone, and the risk and protocol sections) that holds a
  number anywhere (a distribution, per-issue numbers, a time window, effects) names its basis;
- so do the modelling choices that carry no number: a concession strategy, a bridging rule, the
  table's rule and who tables, when talks open, and each part of a phase's gate;
- an object nested in another with a basis of its own (an actor's ``concession``, a red line's
  ``relax``, a phase's ``gate``) is checked on its own basis, unless the parent's basis covers it whole;
- a veto (which sets no number) still says why.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from sim.scenario.schema import (
    Actor,
    Concession,
    Event,
    Gate,
    Guarantee,
    Issue,
    Leverage,
    Milestone,
    Phase,
    Precondition,
    Protocol,
    RedLine,
    Relaxation,
    Risk,
    Veto,
    VetoPlayer,
)
from sim.scenario.states import AsOf

ROOT = Path(__file__).resolve().parents[1]
DIGEST = ROOT / "seeds" / "gaza_phase2_2025-12.yaml"
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
REFERENCE_FILES = sorted((ROOT / "scenarios" / "reference").glob("*.yaml"))  # cite the reference digest
KINDS = {"actor", "position", "red_line", "precondition", "leverage", "event"}
CLAIM_ID = re.compile(r"gz-\d+")
LISTS = {
    "issues": Issue,
    "actors": Actor,
    "red_lines": RedLine,
    "preconditions": Precondition,
    "phases": Phase,
    "leverage": Leverage,
    "guarantees": Guarantee,
    "vetoes": Veto,
    "veto_players": VetoPlayer,
    "events": Event,
    "milestones": Milestone,
}
SINGLE = {"risk": Risk, "protocol": Protocol, "as_of": AsOf}
NESTED = {"concession": Concession, "relax": Relaxation, "gate": Gate}  # sourced objects inside sourced objects
# Choices without a number that still need a basis, by the schema they belong to.
CHOICES = {
    Concession: {"strategy"},
    Actor: {"bridging"},
    Protocol: {"rule", "tabled_by", "opens_when", "at_table", "first_proposer"},
    Gate: {"consent", "settle", "defer", "preconditions", "after"},
}
# Scenario files that do not meet the rule yet (reported to the scenario's authors): file stem -> what lacks a basis.


def claims() -> list[dict]:
    return yaml.safe_load(DIGEST.read_text())["claims"]


def raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def is_quantity(value) -> bool:
    """A number, or a mapping/list holding one anywhere (a distribution, per-issue numbers, effects)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, dict):
        return any(is_quantity(v) for v in value.values())
    if isinstance(value, list):
        return any(is_quantity(v) for v in value)
    return False


def objects(data: dict):
    """(where, schema, object) for every sourced object a scenario file sets, nested ones included."""

    def with_nested(where, schema, obj):
        yield where, schema, obj
        for key, inner in NESTED.items():
            if isinstance(obj.get(key), dict) and key in schema.model_fields:
                yield f"{where}.{key}", inner, obj[key]

    for section, schema in LISTS.items():
        for k, obj in enumerate(data.get(section) or []):
            yield from with_nested(f"{section}.{obj.get('id', k)}", schema, obj)
    for section, schema in SINGLE.items():
        if isinstance(data.get(section), dict):
            yield section, schema, data[section]


def unsourced(data: dict) -> list[str]:
    """Every field of ``data`` that needs a basis and has none, as ``where.field``."""
    missing = []
    for where, schema, obj in objects(data):
        basis = obj.get("basis", {})
        if schema is Veto and not basis:
            missing.append(f"{where}.basis")
        for key, value in obj.items():
            if key == "basis" or key in basis or key in NESTED:
                continue
            if is_quantity(value) or key in CHOICES.get(schema, ()):
                missing.append(f"{where}.{key}")
    covered = {
        f"{where}.{key}" for where, _, obj in objects(data) for key in NESTED if key in obj.get("basis", {})
    }  # a parent's basis for a nested object covers all of it
    return [m for m in missing if not any(m.startswith(f"{c}.") for c in covered)]


def bases(node):
    """Every basis value anywhere in a scenario file."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "basis":
                yield from v.values()
            else:
                yield from bases(v)
    elif isinstance(node, list):
        for v in node:
            yield from bases(v)


def test_claim_ids_are_unique():
    ids = [c["id"] for c in claims()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("claim", claims(), ids=lambda c: c["id"])
def test_claim_is_well_formed(claim):
    assert CLAIM_ID.fullmatch(claim["id"])
    assert claim["kind"] in KINDS
    assert isinstance(claim["claim"], str) and claim["claim"].strip()
    assert isinstance(claim["attribution"], str) and claim["attribution"].strip()
    assert isinstance(claim["date"], dt.date)
    assert claim["actors"] and all(isinstance(a, str) for a in claim["actors"])


def test_cited_claims_exist():
    known = {c["id"] for c in claims()}
    cited = {(path.name, cid) for path in SCENARIO_FILES for text in bases(raw(path)) for cid in CLAIM_ID.findall(text)}
    unknown = sorted((name, cid) for name, cid in cited if cid not in known)
    assert cited and not unknown, f"unknown claim ids: {unknown}"


def test_the_rule_finds_every_kind_of_unsourced_field():
    """The checker itself, on a made-up scenario: each field below lacks a basis and each is found."""
    data = {
        "actors": [
            {
                "id": "a",
                "reservation": 0.5,
                "bridging": "nash",
                "concession": {"strategy": "linear", "deadline": 10, "basis": {"strategy": "gz-1"}},
                "basis": {},
            },
            {"id": "b", "noise": 0.1, "concession": {"deadline": 5}, "basis": {"noise": "x", "concession": "x"}},
        ],
        "red_lines": [{"id": "r", "min": 40, "relax": {"to": 30, "audience_cost": 0.1}, "basis": {"min": "x"}}],
        "phases": [{"id": "p", "gate": {"consent": ["a"], "defer": ["x"], "basis": {"consent": "gz-1"}}}],
        "vetoes": [{"by": "a", "of": "c", "issue": "x"}],
        "veto_players": [
            {"id": "v", "bounds": {"x": {"min": 10}}, "when": {"from_round": 3}, "basis": {"bounds": "x"}}
        ],
        "events": [{"id": "e", "rate": 0.1, "effects": {"pressure": {"a": 0.1}}, "basis": {"rate": "x"}}],
        "milestones": [{"id": "m", "hazard": 0.1}],
        "risk": {"hazard": 0.01, "stall_growth": {"dist": "uniform", "low": 0, "high": 1}, "basis": {"hazard": "x"}},
        "protocol": {"rule": "bridging", "tabled_by": ["c"], "basis": {"rule": "x"}},
    }
    assert sorted(unsourced(data)) == sorted(
        [
            "actors.a.reservation",
            "actors.a.bridging",
            "actors.a.concession.deadline",
            "red_lines.r.relax.to",
            "red_lines.r.relax.audience_cost",
            "phases.p.gate.defer",
            "vetoes.0.basis",
            "veto_players.v.when",
            "events.e.effects",
            "milestones.m.hazard",
            "risk.stall_growth",
            "protocol.tabled_by",
        ]
    )


@pytest.mark.parametrize("path", SCENARIO_FILES + REFERENCE_FILES, ids=lambda p: p.stem)
def test_every_number_set_has_a_basis(path):
    missing = unsourced(raw(path))
    assert not missing, f"fields without a basis: {missing}"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_basis_entries_name_fields_and_cite_or_assume(path):
    bad = []
    for where, schema, obj in objects(raw(path)):
        fields = {f.alias or name for name, f in schema.model_fields.items()}
        for key, text in obj.get("basis", {}).items():
            if key not in fields:
                bad.append(f"{where}.basis.{key}: not a field of {schema.__name__}")
            elif not (CLAIM_ID.search(text) or "assumption" in text.lower()):
                bad.append(f"{where}.basis.{key}: cites no claim and states no assumption")
    assert not bad, "\n".join(bad)


def test_gate_consent_rests_on_the_digest():
    """Whose consent declares a phase is a claim about the situation, not an assumption (issue 9)."""
    for path in SCENARIO_FILES:
        for phase in raw(path).get("phases") or []:
            consent = phase.get("gate", {}).get("basis", {}).get("consent", "")
            assert CLAIM_ID.search(consent), f"{path.name}: phases.{phase['id']}.gate.basis.consent: {consent!r}"
