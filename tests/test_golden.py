"""Results pinned against golden tables: a change meant to keep the numbers must keep these.

The golden tables are written by this module (``NEGSIM_WRITE_GOLDEN=1 pytest tests/test_golden.py``); rewrite
them only for a change that is meant to move the numbers, and say so in its commit. They were last written
for the model's third version (ways to declare a phase, a start state, preconditions that gate acts, drafters
who see veto players, risk of the talks' state, expiries, structural mechanisms), which changed the numbers on
purpose. Tables are compared as data (columns, dtypes, values), not as bytes: integers and texts exactly, floats
to 1e-12 (numpy releases may round a sum or a power differently in the last bit: numpy 2.5 moves a few values by
up to 3e-14 against tables written under an earlier release, which no real change of the model does). Beside
them, each case's summary (``summary.json`` as a results folder has it), compared as text: the summary's numbers
may change only with the runs'.
"""

import copy
import json
import os
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.scenario.loader import read, validate

GOLDEN = Path(__file__).parent / "golden"
SCENARIOS = Path(__file__).parent.parent / "scenarios"
RUNS, SEED, TRAJECTORIES = 500, 7, 4


def _protocol_variant(rule: str, strategy: str | None = None):
    """The baseline under another table rule (no tablers: only bridging has them); with ``strategy`` (a two-party
    one, such as Zeuthen's) both principals bargain over one comprehensive phase, so the phases go and the
    milestones follow their issues alone."""
    data, _ = read(SCENARIOS / "baseline.yaml")
    data = copy.deepcopy(data)
    data["protocol"]["rule"] = rule
    data["protocol"].pop("tabled_by", None)
    if strategy:
        data.pop("phases")
        data["mechanisms"] = [m for m in data["mechanisms"] if m["id"] != "declaration"]  # it sets a phase's rule
        for milestone in data["milestones"]:
            milestone.pop("phase", None)
        for actor in data["actors"][:2]:
            actor["concession"] = {"strategy": strategy}
    return validate(data)


CASES = {f.stem: (lambda f=f: sim.load_scenario(f)) for f in sorted(SCENARIOS.glob("*.yaml"))}
CASES["nash"] = lambda: _protocol_variant("nash")
CASES["alternating_zeuthen"] = lambda: _protocol_variant("alternating", "zeuthen")


def summary_text(runs: pd.DataFrame, scenario) -> str:
    """The summary of a case's runs as ``summary.json`` holds it."""
    return json.dumps(sim.summarize(runs, {"seed": SEED}, scenario), indent=2, default=float) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_match_golden_tables(name):
    scenario = CASES[name]()
    model = sim.simulate(scenario, runs=RUNS, seed=SEED, trajectories=TRAJECTORIES)
    tables = {"runs": sim.run_table(model), "trajectories": sim.trajectory_table(model)}
    for kind, table in tables.items():
        path = GOLDEN / f"{name}.{kind}.parquet"
        if os.environ.get("NEGSIM_WRITE_GOLDEN"):
            table.to_parquet(path, index=False, compression="zstd")
        golden = pd.read_parquet(path)
        pd.testing.assert_frame_equal(
            table.reset_index(drop=True), golden, check_exact=False, rtol=1e-12, atol=1e-12, check_categorical=False
        )
    summary, path = summary_text(tables["runs"], scenario), GOLDEN / f"{name}.summary.json"
    if os.environ.get("NEGSIM_WRITE_GOLDEN"):
        path.write_text(summary)
    assert summary == path.read_text(), f"{name}: the summary of the golden runs changed"
    outcomes = set(tables["runs"]["outcome"])
    assert "declared" in outcomes and len(outcomes) > 1, f"{name}: a golden table that pins one outcome pins little"
    assert len(tables["trajectories"]) > 0
