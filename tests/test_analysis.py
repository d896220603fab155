"""Analysis for briefings: conditional probabilities, sweeps and tornadoes, Sobol and Morris indices,
scenario comparisons, their figures and their commands."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import matplotlib.colors
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import assert_figure, assert_image
from matplotlib.collections import LineCollection
from typer.testing import CliRunner

from sim.analysis import design, sensitivity, summary, tally
from sim.analysis.compare import PAIRED, UNPAIRED, compare, comparison_text, difference, signed
from sim.analysis.intervals import paired_difference
from sim.analysis.summary_text import summary_text
from sim.batch.runner import load_trajectories, run_batch, simulate
from sim.briefing import analysis_figures, plots, style
from sim.cli import app
from sim.engine.columns import DECLARED, reason_words
from sim.scenario.edit import set_field
from sim.scenario.errors import ScenarioError
from sim.scenario.labels import Names
from sim.scenario.loader import load, read, validate
from sim.scenario.parameters import uncertain

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
US_PRESSURE = ROOT / "scenarios" / "us_pressure.yaml"
DUMMY = "milestones.committee_governing.hazard"  # a milestone: it can only happen after a declaration
# A small negotiation where one assumption decides: north accepts the table's package (worth about 0.5 to
# it) by its deadline only if its reservation lies below that; a faint lever and a milestone hardly or
# never matter.
DECISIVE = {
    "meta": {"name": "one assumption decides", "start_date": "2025-12-15", "horizon": 12, "seed": 5, "runs": 1000},
    "issues": [{"id": "land", "label": "Land", "low": "none", "high": "all"}],
    "actors": [
        {
            "id": "north",
            "role": "principal",
            "position": {"land": 100},
            "salience": {"land": 1},
            "reservation": {"dist": "uniform", "low": 0.2, "high": 0.9},
            "concession": {"strategy": "linear", "deadline": 10},
        },
        {
            "id": "south",
            "role": "principal",
            "position": {"land": 0},
            "salience": {"land": 1},
            "reservation": 0.3,
            "concession": {"strategy": "linear", "deadline": 10},
        },
        {"id": "broker", "role": "broker", "position": {"land": 50}, "salience": {"land": 1}},
    ],
    "leverage": [
        {
            "id": "nudge",
            "from": "broker",
            "to": "north",
            "on": "always",
            "strength": {"dist": "uniform", "low": 0, "high": 0.002},
        }
    ],
    "milestones": [{"id": "step", "issues": ["land"], "hazard": {"dist": "uniform", "low": 0.1, "high": 0.6}}],
}
DECIDES, FAINT, STEP = "actors.north.reservation", "leverage.nudge.strength", "milestones.step.hazard"


@pytest.fixture(scope="module")
def with_dummy(tmp_path_factory) -> Path:
    """The baseline plus an uncertain parameter that cannot change P(declared)."""
    path = tmp_path_factory.mktemp("scenario") / "dummy.yaml"
    path.write_text(
        f"extends: {BASELINE}\nmeta: {{name: baseline with a dummy parameter}}\n"
        "milestones:\n  - id: committee_governing\n    hazard: {dist: uniform, low: 0.1, high: 0.6}\n"
    )
    return path


@pytest.fixture(scope="module")
def decisive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "decisive.yaml"
    path.write_text(yaml.safe_dump(DECISIVE))
    return path


# ------------------------------------------------------------------ summary additions
def frame(outcomes, **cols) -> pd.DataFrame:
    return pd.DataFrame({"outcome": outcomes, **cols})


def test_conditional_counts_only_runs_meeting_the_condition():
    df = frame(["declared", "declared", "stalemate", "collapse", "declared"])
    got = summary.conditional(df, [True, True, True, False, False])
    assert (got["k"], got["n"]) == (2, 3)
    assert got["p"] == pytest.approx(2 / 3) and got["share"] == pytest.approx(0.6)
    assert got["low"] < 2 / 3 < got["high"]


def test_happened_by_ignores_events_after_the_run_ended():
    # run 0 ended at round 4; its event at round 6 came after (e.g. after the declaration)
    df = frame(["declared"] * 3, round=[4, 10, 10], **{"event.x.round": [6, 3, -1]})
    assert tally.happened_by(df, "event.x.round", 8).tolist() == [False, True, False]


def test_agreements_count_all_runs_and_take_values_from_the_runs_that_agreed():
    df = frame(
        ["declared"] * 5 + ["stalemate", "collapse"],
        **{
            "agreed.weapons.round": [3, 5, 5, 9, -1, -1, -1],
            "agreed.weapons.value": [10, 20, 30, 40, np.nan, np.nan, np.nan],
            "agreed.force.round": [-1] * 7,
            "agreed.force.value": [np.nan] * 7,
        },
    )
    weapons, force = summary.agreements(df, start=dt.date(2026, 1, 5), round_days=7)
    assert (weapons["issue"], weapons["k"], weapons["n"]) == ("weapons", 4, 7)
    assert weapons["p"] == pytest.approx(4 / 7) and weapons["low"] < 4 / 7 < weapons["high"]
    assert weapons["values"]["median"] == pytest.approx(25) and weapons["values"]["q05"] == pytest.approx(11.5)
    assert (weapons["rounds"]["q1"], weapons["rounds"]["median"], weapons["rounds"]["q3"]) == (3, 5, 5)
    assert weapons["rounds"]["median_date"] == "2026-02-09"  # five weeks after the start
    assert force["k"] == 0 and force["rounds"]["median"] is None and np.isnan(force["values"]["median"])


def test_summary_has_conditionals_that_follow_from_the_rules():
    scenario = load(BASELINE)
    df = run_batch(scenario, runs=2000)
    result = summary.summarize(df, scenario=scenario)
    rows = {r["condition"]: r for r in result["conditional"]}
    # conditions are worded with the scenario's labels
    remains, summit, recovered = (
        "precondition last hostage's remains recovered",
        "US-Israel summit at month's end",
        "last hostage's remains recovered",
    )
    # Israel never accepts while its precondition is open: a declaration then comes only by an announcement
    # it does not openly object to
    open_ = df["precondition.remains"] == "unmet"
    declared_open = open_ & (df["outcome"] == "declared")
    assert rows[f"{remains} never met nor waived"]["k"] == declared_open.sum() > 0
    assert set(df.loc[declared_open, "phase.phase_two.rule"]) == {"non_objection"}
    overall = result["probabilities"]["declared"]
    assert rows[f"{remains} waived"]["low"] > overall["high"]
    assert rows[f"{summit} not by round 13"]["high"] < overall["low"]
    by, not_by = rows[f"{recovered} by round 13"], rows[f"{recovered} not by round 13"]
    assert by["share"] + not_by["share"] == pytest.approx(1.0)
    declared = int((df["outcome"] == "declared").sum())
    assert [a["issue"] for a in result["agreements"]] == scenario.issue_ids()
    for a in result["agreements"]:  # each issue counted over all runs, from its own round column
        assert (a["k"], a["n"]) == (int((df[f"agreed.{a['issue']}.round"] >= 0).sum()), len(df))
    settled = {a["issue"]: a["k"] for a in result["agreements"]}
    pointed = int(((df["outcome"] == "declared") & (df["phase.phase_two.rule"] != "framework")).sum())
    assert pointed <= settled["governance"] == settled["force"] <= declared  # at the declaration (a framework: later)
    assert all(settled[i] < declared for i in ("weapons", "withdrawal", "truce"))  # deferred into it
    assert result["phases"] == [{"phase": "phase_two", "label": "Phase two declared", **overall}]
    c = result["collapse"]
    assert c["before"]["k"] == result["probabilities"]["collapse"]["k"]
    assert c["after"]["k"] == int(((df["outcome"] == "declared") & (df["collapse_round"] >= 0)).sum()) > 0
    assert c["any"]["k"] == c["before"]["k"] + c["after"]["k"] and c["after_given_declared"]["n"] == declared
    assert sum(result["blocker_shares"].values()) == pytest.approx(
        float(((df["outcome"] != "declared") & (df["blocker"] != "")).mean())
    )
    out = summary_text(result)
    assert f"{remains} waived" in out and "issue agreed by the horizon" in out
    json.dumps(result, default=float)


def test_sweep_checks_every_value_before_playing_any(monkeypatch):
    monkeypatch.setattr(sensitivity, "run_batch", lambda *a, **k: pytest.fail("played before validating"))
    with pytest.raises(ScenarioError, match=r"baseline.yaml:\d+: actors.israel.reservation: .*\[0, 1\]"):
        sensitivity.sweep(BASELINE, "actors.israel.reservation", [0.6, 1.4], runs=10)


# ------------------------------------------------------------------ one at a time
@pytest.mark.slow
def test_raising_israels_reservation_lowers_p_declared_beyond_noise():
    table = sensitivity.sweep(BASELINE, "actors.israel.reservation", [0.55, 0.65, 0.75, 0.85], runs=2000)
    p = table["p_declared"].to_numpy()
    assert np.all(np.diff(p) < 0)
    assert table["high"].iloc[-1] < table["low"].iloc[0]
    assert np.allclose(table[["p_declared", "p_collapse", "p_stalemate"]].sum(axis=1), 1)
    assert table.attrs["runs"] == 2000 and 0 < table.attrs["baseline"] < 1


def test_tornado_ranks_by_swing_and_a_milestone_cannot_swing():
    table = sensitivity.tornado(
        BASELINE,
        {
            "actors.israel.reservation": (0.55, 0.85),
            DUMMY: (0.05, 0.9),
            "leverage.us_on_israel_after_summit.strength": (0.005, 0.03),
        },
        runs=1000,
    )
    assert table["field"].tolist() == [
        "leverage.us_on_israel_after_summit.strength",
        "actors.israel.reservation",
        DUMMY,
    ]
    assert table["swing"].iloc[0] > 0.2 and table["swing"].iloc[1] < -table["margin"].iloc[1]
    assert table["swing"].iloc[2] == 0  # same runs, and nothing before a declaration depends on it


# ------------------------------------------------------------------ global
def test_design_points_play_as_scenarios_with_those_values_fixed(monkeypatch):
    scenario = load(BASELINE)
    dists = uncertain(scenario)
    unit = np.array([[0.2] * len(dists), [0.9] * len(dists), [0.5] * len(dists)])
    monkeypatch.setattr(design, "BLOCK_RUNS", 400)  # blocks of two points and of one
    got = sensitivity.reached_at(scenario, unit, 200, seed=7)
    for row, p in zip(unit, got, strict=True):
        data, _ = read(BASELINE)
        for (path, dist), u in zip(dists.items(), row, strict=True):
            set_field(data, path, float(dist.ppf(np.array([u]))[0]))
        fixed = simulate(validate(data), 200, seed=7)
        assert p == pytest.approx(np.mean(fixed.outcome == DECLARED))
    assert got[1] != got[0]


@pytest.mark.slow
def test_sobol_ranks_the_deciding_assumption_top_and_a_milestone_at_zero(decisive, with_dummy):
    indices = sensitivity.sobol(load(decisive), runs_per_point=20, N=32, seed=3)
    assert indices.index.tolist() == [DECIDES, FAINT, STEP]
    assert indices.loc[DECIDES, "total"] > 0.8 and indices.loc[DECIDES, "first"] > 0.6
    assert indices.loc[STEP, ["first", "total", "first_conf", "total_conf"]].tolist() == [0, 0, 0, 0]
    assert indices.attrs["outcome"] == "declared" and 0 < indices.attrs["p_mean"] < 1
    # on the baseline too, a milestone cannot move P(declared): exactly zero, whatever else the design finds
    baseline = sensitivity.sobol(load(with_dummy), runs_per_point=10, N=16, seed=3)
    assert baseline.loc[DUMMY, "total"] == 0 and baseline.loc[DUMMY, "first"] == 0
    assert baseline.loc[DUMMY, "rank"] > (baseline["total"] > 0).sum()
    assert (baseline[["first_conf", "total_conf"]] >= 0).all().all()
    again = sensitivity.sobol(load(with_dummy), runs_per_point=10, N=16, seed=3)
    pd.testing.assert_frame_equal(baseline, again)


def test_morris_ranks_the_deciding_assumption_top_and_the_milestone_last(decisive):
    indices = sensitivity.morris(load(decisive), runs_per_point=20, trajectories=10, seed=3)
    assert indices.index.tolist() == [DECIDES, FAINT, STEP]
    assert indices.loc[DECIDES, "mu_star"] > 0.3 and indices.loc[STEP, "mu_star"] == 0
    # the milestone's own outcome does depend on its hazard
    implemented = sensitivity.morris(
        load(decisive), runs_per_point=20, trajectories=10, seed=3, measure="implemented:step"
    )
    assert implemented.loc[STEP, "mu_star"] > 0 and implemented.attrs["outcome"] == "implemented:step"


def test_global_designs_refuse_what_they_cannot_do(tmp_path):
    with pytest.raises(sensitivity.DesignError, match="power of 2"):
        sensitivity.sobol(load(BASELINE), N=48)
    fixed = tmp_path / "fixed.yaml"
    data, _ = read(BASELINE)
    for path in uncertain(load(BASELINE)):
        set_field(data, path, 0.5 if "deadline" not in path else 30)
    fixed.write_text(yaml.safe_dump(data))
    with pytest.raises(sensitivity.DesignError, match="no uncertain parameters"):
        sensitivity.morris(load(fixed))


# ------------------------------------------------------------------ comparison
def test_difference_matches_newcombes_worked_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, hybrid score interval 0.0524 to 0.3339
    d = difference(48, 80, 56, 70)
    assert d["diff"] == pytest.approx(0.2)
    assert (d["low"], d["high"]) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    assert difference(50, 100, 60, 100)["p_value"] == pytest.approx(0.1552, abs=1e-4)


@pytest.mark.slow
def test_compare_finds_a_real_difference_and_not_a_fake_one(tmp_path):
    scenario = load(BASELINE)
    for name, seed in (("a", 1), ("b", 2)):
        run_batch(scenario, tmp_path / name, runs=1500, seed=seed, workers=1)
    same = compare([tmp_path / "a", tmp_path / "b"])
    assert same["declared_p_value"].iloc[1] > 0.05
    assert same["declared_diff_low"].iloc[1] < 0 < same["declared_diff_high"].iloc[1]
    assert same.attrs["warning"] == "items differ in seed (1, 2)"
    real = compare([BASELINE, US_PRESSURE], runs=1500)
    assert real["item"].tolist() == ["baseline", "us_pressure"]
    assert real["declared_p_value"].iloc[1] < 1e-6 and real["declared_diff_low"].iloc[1] > 0.1  # +0.19 at 10,000 runs
    assert np.isnan(real["declared_diff"].iloc[0])
    assert real.attrs["scenario"] == "us_pressure against baseline" and real.attrs["warning"] == ""


def test_compare_tells_a_file_from_a_folder_of_the_same_name_and_warns_of_other_run_counts(tmp_path):
    folder = tmp_path / "baseline"
    run_batch(load(BASELINE), folder, runs=300, workers=1)
    table = compare([BASELINE, folder, US_PRESSURE], runs=200)
    assert table["item"].tolist() == [f"baseline ({BASELINE})", f"baseline ({folder}/)", "us_pressure"]
    assert table["kind"].tolist() == ["scenario file", "results folder", "scenario file"]
    assert table.attrs["scenario"] == f"2 scenarios against baseline ({BASELINE})"
    assert table.attrs["warning"] == "items differ in run count (200, 300)"
    assert "note: items differ in run count (200, 300): results folders keep their own" in comparison_text(table)


def test_no_difference_is_printed_as_a_negative_zero():
    assert [signed(x, 3) for x in (-0.0004, -0.0, 0.0004, -0.0006)] == ["+0.000", "+0.000", "+0.000", "-0.001"]
    assert signed(-0.3, 0) == "+0"
    probs = {f"p_{o}{end}": 0.5 for o in ("declared", "collapse", "stalemate") for end in ("", "_low", "_high")}
    diffs = {f"{o}_{stat}": -1e-4 for o in ("declared", "collapse") for stat in ("diff", "diff_low", "diff_high")}
    row = {"runs": 100, "seed": 1, **probs, **diffs, "declared_p_value": 0.9, "collapse_p_value": 0.9}
    table = pd.DataFrame([{"item": "before", **row}, {"item": "after", **row}])
    out = comparison_text(table)
    assert "-0.000" not in out and "declared +0.000 [+0.000, +0.000]" in out
    fig = analysis_figures.comparison_figure(table, {"scenario": "after against before", "runs": 200, "seed": 1})
    assert not any("-0 pts" in t.get_text() or "-0]" in t.get_text() for t in fig.axes[0].texts)


# ------------------------------------------------------------------ figures
@pytest.fixture(scope="module")
def played():
    """The baseline scenario, 1,500 of its runs and their summary."""
    scenario = load(BASELINE)
    df = run_batch(scenario, runs=1500)
    return scenario, df, summary.summarize(df, {"seed": scenario.meta.seed}, scenario)


def test_saved_figures_have_the_styles_resolution_and_svg_text_as_text(played, tmp_path):
    fig = plots.outcome_figure(played[2])
    png, svg = style.save(fig, tmp_path, "outcomes")
    at_style_dpi = io.BytesIO()
    fig.savefig(at_style_dpi, format="png", dpi=style.STYLE["savefig.dpi"], bbox_inches="tight")
    at_style_dpi.seek(0)
    assert mpimg.imread(png).shape == mpimg.imread(at_style_dpi).shape
    assert re.search(r"<text\b[^>]*>How the talks end", svg.read_text())


def texts(fig) -> list[str]:
    """Every text drawn on a figure: its own (footers) and its axes' (annotations)."""
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


