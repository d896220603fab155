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
