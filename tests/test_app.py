"""The app's logic without a browser: a replayed run, what-if batches, variant files, places, results folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.summary import probabilities
from sim.app import browse, replay, views, whatif
from sim.app.places import AppError, Places, inside, message
from sim.batch.errors import ResultsError
from sim.batch.runner import load_trajectories, run_batch
from sim.engine import columns, tables
from sim.scenario.loader import load, read

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def spec():
    return load(BASELINE)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, spec):
    folder = tmp_path_factory.mktemp("results") / "baseline"
    run_batch(spec, folder, runs=300, workers=1, trajectories=12)
    from sim.briefing.outputs import write_outputs

    write_outputs(folder)
    return folder


def test_a_run_stepped_round_by_round_is_its_row_and_its_trajectory_in_the_batch(spec, batch):
    run = 11
    model = replay.model_for(spec, run)
    frames = [replay.frame(model)]
    while model.running:
        model.step()
        frames.append(replay.frame(model, frames[-1]))
    row = tables.run_table(model).iloc[0]
    expected = browse.open_results(batch).runs.set_index("run").loc[run]
    for col, value in expected.items():
        assert row[col] == value or (value != value and row[col] != row[col]), col
    traj = load_trajectories(batch)
    mine = traj[(traj["run"] == run)]
    for f in frames[1:4]:
        at = mine[(mine["round"] == f.round)]
        for issue in f.issues:
            tabled = at.loc[at["issue"] == issue["id"], "package"].iloc[0]
            assert issue["tabled"] == pytest.approx(tabled, abs=1e-12)
        for p in f.principals:
            actor = next(a.id for a in spec.actors if a.name == p["name"])
            got = at.loc[at["actor"] == actor, "threshold"].iloc[0]
            assert p["threshold"] == pytest.approx(got, abs=1e-12)
    assert frames[-1].outcome == str(expected["outcome"])


def test_what_happened_is_told_in_the_rounds_it_happened(spec):
    model = replay.model_for(spec, 3)
    frames = [replay.frame(model)]
    while model.running:
        model.step()
        frames.append(replay.frame(model, frames[-1]))
    row = tables.run_table(model).iloc[0]
    told = {(f.round, what) for f in frames for what in f.happened}
    for e in spec.events:
        first = row[columns.column("event_round", e.id)]
        if first >= 0:
            assert any(t == first and what.endswith(e.label or e.id.replace("_", " ")) for t, what in told), e.id
    counted = sum(1 for _, what in told if what.startswith("event: "))
    assert counted <= int(sum(row[columns.column("event_count", e.id)] for e in spec.events))


def test_knobs_span_each_distribution_not_the_schema(spec):
    knobs = {k.path: k for k in whatif.knobs(spec)}
    k = knobs["actors.israel.reservation"]
    assert (k.low, k.high, k.default) == (0.55, 0.75, 0.65)
    hazard = knobs["events.remains_recovered.hazard"]
    assert (hazard.low, hazard.high) == (0.01, 0.06) and 0.01 < hazard.default < 0.06
    for knob in knobs.values():
        assert knob.low <= knob.default <= knob.high and knob.step > 0
    with pytest.raises(AppError, match=r"actors\.israel\.reservation: 0\.9 is outside its range 0\.55 to 0\.75"):
        k.check(0.9)
    with pytest.raises(AppError, match="not a number"):
        k.check(float("nan"))


def test_a_what_if_equals_the_batch_of_its_saved_variant(spec, tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    pins = {"leverage.us_on_israel.strength": 0.012, "actors.israel.concession.exponent": 0.6}
    shown = whatif.play(spec, pins, runs=800)
    data, _ = read(BASELINE)
    text = whatif.variant_text(whatif.variant_data(spec, data, "baseline.yaml", pins))
    path = whatif.save_variant(tmp_path / "v.yaml", text)
    variant = load(path)
    assert next(lev for lev in variant.leverage if lev.id == "us_on_israel").strength == 0.012
    played = probabilities(run_batch(variant, runs=800))
    assert played["declared"] == shown["probabilities"]["declared"]
    assert played["collapse"] == shown["probabilities"]["collapse"]
    base = whatif.play(spec, {}, runs=800)
    assert base["probabilities"] == probabilities(run_batch(spec, runs=800))
    assert shown["probabilities"]["declared"]["p"] > base["probabilities"]["declared"]["p"]
    with pytest.raises(FileExistsError):
        whatif.save_variant(path, "x: 1\n")
    assert load(path) == variant  # the refused write left the file as it was


def test_every_knob_at_either_end_saves_a_variant_that_validates(spec, tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    data, _ = read(BASELINE)
    for end in ("low", "high"):
        pins = {k.path: getattr(k, end) for k in whatif.knobs(spec)}
        text = whatif.variant_text(whatif.variant_data(spec, data, "baseline.yaml", pins))
        variant = load(whatif.save_variant(tmp_path / f"{end}.yaml", text))
        drawn = tables.run_table(replay.model_for(variant, 0).run())
        assert not columns.idents(drawn.columns, "param")  # every parameter fixed now, none drawn
    with pytest.raises(AppError, match="nothing to save"):
        whatif.variant_data(spec, data, "baseline.yaml", {})


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="./abc~", min_size=1, max_size=12))
def test_a_typed_path_never_leads_outside_its_folder(tmp_path_factory, typed):
    root = tmp_path_factory.getbasetemp() / "root"
    root.mkdir(exist_ok=True)
    try:
        path = inside(root, typed)
    except AppError as exc:
        assert "\n" not in str(exc)
        return
    assert path.is_relative_to(root.resolve())


def test_absolute_and_parent_paths_are_refused_with_one_line(tmp_path):
    places = Places(tmp_path / "scenarios" / "baseline.yaml", tmp_path / "results")
    for typed in ("../secret", "/etc/passwd", "a/../../x", "~/x"):
        with pytest.raises(AppError) as caught:
            places.results_folder(typed)
        assert "\n" not in str(caught.value) and typed in str(caught.value)
    (tmp_path / "results").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "results" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(AppError, match="outside"):
        places.results_folder("link")
    assert places.variant_file("what_if") == (tmp_path / "scenarios" / "what_if.yaml").resolve()
    with pytest.raises(AppError):
        places.variant_file("../what_if")


def test_a_damaged_results_folder_is_one_line(batch, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(batch, broken)
    chunk = next((broken / "runs").glob("*.parquet"))
    chunk.write_bytes(chunk.read_bytes()[:50])
    with pytest.raises(ResultsError) as caught:
        browse.open_results(broken)
    assert message(caught.value).startswith(str(chunk)) and "\n" not in message(caught.value)
    with pytest.raises(ResultsError):
        browse.open_results(tmp_path / "nothing_here")


def test_slicing_runs_by_a_sampled_parameter(batch):
    res = browse.open_results(batch)
    assert "param.actors.israel.reservation" in res.parameters()
    table = browse.sliced(res.runs, "param.actors.israel.reservation", bins=3)
    assert table["n"].sum() == len(res.runs) == 300
    declared = res.runs["outcome"] == "declared"
    assert table["k"].sum() == declared.sum()
    assert np.all(np.diff(table["from"]) > 0)
    assert {f.stem for f in res.figures} >= {"outcomes", "declaration_curve"}


def test_the_comparison_shows_both_numbers_with_their_intervals(spec):
    base = whatif.headline(whatif.play(spec, {}, runs=400))
    html = views.comparison_html(base, base)
    p = base["declared"]
    assert f'data-testid="p-declared-whatif">{p["p"]:.3f} [{p["low"]:.3f}, {p["high"]:.3f}]' in html
    assert "P(agreed: Factional weapons)" in html and "P(implemented: " in html
    svg = views.curves_svg(whatif.play(spec, {}, runs=400), whatif.play(spec, {"actors.israel.reservation": 0.55}, 400))
    assert svg.count("<polyline") == 4 and svg.count("<polygon") == 2  # two curves each, the what-if's bands
    shares = whatif.play(spec, {}, runs=400)["blocker_shares"]
    bars = views.blockers_svg({"blocker_shares": shares}, {"blocker_shares": shares}, {"israel": "Israel"})
    assert bars.count("<rect") == 2 * len(shares) and ">Israel</text>" in bars
    assert f">{shares['israel']:.1%}</text>" in bars


def test_negsim_app_on_a_missing_target_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    negsim = Path(sys.executable).with_name("negsim")
    done = subprocess.run([str(negsim), "app", str(tmp_path / "nope.yaml")], capture_output=True, text=True)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip() == f"{tmp_path / 'nope.yaml'}: no such scenario file or results folder"


def test_a_choice_is_a_selector_of_its_values_and_a_wide_normal_spans_three_sd():
    from helpers import actor, scenario

    clipped = {"dist": "normal", "mean": 0.5, "sd": 0.05, "low": 0, "high": 1}
    spec = scenario(
        actors=[
            actor("p", {"a": 0}, {"a": 1}, reservation={"dist": "choice", "values": [0.2, 0.5, 0.7]}),
            actor("q", {"a": 100}, {"a": 1}, reservation=clipped),
        ]
    )
    choice, normal = whatif.knobs(spec)
    assert choice.choices == (0.2, 0.5, 0.7) and choice.default in choice.choices
    assert choice.check(0.7) == 0.7
    with pytest.raises(AppError, match=r"not one of 0\.2, 0\.5, 0\.7"):
        choice.check(0.6)
    assert (normal.low, normal.high) == pytest.approx((0.35, 0.65))
    assert whatif.play(spec, {"actors.p.reservation": 0.7}, runs=50)["runs"] == 50


def test_a_chosen_assumption_replays_as_its_saved_variant_and_a_bad_one_is_its_line(spec, tmp_path):
    from sim.scenario.edit import source
    from sim.scenario.errors import ScenarioError

    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    src = source(tmp_path / "baseline.yaml")
    paths = {a.path: a for a in whatif.assumptions(spec)}
    assert paths["protocol.rule"].current == "bridging" and "nash" in paths["protocol.rule"].options
    assert paths["actors.hamas.concession.strategy"].current == "responsive"
    choices = {"actors.israel.concession.strategy": "linear", "actors.united_states.bridging": "maximin"}
    changed = whatif.assumed(src, choices)
    pins = {"actors.israel.reservation": 0.6}
    shown = whatif.play(changed, pins, runs=600)
    text = whatif.variant_text(whatif.variant_data(spec, src.data, "baseline.yaml", pins, choices))
    variant = load(whatif.save_variant(tmp_path / "linear.yaml", text))
    assert variant.actors[variant.actor_index("israel")].concession.strategy == "linear"
    assert probabilities(run_batch(variant, runs=600)) == shown["probabilities"]
    with pytest.raises(ScenarioError) as caught:
        whatif.assumed(src, {"actors.israel.concession.strategy": "conceder"})
    assert message(caught.value) == (
        f"{tmp_path / 'baseline.yaml'}:54: actors.israel.concession: a conceder exponent must be > 1"
    )