def test_declaration_curve_draws_the_summarys_cumulative_numbers_inside_their_bands(played):
    scenario, df, result = played
    cum = pd.DataFrame(result["cumulative"])
    horizon = scenario.meta.horizon
    assert cum["round"].tolist() == list(range(1, horizon + 1))
    for k in (5, 15, horizon):  # the records are the batch's own shares
        row = cum.iloc[k - 1]
        assert row["declared"] == pytest.approx(((df["outcome"] == "declared") & (df["round"] <= k)).mean())
        assert row["collapse"] == pytest.approx(((df["outcome"] == "collapse") & (df["round"] <= k)).mean())
    assert cum["declared"].iloc[-1] == pytest.approx(result["probabilities"]["declared"]["p"])
    ax = plots.declaration_curve_figure(result, scenario.meta.start_date).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for name, label in (("declared", "P(declared by round)"), ("collapse", "P(collapse first, by round)")):
        x, y = lines[label].get_data()
        assert list(y[: len(cum)]) == pytest.approx(cum[name].tolist()) and x[-1] == horizon + 0.5
    band = ax.collections[0].get_paths()[0]
    inside = [r for r in result["cumulative"] if r["declared_low"] < r["declared"] < r["declared_high"]]
    assert len(inside) > 5
    assert all(band.contains_point((r["round"] + 0.5, r["declared"])) for r in inside)  # mid-week, in its band
    assert ax.get_xlim()[1] > horizon


