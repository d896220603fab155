"""A scenario's parameters by path (sim.scenario.parameters) and the numbers a block of runs reads
(sim.engine.numbers): paths by id in every section (the second version's milestones, guarantees, veto players,
risk and convened or timed events included), every distribution found, draws a pure function of (seed, run,
path), overrides in place of draws, and deep copies that go with a copied scenario."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from helpers import actor, scenario, uniform
from scipy import stats

from sim.engine.numbers import Numbers
from sim.scenario.distributions import Beta, Choice, Normal, Triangular, Uniform
from sim.scenario.loader import load
from sim.scenario.parameters import field_at, join, uncertain, unit_of, walk
from sim.scenario.schema import Actor, Bound, Effects, Leverage
from sim.scenario.states import AgreedAsOf

ROOT = Path(__file__).resolve().parents[1]
SEED = 99
EVERY_KIND = {
    "actors": [
        actor(
            "israel",
            {"weapons": uniform(60, 90), "truce": 80},
            {"weapons": 0.7, "truce": 0.3},
            reservation={"dist": "beta", "a": 2, "b": 5},
            concession={"strategy": "linear", "deadline": {"dist": "choice", "values": [10, 20], "weights": [1, 3]}},
        ),
        actor(
            "hamas",
            {"weapons": 10, "truce": 70},
            {"weapons": 0.6, "truce": 0.4},
            noise={"dist": "beta", "a": 2, "b": 8, "low": 0, "high": 0.2},
            concession={"strategy": "responsive", "deadline": 30, "reciprocity": uniform(0.5, 1.5)},
        ),
        actor("us", {"weapons": 60, "truce": 90}, {"weapons": 0.5, "truce": 0.5}, role="broker", budget=uniform(1, 3)),
        actor("cell", {}, {}, role="spoiler"),
    ],
    "red_lines": [
        {
            "id": "keep_arms",
            "actor": "hamas",
            "issue": "weapons",
            "max": {"dist": "normal", "mean": 40, "sd": 5, "low": 20, "high": 60},
            "relax": {"to": 60, "audience_cost": uniform(0.1, 0.3)},
        }
    ],
    "preconditions": [{"id": "remains", "actor": "israel", "flag": "found", "waivable": True, "waiver_pressure": 0.4}],
    "phases": [
        {"id": "committee", "gate": {"consent": ["israel", "hamas"], "settle": ["truce"], "defer": ["weapons"]}},
    ],
    "milestones": [{"id": "arms_stored", "issues": ["weapons"], "phase": "committee", "hazard": uniform(0.1, 0.3)}],
    "leverage": [
        {
            "id": "us_on_israel",
            "from": "us",
            "to": "israel",
            "strength": uniform(0.01, 0.03),
            "cost": 0.1,
            "erosion": uniform(0, 0.5),
        }
    ],
    "guarantees": [
        {"id": "non_transfer", "from": "us", "to": "hamas", "issues": ["weapons"], "value": uniform(0.02, 0.08)}
    ],
    "veto_players": [
        {"id": "military_wing", "principal": "hamas", "bounds": {"weapons": {"max": uniform(30, 50)}}},
    ],
    "events": [
        {
            "id": "found",
            "hazard": {"dist": "triangular", "low": 0.05, "mode": 0.1, "high": 0.3},
            "boost": {"searching": uniform(1, 2)},
            "effects": {"set": ["found"], "position": {"hamas": {"weapons": uniform(-10, 0)}}},
        },
        {"id": "summit", "convened_by": "us", "cost": uniform(0.5, 1.5), "when": {"from_round": 2}},
        {"id": "wave", "hazard": 0.05, "by": "cell", "after_progress": {"factor": uniform(1, 4), "window": 3}},
    ],
    "world": {"flags": {"searching": True}},
    "risk": {"hazard": uniform(0, 0.02), "stall_growth": 0.5},
    "protocol": {"pressure_decay": uniform(0, 0.2)},
}
UNCERTAIN = {
    "actors.israel.position.weapons": Uniform,
    "actors.israel.reservation": Beta,
    "actors.israel.concession.deadline": Choice,
    "actors.hamas.noise": Beta,
    "actors.hamas.concession.reciprocity": Uniform,
    "actors.us.budget": Uniform,
    "red_lines.keep_arms.max": Normal,
    "red_lines.keep_arms.relax.audience_cost": Uniform,
    "milestones.arms_stored.hazard": Uniform,
    "leverage.us_on_israel.strength": Uniform,
    "leverage.us_on_israel.erosion": Uniform,
    "guarantees.non_transfer.value": Uniform,
    "veto_players.military_wing.bounds.weapons.max": Uniform,
    "events.found.hazard": Triangular,
    "events.found.boost.searching": Uniform,
    "events.found.effects.position.hamas.weapons": Uniform,
    "events.summit.cost": Uniform,
    "events.wave.after_progress.factor": Uniform,
    "risk.hazard": Uniform,
    "protocol.pressure_decay": Uniform,
}


@pytest.fixture(scope="module")
def spec():
    return scenario(("weapons", "truce"), **EVERY_KIND)


# ------------------------------------------------------------------ walk and uncertain
def test_walk_names_list_items_by_id_and_dict_entries_by_key(spec):
    leaves = dict(walk(spec))
    assert leaves["actors.hamas.position.weapons"] == 10
    assert leaves["actors.hamas.salience.truce"] == 0.4
    assert leaves["actors.us.capability"] == 0.5  # defaults are parameters too
    assert leaves["preconditions.remains.waiver_pressure"] == 0.4
    assert leaves["meta.horizon"] == 10
    assert isinstance(leaves["leverage.us_on_israel.strength"], Uniform)
    assert not any(p.split(".")[1].isdigit() for p in leaves if not p.startswith(("meta", "risk", "protocol")))
    ids = (".waivable", ".from", ".to", ".id", ".by", ".convened_by", ".principal", ".scaled_by_distance")
    assert not any(".basis" in p or p.endswith(ids) for p in leaves if p != "red_lines.keep_arms.relax.to")


def test_walk_reaches_every_section_of_the_second_version(spec):
    leaves = dict(walk(spec))
    assert leaves["red_lines.keep_arms.relax.to"] == 60  # a bound's relaxed value is a number, not an id
    assert leaves["leverage.us_on_israel.cost"] == 0.1 and leaves["leverage.us_on_israel.credibility"] == 1.0
    assert leaves["leverage.us_on_israel.follow_through"] == 0.0
    assert leaves["guarantees.non_transfer.cost"] == 0.0
    assert isinstance(leaves["veto_players.military_wing.bounds.weapons.max"], Uniform)
    assert isinstance(leaves["milestones.arms_stored.hazard"], Uniform)
    assert leaves["events.summit.probability"] == 1.0 and isinstance(leaves["events.summit.cost"], Uniform)
    assert leaves["events.wave.after_progress.window"] == 3 and leaves["events.wave.collapse"] == 0.0
    assert leaves["actors.hamas.concession.deadline"] == 30 and leaves["actors.cell.budget"] == 0.0
    assert leaves["risk.stall_after"] == 4 and leaves["risk.stall_growth"] == 0.5
    assert leaves["risk.agreement_factor"] == 1.0 and leaves["outputs.trajectories"] == 0
    assert not any(p.startswith(("vetoes", "world")) for p in leaves)  # ids, flags and booleans only
    gates = {p for p in leaves if p.startswith("phases")}  # a gate's numbers: its framework's and its announcement's
    assert gates and all(p.rsplit(".", 1)[1] in ("ambiguity", "break_hazard", "from_round") for p in gates)
    assert "veto_players.military_wing.bounds.weapons.min" not in leaves  # an open bound is no number


def test_walk_does_not_descend_into_distributions_and_yields_no_booleans(spec):
    leaves = dict(walk(spec))
    assert not any(p.startswith("actors.israel.position.weapons.") for p in leaves)
    assert not any(isinstance(v, bool) for v in leaves.values())
    assert all(isinstance(v, (int, float, Uniform, Normal, Beta, Triangular, Choice)) for v in leaves.values())


def test_walk_of_a_list_item_without_id_uses_its_index():
    assert dict(walk([{"x": 1}, [2.5, 3]], "top")) == {"top.0.x": 1, "top.1.0": 2.5, "top.1.1": 3}


def test_join():
    assert join("", "actors") == "actors" and join("actors", "israel") == "actors.israel"


def test_uncertain_finds_every_distribution_wherever_it_is(spec):
    found = uncertain(spec)
    assert {path: type(d) for path, d in found.items()} == UNCERTAIN
    assert found["events.found.hazard"].mode == 0.1 and found["red_lines.keep_arms.max"].sd == 5


def test_a_scenario_without_distributions_has_no_uncertain_parameters():
    assert uncertain(scenario()) == {}


# ------------------------------------------------------------------ fields and units
def test_a_path_finds_its_schema_field_through_ids_indices_keys_and_aliases():
    assert field_at("veto_players.military_wing.bounds.weapons.max") is Bound.model_fields["max"]
    assert field_at("veto_players.0.bounds.weapons.max") is Bound.model_fields["max"]  # the loader's paths
    assert field_at("actors.israel.position.weapons") is Actor.model_fields["position"]
    assert field_at("actors.israel.position") is Actor.model_fields["position"]
    assert field_at("events.found.effects.position.hamas.weapons") is Effects.model_fields["position"]
    assert field_at("as_of.agreed.weapons.value") is AgreedAsOf.model_fields["value"]
    assert field_at("leverage.us_on_israel.from") is Leverage.model_fields["source"]  # by its alias
    assert field_at("actors.israel.reservation.low") is None  # a distribution's own numbers are no field
    assert field_at("actors.israel.reservaton") is None and field_at("nothing") is None


def test_every_parameter_has_a_unit_and_one_on_an_issue_is_told_in_its_words(spec):
    assert all(unit_of(spec, path) for path, _ in walk(spec))
    assert unit_of(spec, "actors.israel.reservation") == "utility (0-1)"
    assert unit_of(spec, "events.found.hazard") == "chance a round"
    assert unit_of(spec, "risk.stall_growth") == "multiplier per stalled round"
    assert unit_of(spec, "actors.hamas.salience.truce") == "weight (0-1)"
    assert unit_of(spec, "actors.israel.reservaton") == ""
    baseline = load(ROOT / "scenarios" / "baseline.yaml")
    words = {i.id: f"0 = {i.low}, 100 = {i.high}" for i in baseline.issues}
    assert words["force"] == "0 = no force, 100 = force with an enforcement mandate"
    on = {
        "actors.israel.position.governance": "governance",
        "red_lines.no_enforcement_force.max": "force",  # a red line's issue, which its path does not name
        "red_lines.disarmament.min": "weapons",
        "red_lines.disarmament.relax.to": "weapons",
        "veto_players.military_wing.bounds.force.max": "force",
        "as_of.agreed.withdrawal.value": "withdrawal",
    }
    assert {path: unit_of(baseline, path) for path in on} == {path: words[issue] for path, issue in on.items()}


# ------------------------------------------------------------------ Numbers
def test_values_reads_fixed_numbers_as_floats_and_defaults_for_none(spec):
    values = Numbers(spec, SEED, np.arange(5))
    hamas = spec.actors[1]
    assert values(hamas.position["weapons"]) == 10.0 and isinstance(values(hamas.position["weapons"]), float)
    assert values(None, 0.25) == 0.25 and values(None) == 0.0
    assert set(values.drawn) == set(UNCERTAIN)
    drawn = values(spec.actors[0].position["weapons"])
    assert drawn.shape == (5,) and drawn is values.drawn["actors.israel.position.weapons"]


def test_draws_do_not_depend_on_the_block_or_its_order(spec):
    whole = Numbers(spec, SEED, np.arange(1000)).drawn
    for block in (np.arange(500, 510), np.array([999, 3, 500]), np.array([42])):
        part = Numbers(spec, SEED, block).drawn
        for path in UNCERTAIN:
            np.testing.assert_array_equal(part[path], whole[path][block], err_msg=path)


def test_draws_change_with_the_seed_and_differ_between_paths_with_the_same_distribution(spec):
    runs = np.arange(1000)
    one, other = Numbers(spec, SEED, runs).drawn, Numbers(spec, SEED + 1, runs).drawn
    for path in UNCERTAIN:
        assert not np.array_equal(one[path], other[path]), path
    a, b = one["leverage.us_on_israel.strength"], one["events.found.effects.position.hamas.weapons"]
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1  # two uniforms, drawn from their own streams


def test_draws_follow_their_distributions(spec):
    drawn = Numbers(spec, SEED, np.arange(20_000)).drawn
    checks = {
        "actors.israel.position.weapons": stats.uniform(60, 30).cdf,
        "actors.israel.reservation": stats.beta(2, 5).cdf,
        "events.found.hazard": stats.triang(0.2, loc=0.05, scale=0.25).cdf,
    }
    for path, cdf in checks.items():
        assert stats.kstest(drawn[path], cdf).pvalue > 1e-4, path
    normal = drawn["red_lines.keep_arms.max"]
    assert normal.min() >= 20 and normal.max() <= 60 and abs(normal.mean() - 40) < 0.2 and abs(normal.std() - 5) < 0.2
    deadline = drawn["actors.israel.concession.deadline"]
    assert set(np.unique(deadline)) == {10.0, 20.0} and abs((deadline == 20).mean() - 0.75) < 0.02


def test_overrides_replace_the_draws_of_their_paths_only(spec):
    runs = np.arange(6)
    plain = Numbers(spec, SEED, runs)
    given = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    overrides = {
        "actors.israel.reservation": given,
        "protocol.pressure_decay": 0.05,
        "veto_players.military_wing.bounds.weapons.max": given * 100,
    }
    values = Numbers(spec, SEED, runs, overrides)
    np.testing.assert_array_equal(values(spec.actors[0].reservation), given)
    np.testing.assert_array_equal(values(spec.protocol.pressure_decay), np.full(6, 0.05))
    np.testing.assert_array_equal(values(spec.veto_players[0].bounds["weapons"].max), given * 100)
    for path in set(UNCERTAIN) - set(overrides):
        np.testing.assert_array_equal(values.drawn[path], plain.drawn[path], err_msg=path)


@pytest.mark.parametrize(
    "path",
    [
        "actors.israel.reservaton",  # misspelt
        "actors.hamas.reservation",  # a fixed number, not uncertain
        "leverage.0.strength",  # by index, not by id
    ],
)
def test_an_override_of_no_uncertain_parameter_raises_naming_it(spec, path):
    with pytest.raises(KeyError, match=path.replace(".", r"\.")):
        Numbers(spec, SEED, np.arange(3), {path: 0.5, "actors.israel.reservation": 0.5})


def test_a_deep_copy_reads_the_copied_scenarios_distributions_with_the_same_draws(spec):
    """A model copied mid-negotiation copies its scenario and its Numbers together: the copy finds the
    copied distributions (by identity) and holds its own arrays; the original still reads the original."""
    runs = np.arange(50)
    values = Numbers(spec, SEED, runs)
    twin = copy.deepcopy({"spec": spec, "values": values})
    spec2, values2 = twin["spec"], twin["values"]
    assert set(values2.drawn) == set(UNCERTAIN)
    for path, dist in uncertain(spec2).items():
        assert dist is not uncertain(spec)[path]
        np.testing.assert_array_equal(values2(dist), values.drawn[path], err_msg=path)
        assert values2(dist) is not values.drawn[path]
    np.testing.assert_array_equal(values(spec.actors[0].reservation), values.drawn["actors.israel.reservation"])
    values2.drawn["actors.israel.reservation"][:] = 0.5
    assert not np.all(values(spec.actors[0].reservation) == 0.5)
    assert values2(spec2.actors[1].position["weapons"]) == 10.0
