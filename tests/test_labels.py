"""Readable names (sim.scenario.labels): actors and domestic veto players by name; issues, events, red lines,
phases and milestones by label; ids made readable with the capitals the scenario's own text writes;
parameter paths as words, in every section of the second version."""

from __future__ import annotations

import pytest
from helpers import actor, scenario

from sim.scenario.labels import Names, capitals, words

EVEN = {"weapons": 0.5, "truce": 0.5}
SECTIONS = {
    "actors": [
        actor("israel", {"weapons": 90, "truce": 80}, EVEN, name="Israel"),
        actor("hamas", {"weapons": 10, "truce": 70}, EVEN),
        actor("us", {"weapons": 60, "truce": 90}, EVEN, role="broker", name="United States"),
        actor("egypt_team", {"weapons": 40, "truce": 80}, EVEN, role="mediator"),
        actor("un_envoy", {"weapons": 40, "truce": 80}, EVEN, role="stakeholder"),
    ],
    "red_lines": [
        {"id": "keep_arms", "actor": "hamas", "issue": "weapons", "max": 40, "label": "no forced disarmament"},
        {"id": "truce_floor", "actor": "israel", "issue": "truce", "min": 20},
    ],
    "preconditions": [{"id": "remains", "actor": "israel", "flag": "remains_found_by_egypt"}],
    "leverage": [{"id": "us_on_israel", "from": "us", "to": "israel", "strength": 0.02}],
    "events": [
        {"id": "us_summit", "at_round": 3, "label": "US-Israel summit"},
        {"id": "egypt_hosts_talks", "hazard": 0.1, "effects": {"set": ["remains_found_by_egypt"]}},
    ],
    "phases": [
        {
            "id": "committee_phase",
            "label": "Technocratic committee",
            "gate": {"consent": ["israel", "hamas"], "settle": ["truce"]},
        },
        {
            "id": "arms_phase",
            "gate": {"consent": ["israel", "hamas"], "settle": ["weapons"], "after": "committee_phase"},
        },
    ],
    "milestones": [
        {"id": "committee_governing", "label": "the committee governs", "issues": ["truce"], "hazard": 0.2},
        {"id": "un_weapons_storage", "issues": ["weapons"], "phase": "arms_phase", "hazard": 0.1},
    ],
    "veto_players": [
        {"id": "far_right", "name": "Far-right partners", "principal": "israel", "bounds": {"truce": {"min": 10}}},
        {"id": "hamas_armed_wing", "principal": "hamas", "bounds": {"weapons": {"max": 30}}},
    ],
    "guarantees": [{"id": "us_security", "from": "us", "to": "hamas", "issues": ["weapons"], "value": 0.05}],
}
DESCRIPTION = (
    "Talks between Israel and Hamas, brokered by the US: the UN watches and its Envoy reports; the envoy is unpaid. "
    "Egypt hosts the talks. Note: Qatar pays."
)


@pytest.fixture(scope="module")
def names():
    issues = {"weapons": "Factional weapons", "truce": "Truce"}
    return Names(scenario(issues, meta={"description": DESCRIPTION}, **SECTIONS))


def test_words_replaces_underscores():
    assert words("egyptian_teams_searching") == "egyptian teams searching" and words("plain") == "plain"


def test_capitals_are_those_the_text_always_writes_mid_sentence(names):
    found = names._capitals
    assert {"israel": "Israel", "hamas": "Hamas", "us": "US", "un": "UN"}.items() <= found.items()
    assert "egypt" not in found  # written capitalised only at the start of a sentence
    assert "qatar" not in found  # capitalised only after a colon
    assert "envoy" not in found  # written both ways mid-sentence
    assert "talks" not in found  # 'Talks' opens a sentence; 'talks' is written lower mid-sentence


def test_capitals_read_every_text_field_and_basis():
    spec = scenario(("a",), events=[{"id": "e", "hazard": 0.1, "basis": {"hazard": "as reported by OCHA"}}])
    assert capitals(spec) == {"ocha": "OCHA"}


def test_actors_go_by_their_name_or_their_readable_id(names):
    assert names.actors == {
        "israel": "Israel",
        "hamas": "Hamas",
        "us": "United States",
        "egypt_team": "egypt team",
        "un_envoy": "UN envoy",
    }
    assert names.actor("us") == "United States" and names.actor("us_navy") == "US navy"  # not in the scenario