def test_agreements_figure_draws_phases_issues_and_milestones_at_the_summarys_numbers(played):
    _, _, result = played
    ax = plots.agreements_figure(result).axes[0]
    rows = [*result["phases"], *result["agreements"], *result["milestones"]]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == pytest.approx([r["p"] for r in rows])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Phase two declared" and "agreed: Factional weapons" in labels
    assert "milestone: technocratic committee governing" in labels
    assert "milestone: weapons arrangement carried out" in labels  # not "carried out: ... carried out"
    assert not any(label.count("carried out") > 1 for label in labels)


def fits(fig) -> tuple[float, float]:
    """Where what a figure draws begins and ends across it, in inches from its left edge (as saved, tightly)."""
    fig.draw_without_rendering()
    tight = fig.get_tightbbox()
    return tight.x0, tight.x1


def test_no_text_of_a_figure_reaches_past_its_edges_nor_leaves_a_wide_margin(played):
    """Saved with a tight bounding box, a figure whose text (a long footer, labels left of the axes, a title)
    went past its edges would be widened by an empty margin on the other side."""
    scenario, _, result = played
    names = Names(scenario)
    reasons = {b["reason"]: reason_words(b["reason"], names) for b in result["blocking"]}
    sweep = analysis_figures.sweep_figure(SWEEP, {"scenario": "a scenario named at length " * 3, "runs": 10, "seed": 1})
    for fig in (plots.blocking_figure(result, {**names.actors, **names.veto_players}, reasons), sweep):
        left, right = fits(fig)
        assert 0 <= left < 0.3 and right <= fig.get_size_inches()[0] + 0.01, (left, right)


