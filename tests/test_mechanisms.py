"""The model's third version, mechanism by mechanism: for each, a scenario in which it decides the answer
(reachability, not frequency). How a phase is declared (consent, non-objection, framework), where the talks
start, preconditions that gate acts, drafters who see domestic veto players, a risk of collapse that follows
the state of the talks, expiries, and structural uncertainty drawn run by run."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.engine.columns import CONSENT, FRAMEWORK, NON_OBJECTION, OBJECTION, RATIFICATION
from sim.engine.model import NegotiationModel
from tests.helpers import actor, scenario

RUNS = 400
APART = [  # p wants 0 on both issues, q 100; each cares most about one of them: room to trade
    actor("p", {"a": 0, "b": 0}, {"a": 0.7, "b": 0.3}, reservation=0.3),
    actor("q", {"a": 100, "b": 100}, {"a": 0.3, "b": 0.7}, reservation=0.3),
]
BROKER = actor("us", {"a": 50, "b": 50}, {"a": 0.5, "b": 0.5}, role="broker", reservation=0.2)
BRIDGING = {"rule": "bridging", "tabled_by": ["us"]}


def linear(deadline=10, **fields):
    return {"concession": {"strategy": "linear", "deadline": deadline}, **fields}


def play(spec, runs=RUNS, **kw) -> NegotiationModel:
    return NegotiationModel(spec, range(runs), **kw).run()


def gate(**fields):
    return {"id": "deal", "gate": {"consent": ["p", "q"], **fields}}


# ----------------------------------------------------------------- where the talks start
def test_a_declaration_in_round_1_when_the_talks_start_converged_and_none_from_full_demands():
    actors = [{**a, **linear()} for a in APART] + [BROKER]
    start = {"talks_open": True, "conceded": {"p": 0.9, "q": 0.9}}
    converged = scenario(("a", "b"), actors, protocol=BRIDGING, start=start)
    fresh = scenario(("a", "b"), actors, protocol=BRIDGING, start={"talks_open": True})
    assert np.all(play(converged).declared_round[:, 0] == 1)
    later = play(fresh).declared_round[:, 0]
    assert np.all((later > 1) | (later == -1))
    assert np.any(later > 1)  # from full demands the same parties get there, later


def test_a_signed_text_is_declared_as_it_stands_once_ratified():
    actors = [*APART, BROKER]
    text = {"a": 40, "b": 70}
    hawks = {"id": "hawks", "principal": "p", "bounds": {"a": {"max": 30}}, "when": {"unless": ["vote"]}}
    vote = {"id": "vote", "at_round": 3, "effects": {"set": ["vote"]}}
    spec = scenario(("a", "b"), actors, protocol=BRIDGING, veto_players=[hawks], events=[vote],
                    start={"talks_open": True, "text": text, "signed": True})  # fmt: skip
    model = play(spec)
    assert np.all(model.declared_round[:, 0] == 3)  # refused by the hawks until the vote ends their veto
    np.testing.assert_allclose(model.agreed_value, np.tile([40.0, 70.0], (RUNS, 1)))  # not redrafted
    unsigned = scenario(("a", "b"), actors, protocol=BRIDGING, start={"talks_open": True, "text": text})
    assert np.all(play(unsigned).declared_round[:, 0] != 1)  # hardline parties at full demands do not sign it


# ----------------------------------------------------------------- preconditions gate acts
REMAINS = {"id": "remains", "actor": "p", "flag": "found", "waivable": True, "waiver_pressure": 0.05}
PRESS = {"id": "press", "from": "us", "to": "p", "strength": 0.02, "on": "always"}


def test_a_waiver_is_an_act_and_what_it_unblocks_happens_in_the_same_round():
    actors = [{**a, **linear(4)} for a in APART] + [BROKER]
    spec = scenario(("a", "b"), actors, protocol=BRIDGING, preconditions=[REMAINS], leverage=[PRESS],
                    world={"flags": {"found": False}}, start={"talks_open": True})  # fmt: skip
    model = play(spec)
    waived = model.precondition_waived[:, 0]
    assert np.all(waived == 3)  # 0.02 a round reaches 0.05 in round 3
    assert np.all(model.declared_round[:, 0] == 3)  # conceding went on meanwhile: declared as soon as waived


def test_an_open_precondition_freezes_concessions_only_where_the_scenario_says_so():
    actors = [{**a, **linear(4)} for a in APART] + [BROKER]
    never = {**REMAINS, "waivable": False}
    gated = scenario(("a", "b"), actors, protocol=BRIDGING, preconditions=[never], world={"flags": {"found": False}},
                     start={"talks_open": True})  # fmt: skip
    frozen = scenario(("a", "b"), actors, protocol=BRIDGING, world={"flags": {"found": False}},
                      preconditions=[{**never, "freezes_concessions": True}], start={"talks_open": True})  # fmt: skip
    p = 0
    assert np.all(play(gated).share[:, p] == 1.0)  # p conceded all the way while waiting
    assert np.all(play(frozen).share[:, p] == 0.0)


def test_a_precondition_of_a_third_party_that_no_gate_asks_to_consent_is_refused():
    with pytest.raises(sim.ScenarioError, match=r"preconditions\.mine\.actor: 'us' is a broker .* would bind nothing"):
        scenario(("a", "b"), [*APART, BROKER], protocol=BRIDGING,
                 preconditions=[{"id": "mine", "actor": "us", "flag": "f"}], world={"flags": {"f": False}})  # fmt: skip


# ----------------------------------------------------------------- non-objection
def brokered(deadline: int, **fields):
    """Two principals apart and a US broker drafting bridging packages, with p's remains precondition open."""
    actors = [{**a, **linear(deadline)} for a in APART] + [BROKER]
    return scenario(
        ("a", "b"),
        actors,
        protocol=BRIDGING,
        preconditions=[{**REMAINS, "waiver_pressure": 0.5}],
        world={"flags": {"found": False}},
        **fields,
    )


