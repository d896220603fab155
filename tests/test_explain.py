"""``negsim explain``: every structural P = 0 named with its reason, in broken variants and the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.analysis.explain import explain, explained, explanation_text
from sim.cli import app
from sim.engine.columns import measures, reached
from sim.scenario.edit import changed
from sim.scenario.loader import load, validate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
RUNS = 120

BASE = {
    "meta": {"name": "trade talks", "start_date": "2024-11-27", "seed": 7, "horizon": 20},
    "issues": [
        {"id": "tariffs", "label": "Tariffs", "low": "none", "high": "prohibitive"},
        {"id": "quotas", "label": "Quotas", "low": "none", "high": "strict"},
    ],
    "actors": [
        {"id": "north", "name": "North", "role": "principal", "position": {"tariffs": 20, "quotas": 30},
         "salience": {"tariffs": 0.5, "quotas": 0.5}, "reservation": 0.3,
         "concession": {"strategy": "linear", "deadline": 8}},
        {"id": "south", "name": "South", "role": "principal", "position": {"tariffs": 70, "quotas": 60},
         "salience": {"tariffs": 0.5, "quotas": 0.5}, "reservation": 0.3,
         "concession": {"strategy": "linear", "deadline": 8}},
        {"id": "broker", "name": "Broker", "role": "mediator", "position": {"tariffs": 45, "quotas": 45},
         "salience": {"tariffs": 0.5, "quotas": 0.5}},
    ],
    "risk": {"hazard": 0.01},
}  # fmt: skip


def findings(data: dict) -> dict[str, str]:
    """Subject -> sentence for what never happens in ``data``, over a small batch."""
    _, found = explained(validate(data), runs=RUNS)
    return {f.subject: f.text for f in found}


def variant(*changes: tuple[str, object]) -> dict:
    data = BASE
    for path, value in changes:
        data = changed(data, path, value)
    return data


def test_the_base_reaches_everything_and_names_the_mediator_without_a_say():
    found = findings(BASE)
    assert set(found) == {"actor:broker"}
    assert "Broker can never block" in found["actor:broker"]


def test_red_lines_that_never_overlap_are_named_for_the_issue_and_the_declaration():
    lines = [
        {"id": "north_cap", "actor": "north", "issue": "tariffs", "max": 30, "label": "no tariffs above 30"},
        {"id": "south_floor", "actor": "south", "issue": "tariffs", "min": {"dist": "uniform", "low": 55, "high": 65},
         "label": "tariffs of at least 55", "relax": {"to": 40, "audience_cost": 0.5}},
    ]  # fmt: skip
    found = findings(variant(("red_lines", lines)))
    assert "red lines incompatible: Tariffs" in found["declared"]
    assert "Tariffs is never agreed" in found["agreed:tariffs"]
    # the floor even relaxed (40) stays above the cap (30): both named, with their loosest numbers
    assert "South's red line 'tariffs of at least 55' asks for at least 40" in found["agreed:tariffs"]
    assert "the 30 that North's red line 'no tariffs above 30' allows" in found["agreed:tariffs"]
    assert "agreed:quotas" in found  # settled in the same package, so never agreed either


def test_a_relaxation_that_lets_red_lines_meet_is_no_structural_clash():
    lines = [
        {"id": "north_cap", "actor": "north", "issue": "tariffs", "max": 30},
        {"id": "south_floor", "actor": "south", "issue": "tariffs", "min": 55,
         "relax": {"to": 25, "audience_cost": 0.5}},
    ]  # fmt: skip
    data = variant(("red_lines", lines))
    names_clash = [f for f in explain(validate(data), _table(data)) if "asks for at least" in f.text]
    assert names_clash == []


def _table(data: dict):
    table, _ = explained(validate(data), runs=RUNS)
    return table


def test_a_precondition_nothing_sets_and_nobody_can_waive_is_named():
    pre = [{"id": "hostages", "actor": "south", "flag": "hostages_freed", "label": "all hostages freed"}]
    found = findings(variant(("preconditions", pre), ("world", {"flags": {"hostages_freed": False}})))
    assert "precondition: all hostages freed" in found["declared"]
    text = found["precondition:hostages"]
    assert "South's precondition 'all hostages freed' is never met or waived" in text
    assert "nothing sets its flag 'hostages_freed'" in text and "it cannot be waived" in text


def test_a_waiver_out_of_reach_and_an_event_that_never_comes_are_named():
    pre = [{"id": "hostages", "actor": "south", "flag": "hostages_freed", "waivable": True, "waiver_pressure": 9}]
    event = [{"id": "release", "label": "Hostage release", "at_round": 5, "probability": 0.0,
              "effects": {"set": ["hostages_freed"]}}]  # fmt: skip
    found = findings(variant(("preconditions", pre), ("events", event)))
    text = found["precondition:hostages"]
    assert "the events that would set 'hostages_freed' (Hostage release) never happen" in text
    assert "the pressure on South never reaches the 9 at which it would waive it" in text


def test_a_veto_player_whose_bounds_never_overlap_is_named_as_refusing_ratification():
    player = [{"id": "hardliners", "name": "North's hardliners", "principal": "north",
               "bounds": {"quotas": {"min": 80}}}]  # fmt: skip
    cap = [{"id": "south_quota_cap", "actor": "south", "issue": "quotas", "max": 50}]
    found = findings(variant(("veto_players", player), ("red_lines", cap)))
    assert "ratification refused: North's hardliners" in found["declared"]
    text = found["veto_player:hardliners"]
    assert text.startswith("The terms of North's hardliners are never met inside the red lines in any run")
    assert "asks for at least 80 on Quotas" in text and "the 50 that South's red line" in text


def test_talks_that_never_open_and_a_milestone_behind_them_are_named():
    milestone = [{"id": "cut", "label": "Tariffs cut", "issues": ["tariffs"], "hazard": 0.5}]
    found = findings(variant(("protocol", {"opens_when": {"from_round": 50}}), ("milestones", milestone)))
    assert "talks never opened" in found["declared"]
    assert "Tariffs cut is never carried out: its issues are never agreed (Tariffs)" in found["implemented:cut"]


def test_nothing_that_can_collapse_the_talks_is_said_so():
    found = findings(variant(("risk", {"hazard": 0.0})))
    assert found["collapse"].startswith("Nothing can collapse the talks")


def test_a_mechanism_whose_alternatives_play_alike_cannot_change_the_answer_and_one_that_can_is_not_named():
    idle = {
        "id": "label_only",
        "label": "a cosmetic choice",
        "alternatives": [
            {"id": "one", "set": {"actors.broker.capability": 0.5}},
            {"id": "two", "set": {"actors.broker.capability": 0.5}},
        ],
    }
    live = {"id": "hazard", "label": "how risky", "alternatives": [
        {"id": "calm", "set": {"risk.hazard": 0.0}}, {"id": "wild", "set": {"risk.hazard": 0.5}}]}  # fmt: skip
    found = findings(variant(("mechanisms", [idle, live])))
    assert "a cosmetic choice cannot change the answer" in found["mechanism:label_only"]
    assert "mechanism:hazard" not in found


def test_every_measure_never_reached_in_a_shipped_scenario_has_its_reason():
    spec = load(SCENARIOS / "coalition_veto.yaml")
    table, found = explained(spec, runs=100)
    subjects = {f.subject for f in found}
    never = [m for m in measures(spec) if not reached(table, m).any()]
    assert set(never) <= subjects, set(never) - subjects
    assert "What never happens, and why" in explanation_text(spec, table, found)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_explains_each_of_its_p_zero_measures(path):
    spec = load(path)
    table, found = explained(spec, runs=150)
    never = [m for m in measures(spec) if not reached(table, m).any()]
    assert set(never) <= {f.subject for f in found}


def test_the_command_prints_the_reasons_and_a_bad_file_is_one_line(tmp_path):
    lines = [{"id": "cap", "actor": "north", "issue": "tariffs", "max": 10},
             {"id": "floor", "actor": "south", "issue": "tariffs", "min": 90}]  # fmt: skip
    import yaml

    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(variant(("red_lines", lines))))
    result = CliRunner().invoke(app, ["explain", str(path), "--runs", "50"])
    assert result.exit_code == 0, result.output
    assert "trade talks: 50 runs (declared 0%" in result.output
    assert "Tariffs is never agreed" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta: {name: x}\n")
    result = CliRunner().invoke(app, ["explain", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
