"""Writing a scenario by hand: dates as people write them, every problem told at once, YAML slips in the
validator's words, labels on preconditions and guarantees."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from sim.scenario.errors import ScenarioError
from sim.scenario.labels import Names
from sim.scenario.loader import load, validate

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
MINIMAL = """meta:
  name: x
  start_date: {date}
  seed: 5
issues:
  - {{id: a, label: A, low: l, high: h}}
actors:
  - {{id: p, role: principal, position: {{a: 10}}, salience: {{a: 1}}}}
  - {{id: q, role: principal, position: {{a: 90}}, salience: {{a: 1}}}}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("written", ["2024-11-27", "27 Nov 2024", "27 November 2024", "November 27, 2024",
                                     "Nov. 27, 2024", "'2024-11-27'"])  # fmt: skip
def test_dates_as_people_write_them(tmp_path, written):
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL.format(date=written))
    assert load(path).meta.start_date == dt.date(2024, 11, 27)


def test_a_date_that_is_none_says_how_to_write_one(tmp_path):
    (found,) = problems(tmp_path, MINIMAL.format(date="27/11/24"))
    assert found.endswith("meta.start_date: not a date: '27/11/24' (write it as 2024-11-27, 27 Nov 2024 or "
                          "November 27, 2024)")  # fmt: skip
    assert found.startswith(f"{tmp_path / 's.yaml'}:3:")


def test_a_misspelt_distribution_does_not_hide_the_other_problems(tmp_path):
    text = BASELINE.read_text()
    text = text.replace("dist: uniform", "dist: unifrom", 1).replace("actor: israel", "actor: isreal", 1)
    text = text.replace("issue: weapons", "issue: weapon", 1)
    found = problems(tmp_path, text)
    assert any("actors.israel.reservation: unknown distribution" in p for p in found)
    assert any("unknown actor 'isreal' (did you mean 'israel'?)" in p for p in found)
    assert any("unknown issue 'weapon' (did you mean 'weapons'?)" in p for p in found)
    assert len(found) == 3


def test_a_problem_in_a_field_is_not_told_twice_by_the_checks_across_fields(tmp_path):
    text = MINIMAL.format(date="2024-11-27").replace("salience: {a: 1}}", "salience: {a: 1}, capability: 3}", 1)
    assert [p.split(": ", 1)[1] for p in problems(tmp_path, text)] == [
        "actors.p.capability: must lie in [0, 1] (got 3)"
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("meta:\n  name: x\n issues: 3\n", 3, "this line is indented differently from the keys or items around it"),
        ("meta:\n  name: [x\nissues: 3\n", 3, "a list in [ ] that is not closed"),
        ("meta:\n  name: x\n\tissues: 3\n", 3, "(a tab: indent with spaces"),
        ("meta:\n  name: x: y\n", 2, "a ':' inside a value (put text with ': ' in quotes)"),
        ("meta:\n  name: 'x\n", 3, "a quote that is never closed"),
    ],
)
def test_yaml_slips_in_the_validators_words(tmp_path, text, line, words):
    (found,) = problems(tmp_path, text)
    assert found.startswith(f"{tmp_path / 's.yaml'}:{line}: (file): invalid YAML: ")
    assert words in found and "<block" not in found and "token" not in found


def test_preconditions_and_guarantees_carry_labels_into_the_outputs():
    data = {
        "meta": {"name": "x", "start_date": "2024-11-27", "seed": 1},
        "issues": [{"id": "a", "label": "A", "low": "l", "high": "h"}],
        "actors": [
            {"id": "p", "role": "principal", "position": {"a": 10}, "salience": {"a": 1}},
            {"id": "q", "role": "principal", "position": {"a": 90}, "salience": {"a": 1}},
            {"id": "m", "role": "mediator", "position": {"a": 50}, "salience": {"a": 1}, "budget": 1},
        ],
        "world": {"flags": {"freed": False}},
        "preconditions": [{"id": "pre", "actor": "p", "flag": "freed", "label": "prisoners freed"}],
        "guarantees": [{"id": "g", "from": "m", "to": "q", "issues": ["a"], "value": 0.1,
                        "label": "security guarantee"}],
    }  # fmt: skip
    names = Names(validate(data))
    assert names.preconditions == {"pre": "prisoners freed"} and names.guarantees == {"g": "security guarantee"}


def test_strict_validation_requires_a_basis_for_every_number_the_file_sets(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    shipped = sorted(str(p) for p in BASELINE.parent.rglob("*.yaml"))
    result = CliRunner().invoke(app, ["validate", "--strict", *shipped])
    assert result.exit_code == 0, result.output
    text = MINIMAL.format(date="2024-11-27").replace("salience: {a: 1}}", "salience: {a: 1}, capability: 0.7}", 1)
    text += "risk: {hazard: 0.01, stall_after: 3, basis: {hazard: 'claim 4'}}\n"
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0  # without --strict: valid
    result = CliRunner().invoke(app, ["validate", "--strict", str(path)])
    lines = result.output.splitlines()
    assert result.exit_code == 2 and "Traceback" not in result.output
    # the numbers it sets without a basis, each once, on its line; defaults, meta and sourced numbers need none
    assert [line.split(": ", 2)[1] for line in lines] == [
        "actors.p.position", "actors.p.salience", "actors.p.capability", "actors.q.position", "actors.q.salience",
        "risk.stall_after"]  # fmt: skip
    assert lines[0].startswith(f"{path}:8: ") and "add 'position: <claim ids" in lines[0]


def test_outcome_words_come_from_the_scenario_neutral_unless_it_says():
    from sim.analysis.summary import summarize
    from sim.batch.runner import run_batch
    from sim.briefing.report import key_numbers_section, method_section
    from sim.scenario.starter import starter

    def words(spec) -> str:
        summary = summarize(run_batch(spec, runs=60), scenario=spec)
        blocks = key_numbers_section(spec, summary) + method_section(
            spec, {"runs": 60, "seed": spec.meta.seed, "scenario_hash": "x"}
        )
        return " ".join(getattr(b, "text", "") for b in blocks)

    neutral = validate(yaml.safe_load(starter("trade", ["A", "B"], ["Tariffs"], start_date=dt.date(2024, 1, 1))))
    text = words(neutral)
    assert "the talks break down first in" in text and "ceasefire" not in text
    gaza = load(BASELINE)
    assert gaza.meta.outcome_words.collapse == "the ceasefire collapses"
    assert "the ceasefire collapses first in" in words(gaza)