def test_domestic_veto_players_go_by_their_name_or_their_readable_id_and_are_actors_too(names):
    assert names.veto_players == {"far_right": "Far-right partners", "hamas_armed_wing": "Hamas armed wing"}
    assert names.actor("far_right") == "Far-right partners" and names.actor("hamas_armed_wing") == "Hamas armed wing"
    assert names.actor("israel") == "Israel"  # an actor's name comes first


def test_items_go_by_their_label_or_their_readable_id(names):
    assert names.issues == {"weapons": "Factional weapons", "truce": "Truce"}
    assert names.events == {"us_summit": "US-Israel summit", "egypt_hosts_talks": "egypt hosts talks"}
    assert names.red_lines == {"keep_arms": "no forced disarmament", "truce_floor": "truce floor"}
    assert names.preconditions == {"remains": "remains found by egypt"}
    assert names.phases == {"committee_phase": "Technocratic committee", "arms_phase": "arms phase"}
    assert names.milestones == {
        "committee_governing": "the committee governs",
        "un_weapons_storage": "UN weapons storage",
    }
    assert names.guarantees == {"us_security": "US security"}
    assert names.leverage == {"us_on_israel": "US on Israel"}


def test_phases_are_named_in_gate_order_and_a_scenario_without_phases_has_its_one_agreement():
    phases = [
        {"id": "second", "gate": {"consent": ["p", "q"], "settle": ["a"], "after": "first"}},
        {"id": "first", "gate": {"consent": ["p", "q"], "settle": ["a"]}},
    ]
    assert list(Names(scenario(("a",), phases=phases)).phases) == ["first", "second"]
    plain = Names(scenario())
    assert plain.phases == {"agreement": "Agreement"}
    assert plain.milestones == plain.veto_players == plain.guarantees == plain.leverage == {}


@pytest.mark.parametrize(
    "ident, readable",
    [("us_on_israel", "US on Israel"), ("hamas_and_the_un", "Hamas and the UN"), ("talks_go_on", "talks go on")],
)
def test_readable_keeps_the_scenarios_capitals(names, ident, readable):
    assert names.readable(ident) == readable


@pytest.mark.parametrize(
    "path, words_",
    [
        ("actors.israel.reservation", "Israel: reservation"),
        ("actors.us.capability", "United States: capability"),
        ("actors.hamas.position.weapons", "Hamas: position (Factional weapons)"),
        ("actors.israel.salience.truce", "Israel: salience (Truce)"),
        ("actors.israel.concession.deadline", "Israel: concession deadline"),
        ("events.us_summit.probability", "US-Israel summit: probability"),
        (
            "events.egypt_hosts_talks.effects.position.hamas.weapons",
            "egypt hosts talks: effects position Hamas (Factional weapons)",
        ),
        ("red_lines.keep_arms.max", "no forced disarmament: max"),
        ("preconditions.remains.waiver_pressure", "remains found by egypt: waiver pressure"),
        ("leverage.us_on_israel.strength", "US on Israel: strength"),
        ("leverage.us_on_israel.follow_through", "US on Israel: follow through"),
        ("red_lines.keep_arms.relax.audience_cost", "no forced disarmament: relax audience cost"),
        ("milestones.committee_governing.hazard", "the committee governs: hazard"),
        ("milestones.un_weapons_storage.hazard", "UN weapons storage: hazard"),
        ("guarantees.us_security.value", "US security: value"),
        ("veto_players.far_right.when", "Far-right partners: when"),
        ("phases.committee_phase.gate", "Technocratic committee: gate"),
        ("events.us_summit.after_progress.factor", "US-Israel summit: after progress factor"),
        ("risk.stall_growth", "stall growth"),
        ("actors.hamas_wing.reservation", "Hamas wing: reservation"),  # an id the scenario lacks
        ("protocol.pressure_decay", "pressure decay"),
        ("meta.horizon", "horizon"),
        ("actors", "actors"),
    ],
)
def test_field_paths_as_words(names, path, words_):
    assert names.field(path) == words_


def test_an_issue_inside_a_veto_players_bounds_goes_by_its_label(names):
    words_ = names.field("veto_players.hamas_armed_wing.bounds.weapons.max")
    assert words_.startswith("Hamas armed wing: ") and "Factional weapons" in words_


def test_an_actor_inside_an_events_effects_goes_by_its_name(names):
    assert "United States" in names.field("events.us_summit.effects.align.us.share")
    assert "United States" in names.field("events.us_summit.effects.position.us.weapons")
