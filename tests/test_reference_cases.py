"""Reference cases: earlier ceasefires built as of their start, with only what was known then, and the observed
files they are scored on.

Their scenarios cite the reference digest (seeds/reference_ceasefires.yaml); a claim dated after a
case's start date (what happened next) may not be cited. Every outcome each case allows is reachable.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

import sim

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "scenarios" / "reference").glob("*.yaml"))
DIGEST = yaml.safe_load((ROOT / "seeds" / "reference_ceasefires.yaml").read_text())
CLAIMS = {c["id"]: c for c in DIGEST["claims"]}


def cited(node) -> set[str]:
    """Every claim id cited in a scenario file's ``basis`` entries."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "basis":
                found |= {cid for text in value.values() for cid in re.findall(r"\brc-\d+\b", str(text))}
            else:
                found |= cited(value)
        return found
    if isinstance(node, list):
        return set().union(*map(cited, node)) if node else set()
    return set()


def test_there_are_at_least_the_january_2025_and_november_2023_cases():
    starts = {sim.load_scenario(path).meta.start_date for path in CASES}
    assert {dt.date(2025, 1, 19), dt.date(2023, 11, 24)} <= starts


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_a_case_cites_only_what_was_known_at_its_start(path):
    start = sim.load_scenario(path).meta.start_date
    ids = cited(yaml.safe_load(path.read_text()))
    assert ids, "a reference case rests on the reference digest"
    assert ids <= set(CLAIMS), ids - set(CLAIMS)
    late = {cid for cid in ids if CLAIMS[cid]["date"] > start}
    assert not late, f"cites what happened after {start}: {sorted(late)}"


@pytest.mark.slow
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_a_declaration_and_a_collapse_are_both_reachable(path):
    """Both cases allow either (a stalemate is ruled out by the November 2023 truce's own terms: it ends)."""
    table = sim.run_batch(sim.load_scenario(path), runs=10_000)
    shares = table["outcome"].value_counts(normalize=True)
    assert shares.get("declared", 0) > 0 and shares.get("collapse", 0) > 0, shares.to_dict()


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_case_has_an_observed_file_its_results_can_answer(path):
    """Every event of the case's observed file refers to a result the scenario records, within its horizon, and
    the observed file starts when the scenario does (checked without running: the results are scored in
    tests/test_score.py)."""
    from sim.analysis.score import result_columns
    from sim.scenario.observed import load_observed

    spec = sim.load_scenario(path)
    observed = load_observed(ROOT / "observed" / path.name)
    assert observed.start_date == spec.meta.start_date and observed.case == path.stem
    assert observed.question == spec.meta.name, "a forecast filed with the default question is scored by it"
    end = spec.meta.date_of(spec.meta.horizon)
    for event in observed.events:
        assert event.result in result_columns(spec), event.id
        assert spec.meta.start_date < event.by <= end, event.id


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_a_case_file_passes_the_hindsight_check_of_negsim_validate(path):
    """Every event and expiry cites a claim dated by the start (or says it is an assumption), and nothing unknown
    at the start is encoded as certain."""
    from sim.scenario.loader import load_case

    load_case(path)


HINDSIGHT = [
    # (what the case file is changed to, the path and the words of the problem the check reports)
    (
        lambda d: d["events"][0]["basis"].update(hazard="rc-05"),
        "events.extension_runs_out.basis.hazard",
        "cites rc-05, dated 2023-12-01, after the case's start (2023-11-24)",
    ),
    (
        lambda d: d["events"][0].update(collapse=1.0),
        "events.extension_runs_out.collapse",
        "a collapse of 1.0 on an event drawn by a hazard",
    ),
    (
        lambda d: d["events"][1].update(basis={"rate": "the flagship's weekly rate"}),
        "events.violent_incident.basis",
        "cites no claim dated on or before the case's start (2023-11-24) nor says it is an assumption",
    ),
    (
        lambda d: d["expiries"][0].update(basis={"at_round": "rc-01"}),
        "expiries.truce_expires.probability",
        "an expiry certain to end the ceasefire (probability 1) with no claim dated by the start",
    ),
    (
        lambda d: d["events"].append(
            {"id": "talks_fail", "at_round": 9, "collapse": 1.0, "basis": {"at_round": "rc-03"}}
        ),
        "events.talks_fail.probability",
        "a scheduled event certain to happen and to collapse the ceasefire",
    ),
]


@pytest.mark.parametrize("change, where, words", HINDSIGHT, ids=[h[1] for h in HINDSIGHT])
def test_negsim_validate_refuses_hindsight_in_a_case_file(tmp_path, change, where, words):
    """A case file (one an observed-outcomes file scores) that takes something from after its start fails
    `negsim validate` with one line naming the file, the field and the problem; the same file is not a case file
    where no observed-outcomes file scores it, and then validates."""
    from typer.testing import CliRunner

    from sim.cli import app

    data = yaml.safe_load((ROOT / "scenarios" / "reference" / "gaza_2023_11.yaml").read_text())
    change(data)
    for folder in ("seeds", "observed"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    (tmp_path / "cases").mkdir()
    case = tmp_path / "cases" / "gaza_2023_11.yaml"
    case.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(app, ["validate", str(case)])
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if where in x]
    assert len(lines) == 1 and words in lines[0] and lines[0].startswith(f"{case}:"), result.output
    other = case.with_name("not_a_case.yaml")
    other.write_text(case.read_text())
    assert CliRunner().invoke(app, ["validate", str(other)]).exit_code == 0