def test_blocking_figure_names_actors_and_reasons_on_whole_percent_ticks(played):
    scenario, _, result = played
    names = Names(scenario)
    reasons = {b["reason"]: reason_words(b["reason"], names) for b in result["blocking"]}
    fig = plots.blocking_figure(result, {**names.actors, **names.veto_players}, reasons)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert (
        "Israel — precondition: last hostage's remains recovered" in labels and "collapse: violent incident" in labels
    )
    assert "Hamas's military wing — ratification refused" in labels  # the party is not named twice
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["a collapse came first", "a party held it up"]
    colours = {p.get_facecolor() for p in ax.get_legend().get_patches()}
    assert colours == {tuple(matplotlib.colors.to_rgba(style.COLOURS[k])) for k in ("collapse", "stalemate")}
    title = fig.texts[0]
    assert title.get_text() == "What blocked it: phase two declared"
    fig.draw_without_rendering()
    box = title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height  # inside the figure
    assert not any("_" in label or label.startswith(("israel", "hamas")) for label in labels)
    shares = [bar.get_width() for bar in ax.patches][::-1]
    assert shares == pytest.approx([b["share"] for b in result["blocking"]])
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(ticks) <= 7 and all(re.fullmatch(r"\d+%", t) for t in ticks)


def test_package_figure_draws_each_issues_5_to_95_range_and_the_red_line_it_sits_on(played):
    scenario, df, result = played
    issues = [(i.id, i.label, i.low, i.high) for i in scenario.issues]
    red_lines = [(r.id, r.issue, r.label) for r in scenario.red_lines]
    fig = plots.package_figure(tally.tally_runs(df, scenario), result, issues, red_lines)
    ranges = {
        seg[0][1]: (seg[0][0], seg[1][0])
        for c in fig.axes[0].collections
        if isinstance(c, LineCollection) and c.get_linewidth()[0] == 1
        for seg in c.get_segments()
    }
    agreed = {a["issue"]: a for a in result["agreements"]}
    for k, (issue, *_) in enumerate(issues):
        q = agreed[issue]["values"]
        values = df[f"agreed.{issue}.value"].dropna()
        assert q["q05"] == pytest.approx(np.quantile(values, 0.05)) and q["q95"] == pytest.approx(
            np.quantile(values, 0.95)
        )
        assert ranges[len(issues) - k] == (pytest.approx(q["q05"]), pytest.approx(q["q95"]))
    on_line = df.loc[df["agreed.weapons.round"] >= 0, "red_line.no_forced_disarmament.bound"].mean()
    assert on_line >= 0.5 and any(t.endswith("on the red line: no forced disarmament") for t in texts(fig))
    assert "5–95%" in fig.texts[-1].get_text()  # the footer says what the marks are
    never = df.assign(
        **{f"agreed.{i}.round": -1 for i, *_ in issues}, **{f"agreed.{i}.value": np.nan for i, *_ in issues}
    )
    none = plots.package_figure(tally.tally_runs(never, scenario), result, issues, red_lines)
    assert [t.get_text() for t in none.axes[0].texts].count("never agreed") == len(issues)
    assert not [c for c in none.axes[0].collections if isinstance(c, LineCollection)]


