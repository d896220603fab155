"""Other model families (compromise, weighted median, EUM, Nash) pinned against reference numbers, run on the
Gaza baseline with sanity checks, written as results folders and compared beside the agent-based model.

Reference numbers come from ``tests/data/eum/`` (a copy of the project's shared reference folder; its
README says what each number is and how far to trust it): the EC emission-standards data (BdM 1994) and the Sultan
data of the jmckib replication, the exact compromise-model values, and the jmckib EUM run round by round.
The reading of its CSVs is test code; negsim itself takes scenarios.
"""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import assert_figure
from typer.testing import CliRunner

from sim.analysis import families, predict
from sim.analysis.compare import compare, comparison_text
from sim.analysis.prediction_folder import write_folder
from sim.batch.runner import load_results, load_trajectories, run_batch
from sim.cli import app
from sim.engine import rules
from sim.engine.columns import OUTCOME_ORDER
from sim.scenario.loader import load

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
REFERENCE = ROOT / "tests" / "data" / "eum"  # a copy of shared/reference/eum, so that CI runs these tests
TOLERANCE = 1e-9  # expected.json's float_tolerance_suggested
runner = CliRunner()


def reference_csv(name: str) -> tuple[list[str], list[tuple[Fraction, Fraction, Fraction]]]:
    """A reference CSV (actor,capability,position,salience) as actor names and exact rows."""
    with (REFERENCE / name).open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["actor"] for r in rows], [
        (Fraction(r["capability"]), Fraction(r["position"]), Fraction(r["salience"])) for r in rows
    ]


def arrays(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c, x, s = (np.array([float(r[k]) for r in rows]) for k in range(3))
    return x, c, s


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((REFERENCE / "expected.json").read_text())


def exact_weighted_median(points: list[tuple[Fraction, Fraction]]) -> list[Fraction]:
    """Every actor position minimising the weighted distance sum, by brute force in exact arithmetic."""
    cost = {x: sum(w * abs(x - y) for y, w in points) for x, _ in points}
    best = min(cost.values())
    return sorted(x for x, c in cost.items() if c == best)


# ------------------------------------------------------------------ compromise model and weighted median
@pytest.mark.parametrize(
    ("name", "mean", "median"),
    [
        ("ec_emissions_1994.csv", Fraction(5003, 677), 7.0),
        ("sultan_jmckib.csv", Fraction(1147069, 84220), 13.9),
    ],
)
def test_compromise_and_median_reproduce_the_exact_reference_values(name, mean, median):
    _, rows = reference_csv(name)
    weights = [c * s for c, _, s in rows]
    assert sum(w * x for w, (_, x, _) in zip(weights, rows, strict=True)) / sum(weights) == mean  # the data
    x, c, s = arrays(rows)
    got = families.compromise(x[:, None], c, s[:, None])[0]
    assert abs(Fraction(got) - mean) < Fraction(1, 10**12), (got, float(mean))
    assert families.median(x[:, None], c, s[:, None])[0] == median
    assert exact_weighted_median([(x_, c_ * s_) for c_, x_, s_ in rows]) == [Fraction(str(median))]


def test_the_toy_cases_and_the_stated_tie_convention(expected):
    cases = expected["toy_cases_compromise_model"]["cases"]
    for case in cases:
        c, x, s = (np.array(v, dtype=float) for v in list(zip(*case["actors"], strict=True))[1:])
        assert families.compromise(x[:, None], c, s[:, None])[0] == pytest.approx(case["weighted_mean_cs"], abs=1e-12)
    assert cases[0]["weighted_median_cs"].startswith("tie")  # 0 and 100, equal weight: any point of [0, 100]
    assert families.weighted_median(np.array([0.0, 100.0]), np.array([1.0, 1.0])) == 50.0  # the midpoint
    assert families.weighted_median(np.array([0.0, 100.0, 100.0]), np.ones(3)) == cases[1]["weighted_median_cs"]
    # the midpoint of the tied interval, wherever its ends are, whatever weightless actors lie inside it
    assert families.weighted_median(np.array([0.0, 10, 20, 30]), np.ones(4)) == 15.0
    assert families.weighted_median(np.array([0.0, 40, 100]), np.array([1.0, 0, 1])) == 50.0
    assert families.weighted_median(np.array([0.0, 0, 100]), np.array([0.5, 0.5, 1])) == 50.0
    # 0.1 + 0.2 is not 0.3 in floating point, yet the weight up to 0.2 is exactly half of 0.6: a tie
    assert families.weighted_median(np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3])) == 0.25
    # a tie within 1e-9 of the total weight counts; a lead larger than that does not
    assert families.weighted_median(np.array([0.0, 100.0]), np.array([1.0, 1.0 + 1e-12])) == 50.0
    assert families.weighted_median(np.array([0.0, 100.0]), np.array([1.0, 1.0 + 1e-6])) == 100.0
    assert families.weighted_median(np.array([3.0, 7.0]), np.zeros(2)) == 5.0  # no weight: counted equally