def announced(defiance: float, **extra):
    return brokered(
        40,
        phases=[gate(rule="non_objection", declared_by=["us"], defiance={"p": defiance, "q": defiance})],
        start={"talks_open": True, "conceded": {"p": 0.5, "q": 0.5}},
        **extra,
    )


def test_an_announcement_stands_with_a_precondition_open_when_defiance_costs_more_than_going_along():
    model = play(announced(defiance=1.0))
    assert np.all(model.declared_round[:, 0] == 1)
    assert np.all(model.precondition_met[:, 0] < 0) and np.all(model.precondition_waived[:, 0] < 0)
    assert np.all(model.consented_round[:, 0] == -1)  # announced, never explicitly accepted by p
    table = sim.run_table(model)
    assert set(table["phase.deal.rule"]) == {"non_objection"} and set(table["phase.deal.by"]) == {"us"}


def test_an_announcement_is_objected_to_when_defiance_is_cheap():
    model = play(announced(defiance=0.0))
    assert np.all(model.declared_round[:, 0] == -1)
    assert np.all(model.reason == OBJECTION) and set(sim.run_table(model)["blocker"]) <= {"p", "q"}


def test_consent_with_the_same_precondition_open_never_declares():
    spec = announced(defiance=1.0)
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["phases"][0]["gate"]["rule"] = "consent"
    from sim.scenario.loader import validate

    assert np.all(play(validate(data)).declared_round[:, 0] == -1)


# ----------------------------------------------------------------- framework
def framed(rule: str, break_hazard: float = 1.0):
    """Hardline parties that have conceded 0.3 of the way and concede no more: each holds out for 0.79. The best
    point for both (log-rolling: a at p's ideal, b at q's) gives each 0.7; a text ±50 around it lets each read
    the point it needs (0.85)."""
    return scenario(
        ("a", "b"),
        [*APART, BROKER],
        protocol=BRIDGING,
        phases=[gate(rule=rule, ambiguity=50, break_hazard=break_hazard)],
        start={"talks_open": True, "conceded": {"p": 0.3, "q": 0.3}},
    )


def test_a_framework_declared_on_readings_breaks_later_over_its_ambiguity():
    model = play(framed("framework"))
    assert np.all(model.declared_round[:, 0] == 1) and np.all(model.consented_round[:, 0] == 1)
    assert np.all(model.agreed_round == -1)  # no point was ever agreed
    assert np.all(model.collapse_round == 2)  # the first round of resolution fails and breaks it
    assert set(sim.run_table(model)["collapse_cause"]) == {"deal_framework"}
    assert np.all(play(framed("consent")).declared_round[:, 0] == -1)  # one reading for both: never