def test_fan_chart_draws_one_panel_per_issue_and_a_band_per_actor(tmp_path):
    scenario = load(BASELINE)
    run_batch(scenario, tmp_path / "run", runs=100, trajectories=40, workers=1)
    traj = load_trajectories(tmp_path / "run")
    info = {"scenario": scenario.meta.name, "seed": scenario.meta.seed, "runs": 100}
    fig = plots.fan_figure(traj, info, {i.id: i.label for i in scenario.issues}, names=Names(scenario).actors)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == [i.label for i in scenario.issues]
    assert len({round(ax.get_position().x0, 3) for ax in panels}) == 2  # two abreast, tall enough for a page
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [a.name for a in scenario.actors]
    assert "40 recorded runs of 100" in fig.texts[-1].get_text()
    israel = panels[1].get_lines()[0].get_ydata()  # weapons panel, Israel's median
    expected = traj[(traj.issue == "weapons") & (traj.actor == "israel")].groupby("round")["position"].median()
    assert np.allclose(israel, expected)
    one = plots.fan_figure(traj, info, issues=["truce"], actors=["israel", "hamas"])
    assert len([ax for ax in one.axes if ax.get_visible()]) == 1 and len(one.axes[0].get_lines()) == 2
    assert [t.get_text() for t in one.legends[0].get_texts()] == ["israel", "hamas"]  # ids, without names
    assert_image(style.save(one, tmp_path, "fan")[0])
    scales = {i.id: (i.low, i.high) for i in scenario.issues}
    scaled = plots.fan_figure(traj, info, {i.id: i.label for i in scenario.issues}, scales=scales)
    under_titles = [" ".join(t.get_text().split()) for ax in scaled.axes if ax.get_visible() for t in ax.texts]
    assert under_titles == [f"0 = {low}; 100 = {high}" for low, high in scales.values()]
    assert fits(scaled)[1] <= scaled.get_size_inches()[0] + 0.01


