"""``negsim new``: a commented starter scenario that validates as written and runs."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from sim.batch.runner import run_batch
from sim.cli import app
from sim.scenario.loader import load
from sim.scenario.starter import starter


def test_the_starter_validates_as_written_and_runs_100_runs(tmp_path):
    path = tmp_path / "trade.yaml"
    args = ["new", str(path), "--actor", "United States", "--actor", "China", "--actor", "EU:stakeholder",
            "--issue", "Tariffs", "--issue", "Export controls", "--issue", "Farm purchases",
            "--phase", "Truce", "--phase", "Deal", "--start-date", "27 Nov 2024"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "# Each issue is an axis from 0 to 100" in text and "reservation: 0.5" in text
    spec = load(path)
    assert spec.meta.start_date == dt.date(2024, 11, 27) and spec.meta.seed == 20241127
    assert [a.id for a in spec.principals] == ["united_states", "china"]
    assert spec.role("eu") == "stakeholder"
    assert [spec.settled(p) for p in spec.ordered_phases()] == [["tariffs", "export_controls"], ["farm_purchases"]]
    table = run_batch(spec, runs=100)
    assert len(table) == 100 and set(table["outcome"]) <= {"declared", "collapse", "stalemate"}
    assert (table["outcome"] == "declared").mean() > 0.5  # neutral numbers leave room for a deal
    assert CliRunner().invoke(app, ["new", str(path), "--actor", "a", "--actor", "b", "--issue", "x"]).exit_code == 2


def test_the_starter_without_phases_has_one_package_and_bad_names_are_one_line():
    spec_text = starter("two", ["A", "B"], ["Only issue"], start_date=dt.date(2025, 1, 6), seed=3)
    assert "phases:" not in spec_text and "seed: 3" in spec_text
    with pytest.raises(ValueError, match="needs exactly two principals"):
        starter("one", ["A"], ["x"])
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        starter("x", ["A", "B", "C:boss"], ["x"])
    with pytest.raises(ValueError, match="more phases than issues"):
        starter("x", ["A", "B"], ["x"], ["p1", "p2"])
    result = CliRunner().invoke(app, ["new", "/tmp/never.yaml", "--actor", "A", "--issue", "x"])
    assert result.exit_code == 2 and "--actor: needs exactly two principals" in result.output
    result = CliRunner().invoke(app, ["new", "/tmp/never.yaml", "--actor", "A", "--actor", "B", "--issue", "x",
                                      "--start-date", "31 Foo 2024"])  # fmt: skip
    assert result.exit_code == 2 and "--start-date: not a date: '31 Foo 2024'" in result.output
