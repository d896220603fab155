"""The seed digest is well formed, and every number a scenario sets says what it rests on.

Scenario files are read raw (not merged), so a variant is checked on what it sets itself.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from sim.scenario.schema import Actor, Event, Issue, Leverage, Precondition, RedLine

ROOT = Path(__file__).resolve().parents[1]
DIGEST = ROOT / "seeds" / "gaza_phase2_2025-12.yaml"
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
KINDS = {"actor", "position", "red_line", "precondition", "leverage", "event"}
CLAIM_ID = re.compile(r"gz-\d+")
SECTIONS = {
    "issues": Issue,
    "actors": Actor,
    "red_lines": RedLine,
    "preconditions": Precondition,
    "leverage": Leverage,
    "events": Event,
}
# Keys that name, point or switch rather than quantify.
NOT_QUANTITIES = {
    "id",
    "label",
    "name",
    "role",
    "actor",
    "issue",
    "flag",
    "from",
    "to",
    "when",
    "milestone",
    "waivable",
    "low",
    "high",
    "strategy",
}


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
    """(where, schema, object) for every sourced object a scenario file sets."""
    for section, schema in SECTIONS.items():
        for obj in data.get(section) or []:
            yield f"{section}.{obj['id']}", schema, obj


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


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_number_set_has_a_basis(path):
    missing = [
        f"{where}.{key}"
        for where, _, obj in objects(raw(path))
        for key, value in obj.items()
        if key not in NOT_QUANTITIES | {"basis"} and is_quantity(value) and key not in obj.get("basis", {})
    ]
    assert not missing, f"numbers without a basis: {missing}"


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
