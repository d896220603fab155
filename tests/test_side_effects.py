"""No side effects at import or in library calls: matplotlib's backend and settings, the process
umask, Mesa's own random generators, and heavy imports that ``import sim`` and the CLI do not need."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import assert_standard_figures, scenario, two_principals

import sim
from sim.batch.folder import atomic_write
from sim.batch.runner import run_batch, simulate
from sim.briefing.outputs import write_outputs
from sim.engine.model import NegotiationModel
from sim.engine.tables import run_table

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
NEGSIM = Path(sys.executable).with_name("negsim")
HEAVY = ("pandas", "matplotlib", "mesa")


def python(code: str, cwd: Path, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line, returned here."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ matplotlib
EVERYTHING = """
    import importlib, io, json, os, pkgutil
    import matplotlib
    {select}
    import matplotlib.pyplot as plt  # as a notebook has it
    chosen = matplotlib.get_backend()
    settings = dict(matplotlib.rcParams)

    import sim
    modules = sorted(m.name for m in pkgutil.walk_packages(sim.__path__, "sim."))
    for name in modules:
        importlib.import_module(name)
    imported = matplotlib.get_backend()

    from sim.briefing import plots
    from sim.briefing.report import write_report
    folder = sim.run_batch(sim.load_scenario({baseline!r}), "results", runs=60, trajectories=20, workers=1)
    summary = sim.write_outputs(folder)
    if {report}:
        write_report(folder)
    plots.outcome_figure(summary).savefig(io.BytesIO(), format="png")
    changed = sorted(k for k, v in matplotlib.rcParams.items() if k != "backend" and settings[k] != v)
    print(json.dumps({{"chosen": chosen, "imported": imported, "drawn": matplotlib.get_backend(), "modules": modules,
                      "changed": changed, "pyplot_figures": plt.get_fignums(),
                      "figures": sorted(os.listdir(folder / "figures")), "files": sorted(os.listdir("."))}}))
