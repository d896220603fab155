"""The app's logic without a browser: a replayed run, what-if batches, variant files, places, results folders,
and each view of the page rendered in-process (Solara's test renderer), its inputs driven as a user would."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis.summary import probabilities, summarize
from sim.app import browse, charts, replay, variants, views, whatif
from sim.app.notice import TextBox
from sim.app.places import AppError, Places, inside, message, places_for, started_on
from sim.batch.errors import ResultsError
from sim.batch.runner import load_trajectories, run_batch, simulate
from sim.engine import columns, tables
from sim.scenario.edit import edited, source
from sim.scenario.errors import ScenarioError
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


# ------------------------------------------------------------------ one run
def played(spec, run: int) -> list[replay.Frame]:
    model = replay.model_for(spec, run)
    frames = [replay.frame(model)]
    while model.running:
        model.step()
        frames.append(replay.frame(model, frames[-1]))
    return frames


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
    assert frames[-1].outcome.startswith(str(expected["outcome"]))


def test_what_happened_is_told_in_the_rounds_it_happened(spec):
    frames = played(spec, 3)
    model = replay.model_for(spec, 3).run()
    row = tables.run_table(model).iloc[0]
    told = {(f.round, what) for f in frames for what in f.happened}
    for e in spec.events:
        first = row[columns.column("event_round", e.id)]
        if first >= 0:
            assert any(t == first and what.endswith(e.label or e.id.replace("_", " ")) for t, what in told), e.id
    counted = sum(1 for _, what in told if what.startswith("event: "))
    assert counted <= int(sum(row[columns.column("event_count", e.id)] for e in spec.events))


def test_a_frame_says_what_was_put_to_the_principals_and_when_talks_are_not_open(spec):
    frames = played(spec, 72)  # talks open in round 3; phase two is declared by consent in round 19
    before = frames[2]
    assert before.outcome == "talks have not opened yet" and not before.talks_open and before.on_table == []
    assert {p["answer"] for p in before.principals} == {"-"}
    assert {p["reason"] for p in before.principals} == {"talks have not opened"}
    opened = next(f for f in frames if f.talks_open and f.round > 0)
    assert opened.outcome.startswith("in talks")
    assert opened.on_table == [
        "the gate package (Phase two declared): Governance of Gaza, International stabilization force"
    ]
    refused = [p for p in opened.principals if p["answer"] == "no"]
    assert refused and all(
        p["reason"].endswith("(Governance of Gaza, International stabilization force)") for p in refused
    )
    declared = next(f for f in frames if f.outcome.startswith("declared"))
    assert declared.outcome == "declared in round 19; talks go on over the issues left open"
    after = frames[declared.round + 1]
    assert after.on_table == [
        "the issues left open in declared phases: Factional weapons, Israeli withdrawal, Truce length and guarantees"
    ]
    for p in after.principals:  # what they refuse now is the issues left open, not the declared package
        assert p["answer"] != "no" or "Governance" not in p["reason"]
    assert frames[-1].outcome == "declared in round 19"
    html = views.frame_html(after)
    assert (
        "0: Hamas keeps governing" in html and "100: external administration with no Palestinian faction role" in html
    )
    assert "the issues left open in declared phases" in html


def test_the_charts_of_a_run_hold_whole_rounds_and_fixed_axes(spec):
    frames = played(spec, 3)
    drawn = charts.run_charts(frames, spec.meta.horizon, frames[-1].round)
    ids = [c.split('data-testid="')[1].split('"')[0] for c in drawn]
    assert ids == [
        "positions-governance",
        "positions-weapons",
        "positions-force",
        "positions-withdrawal",
        "positions-truce",
        "values",
        "pressure",
        "budgets",
    ]
    import re

    for chart in drawn:
        ticks = re.findall(r'text-anchor="middle">(-?[\d.]+)</text>', chart)
        assert ticks and all(t.isdigit() for t in ticks), ticks  # round ticks: whole numbers only
        assert ticks[0] == "0" and int(ticks[-1]) <= spec.meta.horizon
    first = charts.run_charts(frames[:1], spec.meta.horizon, 0)
    assert "fills in as rounds are played" in first[5]  # round 0: nothing to plot for the values, yet axes 0-1
    assert ">0</text>" in first[5] and ">1</text>" in first[5]
    agent = views.agent_html(frames[:5], "Israel")
    assert agent.count("<tr>") == 1 + 5 and "threshold" in agent


# ------------------------------------------------------------------ what-if
def test_knobs_span_each_distribution_not_the_schema(spec):
    knobs = {k.path: k for k in whatif.knobs(spec)}
    k = knobs["actors.israel.reservation"]
    assert (k.low, k.high, k.default) == (0.55, 0.75, 0.65)
    hazard = knobs["events.remains_recovered.hazard"]
    assert (hazard.low, hazard.high) == (0.01, 0.06) and 0.01 < hazard.default < 0.06
    for knob in knobs.values():
        assert knob.low <= knob.default <= knob.high and knob.step > 0
    with pytest.raises(AppError, match=r"\(actors\.israel\.reservation\): 0\.9 is outside its range 0\.55 to 0\.75"):
        k.check(0.9)
    for bad in (float("nan"), float("inf"), None, "0.6.1", "", "nan", True):
        with pytest.raises(AppError, match="not a number"):
            k.check(bad)
    assert k.check(" 0.6 ") == 0.6  # text typed into the page


def test_a_what_if_equals_the_batch_of_its_saved_variant(spec, tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    pins = {"leverage.us_on_israel.strength": 0.012, "actors.israel.concession.exponent": 0.6}
    shown = whatif.play(spec, pins, runs=800)
    data, _ = read(BASELINE)
    text = variants.variant_text(variants.variant_data(spec, data, "baseline.yaml", pins))
    path = variants.save(tmp_path / "v.yaml", text)
    variant = load(path)
    assert next(lev for lev in variant.leverage if lev.id == "us_on_israel").strength == 0.012
    played_ = probabilities(run_batch(variant, runs=800))
    assert played_["declared"] == shown["probabilities"]["declared"]
    assert played_["collapse"] == shown["probabilities"]["collapse"]
    base = whatif.play(spec, {}, runs=800)
    assert base["probabilities"] == probabilities(run_batch(spec, runs=800))
    assert shown["probabilities"]["declared"]["p"] > base["probabilities"]["declared"]["p"]
    with pytest.raises(FileExistsError):
        variants.save(path, text.replace("0.012", "0.02"))
    assert load(path) == variant  # the refused write left the file as it was


def test_a_what_if_is_played_in_blocks_with_an_early_estimate_and_stops_once_superseded(spec, monkeypatch):
    pins = {"actors.israel.reservation": 0.62}
    played_blocks = []
    real = whatif.simulate

    def counted(*args, first=0, **kwargs):
        model = real(*args, first=first, **kwargs)
        played_blocks.append((first, args[1], int(model.steps)))
        return model

    monkeypatch.setattr(whatif, "simulate", counted)
    early = []
    full = whatif.play(spec, pins, runs=2_500, seed=5, early=lambda s, done: early.append((s, done)))
    assert [b[:2] for b in played_blocks] == [(0, 1_000), (1_000, 1_500)]  # runs 0..2499, once each
    expected = run_batch(edited(source(BASELINE), {"actors.israel.reservation": 0.62}), runs=2_500, seed=5)
    assert full["probabilities"] == probabilities(expected)
    ((estimate, done),) = early
    assert (
        done == 1_000
        and estimate["probabilities"] == summarize(expected.iloc[:1_000], {"seed": 5}, spec)["probabilities"]
    )
    generation = [0]  # a newer request arrives while the first block plays
    played_blocks.clear()
    stopped = whatif.play(
        spec,
        {"actors.israel.reservation": 0.63},
        runs=20_000,
        seed=5,
        current=lambda: generation[0] == 0,
        early=lambda s, done: generation.__setitem__(0, 1),
    )
    assert stopped is None and played_blocks == [(0, 1_000, spec.meta.horizon), (1_000, 19_000, 0)]  # not played
    asked = []
    unfinished = simulate(spec, 500, 5, stop=lambda: asked.append(1) or len(asked) > 3)  # the batch layer's stop
    assert unfinished.steps == 3 and unfinished.running  # asked between rounds; three played, then it stopped
    assert tables.run_table(simulate(spec, 500, 5, stop=lambda: False)).equals(tables.run_table(simulate(spec, 500, 5)))


def test_the_latest_request_supersedes_the_one_in_flight_and_only_its_numbers_are_shown(spec):
    shown, finished = [], threading.Event()

    def show(numbers: whatif.Numbers):
        shown.append(numbers)
        if numbers.final and numbers.inputs.pins == (("actors.israel.reservation", 0.7),):
            finished.set()

    latest = whatif.Latest(show)
    first = whatif.Inputs(spec, (), (("actors.israel.reservation", 0.6),), 7_000, 9)
    second = whatif.Inputs(spec, (), (("actors.israel.reservation", 0.7),), 7_000, 9)
    latest.ask(first, spec)
    latest.ask(second, spec)  # typed a moment later: 0.6 never finishes, 0.7 is what the page shows
    assert finished.wait(300)
    assert all(n.inputs.key == second.key for n in shown), [n.inputs.key for n in shown]
    assert [n.done for n in shown] == [1_000, 7_000] and not shown[0].final and shown[-1].final
    expected = run_batch(edited(source(BASELINE), {"actors.israel.reservation": 0.7}), runs=7_000, seed=9)
    assert shown[-1].now["probabilities"] == probabilities(expected)
    assert shown[-1].base["probabilities"] == probabilities(run_batch(spec, runs=7_000, seed=9))


def test_a_what_if_that_fails_is_its_line_not_a_dead_thread(spec, monkeypatch):
    got = threading.Event()
    shown = []
    monkeypatch.setattr(whatif, "simulate", lambda *a, **k: (_ for _ in ()).throw(OverflowError("too large")))
    whatif._played.clear()
    latest = whatif.Latest(lambda n: (shown.append(n), got.set()))
    latest.ask(whatif.Inputs(spec, (), (), 1_000, 3), spec)
    assert got.wait(60)
    assert shown[0].problem == "the what-if failed: too large"
    monkeypatch.undo()
    got.clear()
    latest.ask(whatif.Inputs(spec, (), (), 1_000, 4), spec)  # the tab's thread is there again for the next request
    assert got.wait(120) and shown[-1].final


def test_every_knob_at_either_end_saves_a_variant_that_validates(spec, tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    data, _ = read(BASELINE)
    for end in ("low", "high"):
        pins = {k.path: getattr(k, end) for k in whatif.knobs(spec)}
        text = variants.variant_text(variants.variant_data(spec, data, "baseline.yaml", pins))
        variant = load(variants.save(tmp_path / f"{end}.yaml", text))
        drawn = tables.run_table(replay.model_for(variant, 0).run())
        assert not columns.idents(drawn.columns, "param")  # every parameter fixed now, none drawn
    with pytest.raises(AppError, match="nothing to save"):
        variants.variant_data(spec, data, "baseline.yaml", {})


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


def test_an_assumption_the_scenario_cannot_take_is_not_offered_and_says_why(spec, tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    src = source(tmp_path / "baseline.yaml")
    paths = {a.path: a for a in whatif.assumptions(spec, src)}
    israel = paths["actors.israel.concession.strategy"]
    assert israel.current == "boulware" and "conceder" not in israel.possible and "linear" in israel.possible
    assert israel.ruled_out["conceder"] == "actors.israel.concession: a conceder exponent must be > 1"
    assert paths["protocol.rule"].current == "bridging" and "nash" in paths["protocol.rule"].possible
    choices = {"actors.israel.concession.strategy": "linear", "actors.united_states.bridging": "maximin"}
    changed = whatif.assumed(src, choices)
    pins = {"actors.israel.reservation": 0.6}
    shown = whatif.play(changed, pins, runs=600)
    text = variants.variant_text(variants.variant_data(spec, src.data, "baseline.yaml", pins, choices))
    variant = load(variants.save(tmp_path / "linear.yaml", text))
    assert variant.actors[variant.actor_index("israel")].concession.strategy == "linear"
    assert probabilities(run_batch(variant, runs=600)) == shown["probabilities"]
    with pytest.raises(ScenarioError) as caught:
        whatif.assumed(src, {"actors.israel.concession.strategy": "conceder"})
    lines = BASELINE.read_text().splitlines()
    at = lines.index("      strategy: boulware", lines.index("  - id: israel")) + 1  # the strategy the change set
    assert message(caught.value) == (
        f"{tmp_path / 'baseline.yaml'}:{at}: actors.israel.concession: a conceder exponent must be > 1"
    )


def test_the_comparison_shows_both_numbers_with_their_intervals(spec):
    base = whatif.headline(whatif.play(spec, {}, runs=400))
    html = views.comparison_html(base, base)
    p = base["declared"]
    assert f'data-testid="p-declared-whatif">{p["p"]:.3f} [{p["low"]:.3f}, {p["high"]:.3f}]' in html
    assert "P(agreed: Factional weapons)" in html and "P(implemented: " in html
    assert "scenario [95% interval]" in html and "what-if [95% interval]" in html
    waiting = views.comparison_html(base, None)
    assert 'data-testid="p-declared-whatif"><span class="wait">computing…</span>' in waiting
    lower = whatif.play(spec, {"actors.israel.reservation": 0.55}, 400)
    svg = charts.curves_svg(whatif.play(spec, {}, runs=400), lower)
    assert svg.count("<polyline") == 4 and svg.count("<polygon") == 2  # two curves each, the what-if's bands
    summary = whatif.play(spec, {}, runs=400)
    bars = charts.blockers_svg(summary, summary, {"israel": "Israel"})
    shares = summary["blocker_shares"]
    assert bars.count("<rect") == 2 * len(shares) and ">Israel</text>" in bars
    assert bars.count("<line") == 2 * len(shares)  # each bar's 95% interval
    assert f">{shares['israel']:.1%}</text>" in bars and "95% interval" in bars


# ------------------------------------------------------------------ places and saves
@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="./abc~\x00\n", min_size=1, max_size=12) | st.text(min_size=256, max_size=300))
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
    places = Places(tmp_path / "scenarios" / "baseline.yaml", tmp_path / "results", tmp_path / "scenarios")
    for typed in ("../secret", "/etc/passwd", "a/../../x", "~/x"):
        with pytest.raises(AppError) as caught:
            places.results_folder(typed)
        assert "\n" not in str(caught.value) and typed in str(caught.value)
    (tmp_path / "results").mkdir()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "results" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(AppError, match="outside"):
        places.results_folder("link")
    assert places.variant_file("what_if") == (tmp_path / "scenarios" / "what_if.yaml").resolve()
    (tmp_path / "scenarios" / "out.yaml").symlink_to(tmp_path / "outside" / "x.yaml")
    for typed, says in (
        ("../what_if", "outside"),
        ("out", "outside"),  # a link that leads out
        ("x" * 300, "too long"),
        ("a\x00b", "control characters"),
        ("what_if.yaml/x", "is not a folder"),
        ("nowhere/x", "is not a folder"),
    ):
        (tmp_path / "scenarios" / "what_if.yaml").write_text("x: 1\n")
        with pytest.raises(AppError, match=says):
            places.variant_file(typed)


def test_a_save_never_writes_into_a_results_folder(batch, tmp_path):
    results = batch.parent
    places = places_for(batch, variants=results)  # started on a results folder, variants beside it
    assert places.scenario == batch / "scenario.yaml" and places.variants == results.resolve()
    for typed in ("baseline/scenario", "baseline/runs/x", "baseline/meta.json"):
        with pytest.raises(AppError, match=r"inside the results folder .*a save never changes a batch's files"):
            places.variant_file(typed)
    assert places.variant_file("what_if") == results.resolve() / "what_if.yaml"
    with pytest.raises(AppError, match="inside a results folder"):
        started_on(batch, None, batch / "runs")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "scenario.yaml").write_text(BASELINE.read_text())
    with pytest.raises(AppError, match=r"a folder without meta\.json is not a results folder"):
        started_on(bare, None, None)


def test_a_save_never_replaces_the_scenario_it_extends_nor_what_that_one_extends(tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    (tmp_path / "tougher.yaml").write_text("extends: baseline.yaml\nmeta: {name: tougher}\n")
    for target in ("tougher.yaml", "baseline.yaml"):
        with pytest.raises(AppError, match="a save never replaces it"):
            variants.protected(tmp_path / target, tmp_path / "tougher.yaml")
    variants.protected(tmp_path / "other.yaml", tmp_path / "tougher.yaml")
    assert variants.extended(tmp_path / "tougher.yaml") == [(tmp_path / "baseline.yaml").resolve()]


def test_replacing_a_file_names_it_and_every_file_that_extends_it(tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    (tmp_path / "a.yaml").write_text(variants.MARK + "\nextends: baseline.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml  # builds on a\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text("extends: '../b.yaml'\n")
    (tmp_path / "d.yaml").write_text("extends: baseline.yaml\n")
    asked = variants.replacing(tmp_path / "a.yaml", tmp_path)
    assert [p.name for p in asked.dependents] == ["b.yaml", "c.yaml"]  # through b.yaml too
    question = asked.question()
    assert "a.yaml already exists (a what-if saved by negsim app)" in question
    assert "2 files extend it" in question and "b.yaml" in question and "c.yaml" in question
    assert "no file extends it" in variants.replacing(tmp_path / "d.yaml", tmp_path).question()
    assert "(a scenario file)" in variants.replacing(tmp_path / "baseline.yaml", tmp_path).question()


def test_a_save_is_atomic_and_validated_before_it_lands(spec, tmp_path, monkeypatch):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    data, _ = read(BASELINE)
    good = variants.variant_text(variants.variant_data(spec, data, "baseline.yaml", {"actors.israel.reservation": 0.6}))
    bad = good.replace("reservation: 0.6", "reservation: 7")
    with pytest.raises(AppError, match=r"v\.yaml: the variant does not validate: actors\.israel\.reservation"):
        variants.save(tmp_path / "v.yaml", bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.yaml"]  # nothing half-written, no temp file
    variants.save(tmp_path / "v.yaml", good)
    with pytest.raises(FileExistsError):
        variants.save(tmp_path / "v.yaml", good.replace("0.6", "0.7"))
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(AppError, match=r"v\.yaml: cannot save \(No space left on device\)"):
        variants.save(tmp_path / "v.yaml", good.replace("0.6", "0.7"), replace=True)
    monkeypatch.undo()
    assert load(tmp_path / "v.yaml").actors[0].reservation == 0.6  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.yaml", "v.yaml"]
    variants.save(tmp_path / "v.yaml", good.replace("0.6", "0.7"), replace=True)
    assert load(tmp_path / "v.yaml").actors[0].reservation == 0.7


# ------------------------------------------------------------------ results folders
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
    assert {stem for stem, _ in res.figures} >= {"outcomes", "declaration_curve"}
    assert all(png.startswith(b"\x89PNG") for _, png in res.figures)
    html = views.results_html(res.summary)
    p = res.summary["probabilities"]["declared"]
    assert f'data-testid="result-declared">{p["p"]:.3f} [{p["low"]:.3f}, {p["high"]:.3f}]' in html


def test_a_figure_that_is_a_symbolic_link_is_not_followed(batch, tmp_path):
    folder = tmp_path / "linked"
    shutil.copytree(batch, folder)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not yours")
    (folder / "figures" / "zz_secret.png").symlink_to(secret)
    res = browse.open_results(folder)
    assert "zz_secret" not in {stem for stem, _ in res.figures} and res.figures
    shutil.rmtree(folder / "figures")
    (folder / "figures").symlink_to(tmp_path)
    assert browse.open_results(folder).figures == []


def test_the_results_folders_under_a_folder_are_listed(batch, tmp_path):
    root = batch.parent
    (root / "nested").mkdir(exist_ok=True)
    shutil.copytree(batch, root / "nested" / "again", dirs_exist_ok=True)
    assert browse.results_folders(root) == ["baseline", "nested/again"]
    assert browse.results_folders(tmp_path) == []


# ------------------------------------------------------------------ the page, rendered in-process
def walk(root, kind, where=lambda w: True) -> list:
    """The widgets of type ``kind`` under ``root`` for which ``where`` holds, in page order."""
    from ipywidgets import Widget

    out, seen, queue = [], set(), [root]
    while queue:
        w = queue.pop(0)
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, kind) and where(w):
            out.append(w)
        for name in getattr(w, "keys", []):
            value = getattr(w, name, None)
            items = value if isinstance(value, list | tuple) else [value]
            queue += [x for x in items if isinstance(x, Widget)]
    return out


class Rendered(tuple):
    """A rendered view and what goes with it (its repr kept short for hypothesis's reports)."""

    def __repr__(self) -> str:
        return "<rendered view>"


def html(root, testid: str) -> str:
    import solara.widgets

    found = walk(root, solara.widgets.HTML, lambda w: (w.attributes or {}).get("data-testid") == testid)
    return found[0].unsafe_innerHTML if found else ""


def field(root, label: str, within: str | None = None):
    """The text box labelled ``label`` (within the element of class ``within``)."""
    import ipyvuetify as v

    from sim.app.notice import TextBox

    if within is not None:
        root = walk(root, v.VuetifyWidget, lambda w: within in (getattr(w, "class_", None) or "").split())[0]
    return walk(root, TextBox, lambda w: w.label == label)[0]


RENDERING = []  # the render contexts of the views rendered here


def rendered(element):
    """Render ``element`` as Solara's test renderer does; its top widget."""
    import solara

    box, rc = solara.render(element, handle_error=False)
    RENDERING.append(rc)
    return box


def settle() -> None:
    """Wait until no view is rendering: a change made while the what-if's thread renders is rendered by that
    thread, after the change's own call has returned."""
    import time

    for _ in range(2_000):
        busy = [rc for rc in RENDERING if rc._rerender_needed or rc.thread_lock.locked()]
        if not busy:
            return
        time.sleep(0.005)


def typed(box, text: str) -> None:
    """Type ``text`` into ``box`` and press Enter."""
    box.text = text
    box.vue_commit(text)
    settle()


def pressed(root, text: str) -> None:
    button(root, text).click()
    settle()


def button(root, text: str):
    import ipyvuetify as v

    return walk(root, v.Btn, lambda w: text in w.children)[0]


TYPED = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        ["18446744073709551616", "9223372036854775807", "-5", "0", "1e3", "0x10", " 7 ", "\x00", "", "nan"]
    ),
    st.text(max_size=30),
)


