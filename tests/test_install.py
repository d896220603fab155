"""A light first run: `make baseline` installs only the core dependencies, with which `negsim run` and its figures
work; the test command installs the extras; CI runs exactly the README's test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from helpers import assert_image

ROOT = Path(__file__).resolve().parents[1]
# What the extras install (top-level modules): a run may import none of them.
OPTIONAL = ("SALib", "scoringrules", "dask", "distributed", "pyabc", "ema_workbench", "solara", "playwright",
            "nbclient", "ipykernel", "jsonschema", "polars", "duckdb", "pypdf", "hypothesis")  # fmt: skip


def dry_run(target: str) -> list[str]:
    """The pip installs `make TARGET` would run on a fresh clone (a dry run, every target out of date)."""
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if "pip install" in line]


def test_make_baseline_installs_only_the_core_and_the_test_command_the_extras():
    assert [re.sub(r"\s+", " ", line).split("pip install ")[1] for line in dry_run("baseline")] == [
        "--quiet --disable-pip-version-check -e ."
    ]
    extras = re.search(r"-e '\.\[(.*)\]'", " ".join(dry_run("test"))).group(1).split(",")
    assert {"test", "validation", "app", "docs"} <= set(extras)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[\[<>=~ ]", d)[0].lower() for d in project["dependencies"]}
    assert not core & ({m.lower().replace("_", "-") for m in OPTIONAL} | {"jupyter", "pytest-playwright"}), core


def test_ci_runs_exactly_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test       #" in readme
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and line[0] not in "#"]
    assert commands[-1] == "make test"


def test_negsim_run_and_its_figures_need_no_extra(tmp_path):
    """`negsim run` with every module of the extras made unimportable writes its results and figures."""
    blocked = "; ".join(f"sys.modules[{m!r}] = None" for m in OPTIONAL)
    code = f"import sys; {blocked}; from sim.cli import app; app()"
    out = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios" / "baseline.yaml"), "--runs", "200", "--out", str(out), "--quiet"]
    env = {**os.environ, "CI": "1"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "declared" in done.stdout and (out / "summary.json").is_file()
    assert_image(out / "figures" / "blocking.png")


def test_a_command_that_needs_an_extra_says_which_in_one_line(tmp_path):
    code = "import sys; sys.modules['SALib'] = None; from sim.cli import app; app()"
    args = ["sensitivity", str(ROOT / "scenarios" / "baseline.yaml"), "--points", "2", "--out", str(tmp_path / "s")]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r"negsim sensitivity: needs the 'validation' extra: pip install -e '\.\[validation\]' "
        r"\(SALib\.\w+ is missing\)",
        lines[0],
    ), done.stderr