def test_a_framework_that_need_not_break_holds_its_intervals_open():
    model = play(framed("framework", break_hazard=0.0))
    assert np.all(model.collapse_round == -1) and np.all(model.resolving)
    assert np.all(model.framework_low <= model.framework_high)


def test_a_framework_may_settle_nothing_at_its_declaration():
    spec = scenario(("a", "b"), [*APART, BROKER], protocol=BRIDGING, start={"talks_open": True},
                    phases=[gate(rule="framework", settle=[], defer=["a", "b"])])  # fmt: skip
    model = play(spec)
    assert np.all(model.declared_round[:, 0] == 1) and np.all(model.agreed_round == -1)
    with pytest.raises(sim.ScenarioError, match="only a framework may defer them all"):
        scenario(("a", "b"), [*APART, BROKER], protocol=BRIDGING, phases=[gate(settle=[], defer=["a", "b"])])


# ----------------------------------------------------------------- drafting that sees veto players
def vetoed(belief_error: float = 0.0):
    actors = [{**a, **linear(6)} for a in APART] + [BROKER]
    hawks = {"id": "hawks", "principal": "p", "bounds": {"b": {"max": 20}}, "belief_error": belief_error}
    return scenario(("a", "b"), actors, protocol=BRIDGING, veto_players=[hawks], start={"talks_open": True})


def test_drafters_honour_a_veto_players_terms_they_know():
    model = play(vetoed())
    declared = model.declared_round[:, 0] >= 0
    assert declared.all() and np.all(model.agreed_value[:, 1] <= 20 + 1e-9)  # b, which p would trade away
    assert not np.any(sim.run_table(model)["reason"].str.startswith("ratification"))


def test_drafters_who_misjudge_a_veto_player_meet_its_refusals():
    table = sim.run_table(play(vetoed(belief_error=25.0)))
    refused = table["reason"] == "ratification refused: hawks"
    assert refused.any() and (table["blocker"][refused] == "hawks").all()
    assert (table["outcome"] == "declared").any()  # where they think it stricter than it is, it passes


def test_a_veto_players_terms_that_never_meet_the_other_sides_red_lines_are_named():
    actors = [{**a, **linear(6)} for a in APART] + [BROKER]
    hawks = {"id": "hawks", "principal": "p", "bounds": {"a": {"max": 20}}}
    floor = {"id": "floor", "actor": "q", "issue": "a", "min": 40}
    model = play(scenario(("a", "b"), actors, protocol=BRIDGING, veto_players=[hawks], red_lines=[floor],
                          start={"talks_open": True}))  # fmt: skip
    assert np.all(model.veto_unmet[:, 0]) and np.all(model.reason == RATIFICATION)
    assert sim.run_table(model)["veto_player.hawks.unmet"].all()


def test_an_event_can_move_a_veto_players_bounds_and_a_renegotiated_text_passes():
    actors = [{**a, **linear(6)} for a in APART] + [BROKER]
    hawks = {"id": "hawks", "principal": "p", "bounds": {"a": {"max": 20}}}
    floor = {"id": "floor", "actor": "q", "issue": "a", "min": 40}
    shift = {"id": "reshuffle", "at_round": 5, "effects": {"veto_bounds": {"hawks": {"a": 30}}}}
    model = play(scenario(("a", "b"), actors, protocol=BRIDGING, veto_players=[hawks], red_lines=[floor],
                          events=[shift], start={"talks_open": True}))  # fmt: skip
    assert np.all(model.declared_round[:, 0] >= 5) and np.all(model.agreed_value[:, 0] <= 50 + 1e-9)


# ----------------------------------------------------------------- risk that follows the talks
def collapsed_by(spec, rounds=10) -> float:
    model = play(spec, runs=3000)
    return float(np.mean((model.collapse_round >= 0) & (model.collapse_round <= rounds)))