SWEEP = pd.DataFrame(
    {
        "field": ["leverage.us_on_israel.strength"] * 3,
        "value": [0.0, 0.01, 0.02],
        "p_declared": [0.2, 0.4, 0.6],
        "low": [0.15, 0.35, 0.55],
        "high": [0.25, 0.45, 0.65],
        "p_collapse": [0.1] * 3,
        "p_stalemate": [0.7, 0.5, 0.3],
    }
)
LABELS = {"leverage.us_on_israel.strength": "US on Israel: strength"}


def test_sweep_and_tornado_figures_use_the_scenarios_names_and_a_distinct_baseline():
    info = {"scenario": "s", "runs": 10, "seed": 1, "baseline": 0.4, "labels": LABELS}
    fig = analysis_figures.sweep_figure(SWEEP, info)
    ax = fig.axes[0]
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
    assert styles["baseline P(declared)"] not in (styles["stalemate"], styles["collapse"], styles["declared"])
    assert ax.get_xlabel() == "US on Israel: strength"
    units = {"leverage.us_on_israel.strength": "pressure (utility) a round"}
    with_units = analysis_figures.sweep_figure(SWEEP, {**info, "units": units}).axes[0].get_xlabel()
    assert with_units.replace("\n", " ") == "US on Israel: strength (pressure (utility) a round)"
    swings = sensitivity.swings(SWEEP)
    tornado = analysis_figures.tornado_figure(swings, info)
    assert [t.get_text() for t in tornado.axes[0].get_yticklabels()] == ["US on Israel: strength"]
    assert analysis_figures.field_label("protocol.pressure_decay", {}) == "protocol.pressure_decay"  # no names


def test_indices_figure_shows_whiskers_beyond_0_and_1_in_full():
    indices = pd.DataFrame(
        {
            "first": [0.9, -0.05],
            "first_conf": [0.3, 0.2],
            "total": [0.8, 0.01],
            "total_conf": [0.25, 0.02],
            "low": [0.0, 1.0],
            "high": [1.0, 2.0],
        },
        index=["leverage.us_on_israel.strength", "protocol.pressure_decay"],
    )
    info = {
        "scenario": "s",
        "runs": 10,
        "seed": 1,
        "method": "sobol",
        "points": 8,
        "runs_per_point": 2,
        "labels": LABELS,
    }
    fig = analysis_figures.indices_figure(indices, info)
    left, right = fig.axes[0].get_xlim()
    assert left <= -0.25 and right >= 1.2
    assert fig.axes[0].get_yticklabels()[0].get_text().startswith("US on Israel: strength")
    assert any("outside [0, 1]" in t for t in texts(fig))


# ------------------------------------------------------------------ commands
runner = CliRunner()


