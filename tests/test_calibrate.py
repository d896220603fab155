"""Calibration (``negsim calibrate``): ABC-SMC recovers known parameters on a synthetic case, writes a
scenario that extends the original with the posterior, resumes after an interruption without ever leaving
half a file, and refuses bad targets on their lines."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.analysis import calibrate as cal
from sim.analysis.calibrated_scenario import calibrated_file, write_scenario
from sim.cli import app
from sim.engine.model import NegotiationModel
from sim.engine.tables import measure
from sim.scenario.loader import load, validate
from sim.scenario.parameters import uncertain
from sim.scenario.targets import Targets
from tests.helpers import assert_image
from tests.test_as_of import RESUMABLE

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "targets" / "reference_ceasefires.yaml"
TRUTH = {"risk.hazard": 0.02, "events.opening.hazard": 0.3, "milestones.built.hazard": 0.3}
WIDE = {"risk.hazard": (0.0, 0.06), "events.opening.hazard": (0.05, 0.9), "milestones.built.hazard": (0.05, 0.9)}
OUTCOMES = ["declared", "collapse", "implemented:built"]


def with_values(values: dict) -> dict:
    """The resumable test scenario (tests/test_as_of.py) with its risk hazard, talks-opening hazard and
    milestone hazard set to ``values`` (numbers, or (low, high) for a uniform)."""
    data = copy.deepcopy(RESUMABLE)
    as_value = lambda v: {"dist": "uniform", "low": v[0], "high": v[1]} if isinstance(v, tuple) else v
    data["risk"]["hazard"] = as_value(values["risk.hazard"])
    data["events"][0]["hazard"] = as_value(values["events.opening.hazard"])
    data["milestones"][0]["hazard"] = as_value(values["milestones.built.hazard"])
    return data


def synthetic_targets(sample: int = 300) -> dict:
    """Targets observed on the scenario with the true values: 4,000 runs at another seed, each frequency
    with the uncertainty of a reference class of ``sample`` cases."""
    model = NegotiationModel(validate(with_values(TRUTH)), range(4000), seed=99).run()
    targets = []
    for outcome in OUTCOMES:
        p = float(measure(model, outcome).mean())
        sd = max(float(np.sqrt(p * (1 - p) / sample)), 0.01)
        targets.append({"outcome": outcome, "frequency": round(p, 4), "sd": round(sd, 4)})
    return {"name": "synthetic", "reference": "simulated at known values", "targets": targets}


@pytest.mark.slow
def test_abc_recovers_known_values_on_a_synthetic_case(tmp_path):
    """Calibrate a widened copy to the outputs of the scenario with known values (fixed seed, small budget):
    every known value lies in its posterior 95% interval, the collapse hazard (which the targets pin) is
    learnt (its interval under two thirds of the prior's), and the posterior reproduces the targets."""
    spec = validate(with_values(WIDE))
    targets = Targets.model_validate(synthetic_targets())
    settings = cal.Settings(population=50, generations=4, runs_per_point=100, seed=5)
    result = cal.calibrate(spec, targets, list(TRUTH), tmp_path / "run", settings)
    rows = {r["parameter"]: r for r in result["parameters"]}
    for path, value in TRUTH.items():
        assert rows[path]["low"] <= value <= rows[path]["high"], rows[path]
    hazard = rows["risk.hazard"]
    # learnt: 0.60 of the prior's width under the third version's risk factors (0.5 or less under the second)
    assert hazard["high"] - hazard["low"] < 2 / 3 * (hazard["prior_high"] - hazard["prior_low"])
    assert all(c["reproduced"] for c in result["predictive"]), result["predictive"]
    assert result["epsilons"] == sorted(result["epsilons"], reverse=True) and result["epsilons"][-1] < 2
    figure = cal.prior_draws(spec, list(TRUTH))
    assert set(figure) == set(TRUTH)


def write_case(tmp_path) -> tuple[Path, Path]:
    """The widened synthetic scenario and its targets, as files."""
    scenario, targets = tmp_path / "wide.yaml", tmp_path / "targets.yaml"
    scenario.write_text(yaml.safe_dump(with_values(WIDE)))
    targets.write_text(yaml.safe_dump(synthetic_targets()))
    return scenario, targets


SMALL = ["--population", "20", "--generations", "2", "--runs-per-point", "40", "--seed", "3"]
KNOWN = [x for p in TRUTH for x in ("--param", p)]


def test_the_command_writes_a_scenario_that_extends_the_original_with_the_posterior(tmp_path):
    scenario, targets = write_case(tmp_path)
    out, folder = tmp_path / "out" / "calibrated.yaml", tmp_path / "cal"
    args = ["calibrate", str(scenario), "--targets", str(targets), "--out", str(out), "--folder", str(folder), *KNOWN]
    result = CliRunner().invoke(app, [*args, *SMALL])
    assert result.exit_code == 0, result.output
    assert "posterior predictive check" in result.stdout and "risk" not in result.stderr
    raw = yaml.safe_load(out.read_text())
    assert raw["extends"] == "../wide.yaml"
    calibrated, original = load(out), load(scenario)
    posterior = uncertain(calibrated)
    assert posterior["risk.hazard"].dist == "beta" and posterior["risk.hazard"].support() == (0.0, 0.06)
    assert uncertain(original)["risk.hazard"].dist == "uniform"
    assert calibrated.risk.basis["hazard"].startswith("calibrated by negsim calibrate")
    assert str(folder) in calibrated.events[0].basis["hazard"]
    assert "targets.yaml" in calibrated.milestones[0].basis["hazard"]
    state = json.loads((folder / "calibration.json").read_text())
    assert state["status"] == "complete" and state["populations"] == 2
    facts = json.loads((folder / "result.json").read_text())
    rows = {r["parameter"]: r for r in facts["parameters"]}
    posterior_mean = posterior["risk.hazard"].ppf(np.linspace(0.0005, 0.9995, 2000)).mean()
    assert posterior_mean == pytest.approx(rows["risk.hazard"]["mean"], rel=0.02)  # the beta keeps the mean
    assert len(facts["predictive"]) == 3
    assert_image(folder / "figures" / "calibration.png")
    assert (
        (folder / "posterior.csv")
        .read_text()
        .startswith("risk.hazard,events.opening.hazard,milestones.built.hazard,weight")
    )
    assert uncertain(calibrated)["actors.p.reservation"] == uncertain(original)["actors.p.reservation"]  # not fitted
    again = CliRunner().invoke(app, [*args, *SMALL])  # nothing is overwritten without asking
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_an_interrupted_calibration_leaves_no_scenario_and_resumes(tmp_path, monkeypatch):
    scenario, targets = write_case(tmp_path)
    out, folder = tmp_path / "calibrated.yaml", tmp_path / "cal"
    args = ["calibrate", str(scenario), "--targets", str(targets), "--out", str(out), "--folder", str(folder), *SMALL]
    real = cal.frequencies

    def interrupted(*a, **kw):  # Ctrl-C in the second population, once the first is stored
        import pyabc

        if pyabc.History(f"sqlite:///{folder / cal.DATABASE}").max_t >= 0:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(cal, "frequencies", interrupted)
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 130 and "--resume" in first.stderr and "Traceback" not in first.output
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
    state = json.loads((folder / "calibration.json").read_text())
    assert state["status"] == "interrupted" and state["populations"] == 1
    monkeypatch.setattr(cal, "frequencies", real)
    refused = CliRunner().invoke(app, [*args[:-2], "--seed", "4", "--resume"])  # not the calibration begun
    assert refused.exit_code == 2 and "cannot resume: the seed differs" in refused.stderr
    resumed = CliRunner().invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((folder / "calibration.json").read_text())["populations"] == 2
    assert uncertain(load(out))["risk.hazard"].dist == "beta"


def bad_targets(tmp_path, text: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return path


GOOD = TARGETS.read_text()
BAD = [
    (GOOD.replace("  - outcome: collapse\n", "  - outcome: colapse\n    frequency: 0.5\n    sd: 0.2\n"),
     "targets.1.outcome",
     "not an outcome of Gaza phase two - baseline (mid-December 2025) (did you mean 'collapse'?)"),
    (GOOD.replace("observed: {declared: false, collapse: false}\n    basis:\n      type: \"rc-12",
                  "observd: {}\n    basis:\n      type: \"rc-12"),
     "cases.gaza_2014_08.observd",
     "unknown key (did you mean 'observed'?)"),
    (GOOD.replace("  - outcome: declared\n", "  - outcome: declared\n    frequency: 0.2\n"), "targets.0",
     "give frequency and sd together"),
    (GOOD.replace("  - outcome: collapse\n", "  - outcome: collapse\n    frequency: 1.4\n    sd: 0.1\n"),
     "targets.1.frequency", "less than or equal to 1"),
    (GOOD.replace("  - id: gaza_2014_08", "  - id: gaza_2023_11"), "cases.gaza_2023_11.id",
     "duplicate case 'gaza_2023_11'"),
    ("name: x\nreference: y\ntargets: []\n", "targets", "at least 1 item"),
    ("name: x\nreference: y\ntargets:\n  - outcome: implemented:committee_governing\n", "targets.0",
     "no case observes 'implemented:committee_governing'"),
]  # fmt: skip


@pytest.mark.parametrize("text, path, message", BAD, ids=[b[1] for b in BAD])
def test_bad_targets_are_refused_on_their_line(tmp_path, text, path, message):
    targets = bad_targets(tmp_path, text)
    out = tmp_path / "out.yaml"
    args = ["calibrate", str(ROOT / "scenarios" / "baseline.yaml"), "--targets", str(targets), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--folder", str(tmp_path / "cal"), *SMALL])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{targets}:") and f": {path}: " in line and message in line for line in lines), lines
    assert "Traceback" not in result.output and not out.exists() and not (tmp_path / "cal").exists()


def test_targets_never_come_from_the_case_being_calibrated(tmp_path):
    """The January 2025 reference case is in the reference class: calibrating it to these targets is refused."""
    out = tmp_path / "out.yaml"
    case = ROOT / "scenarios" / "reference" / "gaza_2025_01.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(case), "--targets", str(TARGETS), "--out", str(out), *SMALL])
    assert result.exit_code == 2
    line = next(x for x in GOOD.splitlines() if "gaza_2025_01.yaml" in x)
    assert (
        f"{TARGETS}:{GOOD.splitlines().index(line) + 1}: cases.gaza_2025_01.scenario: this case is the scenario"
        in result.stderr
    )
    assert not out.exists()


def test_the_reference_class_counts_its_cases():
    from sim.scenario.targets import load_targets

    targets, _ = load_targets(TARGETS)
    assert targets.counts("declared") == (0, 3) and targets.counts("collapse") == (2, 4)
    # the collapse target counts the open-ended ceasefires only: the time-limited truces ended at their expiry
    assert targets.targets[1].types == ["open_ended"] and targets.counts("collapse", ["open_ended"]) == (0, 2)
    p, sd = targets.value(targets.targets[1])  # Jeffreys Beta(0.5, 2.5)
    assert p == pytest.approx(1 / 6) and sd == pytest.approx(np.sqrt(0.5 * 2.5 / (3**2 * 4)))


def test_unknown_parameters_are_named(tmp_path):
    out = tmp_path / "out.yaml"
    args = ["calibrate", str(ROOT / "scenarios" / "baseline.yaml"), "--targets", str(TARGETS), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--param", "risk.stall_grwth", "--folder", str(tmp_path / "c"), *SMALL])
    assert result.exit_code == 2 and "did you mean 'risk.stall_growth'?" in result.stderr


@pytest.mark.slow
def test_a_killed_calibration_resumes_from_its_database(tmp_path):
    """A real kill (SIGKILL, no handler runs): the finished populations stay in the database, no scenario file
    (nor half of one) exists, and --resume carries on from the populations stored."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    scenario, targets = write_case(tmp_path)
    out, folder = tmp_path / "calibrated.yaml", tmp_path / "cal"
    negsim = Path(sys.executable).with_name("negsim")
    args = ["calibrate", str(scenario), "--targets", str(targets), "--out", str(out), "--folder", str(folder), *KNOWN]
    settings = ["--population", "20", "--runs-per-point", "40", "--seed", "3", "--min-epsilon", "0"]
    proc = subprocess.Popen([negsim, *args, *settings, "--generations", "8"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    stored, deadline = 0, time.monotonic() + 240

    def populations() -> int:
        try:
            with sqlite3.connect(folder / cal.DATABASE, timeout=1) as db:
                return db.execute("select count(*) from populations where t >= 0").fetchone()[0]
        except sqlite3.Error:
            return 0

    while stored < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
        stored = populations()
    assert proc.poll() is None, "the calibration finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = populations()
    assert stored >= 1 and not out.exists() and not list(tmp_path.glob(".*.tmp"))
    assert json.loads((folder / "calibration.json").read_text())["status"] == "running"  # as the kill left it
    resumed = CliRunner().invoke(app, [*args, *settings, "--generations", str(stored + 1), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert populations() == stored + 1
    assert json.loads((folder / "calibration.json").read_text())["populations"] == stored + 1
    assert uncertain(load(out))["risk.hazard"].dist == "beta"


KINDS = {  # a parameter of each kind of place in the baseline, and the basis key it is cited under
    "veto_players.military_wing.bounds.force.max": ("veto_players", "military_wing", "bounds"),
    "red_lines.disarmament.relax.audience_cost": ("red_lines", "disarmament", "relax"),
    "events.trump_netanyahu_summit.effects.align.united_states.share": ("events", "trump_netanyahu_summit", "effects"),
    "actors.israel.concession.deadline": ("actors", "israel", "concession"),
    "actors.israel.reservation": ("actors", "israel", "reservation"),
    "protocol.pressure_decay": ("protocol", None, "pressure_decay"),
}


def test_every_kind_of_parameter_lands_in_the_calibrated_file_with_its_basis(tmp_path):
    """The posterior of parameters set in lists by id, in mappings by issue or actor, and in nested sourced objects
    goes where extends: merges it, and each basis cites the run beside its prior's own basis."""
    baseline = ROOT / "scenarios" / "baseline.yaml"
    spec = load(baseline)
    dists = uncertain(spec)
    rows = []
    for path in KINDS:
        lo, hi = dists[path].support()
        rows.append({"parameter": path, "prior": cal._describe(dists[path]),
                     "fitted": {"dist": "beta", "a": 2.0, "b": 5.0, "low": lo, "high": hi}})  # fmt: skip
    result = {"parameters": rows, "epsilons": [3.0, 0.9], "finished": "2026-01-01T00:00:00", "pyabc": "x",
              "populations": 2, "population": 100, "runs_per_point": 200, "seed": 1}  # fmt: skip
    targets = Targets.model_validate({"name": "t", "reference": "r", "targets": [{"outcome": "declared",
                                      "frequency": 0.2, "sd": 0.1}]})  # fmt: skip
    out = tmp_path / "sub" / "calibrated.yaml"
    out.parent.mkdir()
    write_scenario(calibrated_file(spec, baseline, targets, TARGETS, result, tmp_path / "run", out), out)
    calibrated = load(out)
    after = uncertain(calibrated)
    assert set(after) == set(dists)  # nothing lost, nothing added
    for path, (section, ident, key) in KINDS.items():
        assert after[path].dist == "beta" and (after[path].a, after[path].b) == (2.0, 5.0), path
        owner = getattr(calibrated, section)
        owner = next(x for x in owner if x.id == ident) if ident else owner
        if key in ("relax", "concession"):
            owner, key = getattr(owner, key), path.rsplit(".", 1)[1]
        assert owner.basis[key].startswith("calibrated by negsim calibrate on 2026-01-01"), path
        assert "its basis:" in owner.basis[key] and str(tmp_path / "run") in owner.basis[key]
    untouched = [p for p in dists if p not in KINDS]
    assert all(after[p] == dists[p] for p in untouched)
    assert calibrated.actors[0].basis["position"] == spec.actors[0].basis["position"]  # other bases kept


@given(
    st.lists(st.floats(0.0, 1.0), min_size=3, max_size=40),
    st.lists(st.floats(0.01, 1.0), min_size=40, max_size=40),
    st.floats(-50, 50),
    st.floats(0.5, 100),
)
def test_a_fitted_beta_keeps_the_support_and_the_weighted_mean(unit, weights, low, width):
    """The posterior as a beta on the prior's support: its mean is the particles' weighted mean (unless the
    particles sit on one end, where the beta cannot)."""
    from sim.scenario.distributions import Beta, Uniform

    prior = Uniform(dist="uniform", low=low, high=low + width)
    x = low + width * np.asarray(unit)
    w = np.asarray(weights[: len(x)])
    w = w / w.sum()
    fit = Beta(**cal.fitted(prior, x, w))
    assert fit.support() == prior.support()
    m = float(np.sum(w * x))
    if 0.01 < (m - low) / width < 0.99:
        assert fit.low + (fit.high - fit.low) * fit.a / (fit.a + fit.b) == pytest.approx(m, rel=1e-4, abs=1e-4 * width)


def test_the_calibration_text_keeps_prior_and_posterior_apart():
    """Small numbers with long quantiles do not run the two columns together (3 significant digits, a gap)."""
    row = {"label": "US on Israel after summit: strength", "prior_mean": 0.0175, "prior_low": 0.005628,
           "prior_high": 0.02937, "mean": 0.009301, "low": 0.005388, "high": 0.01844}  # fmt: skip
    result = {"scenario": "s", "targets": "t", "pyabc": "0", "populations": 1, "population": 10,
              "runs_per_point": 5, "simulations": 10, "seed": 1, "epsilons": [1.0], "parameters": [row],
              "predictive": []}  # fmt: skip
    line = next(x for x in cal.calibration_text(result).splitlines() if x.startswith("US on Israel"))
    assert "0.0175 [0.00563, 0.0294]  " in line
    assert line.rstrip().endswith("0.0093 [0.00539, 0.0184]")