"""
BACKENDS = [
    pytest.param(
        "",
        {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
        "module://matplotlib_inline.backend_inline",
        False,
        id="notebook inline",
        marks=pytest.mark.skipif(not importlib.util.find_spec("matplotlib_inline"), reason="no matplotlib_inline"),
    ),
    pytest.param("", {"MPLBACKEND": "pdf"}, "pdf", False, id="MPLBACKEND pdf"),
    pytest.param("matplotlib.use('svg')", {}, "svg", True, id="use svg, with the report", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("select, env, backend, report", BACKENDS)
def test_importing_sim_and_drawing_leave_matplotlib_as_the_user_set_it(tmp_path, select, env, backend, report):
    seen = python(EVERYTHING.format(select=select, baseline=str(BASELINE), report=report), tmp_path, **env)
    assert seen["chosen"] == backend
    assert (seen["imported"], seen["drawn"]) == (backend, backend)
    assert len(seen["modules"]) > 25 and "sim.briefing.plots" in seen["modules"] and "sim.cli" in seen["modules"]
    assert seen["changed"] == []  # styles are applied in rc_context, never globally
    assert seen["pyplot_figures"] == []  # figures are made without pyplot: none pile up in a notebook
    assert {"outcomes.png", "outcomes.svg", "positions.png"} <= set(seen["figures"])
    assert seen["files"] == ["results"]  # nothing written beside it


# ------------------------------------------------------------------ umask
def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture
def umask(request, monkeypatch):
    """Set the process umask for the test (restored after); any later os.umask call fails the test."""
    previous = os.umask(request.param)
    calls = []
    monkeypatch.setattr(os, "umask", lambda *a: calls.append(a) or pytest.fail(f"os.umask{a} called"))
    yield request.param
    monkeypatch.undo()
    os.umask(previous)
    assert calls == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], indirect=True)
def test_atomic_write_leaves_the_umask_alone_and_gives_files_the_mode_it_allows(tmp_path, umask):
    path = tmp_path / "deep" / "summary.json"
    atomic_write(path, '{"p": 0.4}')
    assert path.read_text() == '{"p": 0.4}' and path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o600 if umask != 0o077 else 0o644)
    atomic_write(path, b"again")  # a replaced file gets the mode of a new one
    assert path.read_bytes() == b"again" and path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]  # no temporary file left


@pytest.mark.parametrize("umask", [0o077], indirect=True)
def test_a_whole_batch_and_its_figures_write_every_file_by_the_umask_without_changing_it(tmp_path, umask):
    folder = run_batch(sim.load_scenario(BASELINE), tmp_path / "out", runs=60, trajectories=10, workers=1)
    assert_standard_figures(folder / "figures", write_outputs(folder))
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 10 and {"summary.json", "positions.svg", "meta.json", "chunk-000000.parquet"} <= {
        p.name for p in files
    }
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: oct(0o600) for p in files}


def test_the_umask_is_unchanged_after_writing_from_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    before = current_umask()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: atomic_write(tmp_path / f"f{i}", str(i)), range(200)))
    assert current_umask() == before
    assert sorted(int(p.read_text()) for p in tmp_path.iterdir()) == list(range(200))


# ------------------------------------------------------------------ Mesa's generators
@pytest.fixture(scope="module")
def model():
    return NegotiationModel(sim.load_scenario(BASELINE), range(5))


@pytest.mark.parametrize("owner", ["model", "agent"])
@pytest.mark.parametrize("name", ["rng", "random"])
@pytest.mark.parametrize("draw", ["random", "integers", "choice", "shuffle", "uniform", "normal"])
def test_mesas_generators_refuse_draws_and_point_at_the_streams(model, owner, name, draw):
    holder = model if owner == "model" else next(iter(model.agents))
    with pytest.raises(RuntimeError, match=r"sim\.engine\.streams"):
        getattr(getattr(holder, name), draw)()


def test_a_whole_batch_plays_without_touching_mesas_generators(monkeypatch):
    guard = type(NegotiationModel(scenario(), [0]).rng)
    touched = []

    def refuse(self, attr):
        touched.append(attr)
        raise RuntimeError(f"touched {attr}")

    monkeypatch.setattr(guard, "__getattr__", refuse)
    df = run_batch(sim.load_scenario(BASELINE), runs=300, workers=1)
    assert len(df) == 300 and df["outcome"].nunique() == 3
    for rule, strategy in (("nash", "linear"), ("alternating", "zeuthen"), ("alternating", "subgame_perfect")):
        actors = two_principals()
        for a in actors:
            a.update(reservation=0.2, concession={"strategy": strategy, "step": 0.05, "deadline": 20})
        df = run_batch(scenario(actors=actors, horizon=40, protocol={"rule": rule}), runs=50, workers=1)
        assert (df["outcome"] == "declared").any(), (rule, strategy)
    simulate(sim.load_scenario(BASELINE), runs=20, trajectories=5)
    assert touched == []


def test_a_model_copied_mid_negotiation_plays_on_like_the_original():
    """A deep copy (its scenario, Values, world and agents with it) shares no state with the original: the copy
    played to the end first leaves the original to play on exactly as a model never copied."""
    spec = sim.load_scenario(BASELINE)
    original = NegotiationModel(spec, range(200))
    for _ in range(5):
        original.step()
    copied = copy.deepcopy(original)
    assert copied.spec is not original.spec and copied.world is not original.world
    assert all(a.model is copied for a in copied.agents) and len(copied.agents) == len(original.agents)
    with pytest.raises(RuntimeError, match=r"sim\.engine\.streams"):
        copied.rng.random()  # the copy's guard still refuses draws
    copied.run()
    original.run()
    straight = NegotiationModel(spec, range(200)).run()
    tables = [run_table(m) for m in (original, copied, straight)]
    assert tables[0]["outcome"].nunique() > 1  # a copy of something that still had to happen
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    for name in ("agreed_value", "pressure", "budget", "credibility", "ideal"):
        np.testing.assert_array_equal(getattr(copied, name), getattr(original, name), err_msg=name)
    np.testing.assert_array_equal(copied.world.flags, original.world.flags)


# ------------------------------------------------------------------ heavy imports
def test_import_sim_imports_no_heavy_package_until_a_name_needs_it(tmp_path):
    seen = python(
        f"""
        import json, sys
        heavy = lambda: [m for m in {HEAVY!r} if m in sys.modules]
        import sim
        after_import = heavy()
        sim.load_scenario, sim.ScenarioError
        after_loader = heavy()
        sim.run_batch
        print(json.dumps({{"import": after_import, "loader": after_loader, "run_batch": heavy()}}))
        """,
        tmp_path,
    )
    assert seen["import"] == [] and seen["loader"] == []
    assert "pandas" in seen["run_batch"] and "mesa" in seen["run_batch"]  # the check sees them when they come


def imported_by(*args: str) -> set[str]:
    """The top-level packages the installed ``negsim`` imports to answer ``args`` (``python -X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(NEGSIM), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    assert len(lines) > 50, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}


@pytest.mark.parametrize("args", [("--help",), ("validate", "scenarios/baseline.yaml")], ids=["help", "validate"])
def test_the_command_answers_without_importing_heavy_packages(args):
    imported = imported_by(*args)
    assert "sim" in imported and "typer" in imported  # the measure sees the imports it should
    assert not set(HEAVY) & imported, sorted(set(HEAVY) & imported)