@pytest.mark.slow
def test_sweep_command_writes_tables_figures_and_a_tornado(tmp_path):
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "sweep",
            str(BASELINE),
            "--vary",
            "actors.israel.reservation=0.55:0.85:3",
            "--vary",
            "leverage.us_on_israel_after_summit.strength=0.005:0.03:2",
            "--runs",
            "300",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "tornado" in result.stdout and "0.85" in result.stdout
    table = pd.read_csv(out / "sweep.csv")
    assert table["value"].tolist() == [0.55, 0.7, 0.85, 0.005, 0.03] and (table["runs"] == 300).all()
    tornado = json.loads((out / "tornado.json").read_text())
    assert tornado["rows"][0]["field"] == "leverage.us_on_israel_after_summit.strength"
    assert tornado["labels"] == {
        "actors.israel.reservation": "Israel: reservation",
        "leverage.us_on_israel_after_summit.strength": "US on Israel after summit: strength",
    }
    labels = tornado["labels"].values()
    axes = [f"{label} (" for label in labels]  # each axis names its field, then its unit (wrapped to the panel)
    drawn = assert_figure(out / "figures", "sweep", "How the outcome moves with one assumption", "baseline P(declared)")
    assert all(any(t.startswith(axis.split(":")[0]) for t in drawn) for axis in axes), drawn
    assert "pressure a round" in " ".join(drawn) and "utility" in " ".join(drawn)
    top = tornado["rows"][0]
    assert_figure(out / "figures", "tornado", "What moves the odds of a declaration", *labels,
                  f"{top['low']:g}", f"{top['high']:g}")  # fmt: skip


