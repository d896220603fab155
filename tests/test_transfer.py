"""Leave-one-case-out calibration (``negsim transfer``): the case library's index validates with one-line
errors, a left-out case never appears in its own targets, every event is scored for four forecasters, the
same seed gives the same numbers, and the command runs end to end on a synthetic library of three cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis import transfer as loco
from sim.analysis.calibrate import Settings
from sim.cli import app
from sim.scenario.errors import ScenarioError
from sim.scenario.library import load_library

ROOT = Path(__file__).resolve().parents[1]
TINY = Settings(population=10, generations=1, runs_per_point=20, predictive_draws=4)
# case id -> (start date, whether the phase was declared by week 4, week of the collapse or None)
CASES = {"alpha": ("2020-01-06", False, 2), "beta": ("2021-03-01", True, None), "gamma": ("2022-06-06", False, 3)}


def scenario(case: str, start: str) -> dict:
    """A two-actor, one-issue case whose incident event is named after the case (so its collapse chance has a
    path of its own) and whose breakdown hazard is uncertain (a path every case shares)."""
    actor = lambda i, pos: {"id": i, "name": i.upper(), "role": "principal", "position": {"terms": pos},
                            "salience": {"terms": 1}, "capability": 0.5, "reservation": 0.3,
                            "concession": {"strategy": "linear", "deadline": 6}}  # fmt: skip
    return {
        "meta": {"name": f"synthetic case {case}", "start_date": start, "horizon": 8, "round_days": 7, "seed": 11},
        "issues": [{"id": "terms", "label": "terms", "low": "none", "high": "all"}],
        "actors": [actor("p", 20), actor("q", 80)],
        "phases": [{"id": "deal", "gate": {"consent": ["p", "q"], "settle": ["terms"]}}],
        "events": [{"id": f"{case}_incident", "rate": 0.5, "collapse": {"dist": "uniform", "low": 0.01, "high": 0.3}}],
        "risk": {"hazard": {"dist": "uniform", "low": 0.0, "high": 0.05}},
    }


def observed(case: str, start: str, declared: bool, collapse_week: int | None) -> dict:
    """What happened in a synthetic case: whether the phase was declared within four weeks, and whether the
    ceasefire collapsed within six."""
    day = lambda weeks: str(pd.Timestamp(start) + pd.Timedelta(weeks=weeks))[:10]
    happened = lambda yes, weeks, by: {"happened_on": day(weeks)} if yes else {"not_happened_by": day(by)}
    cases = [{"id": c, "label": c, "start": s, "outcomes": {"follow_on": d, "collapse": w is not None}}
             for c, (s, d, w) in CASES.items()]  # fmt: skip
    return {
        "case": case, "question": f"synthetic {case}", "start_date": start, "source": "synthetic",
        "written_after_outcome": True,
        "reference_class": {"label": "synthetic", "reason": "a test", "source": "synthetic", "cases": cases},
        "events": [
            {"id": "deal_declared", "label": "deal declared within 4 weeks", "result": "declared", "by": day(4),
             **happened(declared, 3, 4), "resolution": "both say so", "reference": "follow_on", "basis": "test"},
            {"id": "collapsed", "label": "collapse within 6 weeks", "result": "collapse", "by": day(6),
             **happened(collapse_week is not None, collapse_week or 0, 6), "resolution": "fighting",
             "reference": "collapse", "basis": "test"},
        ],
    }  # fmt: skip


def entry(case: str, **parameters) -> dict:
    """A synthetic case's entry in the index (its incident's collapse chance as the shared 'incident', unless
    ``parameters`` names others)."""
    parameters = parameters or {"incident": f"events.{case}_incident.collapse"}
    return {"id": case, "label": f"case {case}", "scenario": f"{case}.yaml", "observed": f"{case}_observed.yaml",
            "type": "open_ended", "parameters": parameters}  # fmt: skip


def write_library(folder: Path, **changes) -> Path:
    """The synthetic library of three cases in ``folder`` (its index changed by ``changes``); the index's path."""
    entries = []
    for case, (start, declared, week) in CASES.items():
        (folder / f"{case}.yaml").write_text(yaml.safe_dump(scenario(case, start), sort_keys=False))
        (folder / f"{case}_observed.yaml").write_text(yaml.safe_dump(observed(case, start, declared, week)))
        entries.append(entry(case))
    index = {
        "name": "synthetic library",
        "shared": [
            {"id": "breakdown", "label": "breakdown hazard", "path": "risk.hazard"},
            {"id": "incident", "label": "an incident's collapse chance"},
        ],
        "cases": entries,
        **changes,
    }
    path = folder / "library.yaml"
    path.write_text(yaml.safe_dump(index, sort_keys=False))
    return path


