"""Faults: killed batches, corrupted chunks, two batches in one folder, a Dask worker lost mid-batch.

Every scenario ends with the same check: the runs in the folder are exactly runs 0..N-1, once each,
row for row equal to an uninterrupted in-process batch. Kill points survived and runs lost or
duplicated are printed (``pytest -s``) and carried in the assertion messages.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.batch.folder import ResultsError, chunk_path
from sim.batch.runner import load_results, run_batch

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "scenarios/baseline.yaml"
NEGSIM = Path(sys.executable).with_name("negsim")
RUNS, BLOCK = 60_000, 2_000
BATCH = ["run", BASELINE, "--runs", str(RUNS), "--workers", "2", "--block-size", str(BLOCK), "--quiet"]
PATIENCE = 300  # seconds to wait for a process or a file: only turns a hang into a failure


@pytest.fixture(scope="module")
def baseline():
    return sim.load_scenario(ROOT / BASELINE)


@pytest.fixture(scope="module")
def reference(baseline, tmp_path_factory):
    """The uninterrupted batch, played in this process."""
    return load_results(
        run_batch(baseline, tmp_path_factory.mktemp("reference") / "r", runs=RUNS, workers=1, block_size=BLOCK)
    )


def start(out: Path, *extra: str) -> subprocess.Popen:
    """``negsim run`` in a session of its own, so that killing its group kills its workers too."""
    return subprocess.Popen(
        [str(NEGSIM), *BATCH, "--out", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def chunks(out: Path) -> int:
    return len(list((out / "runs").glob("chunk-*.parquet")))


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def unlocked(out: Path) -> bool:
    """True once no process (a killed batch's last worker included) holds the folder's lock."""
    if not (out / ".lock").exists():
        return True
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def kill(proc: subprocess.Popen, out: Path) -> str:
    """SIGKILL the batch and all its processes; return where the kill landed."""
    with_chunks = chunks(out)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=PATIENCE)
    wait_for(lambda: unlocked(out), f"the lock of {out} to be released")
    state = "killed" if proc.returncode == -signal.SIGKILL else f"had exited {proc.returncode}"
    return f"{state} at {with_chunks}/{RUNS // BLOCK} chunks"


def tally(df: pd.DataFrame) -> tuple[int, int]:
    """(runs lost, runs duplicated) against runs 0..RUNS-1."""
    unique = df["run"].nunique()
    return RUNS - unique, len(df) - unique


def check_complete(out: Path, reference: pd.DataFrame, story: str) -> str:
    df = load_results(out)
    lost, duplicated = tally(df)
    note = f"{story}; runs lost {lost}, duplicated {duplicated}"
    assert (lost, duplicated) == (0, 0) and df["run"].tolist() == list(range(RUNS)), note
    pd.testing.assert_frame_equal(df, reference, obj=note)
    assert (out / "summary.json").exists(), note
    print(f"\n{note}")
    return note


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_results(reference, tmp_path):
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    out = tmp_path / "killed"
    landed = []
    proc = start(out)
    wait_for(lambda: chunks(out) > 0 or proc.poll() is not None, "the first chunk")
    landed.append(kill(proc, out))  # one kill point sure to fall mid-batch
    for _ in range(5):  # and others wherever chance puts them: start-up, mid-batch, writing outputs
        proc = start(out, "--resume")
        time.sleep(rng.uniform(0.5, 4))
        landed.append(kill(proc, out))
    proc = start(out, "--resume")
    _stdout, stderr = proc.communicate(timeout=PATIENCE)
    story = f"seed {seed}: kill points {landed}"
    assert proc.returncode == 0 and "Traceback" not in stderr, f"{story}\n{stderr}"
    survived = sum(s.startswith("killed") for s in landed)
    assert survived >= 1, story
    check_complete(out, reference, f"{story}: survived {survived} kill points")


@pytest.mark.slow
def test_a_corrupt_chunk_is_named_on_read_and_repaired_by_resume(baseline, tmp_path):
    out = run_batch(baseline, tmp_path / "r", runs=6000, workers=1, block_size=BLOCK)
    intact = load_results(out)
    truncated, scribbled = chunk_path(out, "runs", 1), chunk_path(out, "runs", 2)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    data = scribbled.read_bytes()  # a footer intact around damaged data pages
    scribbled.write_bytes(data[:5000] + bytes(b ^ 0xFF for b in data[5000:6000]) + data[6000:])
    with pytest.raises(ResultsError, match=str(truncated)):
        load_results(out)
    shown = subprocess.run([str(NEGSIM), "summary", str(out)], capture_output=True, text=True, timeout=PATIENCE)
    assert shown.returncode == 2 and shown.stderr.splitlines() == [shown.stderr.strip()], shown.stderr
    assert str(truncated) in shown.stderr and "Traceback" not in shown.stderr
    resume = ["run", BASELINE, "--runs", "6000", "--out", str(out), "--resume", "--quiet"]
    repaired = subprocess.run([str(NEGSIM), *resume], cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE)
    assert repaired.returncode == 0, repaired.stderr
    pd.testing.assert_frame_equal(load_results(out), intact)


@pytest.mark.slow
def test_what_a_kill_before_or_during_set_up_leaves_is_resumed(baseline, tmp_path):
    early = tmp_path / "early"  # killed while writing meta.json: the lock and a temporary file
    early.mkdir()
    (early / ".lock").touch()
    (early / ".meta.json.k1ll3d.tmp").write_text('{"runs": 30')
    run_batch(baseline, early, runs=3000, workers=1, block_size=1000, resume=True)
    later = run_batch(baseline, tmp_path / "later", runs=3000, workers=1, block_size=1000)
    for leftover in ["scenario.yaml", *(f"runs/{p.name}" for p in (later / "runs").iterdir())]:
        (later / leftover).unlink()  # killed after meta.json, before scenario.yaml
    run_batch(baseline, later, runs=3000, workers=1, resume=True)
    sim.write_outputs(later)
    pd.testing.assert_frame_equal(load_results(later), load_results(early))
    assert load_results(early)["run"].tolist() == list(range(3000))
    stranger = tmp_path / "stranger"  # but a folder holding anything else is not taken over
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError, match="not a results folder"):
        run_batch(baseline, stranger, runs=3000, workers=1, resume=True)


@pytest.mark.slow
def test_a_second_batch_into_a_busy_folder_is_refused(reference, tmp_path):
    out = tmp_path / "busy"
    first = start(out)
    wait_for(lambda: (out / "meta.json").exists() or first.poll() is not None, "the first batch to start")
    second = subprocess.run(
        [str(NEGSIM), *BATCH, "--out", str(out), "--overwrite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert second.returncode == 2, second.stderr
    assert second.stderr.splitlines() == [f"{out}: another batch is writing to this folder"], second.stderr
    _, stderr = first.communicate(timeout=PATIENCE)
    assert first.returncode == 0, stderr
    check_complete(out, reference, "two batches at once: the second refused")


@pytest.mark.slow
def test_a_dask_worker_killed_mid_batch_loses_nothing(baseline, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    killed = []

    def kill_a_worker(cluster):
        wait_for(lambda: chunks(out) > 0, "the first chunk")
        name, nanny = sorted(cluster.workers.items())[0]
        os.kill(nanny.process.process.pid, signal.SIGKILL)
        killed.append((name, chunks(out)))

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        killer = threading.Thread(target=kill_a_worker, args=(cluster,), daemon=True)
        killer.start()
        run_batch(baseline, out, runs=RUNS, scheduler=cluster.scheduler_address, block_size=BLOCK)
        killer.join(timeout=PATIENCE)
    ((name, at),) = killed
    story = f"Dask: worker {name} killed at {at}/{RUNS // BLOCK} chunks"
    assert at < RUNS // BLOCK, story  # the batch still had blocks to play
    sim.write_outputs(out)
    check_complete(out, reference, f"{story}, survived 1 kill point")