@pytest.mark.parametrize(
    "vary",
    [
        "actors.israel.reservation",
        "actors.israel.reservation=0.5:0.9",
        "actors.israel.reservation=a:0.9:3",
        "actors.israel.reservation=0.5:0.9:1",
    ],
)
def test_sweep_command_rejects_bad_vary_in_one_line(tmp_path, vary):
    result = runner.invoke(app, ["sweep", str(BASELINE), "--vary", vary, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"negsim: --vary '{vary}'")


def test_sweep_command_reports_the_scenarios_own_errors(tmp_path):
    result = runner.invoke(
        app, ["sweep", str(BASELINE), "--vary", "actors.israel.reservation=0.5:1.5:3", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "baseline.yaml:" in result.stderr and "reservation" in result.stderr


def test_sensitivity_command_ranks_parameters(tmp_path, decisive):
    out = tmp_path / "morris"
    result = runner.invoke(
        app,
        [
            "sensitivity",
            str(decisive),
            "--method",
            "morris",
            "--points",
            "8",
            "--runs-per-point",
            "20",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "indices.json").read_text())["rows"]
    assert [r["parameter"] for r in rows] == [DECIDES, FAINT, STEP] and rows[0]["rank"] == 1
    names = json.loads((out / "indices.json").read_text())["labels"]
    assert_figure(out / "figures", "morris", "Which assumptions move P(declared)", "Morris: 32 points x 20 runs",
                  *(names[r["parameter"]] for r in rows))  # fmt: skip
    bad = runner.invoke(app, ["sensitivity", str(BASELINE), "--points", "30", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and bad.stderr == "negsim: Sobol needs a power of 2 base points (got 30)\n"


def test_compare_command_writes_the_comparison(tmp_path):
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(BASELINE), str(US_PRESSURE), "--runs", "400", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "change from baseline" in result.stdout
    table = pd.read_csv(out / "compare.csv")
    assert table["item"].tolist() == ["baseline", "us_pressure"] and table["declared_p_value"].iloc[1] < 0.001
    change = f"declared {signed(100 * table['declared_diff'].iloc[1], 0)} pts"
    assert_figure(out / "figures", "compare", "Scenarios compared (changes against baseline)", "us pressure", change)
    missing = runner.invoke(
        app, ["compare", str(BASELINE), str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "other")]
    )
    assert missing.exit_code == 2 and "nope.yaml" in missing.stderr and missing.stderr.count("\n") == 1


def test_milestones_follow_their_issues_and_are_summarised():
    scenario = load(BASELINE)
    df = run_batch(scenario, runs=1500)
    declared = df["outcome"] == "declared"
    assert scenario.milestones, "the baseline models implementation milestones"
    for m in scenario.milestones:  # never without a declaration, and only after its issues are agreed
        at = df[f"milestone.{m.id}.round"]
        assert (at[~declared] < 0).all()
        done = at >= 0
        assert done.any() and (at[done] > df.loc[done, "round"]).all()
        for issue in m.issues:
            assert (at[done] > df.loc[done, f"agreed.{issue}.round"]).all() and (
                df.loc[done, f"agreed.{issue}.round"] >= 0
            ).all()
    rows = summary.summarize(df, scenario=scenario)["milestones"]
    assert [r["milestone"] for r in rows] == [m.id for m in scenario.milestones]
    for r in rows:
        at = df[f"milestone.{r['milestone']}.round"]
        assert (r["k"], r["n"]) == (int((at >= 0).sum()), len(df))
        assert (r["given_declared"]["k"], r["given_declared"]["n"]) == (r["k"], int(declared.sum()))
        lag = (at - df["round"])[at >= 0]
        assert r["median_rounds_after"] == float(np.median(lag)) and r["median_rounds_after"] >= 1
    assert "milestone carried out" in summary_text(summary.summarize(df, scenario=scenario))


def test_a_small_chance_is_never_printed_as_0_nor_a_large_one_as_100(played):
    from sim.briefing.wording import whole_percent

    assert [whole_percent(p) for p in (0, 0.004, 0.005, 0.42, 0.995, 1)] == ["0%", "<1%", "<1%", "42%", ">99%", "100%"]
    _, _, result = played
    small = {**result["probabilities"]["collapse"], "p": 0.005, "low": 0.002, "high": 0.009}
    fig = plots.outcome_figure({**result, "probabilities": {**result["probabilities"], "collapse": small}})
    assert "<1%\n[<1%–<1%]" in [t.get_text() for t in fig.axes[0].texts]


def test_a_milestone_line_without_a_declared_run_says_so_and_no_nan(played):
    _, _, result = played
    none = {"p": float("nan"), "low": 0.0, "high": 1.0, "k": 0, "n": 0}
    milestones = [{**m, "given_declared": none, "median_rounds_after": None} for m in result["milestones"]]
    text = summary_text({**result, "milestones": milestones})
    assert "nan%" not in text and "(nan" not in text
    assert f"{milestones[0]['label']} (no run declared; -)" in text


def test_blocking_lines_name_the_party_once(played):
    _, _, result = played
    text = summary_text(result)
    assert "ratification refused" in text and "ratification refused: Hamas" not in text


def test_mcnemars_test_on_run_matched_outcomes_matches_a_hand_computation():
    first = np.array([True] * 10 + [False] * 30 + [True] * 50 + [False] * 910)
    second = np.array([False] * 10 + [True] * 30 + [True] * 50 + [False] * 910)
    d = paired_difference(first, second)
    assert d["diff"] == pytest.approx(20 / 1000)
    assert d["p_value"] == pytest.approx(0.002663, abs=1e-5)  # chi-square (|30 - 10| - 1)^2 / 40 = 9.025, 1 df
    se = np.sqrt(40 - 1000 * 0.02**2) / 1000
    assert (d["low"], d["high"]) == pytest.approx((0.02 - 1.959964 * se, 0.02 + 1.959964 * se))
    few = paired_difference(np.array([True] * 5 + [False] * 95), np.array([False] * 5 + [True] * 1 + [False] * 94))
    assert few["p_value"] == pytest.approx(2 * 7 / 64)  # exact: 2 P(Bin(6, 1/2) <= 1)


def test_compare_pairs_runs_that_share_their_streams_and_says_which_test(tmp_path):
    base = load(BASELINE)
    table = compare([BASELINE, BASELINE.with_name("us_pressure.yaml")], runs=300)
    assert table["test"].tolist() == ["", PAIRED]
    out = comparison_text(table)
    assert PAIRED in out and "two-proportion" not in out
    unpaired = compare([BASELINE, BASELINE.with_name("us_pressure.yaml")], runs=300, seed=base.meta.seed + 1)
    assert unpaired["test"].tolist() == ["", PAIRED]  # one seed for both: still paired
    run_batch(base, tmp_path / "other", runs=300, seed=base.meta.seed + 1, workers=1)
    mixed = compare([BASELINE, tmp_path / "other"], runs=300)
    assert mixed["test"].tolist() == ["", UNPAIRED] and UNPAIRED in comparison_text(mixed)


def test_a_second_sweep_over_other_fields_gets_its_own_default_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folders = []
    for vary in ("actors.israel.reservation=0.6:0.7:2", "protocol.pressure_decay=0.1:0.2:2"):
        result = CliRunner().invoke(app, ["sweep", str(BASELINE), "--vary", vary, "--runs", "30"])
        assert result.exit_code == 0, result.output
        folders.append(result.output.strip().splitlines()[-1].removeprefix("results: "))
    assert folders == [
        "results/baseline-sweep-actors.israel.reservation",
        "results/baseline-sweep-protocol.pressure_decay",
    ]
    assert all((tmp_path / f / "sweep.csv").is_file() for f in folders)


def test_negsim_help_gives_every_command_its_whole_first_line():
    result = CliRunner().invoke(app, ["--help"], terminal_width=80)
    commands = result.output.split("Commands:")[1].splitlines()[1:]
    assert len([c for c in commands if c.strip()]) >= 12
    assert not any("..." in c or "…" in c for c in commands), commands