@pytest.fixture(scope="module")
def run_page(spec):
    import solara

    from sim.app.notice import Notice
    from sim.app.page_run import RunView

    notice = solara.reactive(Notice())
    box = rendered(RunView(spec, spec.meta.seed, 300, notice))
    return Rendered((box, notice))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=st.sampled_from(["run index", "seed"]), text=TYPED)
def test_any_run_index_or_seed_typed_is_taken_or_one_line_and_put_back(spec, run_page, label, text):
    from sim.app.places import whole

    box, notice = run_page
    before = {k: field(box, k).text for k in ("run index", "seed")}
    typed(field(box, label), text)
    line, after = notice.value.text, {k: field(box, k).text for k in ("run index", "seed")}
    assert "\n" not in line and "Traceback" not in line
    if line:  # refused: the boxes show what the page uses, and the page still shows its run
        assert after == before, line
    else:
        assert whole(after[label], label) == whole(text, label)
    run, seed = whole(after["run index"], "run"), whole(after["seed"], "seed")
    assert "round 0" in html(box, "frame")
    replays = html(box, "replays")
    if seed == spec.meta.seed:
        assert f"run {run} of the batch of 300 runs" in replays and "it replays its row" in replays
    else:
        assert f"seed {seed} is not the batch's" in replays  # after a fresh seed it no longer claims a row


