"""The documentation site: its scenario files validate and play, its generated references cover the code, its
figures are pictures, its numbers are what they claim, and ``make test`` builds it with warnings as errors."""

from __future__ import annotations

import importlib.util
import itertools
import re
import subprocess
from pathlib import Path

import pytest
import typer.main
from helpers import assert_image

import sim
from sim.cli import app
from sim.scenario.loader import load
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"


def hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(markdown: str, heading: str) -> dict[str, list[str]]:
    """The table under ``## heading``: first cell (backticks dropped) -> the other cells."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in section.splitlines() if line[:2] == "| "]
    return {c[0].strip("`"): c[1:] for c in cells[1:]}


@pytest.mark.parametrize("path", sorted(DOCS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_scenario_file_in_the_docs_validates(path):
    assert load(path).meta.name


def test_the_tutorial_grows_one_case_step_by_step_and_the_last_step_plays():
    steps = sorted(TUTORIAL.glob("*.yaml"))
    assert [p.name[0] for p in steps] == ["1", "2", "3", "4", "5"]
    for before, after in itertools.pairwise(steps):
        assert f"extends: {before.name}" in after.read_text()
    page = (TUTORIAL / "index.md").read_text()
    assert all(f'--8<-- "tutorial/{p.name}"' in page for p in steps)
    first, last = load(steps[0]), load(steps[-1])
    assert len(first.actors) == 2 and len(last.actors) == 4
    assert last.veto_players and last.mechanisms and last.milestones and last.preconditions and last.phases
    assert "gaza" not in "".join(p.read_text().lower() for p in steps)

    runs = sim.run_batch(last, runs=200)
    assert len(runs) == 200
    shares = runs["outcome"].value_counts(normalize=True)
    assert set(shares.index) == {"declared", "collapse", "stalemate"}  # every outcome is reachable
    assert 0.4 < shares["declared"] < 0.9, shares
    assert runs["veto_player.members.unmet"].any()  # the members' ballot blocks some runs
    declared = runs[runs["outcome"] == "declared"]
    assert declared["agreed.pay.value"].between(45, 70).all()  # above the members' least, under the ceiling


def test_the_scenario_reference_lists_every_field_with_its_unit_and_range():
    h = hooks()
    page = h.scenario_reference()
    for model in h.objects(Scenario):
        table = rows(page, model.__name__)
        assert set(table) == {f.alias or n for n, f in model.model_fields.items()}, model.__name__
        for name, field in model.model_fields.items():
            unit = (field.json_schema_extra or {}).get("unit", "") if isinstance(field.json_schema_extra, dict) else ""
            assert table[field.alias or name][3] == unit, (model.__name__, name)
            assert table[field.alias or name][4] == h._cell(field.description or ""), (model.__name__, name)
    actor = rows(page, "Actor")
    assert actor["reservation"][:4] == ["number", "`0.5`", "0 – 1", "utility (0-1)"]
    assert actor["position"][2:4] == ["0 – 100", "issue scale (0-100)"]
    assert actor["role"][0] == "one of `principal`, `broker`, `mediator`, `stakeholder`, `spoiler`"
    assert rows(page, "Meta")["horizon"][1:3] == ["`26`", "1 – 520"]
    assert rows(page, "Event")["at_round"][2] == "≥ 1"
    assert rows(page, "Leverage")["strength"][1:4] == ["required", "0 – 1", "pressure a round (utility)"]
    assert rows(page, "Relaxation")["audience_cost"][2:4] == ["0 – 10", "pressure (utility)"]


def test_the_cli_reference_lists_every_command_and_option():
    page = hooks().cli_reference()
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert f"\n## negsim {name}\n" in page
        section = page.split(f"\n## negsim {name}\n", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if param.name != "help" and param.param_type_name == "option":
                assert param.opts[0] in section, (name, param.opts[0])
    assert "| `--vary` | text, repeatable | required | FIELD=LO:HI:STEPS" in page
    assert "| `--method` | `sobol` \\| `morris` | `sobol` |" in page


def test_the_gallery_shows_every_figure_a_batch_draws():
    page = (DOCS / "gallery.md").read_text()
    shown = re.findall(r"\]\((gallery/\w+\.png)\)", page)
    assert sorted(shown) == sorted(f"gallery/{p.name}" for p in (DOCS / "gallery").glob("*.png"))
    assert len(shown) == 7
    for name in shown:
        assert_image(DOCS / name)
    assert "Port contract - the full case" in (DOCS / "gallery" / "summary.txt").read_text()


def test_the_units_guide_hazard_table_is_right():
    page = (DOCS / "units.md").read_text()
    table = re.findall(r"^\| (0\.\d+) \| ([\d.]+)% \| ([\d.~]+)% \| (\d+) rounds \|$", page, re.M)
    assert len(table) == 5
    for hazard, month, half_year, median in table:
        h = float(hazard)
        assert float(month) == pytest.approx(100 * (1 - (1 - h) ** 4), abs=0.6)
        assert float(half_year.strip("~")) == pytest.approx(100 * (1 - (1 - h) ** 26), abs=0.6)
        assert int(median) == pytest.approx(0.693 / h, abs=1)


def test_make_test_builds_the_site_with_warnings_as_errors():
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "mkdocs build --strict" in dry
    assert "site/" in (ROOT / ".gitignore").read_text().splitlines()
