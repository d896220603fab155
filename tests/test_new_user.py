"""A new user's path: a fresh copy of the repository, the README's set-up command, nothing else.

The copy holds the tracked files only (what a clone gets), so a file the code needs but git does
not track fails here. ``make baseline`` builds its own ``.venv`` there (pip settings of the
environment left as they are). ``make test`` is not run from inside the tests (it would recurse);
instead CI is checked to run exactly it.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_image

ROOT = Path(__file__).resolve().parents[1]
PATIENCE = 1200  # seconds: a cold pip install may be slow; only turns a hang into a failure


def readme_commands() -> list[str]:
    """The commands of the README's set-up code block, comments dropped."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set-up", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_the_readme_gives_two_commands_and_ci_runs_the_second():
    assert readme_commands() == ["make baseline", "make test"]
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert [line for line in ci if "make" in line or "pytest" in line] == ["make test"], ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def tracked_copy(target: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not there to copy
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def newcomer_environment() -> dict[str, str]:
    """This environment minus this virtualenv and any enclosing make: what a new shell would have."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


@pytest.mark.slow
def test_make_baseline_in_a_fresh_clone_writes_the_baseline_results(tmp_path):
    env = newcomer_environment()
    if not shutil.which("make", path=env["PATH"]) or not shutil.which("python3.12", path=env["PATH"]):
        pytest.skip("needs make and python3.12 on the PATH")
    assert "make baseline" in readme_commands()
    clone = tracked_copy(tmp_path / "negsim")
    done = subprocess.run(["make", "baseline"], cwd=clone, env=env, capture_output=True, text=True, timeout=PATIENCE)
    assert done.returncode == 0, f"make baseline failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results = clone / "results" / "baseline"
    summary = json.loads((results / "summary.json").read_text())
    assert math.isclose(sum(p["p"] for p in summary["probabilities"].values()), 1)
    assert summary["runs"] == 10_000
    for figure in ("outcomes", "declaration_curve", "agreements", "blocking", "packages", "positions"):
        assert_image(results / "figures" / f"{figure}.png")
        assert b"<svg" in (results / "figures" / f"{figure}.svg").read_bytes()[:2000], figure
    printed = re.search(r"^declared\s+(0\.\d{3})\s+\[", done.stdout, re.M)
    assert printed, done.stdout[-3000:]
    assert float(printed.group(1)) == round(summary["probabilities"]["declared"]["p"], 3)