def test_the_step_through_view_steps_back_and_jumps_to_any_kept_round(spec, run_page):
    box, _ = run_page
    typed(field(box, "run index"), "0")  # a run of the batch whatever seed the tests before left
    typed(field(box, "seed"), str(spec.meta.seed))
    typed(field(box, "run index"), "3")
    assert "run 3 of the batch" in html(box, "replays")
    for _ in range(6):
        pressed(box, "Step")
    assert "round 6" in html(box, "frame")
    pressed(box, "back a round")
    pressed(box, "back a round")
    shown = html(box, "frame")
    assert '<b data-testid="round">round 4</b>' in shown and "played up to round 6: showing a kept round" in shown
    assert html(box, "frame") == views.frame_html(played(spec, 3)[4], 6)  # the kept frame, not a replay
    pressed(box, "Step")  # a new round played: the view follows it again
    assert '<b data-testid="round">round 7</b>' in html(box, "frame")


@pytest.fixture(scope="module")
def whatif_page(tmp_path_factory, batch):
    """The what-if view on a copy of the baseline; variants go beside it; a results folder beside them."""
    import solara

    from sim.app.notice import Notice
    from sim.app.page_whatif import WhatIfView

    root = tmp_path_factory.mktemp("whatif")
    (root / "scenarios").mkdir()
    scenario = root / "scenarios" / "baseline.yaml"
    shutil.copy(BASELINE, scenario)
    (root / "scenarios" / "tougher.yaml").write_text("extends: baseline.yaml\nmeta: {name: tougher}\n")
    shutil.copytree(batch, root / "scenarios" / "results" / "baseline")
    places = places_for(scenario, root / "scenarios" / "results", root / "scenarios")
    notice = solara.reactive(Notice())
    box = rendered(WhatIfView(load(scenario), scenario, 7, notice, places))
    typed(field(box, "seed"), "7")
    return Rendered((box, notice, root))


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