@pytest.fixture
def library(tmp_path):
    return load_library(write_library(tmp_path))


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_library(path)
    return [str(p) for p in caught.value.problems]


# ------------------------------------------------------------------ the index
def test_the_shipped_index_validates_and_resolves_each_cases_shared_parameters():
    index, cases = load_library(ROOT / "cases" / "library.yaml")
    ids = [c.entry.id for c in cases]
    assert ids == ["gaza_2023_11", "gaza_2025_01", "lebanon_2024_11", "black_sea_2022_07", "iran_2015_07"]
    flagship = {c.entry.id for c in cases if c.entry.flagship_target}
    assert flagship == {"gaza_2023_11", "gaza_2025_01", "lebanon_2024_11"}  # the cases the flagship's targets count
    by_id = {c.entry.id: c for c in cases}  # a case folder's case names the few shared roles it has
    assert by_id["lebanon_2024_11"].params == ["leverage.us_on_israel.strength"]
    assert by_id["black_sea_2022_07"].params == ["events.attack_in_the_corridor.collapse"]
    assert by_id["iran_2015_07"].params == []
    gaza = cases[:2]
    lapse = dict(zip([s.id for s in index.shared], zip(*[c.params for c in gaza], strict=True), strict=True))
    assert lapse["lapse_collapse"] == ("events.extension_runs_out.collapse", "expiries.phase_one_expires.probability")
    assert lapse["pressure_decay"] == ("protocol.pressure_decay",) * 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"cases": []}, "cases: List should have at least 2 items"),
        ({"shared": [{"id": "breakdown", "label": "x", "path": "risk.hazrd"}, {"id": "incident", "label": "y"}]},
         "shared.breakdown.path: 'risk.hazrd' is not an uncertain parameter of"),
        ({"shared": [{"id": "incident", "label": "x"}]}, "cases.alpha.parameters: 'incident' has no library-wide path"),
        ({"cases": [{"id": "alpha"}] * 2}, "cases.alpha.label: Field required"),
        ({"flagship_targets": "../missing.yaml"}, "flagship_targets: no such file"),
        ({"cases": [entry(c, incidnet=f"events.{c}_incident.collapse") for c in CASES]},
         "cases.alpha.parameters.incidnet: not a shared parameter (did you mean 'incident'?)"),
    ],
)  # fmt: skip
def test_bad_index_errors_are_one_line_naming_file_and_field(tmp_path, change, expected):
    entries = write_library(tmp_path)
    index = yaml.safe_load(entries.read_text())
    if change.get("shared") and change["shared"][0]["id"] == "incident":
        for e in index["cases"]:
            e["parameters"] = {}
    index.update(change)
    entries.write_text(yaml.safe_dump(index, sort_keys=False))
    found = problems(entries)
    assert any(expected in p for p in found), found
    assert all("\n" not in p and p.startswith(str(entries)) for p in found), found


def test_a_case_file_that_is_missing_or_observes_another_case_is_named_on_the_index_line(tmp_path):
    path = write_library(tmp_path)
    index = yaml.safe_load(path.read_text())
    index["cases"][0]["scenario"] = "nowhere.yaml"
    index["cases"][1]["observed"] = "gamma_observed.yaml"
    path.write_text(yaml.safe_dump(index, sort_keys=False))
    found = problems(path)
    assert any("cases.alpha.scenario: no such file" in p for p in found), found
    assert any("cases.beta.observed" in p and "observes case 'gamma', not 'beta'" in p for p in found), found
    assert all(p.startswith(str(path)) and "\n" not in p for p in found), found


def test_a_case_may_say_it_has_nothing_in_a_shared_parameters_role(tmp_path):
    path = write_library(tmp_path)
    index = yaml.safe_load(path.read_text())
    index["cases"][1]["parameters"]["incident"] = None
    path.write_text(yaml.safe_dump(index, sort_keys=False))
    _, cases = load_library(path)
    assert [c.params for c in cases] == [["risk.hazard", f"events.{c}_incident.collapse"] if c != "beta" else
                                         ["risk.hazard"] for c in CASES]  # fmt: skip


def test_flagship_target_is_checked_against_the_flagships_targets_file(tmp_path):
    path = write_library(tmp_path, flagship_targets=str(ROOT / "targets" / "reference_ceasefires.yaml"))
    assert load_library(path)  # no synthetic case is a flagship target, and none says it is
    index = yaml.safe_load(path.read_text())
    index["cases"][0]["flagship_target"] = True
    path.write_text(yaml.safe_dump(index, sort_keys=False))
    (found,) = problems(path)
    assert "cases.alpha.flagship_target" in found and "does not count case 'alpha'" in found


