"""The JSON Schema is the validator's: every shipped and generated file passes both, and broken ones fail both."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from sim.scenario.errors import ScenarioError
from sim.scenario.json_schema import scenario_schema
from sim.scenario.loader import load
from sim.scenario.starter import starter

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = sorted(SCENARIOS.rglob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(scenario_schema())


def as_json(data):
    """Scenario data as an editor sees it (dates as text)."""
    return json.loads(json.dumps(data, default=str))


def verdicts(path: Path) -> tuple[list[str], list[str]]:
    """The JSON Schema's problems with the file as written, and the loader's with it (extends resolved)."""
    schema = [e.message for e in VALIDATOR.iter_errors(as_json(yaml.safe_load(path.read_text())))]
    try:
        load(path)
        loader = []
    except ScenarioError as exc:
        loader = [str(p) for p in exc.problems]
    return schema, loader


def test_the_schema_is_a_valid_json_schema_with_a_description_for_every_field():
    schema = scenario_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    bare = [f"{name}.{field}" for name, obj in schema["$defs"].items()
            for field, prop in obj.get("properties", {}).items() if not prop.get("description")]  # fmt: skip
    assert not bare
    assert schema["$defs"]["Scenario"]["required"] == ["meta", "issues", "actors"]
    assert schema["$defs"]["Issue"]["required"] == ["id", "label", "low", "high"]
    assert "required" not in schema["$defs"]["PartialScenario"]
    capability = schema["$defs"]["Actor"]["properties"]["capability"]["anyOf"][0]
    assert (capability["minimum"], capability["maximum"], capability["type"]) == (0, 1, "number")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_file_passes_both(path):
    assert verdicts(path) == ([], [])


def test_a_generated_starter_passes_both(tmp_path):
    path = tmp_path / "new.yaml"
    path.write_text(starter("trade", ["A", "B", "C:broker"], ["Tariffs", "Quotas"], ["Truce", "Deal"]))
    assert verdicts(path) == ([], [])


def _without(data: dict, path: str) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[int(part)] if part.isdigit() else data[part]
    del data[int(last) if last.isdigit() else last]


def _set(value):
    return lambda data, path: _assign(data, path, value)


def _assign(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[int(part)] if part.isdigit() else data[part]
    data[int(last) if last.isdigit() else last] = value


BROKEN_FULL = [
    ("meta", _without),
    ("issues.0.label", _without),
    ("actors.0.role", _without),
    ("red_lines.0.actor", _without),
    ("actors.0.capabilty", _set(0.5)),
    ("actors.0.capability", _set(3)),
    ("actors.0.capability", _set("high")),
    ("actors.0.reservation", _set({"dist": "unifrom", "low": 0.5, "high": 0.7})),
    ("actors.0.role", _set("principle")),
    ("meta.horizon", _set(0)),
    ("risk.hazard", _set(-0.1)),
    ("actors", lambda data, path: _assign(data, path, data[path][:1])),
    ("events.0.label", _set(["not", "text"])),
    ("protocol.rule", _set("auction")),
]


@pytest.mark.parametrize(("path", "breaks"), BROKEN_FULL, ids=[f"{p}-{k}" for k, (p, _) in enumerate(BROKEN_FULL)])
def test_a_broken_full_file_fails_both(tmp_path, path, breaks):
    data = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())
    breaks(data, path)
    file = tmp_path / "broken.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    schema, loader = verdicts(file)
    assert schema and loader, (schema, loader)


BROKEN_VARIANT = [
    "meta: {horizn: 30}",
    "actors: [{name: Israel, capability: 0.5}]",  # an item without its id
    "actors: [{id: israel, capability: 3}]",
    "risk: {hazard: {dist: normall, mean: 0.1, sd: 0.01}}",
    "events: [{id: budget_deadline, probability: 2}]",
    "unknown_section: {}",
]


@pytest.mark.parametrize("text", BROKEN_VARIANT)
def test_a_broken_variant_fails_both_and_a_sound_one_passes_both(tmp_path, text):
    shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "baseline.yaml")
    file = tmp_path / "variant.yaml"
    file.write_text(f"extends: baseline.yaml\n{text}\n")
    schema, loader = verdicts(file)
    assert schema and loader, (schema, loader)
    file.write_text("extends: baseline.yaml\nmeta: {name: a variant}\nactors: [{id: israel, capability: 0.7}]\n")
    assert verdicts(file) == ([], [])


def test_what_only_the_validator_can_say_is_a_reference_between_objects(tmp_path):
    """An unknown actor passes the JSON Schema (it cannot follow references) and fails the validator."""
    data = copy.deepcopy(yaml.safe_load((SCENARIOS / "baseline.yaml").read_text()))
    data["red_lines"][0]["actor"] = "isreal"
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    schema, loader = verdicts(file)
    assert schema == [] and any("unknown actor 'isreal'" in p for p in loader)