def test_the_risk_of_collapse_follows_whether_talks_are_open():
    closed = {"opens_when": {"requires": ["go"]}, **BRIDGING}
    base = {"issues": ("a", "b"), "actors": [*APART, BROKER], "horizon": 10, "world": {"flags": {"go": False}}}
    shut = scenario(**base, protocol=closed, risk={"hazard": 0.05, "closed_factor": 3.0})
    talking = scenario(**base, protocol=closed, risk={"hazard": 0.05, "closed_factor": 3.0}, start={"talks_open": True})
    assert collapsed_by(shut) > collapsed_by(talking) + 0.2


def test_the_stall_clock_starts_when_talks_are_expected_not_at_round_0():
    base = {"issues": ("a", "b"), "actors": [*APART, BROKER], "horizon": 12, "protocol": BRIDGING}
    growth = {"hazard": 0.02, "stall_after": 1, "stall_growth": 1.0, "stall_cap": 10}
    early = scenario(**base, risk=growth)
    late = scenario(**base, risk={**growth, "stall_from": {"from_round": 8}})
    assert collapsed_by(early, 8) > collapsed_by(late, 8) + 0.2


def test_expiry_ends_a_time_limited_agreement_unless_it_was_extended():
    expiry = {"id": "phase_one_ends", "at_round": 3, "unless": ["extended"]}
    base = {"issues": ("a", "b"), "actors": [*APART, BROKER], "horizon": 6, "protocol": BRIDGING, "expiries": [expiry]}
    model = play(scenario(**base, world={"flags": {"extended": False}}))
    assert np.all(model.collapse_round == 3) and set(sim.run_table(model)["collapse_cause"]) == {"phase_one_ends"}
    kept = play(scenario(**base, world={"flags": {"extended": True}}))
    assert np.all(kept.collapse_round == -1)


# ----------------------------------------------------------------- structural uncertainty
def mixed(weights=(1, 1, 1)):
    rules = ("consent", "non_objection", "framework")
    return brokered(
        12,
        events=[{"id": "found", "hazard": 0.1, "effects": {"set": ["found"]}}],
        phases=[gate(declared_by=["us"], defiance={"p": 0.3, "q": 0.3}, ambiguity=20, break_hazard=0.3)],
        start={"talks_open": True},
        mechanisms=[{
            "id": "declaration",
            "alternatives": [{"id": r, "weight": w, "set": {"phases.deal.gate.rule": r}}
                             for r, w in zip(rules, weights, strict=True)],
        }],
    )  # fmt: skip


def test_each_run_draws_its_mechanism_and_plays_exactly_as_under_that_alternative_alone():
    spec = mixed()
    model = play(spec, runs=900)
    drawn = model.numbers.alternatives("declaration")
    assert set(drawn) == {"consent", "non_objection", "framework"}
    codes = {"consent": CONSENT, "non_objection": NON_OBJECTION, "framework": FRAMEWORK}
    np.testing.assert_array_equal(model.phase_rule[:, 0], [codes[x] for x in drawn])
    for rule in codes:
        data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        data.pop("mechanisms")
        data["phases"][0]["gate"]["rule"] = rule
        from sim.scenario.loader import validate

        alone = play(validate(data), runs=900)
        mine = drawn == rule
        np.testing.assert_array_equal(alone.declared_round[mine], model.declared_round[mine])
        np.testing.assert_array_equal(alone.collapse_round[mine], model.collapse_round[mine])


def test_a_runs_mechanism_does_not_depend_on_its_block():
    spec = mixed((1, 2, 3))
    whole = sim.run_table(play(spec, runs=600))
    pieces = [sim.run_table(NegotiationModel(spec, range(a, b)).run()) for a, b in ((0, 250), (250, 600))]
    joined = np.concatenate([p["mechanism.declaration"].to_numpy() for p in pieces])
    np.testing.assert_array_equal(whole["mechanism.declaration"].to_numpy(), joined)


def test_a_mechanism_may_switch_only_what_the_engine_reads_run_by_run():
    spec = mixed()
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["mechanisms"][0]["alternatives"][0]["set"] = {"phases.deal.gate.settle": ["a"]}
    from sim.scenario.loader import validate

    with pytest.raises(sim.ScenarioError, match="cannot vary from run to run"):
        validate(data)
    data["mechanisms"][0]["alternatives"][0]["set"] = {"phases.deal.gate.rule": "unanimity"}
    with pytest.raises(sim.ScenarioError, match=r"mechanisms\.declaration\.alternatives\.consent"):
        validate(data)