# ------------------------------------------------------------------ leave one out
def test_the_left_out_case_never_appears_in_its_own_targets(library):
    index, cases = library
    for left in cases:
        targets, asked = loco.targets_without(index, cases, left)
        assert left.entry.id not in [c.id for c in targets.cases]
        assert [c.id for c in targets.cases] == [c.entry.id for c in cases if c is not left]
        assert [t.measure for t in targets.targets] == ["follow_on", "collapse"]
        assert [e.id for e in asked] == ["deal_declared", "collapsed"]
        k, n = targets.counts("collapse")  # alpha and gamma collapsed, beta did not
        assert (k, n) == ((1, 2) if left.entry.id != "beta" else (2, 2))


def test_a_case_whose_outcomes_no_other_case_observes_has_no_targets_and_a_base_rate_of_half(library):
    index, cases = library
    for e in cases[0].observed.events:
        e.reference = "unseen"
    assert loco.targets_without(index, cases, cases[0]) == (None, [])
    assert loco.base_rate(loco.reference_cases(cases, cases[0]), "unseen") == (0.5, "0/0 (none)")
    targets, _ = loco.targets_without(index, cases, cases[1])  # the others still count alpha's outcomes by name
    assert [c.observed for c in targets.cases if c.id == "alpha"] == [{"unseen": True}]


def test_base_rate_is_jeffreys_mean_of_the_other_cases_and_half_when_none_observes_it(library):
    _, cases = library
    others = loco.reference_cases(cases, cases[1])
    assert loco.base_rate(others, "collapse") == (2.5 / 3, "2/2 (alpha, gamma)")
    assert loco.base_rate(others, "extended") == (0.5, "0/0 (none)")


def test_every_event_is_scored_for_the_four_forecasters_and_the_same_seed_gives_the_same_numbers(library, tmp_path):
    index, cases = library
    table, means, calibrations = loco.leave_one_out(index, cases, tmp_path / "a", TINY, runs=200)
    assert len(table) == 6 and list(table["case"].unique()) == list(CASES)
    for f in loco.FORECASTERS:
        assert table[f"p_{f}"].between(0, 1).all()
        brier = (table[f"p_{f}"] - table["happened"]) ** 2
        assert brier.round(12).tolist() == table[f"brier_{f}"].round(12).tolist()
    assert (table["p_half"] == 0.5).all()
    beta = table[table["case"] == "beta"].set_index("event")
    assert beta.loc["collapsed", "p_base"] == 2.5 / 3 and beta.loc["deal_declared", "p_base"] == 0.5 / 3
    assert (table["p_calibrated"] != table["p_prior"]).any()  # the posterior moved some forecast
    assert set(means["scope"]) == {"alpha", "beta", "gamma", "pooled"} and len(means) == 16
    pooled = means[means["scope"] == "pooled"].set_index("forecaster")["brier"]
    assert math.isclose(pooled[loco.FORECASTERS["prior"]], table["brier_prior"].mean())
    assert [c["case"] for c in calibrations] == list(CASES) and all(c["populations"] == 1 for c in calibrations)
    again, _, _ = loco.leave_one_out(index, cases, tmp_path / "b", TINY, runs=200)
    pd.testing.assert_frame_equal(table, again)


@pytest.mark.slow
def test_another_seed_gives_other_numbers(library, tmp_path):
    index, cases = library
    table, _, _ = loco.leave_one_out(index, cases, tmp_path / "a", TINY, runs=200)
    other, _, _ = loco.leave_one_out(index, cases, tmp_path / "b", Settings(**{**vars(TINY), "seed": 3}), runs=200)
    assert not table["p_calibrated"].equals(other["p_calibrated"])
    assert not table["p_prior"].equals(other["p_prior"])


def test_the_command_writes_the_tables_and_says_what_the_scores_measure(tmp_path):
    path = write_library(tmp_path)
    out = tmp_path / "out"
    args = ["transfer", str(path), "--out", str(out), "--population", "10", "--generations", "1",
            "--runs-per-point", "20", "--runs", "200"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert loco.TRANSFER in text and loco.IN_SAMPLE in text
    assert "target collapse 0.500 ± 0.250 (1/2 other cases)" in text
    for case in CASES:
        assert f"{case}: case {case} (open_ended)" in text
        written = {p.name for p in (out / case).iterdir()}
        assert {"calibration.json", "posterior.csv", "result.json", "abc.db"} <= written
    table = pd.read_csv(out / "transfer.csv")
    assert len(table) == 6 and {f"brier_{f}" for f in loco.FORECASTERS} <= set(table.columns)
    saved = json.loads((out / "transfer.json").read_text())
    assert saved["note"] == f"{loco.TRANSFER}; {loco.IN_SAMPLE}" and len(saved["rows"]) == 6
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "already holds files" in refused.output
