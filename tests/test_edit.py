"""Editing a scenario by dotted path: list items by id, fields left at their defaults, several at once, and a
path that names nothing refused on its line with the names that are there."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sim.scenario.edit import ABSENT, changed, edited, set_field, source
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import load, read, validate

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def test_set_field_addresses_list_items_by_id():
    data, _ = read(BASELINE)
    for path, value in [
        ("actors.israel.reservation", 0.7),
        ("events.remains_recovered.hazard", 0.05),
        ("leverage.us_on_israel_after_summit.strength", 0.02),
        ("meta.horizon", 30),
        ("actors.hamas.concession.patience", 0.8),
        ("milestones.weapons_arrangement.hazard", 0.2),
        ("veto_players.far_right_partners.bounds.force.min", 66),
    ]:
        set_field(data, path, value)
    s = validate(data)
    assert s.actors[0].reservation == 0.7 and s.events[2].id == "remains_recovered" and s.events[2].hazard == 0.05
    assert s.leverage[1].strength == 0.02 and s.meta.horizon == 30
    assert s.actors[1].concession.patience == 0.8  # a schema default the file never wrote
    assert s.milestones[2].hazard == 0.2 and s.veto_players[0].bounds["force"].min == 66


@pytest.mark.parametrize(
    "path, hint",
    [
        ("actors.isreal.reservation", "did you mean 'israel'"),
        ("actors.israel.reservaton", "did you mean 'reservation'"),
        ("actors.0.reservation", "here: israel, hamas"),
        ("actors.israel.reservation.low.deeper", "nothing called 'deeper'"),
        ("leverage.nobody.strength", "here: us_on_israel"),
    ],
)
def test_set_field_names_the_missing_path(path, hint):
    src = source(BASELINE)
    with pytest.raises(ScenarioError) as err:
        edited(src, {path: 0.5})
    message = str(err.value)
    assert message.startswith(f"{BASELINE}:") and f": {path}: no such field" in message and hint in message
    assert "\n" not in message


def test_several_fields_are_set_on_a_copy_and_none_give_the_scenario_as_read():
    src = source(BASELINE)
    before = read(BASELINE)[0]
    both = edited(src, {"actors.israel.reservation": 0.7, "actors.hamas.concession.patience": 0.8})
    assert both.actors[0].reservation == 0.7 and both.actors[1].concession.patience == 0.8
    assert src.data == before  # the source is left as read
    assert edited(src) == load(BASELINE) and edited(src).actors[0].reservation != 0.7


def test_one_change_replaces_adds_or_removes_on_a_copy():
    data, _ = read(BASELINE)
    before = copy.deepcopy(data)
    raised = changed(data, "actors.israel.reservation", 0.7)
    assert validate(raised).actors[0].reservation == 0.7 and data == before
    added = changed(data, "events.truce_talks", {"id": "truce_talks", "at_round": 3})
    assert [e["id"] for e in added["events"]] == [e["id"] for e in data["events"]] + ["truce_talks"]
    gone = changed(data, "events.remains_recovered", ABSENT)
    assert (
        "remains_recovered" not in [e["id"] for e in gone["events"]] and len(gone["events"]) == len(data["events"]) - 1
    )
    assert "reservation" not in changed(data, "actors.israel.reservation", ABSENT)["actors"][0]
    assert changed(data, "risk.stall_cap", 3.0)["risk"]["stall_cap"] == 3.0 and data == before