def test_the_median_does_not_depend_on_which_end_of_the_scale_is_zero():
    rng = np.random.default_rng(4)
    x = rng.choice([0.0, 25, 50, 75, 100], size=(500, 6))
    w = rng.choice([0.5, 1.0, 2.0], size=(500, 6))
    forward, backward = families.weighted_median(x, w), families.weighted_median(100 - x, w)
    assert np.array_equal(forward, 100 - backward)
    assert (forward % 12.5 == 0).all() and (forward % 25 != 0).any()  # some ties, resolved to midpoints


# ------------------------------------------------------------------ the EUM (jmckib / Scholz code variant)
def move_words(result: families.EUMRounds, t: int, actors: list[str]) -> list[str]:
    verb = {1: "loses confrontation to", 2: "compromises with"}
    return [
        f"{actors[i]} {verb[int(result.move[t, i])]} {actors[int(result.toward[t, i])]}"
        for i in range(len(actors))
        if result.move[t, i]
    ]


def test_eum_reproduces_jmckib_on_the_ec_emissions_data_round_by_round(expected):
    actors, rows = reference_csv("ec_emissions_1994.csv")
    x, c, s = arrays(rows)
    ref = expected["datasets"]["ec_emissions_1994"]["eum"]["jmckib_scholz_code_variant"]
    assert len(ref["median_by_round"]) == 31 and len(ref["rounds"]) == 10
    result = families.eum(x, c, s, rounds=30)
    np.testing.assert_allclose(result.median, ref["median_by_round"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(result.mean, ref["mean_by_round"], rtol=0, atol=TOLERANCE)
    for rnd in ref["rounds"]:
        t = rnd["round"]
        np.testing.assert_allclose(result.positions[t], [rnd["positions"][a] for a in actors], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(result.risk[t], [rnd["risk_exponent_r"][a] for a in actors], rtol=0, atol=TOLERANCE)
        assert sorted(move_words(result, t, actors)) == sorted(rnd["moves"]), t
        assert (result.median[t], result.mean[t]) == (
            pytest.approx(rnd["median"], abs=TOLERANCE),
            pytest.approx(rnd["mean"], abs=TOLERANCE),
        )
    # the README's own reading: Belgium jumps to 4.80 in round 4 (the compromise key is a position value)
    assert result.positions[4, actors.index("Belgium")] == pytest.approx(4.800881, abs=1e-6)
    assert np.isnan(result.risk[0]).all() and (result.move[0] == 0).all()
    moved = {actors[i] for i in np.flatnonzero(result.move[1:].any(axis=0))}
    assert moved == {"Belgium", "Luxembourg", "Ireland"}
    # the forecast is the median after 10 rounds; it cycles and never settles
    assert result.median[10] == 7.0 and families.eum(x, c, s).prediction == 7.0
    # within 0.062 of the (low-trust) transcription of Scholz et al.'s means, as the README reports
    scholz = expected["datasets"]["ec_emissions_1994"]["eum"]["scholz_2011_mean_by_round_as_transcribed_by_masad"]
    gap = np.abs(result.mean[:11] - scholz["mean"]).max()
    assert round(gap, 4) == scholz["max_abs_diff_jmckib"] == 0.0613


def test_eum_round_one_internals_match_jmckib(expected):
    actors, rows = reference_csv("ec_emissions_1994.csv")
    x, c, s = arrays(rows)
    examples = expected["datasets"]["ec_emissions_1994"]["eum"]["jmckib_scholz_code_variant"]["round1_internals"]
    examples = examples["examples"]
    scale = np.array(x.max() - x.min())
    at = {a: k for k, a in enumerate(actors)}
    d = np.abs(x[:, None] - x[None, :]) / scale
    p1 = families.win_probability(x, c * s, np.ones(10), scale)
    assert p1[at["Netherlands"], at["France"]] == pytest.approx(examples["prob_r1.Netherlands->France"], abs=1e-15)
    e1 = families.expected_utility(p1, d, s[None, :], 1.0)
    exposure = e1[:, at["Belgium"]].sum() - e1[at["Belgium"], at["Belgium"]]
    assert exposure == pytest.approx(examples["danger_level_r1.Belgium"], abs=TOLERANCE)
    _, r, move, toward = families.eum_round(x, c * s, s, scale)
    p = families.win_probability(x, c * s, r, scale)
    i, j = at["Belgium"], at["France"]
    a = families.expected_utility(p[i, j], d[i, j], s[j], r[i])
    b = families.expected_utility(p[j, i], d[i, j], s[i], r[i])
    pair = examples["eu_pairs_after_r.Belgium.France"]
    assert (a, b) == (pytest.approx(pair["e_ij"], abs=TOLERANCE), pytest.approx(pair["e_ji"], abs=TOLERANCE))
    assert (move[i], toward[i]) == (2, j)
    assert p1.max() <= 0.012  # the all-pairs denominator keeps every win probability tiny


def test_eum_on_the_sultan_data_moves_nobody(expected):
    actors, rows = reference_csv("sultan_jmckib.csv")
    x, c, s = arrays(rows)
    ref = expected["datasets"]["sultan_jmckib"]["eum"]["jmckib_scholz_code_variant"]
    result = families.eum(x, c, s)
    assert (result.move == 0).all() and (result.positions == x).all()
    np.testing.assert_allclose(result.median, ref["median_by_round"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(result.mean, ref["mean_by_round"], rtol=0, atol=TOLERANCE)
    for rnd in ref["rounds"]:
        r = [rnd["risk_exponent_r"][a] for a in actors]
        np.testing.assert_allclose(result.risk[rnd["round"]], r, rtol=0, atol=TOLERANCE)
        assert rnd["moves"] == []


def test_eum_broadcasts_depends_only_on_ratios_but_not_on_which_end_is_zero():
    _, rows = reference_csv("ec_emissions_1994.csv")
    x, c, s = arrays(rows)
    alone = families.eum(x, c, s, rounds=12)
    # a block of three: the data, the data on another scale (x -> 10 x + 3) with capabilities doubled,
    # and the data with the scale flipped (x -> 14 - x)
    block = families.eum(np.stack([x, 10 * x + 3, 14 - x]), np.stack([c, 2 * c, c]), np.stack([s, s, s]), rounds=12)
    np.testing.assert_array_equal(block.median[0], alone.median)
    np.testing.assert_allclose(block.median[1], 10 * alone.median + 3, rtol=0, atol=1e-8)
    assert (block.move[:2] == alone.move).all() and (block.toward[:2] == alone.toward).all()
    # jmckib's compromise key is a position value, not a distance: flipped, Belgium picks the other
    # compromise from round 4 on, so the run is not the mirror image of the original
    flipped = 14 - block.median[2]
    np.testing.assert_allclose(flipped[:4], alone.median[:4], rtol=0, atol=1e-8)
    assert block.median[2, 4] == pytest.approx(4.000392629252323, abs=1e-9)  # mirrored: 14 - 9.961980 = 4.038020
    assert flipped[4] != pytest.approx(alone.median[4], abs=0.03)


def test_eum_with_everyone_agreed_or_without_weight_stays_put():
    same = families.eum(np.full(4, 30.0), np.ones(4), np.full(4, 0.5))
    assert (same.positions == 30).all() and (same.risk[1:] == 1).all() and (same.median == 30).all()
    idle = families.eum(np.array([0.0, 50, 100]), np.zeros(3), np.full(3, 0.5))
    assert (idle.move == 0).all() and (idle.median == 50).all() and (idle.mean == 50).all()


# ------------------------------------------------------------------ the Gaza baseline
@pytest.fixture(scope="module")
def baseline():
    return load(BASELINE)


@pytest.fixture(scope="module")
def predictions(baseline):
    return {f: predict.predict(baseline, f) for f in families.MODEL_FAMILIES}


def seated_actors() -> list[dict]:
    return [a for a in yaml.safe_load(BASELINE.read_text())["actors"] if a["role"] != "spoiler"]


def test_baseline_compromise_and_median_computed_by_hand_in_exact_arithmetic(baseline, predictions):
    actors = seated_actors()
    data = predict.inputs(baseline)
    assert data.actors == [a["id"] for a in actors] and data.draws == 1 and data.seed is None
    israel = np.array([0.25, 0.35, 0.15, 0.15, 0.10])
    np.testing.assert_allclose(data.relative_salience[0, 0], israel / 0.35, rtol=0, atol=1e-15)
    for issue in baseline.issue_ids():
        weight = [
            Fraction(str(a["capability"]))
            * Fraction(str(a["salience"][issue]))
            / max(Fraction(str(v)) for v in a["salience"].values())
            for a in actors
        ]
        x = [Fraction(a["position"][issue]) for a in actors]
        mean = sum(w * p for w, p in zip(weight, x, strict=True)) / sum(weight)
        got = predictions["compromise"].table[predict.value_column(issue)].iloc[0]
        assert abs(Fraction(got) - mean) < Fraction(1, 10**9), issue
        assert [predictions["median"].table[predict.value_column(issue)].iloc[0]] == exact_weighted_median(
            list(zip(x, weight, strict=True))
        ), issue
    row = lambda f: predictions[f].table.iloc[0]
    assert [row("median")[predict.value_column(i)] for i in baseline.issue_ids()] == [70, 75, 70, 30, 70]
    expect = rules.weighted_compromise(data.positions, data.capability, data.relative_salience)[0]
    assert [row("compromise")[predict.value_column(i)] for i in baseline.issue_ids()] == list(expect)


def test_baseline_predictions_lie_within_the_actors_positions(baseline, predictions):
    data = predict.inputs(baseline)
    low, high = data.positions.min(axis=1)[0], data.positions.max(axis=1)[0]
    for family, prediction in predictions.items():
        values = prediction.table[[predict.value_column(i) for i in baseline.issue_ids()]].iloc[0].to_numpy()
        known = ~np.isnan(values)
        assert known.sum() == (4 if family == "nash" else 5), family
        assert ((low <= values) & (values <= high))[known].all(), (family, values)


def test_baseline_eum_starts_from_the_median_and_the_compromise_and_is_pinned(baseline, predictions):
    eum, issues = predictions["eum"], baseline.issue_ids()
    rounds = eum.rounds
    assert len(rounds) == 5 * 11 and rounds["round"].max() == families.EUM_ROUNDS
    start = rounds[rounds["round"] == 0].set_index("issue")
    for issue in issues:
        assert start.loc[issue, "median"] == predictions["median"].table[predict.value_column(issue)].iloc[0]
        assert start.loc[issue, "mean"] == pytest.approx(
            predictions["compromise"].table[predict.value_column(issue)].iloc[0], abs=1e-12
        )
        last = rounds[(rounds["issue"] == issue) & (rounds["round"] == 10)]
        assert eum.table[predict.value_column(issue)].iloc[0] == last["median"].iloc[0]
        assert eum.table[f"eum_mean.{issue}.value"].iloc[0] == last["mean"].iloc[0]
    # a regression pin of this implementation on the baseline (the README's table)
    got = [eum.table[predict.value_column(i)].iloc[0] for i in issues]
    assert got == pytest.approx([70, 75, 55, 36.653624, 60], abs=1e-6)
    force = rounds[rounds["issue"] == "force"].set_index("round")
    assert (force.loc[1, "move.israel"], force.loc[1, "move.hamas"]) == ("confrontation:qatar", "confrontation:israel")
    assert (force.loc[2, "position.israel"], force.loc[2, "position.hamas"]) == (45, 45)
    assert force.loc[1, "risk.israel"] == pytest.approx(0.512626, abs=1e-6) and np.isnan(force.loc[0, "risk.israel"])
    # on the baseline the medians settle by round 5 and stay to round 30, and flipping every scale flips them
    data, per_issue = predict.inputs(baseline), lambda m: np.moveaxis(m[0], -1, 0)
    longer = families.eum(per_issue(data.positions), data.capability[0], per_issue(data.relative_salience), rounds=30)
    assert (longer.median[:, 5:] == longer.median[:, 5:6]).all() and list(longer.median[:, 10]) == got
    flipped = families.eum(100 - per_issue(data.positions), data.capability[0], per_issue(data.relative_salience))
    np.testing.assert_allclose(100 - flipped.prediction, got, rtol=0, atol=1e-9)


def test_baseline_nash_is_the_nash_package_inside_both_principals_red_lines(baseline, predictions):
    nash, data = predictions["nash"], predict.inputs(baseline)
    issues = baseline.issue_ids()
    package = nash.table[[predict.value_column(i) for i in issues]].iloc[0].to_numpy()
    # at the medians, Israel's disarmament line (50-80: 65) lies above Hamas's (60): no weapons package
    assert (data.low[0, 1], data.high[0, 1]) == (65.0, 60.0) and np.isnan(package[1])
    meet = ~np.isnan(package)
    assert ((data.low[0] <= package) & (package <= data.high[0]))[meet].all()
    assert list(package[meet]) == pytest.approx([72.5, 75, 5, 30], abs=1e-9)
    weights = rules.restricted(data.principal_salience[0], meet[None, :])
    filled = np.where(meet, package, 0.0)
    utility = rules.utility(filled[None, :], np.where(meet, data.ideal[0], 0.0), weights)
    assert list(utility) == pytest.approx(list(nash.table[["utility.israel", "utility.hamas"]].iloc[0]), abs=1e-12)
    reservation = data.reservation[0]
    assert (reservation == [0.65, 0.6]).all() and (utility > reservation).all() and nash.table["feasible"].iloc[0]
    # no package inside the red lines has a larger Nash product
    rng = np.random.default_rng(1)
    others = rng.uniform(np.where(meet, data.low[0], 0), np.where(meet, data.high[0], 0), size=(20_000, 5))
    u = rules.utility(others[:, None, :], np.where(meet, data.ideal[0], 0.0)[None], weights[None])
    gains = np.prod(np.maximum(u - reservation, 0), axis=-1)
    assert gains.max() <= np.prod(utility - reservation) + 1e-12


def test_nash_without_a_zone_of_agreement_says_so():
    ideal = np.array([[[90.0, 90.0], [10.0, 10.0]]])
    salience = np.full((1, 2, 2), 0.5)
    box = np.zeros((1, 2)), np.full((1, 2), 100.0)
    _, utility, feasible = families.nash(ideal, salience, np.array([[0.9, 0.9]]), *box)
    assert not feasible[0] and utility[0, 0] == pytest.approx(utility[0, 1])  # the larger smaller gain
    _, _, none = families.nash(ideal, salience, np.array([[0.1, 0.1]]), np.array([[60.0, 60]]), np.array([[40.0, 40]]))
    assert not none[0]


def test_draws_are_the_agent_based_runs_own_draws(baseline):
    df = run_batch(baseline, runs=40, seed=7)
    data = predict.inputs(baseline, seed=7, runs=40)
    assert data.seed == 7 and data.draws == 40
    np.testing.assert_array_equal(data.reservation[:, 0], df["param.actors.israel.reservation"])
    np.testing.assert_array_equal(data.low[:, 1], df["param.red_lines.disarmament.min"])
    nash = predict.predict(baseline, "nash", seed=7, runs=40).table
    weapons = nash[predict.value_column("weapons")].to_numpy()
    assert np.array_equal(np.isnan(weapons), df["param.red_lines.disarmament.min"].to_numpy() > 60)
    assert (weapons[~np.isnan(weapons)] <= 60).all()
    assert predict.inputs(baseline, runs=3).seed == baseline.meta.seed


# ------------------------------------------------------------------ results folders and the command line
def test_run_with_a_model_writes_a_point_prediction_folder(tmp_path, baseline, predictions):
    out = tmp_path / "eum"
    result = runner.invoke(app, ["run", str(BASELINE), "--model", "eum", "--out", str(out)])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["model"], meta["runs"], meta["seed"], meta["parameters"], meta["status"]) == (
        "eum",
        1,
        None,
        "medians",
        "complete",
    )
    table = load_results(out)
    pd.testing.assert_frame_equal(table, predictions["eum"].table)
    pd.testing.assert_frame_equal(load_trajectories(out), predictions["eum"].rounds)
    summary = json.loads((out / "summary.json").read_text())
    assert [i["value"] for i in summary["issues"]] == pytest.approx([70, 75, 55, 36.653624, 60], abs=1e-6)
    assert summary["rounds"]["force"]["median"][:2] == [70, 55]
    assert result.stdout.startswith((out / "summary.txt").read_text())
    assert "International stabilization force        55.0" in result.stdout
    again = runner.invoke(app, ["run", str(BASELINE), "--model", "median", "--out", str(out)])
    assert again.exit_code == 2 and again.stderr.count("\n") == 1 and "--overwrite" in again.stderr
    resumed = runner.invoke(app, ["run", str(BASELINE), "--out", str(out), "--resume"])
    assert (
        resumed.exit_code == 2 and resumed.stderr.count("\n") == 1 and "point prediction (model eum)" in resumed.stderr
    )
    report = runner.invoke(app, ["report", str(out)])
    assert report.exit_code == 2 and report.stderr.count("\n") == 1 and "negsim compare" in report.stderr
    for args, why in (  # nor does any command that needs an agent-based batch take it
        (["score", str(out), "--observed", str(ROOT / "observed" / "gaza_2025_01.yaml")],
         ", which gives no probabilities to score"),
        (["compare", "--by-parameter", str(out), str(BASELINE), "--out", str(tmp_path / "m")],
         ", not an agent-based forecast"),
        (["discover", str(out), "--out", str(tmp_path / "d")], "; discovery needs a batch"),
    ):  # fmt: skip
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2 and refused.stderr == f"{out}: holds a point prediction (model eum){why}\n"
    assert not (tmp_path / "m").exists() and not (tmp_path / "d").exists()
    (out / "summary.json").unlink()
    again = runner.invoke(app, ["summary", str(out)])
    assert again.exit_code == 0 and json.loads((out / "summary.json").read_text()) == summary


def test_drawn_point_predictions_summarise_the_spread(tmp_path):
    out = tmp_path / "nash"
    result = runner.invoke(
        app, ["run", str(BASELINE), "--model", "nash", "--runs", "300", "--seed", "11", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table, summary = load_results(out), json.loads((out / "summary.json").read_text())
    assert len(table) == 300 and summary["parameters"] == "drawn" and summary["seed"] == 11
    weapons = next(i for i in summary["issues"] if i["issue"] == "weapons")
    values = table[predict.value_column("weapons")]
    assert weapons["undetermined"] == values.isna().mean() and 0.5 < weapons["undetermined"] < 0.8
    assert weapons["value"] == values.median() and weapons["q05"] == pytest.approx(values.quantile(0.05))
    assert summary["feasible"] == table["feasible"].mean()
    assert f"{weapons['undetermined']:.1%} of draws" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "eum2"], "--model 'eum2': unknown model family (did you mean 'eum'?)"),
        (["--model", "abm ", "--workers", "2"], "--model 'abm ': unknown model family"),
        (["--model", "median", "--workers", "2", "--resume"], "--workers, --resume: only for --model abm"),
    ],
)
def test_bad_model_choices_are_one_line_errors(tmp_path, args, message):
    out = tmp_path / "x"
    result = runner.invoke(app, ["run", str(BASELINE), *args, "--out", str(out)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output and not out.exists()


ONE_PRINCIPAL = """\
meta: {name: one principal, start_date: 2025-12-15, seed: 1, horizon: 4, runs: 10}
issues:
  - {id: land, label: Land, low: none, high: all}
actors:
  - {id: north, role: principal, position: {land: 80}, salience: {land: 1}, capability: 0.8}
  - {id: broker, role: mediator, position: {land: 40}, salience: {land: 1}, capability: 0.4}
"""


def test_nash_needs_two_principals_and_says_where(tmp_path):
    path = tmp_path / "one_principal.yaml"
    path.write_text(ONE_PRINCIPAL)
    out = tmp_path / "x"
    result = runner.invoke(app, ["run", str(path), "--model", "nash", "--out", str(out)])
    assert result.exit_code == 2 and result.stderr == (
        f"{path}:5: actors: the nash family needs exactly two principals (found 1: north)\n"
    )
    assert not out.exists()
    fine = runner.invoke(app, ["run", str(path), "--model", "compromise", "--out", str(out)])
    assert fine.exit_code == 0
    assert load_results(out)[predict.value_column("land")].iloc[0] == pytest.approx(200 / 3, abs=1e-12)


@pytest.mark.slow
def test_compare_puts_the_families_beside_the_agent_based_model(tmp_path, baseline, predictions):
    abm = tmp_path / "abm"
    run_batch(baseline, abm, runs=1500, workers=1)
    items = [abm]
    for family in families.MODEL_FAMILIES:
        items.append(tmp_path / family)
        write_folder(predictions[family], tmp_path / family)
    table = compare(items)
    assert table["model"].tolist() == ["abm", *families.MODEL_FAMILIES]
    df = load_results(abm)
    for issue in baseline.issue_ids():
        agreed = df[f"agreed.{issue}.round"] >= 0
        assert table[f"value.{issue}"].iloc[0] == df.loc[agreed, f"agreed.{issue}.value"].median()
        assert table[f"p_agreed.{issue}"].iloc[0] == agreed.mean()
        for k, family in enumerate(families.MODEL_FAMILIES, start=1):
            want = predictions[family].table[predict.value_column(issue)].iloc[0]
            assert table[f"value.{issue}"].iloc[k] == want or (
                np.isnan(want) and np.isnan(table[f"value.{issue}"].iloc[k])
            )
    assert table["p_declared"].iloc[0] == (df["outcome"] == "declared").mean()
    assert table["p_declared"].iloc[1:].isna().all() and table["declared_diff"].isna().all()
    assert table.attrs["runs"] == 1500 and table.attrs["warning"] == ""
    printed = comparison_text(table)
    assert "change from" not in printed and "declared" in printed
    governance = f"{table['value.governance'].iloc[0]:.1f} ({table['p_agreed.governance'].iloc[0]:.1%})"
    assert governance in printed and "36.7" in printed
    assert printed.splitlines()[-1].split() == ["nash", "nash", "72.5", "-", "(0.0%)", "75.0", "5.0", "30.0"]
    assert table["p_agreed.weapons"].iloc[4] == 0 and table["p_agreed.force"].iloc[1:].tolist() == [1.0] * 4
    result = runner.invoke(app, ["compare", str(abm), str(tmp_path / "eum"), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert written["model"].tolist() == ["abm", "eum"]
    shares = [f"{written[f'p_{o}'].iloc[0]:.0%}" for o in OUTCOME_ORDER]  # the agent-based item's probabilities
    assert_figure(tmp_path / "cmp" / "figures", "compare", "Scenarios compared (changes against abm)", *shares)
    plain = compare([abm, abm])
    assert "model" not in plain and not any(c.startswith("value.") for c in plain.columns)