ACTIONS = st.one_of(
    st.tuples(st.just("seed"), TYPED),
    st.tuples(
        st.just("knob"),
        st.sampled_from(["actors.israel.reservation", "events.remains_recovered.hazard"]),
        TYPED | st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ),
    st.tuples(
        st.just("save"),
        st.sampled_from(
            [
                "baseline",
                "tougher",
                "results/baseline/x",
                "../x",
                "/tmp/x",
                "a\x00b",
                "x" * 300,
                "ok_variant",
                "what_if.yaml/x",
                "results/y",
            ]
        ),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=ACTIONS)
def test_any_what_if_input_is_taken_or_one_line_and_put_back_and_a_save_never_destroys(whatif_page, action):
    box, notice, root = whatif_page
    kept = {k: v for k, v in files(root).items() if k != "scenarios/ok_variant.yaml"}
    knob_box = lambda path: field(box, "", within=f"knob-{path.replace('.', '-')}")
    before = (field(box, "seed").text, knob_box("actors.israel.reservation").text)
    if action[0] == "seed":
        typed(field(box, "seed"), action[1])
    elif action[0] == "knob":
        typed(knob_box(action[1]), action[2])
    else:
        name = walk(box, TextBox, lambda w: w.label.startswith("variant file"))[0]
        typed(name, action[1])
        pressed(box, "save variant")
        if html(box, "confirm"):
            assert "ok_variant.yaml already exists" in html(box, "confirm")
            pressed(box, "replace")
    line = notice.value.text
    assert "\n" not in line and "Traceback" not in line
    after = (field(box, "seed").text, knob_box("actors.israel.reservation").text)
    if line and not notice.value.saved and action[0] != "save":
        assert after == before, line  # what was refused is put back
    now = files(root)
    assert {k: now[k] for k in kept} == kept  # no file there before was changed or removed
    assert set(now) - set(kept) <= {"scenarios/ok_variant.yaml"}  # the one name a save may write
    if action[0] == "save" and action[1] != "ok_variant":
        assert not notice.value.saved


def test_what_the_what_if_shows_and_saves_are_the_inputs_on_screen(whatif_page):
    import time

    box, notice, root = whatif_page
    typed(field(box, "seed"), "7")
    reservation = field(box, "", within="knob-actors-israel-reservation")
    for value in ("0.6", "0.7"):  # the second typed while the first still plays
        typed(reservation, value)
    deadline = time.monotonic() + 300
    while "the numbers below are for the inputs on the left" not in html(box, "comparison"):
        assert time.monotonic() < deadline, html(box, "comparison")
        time.sleep(0.2)
    assert reservation.text == "0.7" or field(box, "", within="knob-actors-israel-reservation").text == "0.7"
    spec = edited(source(root / "scenarios" / "baseline.yaml"), {"actors.israel.reservation": 0.7})
    p = probabilities(run_batch(spec, runs=5_000, seed=7))["declared"]
    assert f'data-testid="p-declared-whatif">{p["p"]:.3f} [{p["low"]:.3f}, {p["high"]:.3f}]' in html(box, "comparison")
    name = walk(box, TextBox, lambda w: w.label.startswith("variant file"))[0]
    typed(name, "agreed_0_7")
    pressed(box, "save variant")
    assert notice.value.saved and "replays these numbers" in notice.value.text
    variant = load(root / "scenarios" / "agreed_0_7.yaml")
    assert variant.actors[variant.actor_index("israel")].reservation == 0.7
    assert probabilities(run_batch(variant, runs=5_000, seed=7))["declared"] == p


@pytest.fixture(scope="module")
def results_page(batch, tmp_path_factory):
    import solara

    from sim.app.notice import Notice
    from sim.app.page_results import ResultsView

    root = tmp_path_factory.mktemp("browse")
    shutil.copytree(batch, root / "baseline")
    shutil.copytree(batch, root / "other")
    places = places_for(root / "baseline", root, root)
    notice = solara.reactive(Notice())
    box = rendered(ResultsView(browse.open_results(root / "baseline"), notice, places))
    return Rendered((box, notice))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.tuples(st.just("bins"), TYPED)
    | st.tuples(
        st.just("open"),
        st.sampled_from(
            ["baseline", "other", "../", "/etc", "nothing", "a\x00b", "x" * 300, "baseline/runs", "baseline/../other"]
        )
        | st.text(max_size=20),
    )
)
def test_any_folder_or_bins_typed_into_the_results_view_is_taken_or_one_line_and_put_back(results_page, action):
    box, notice = results_page
    name = walk(box, TextBox, lambda w: w.label.startswith("or type one"))[0]
    before = (name.text, field(box, "bins").text, html(box, "headline"))
    if action[0] == "bins":
        typed(field(box, "bins"), action[1])
    else:
        typed(name, action[1])
        pressed(box, "open")
    line = notice.value.text
    assert "\n" not in line and "Traceback" not in line
    name = walk(box, TextBox, lambda w: w.label.startswith("or type one"))[0]
    after = (name.text, field(box, "bins").text, html(box, "headline"))
    if line:
        assert after == before, line  # the box names the folder whose numbers are shown
    assert "300 runs" in html(box, "headline")
    bins = int(field(box, "bins").text)
    assert 1 <= bins <= 20 and html(box, "sliced").count("<tr>") <= bins + 1
