"""Faults: killed batches, corrupted chunks, two batches in one folder, a Dask worker lost mid-batch.

Every scenario ends with the same check: the runs in the folder are exactly runs 0..N-1, once each,
row for row equal to an uninterrupted in-process batch. Kill points survived and runs lost or
duplicated are printed (``pytest -s``) and carried in the assertion messages.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import distributed
import pandas as pd
import psutil
import pytest

import sim
from sim.analysis import summary
from sim.batch import folder as folder_module
from sim.batch import runner
from sim.batch.errors import ADVICE, StorageError
from sim.batch.folder import ResultsError, chunk_path, locked, read_meta
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


@pytest.fixture
def chance() -> tuple[int, random.Random]:
    """A random number generator and its seed, drawn afresh and told in the stories of failures."""
    seed = int.from_bytes(os.urandom(4), "big")
    return seed, random.Random(seed)


@pytest.fixture(scope="module")
def reference(baseline, tmp_path_factory):
    """The uninterrupted batch, played in this process."""
    return load_results(
        run_batch(baseline, tmp_path_factory.mktemp("reference") / "r", runs=RUNS, workers=1, block_size=BLOCK)
    )


def start(out: Path, *extra: str, inject: str | None = None) -> subprocess.Popen:
    """``negsim run`` in a session of its own, so that killing its group kills its workers too; with
    ``inject``, the name of an errno injected into its writer (see INJECTED)."""
    command = [sys.executable, "-c", INJECTED, inject] if inject else [str(NEGSIM)]
    return subprocess.Popen(
        [*command, *BATCH, "--out", str(out), *extra],
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


def tally(df: pd.DataFrame, runs: int = RUNS) -> tuple[int, int]:
    """(runs lost, runs duplicated) against runs 0..runs-1."""
    unique = df["run"].nunique()
    return runs - unique, len(df) - unique


def check_complete(out: Path, reference: pd.DataFrame, story: str, runs: int = RUNS) -> str:
    """The folder's per-run table, sorted by run, equals the uninterrupted batch's: nothing lost or duplicated;
    its summary (streamed from the folder) is the uninterrupted batch's to the last digit (the spread across
    assumptions, played apart from the batch, aside)."""
    df = load_results(out)
    lost, duplicated = tally(df, runs)
    note = f"{story}; runs lost {lost}, duplicated {duplicated}"
    assert (lost, duplicated) == (0, 0) and df["run"].tolist() == list(range(runs)), note
    by_run = df.sort_values("run").reset_index(drop=True)
    pd.testing.assert_frame_equal(by_run, reference.sort_values("run").reset_index(drop=True), obj=note)
    expected = summary.summarize(reference, read_meta(out), sim.load_scenario(out / "scenario.yaml"))
    written = {k: v for k, v in json.loads((out / "summary.json").read_text()).items() if k != "uncertainty"}
    assert json.dumps(written, indent=2) == json.dumps(expected, indent=2, default=float), note
    print(f"\n{note}")
    return note


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_results(reference, tmp_path, chance):
    seed, rng = chance
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
    holder = rf"\(pid {first.pid} on this host since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\)"
    assert re.fullmatch(rf"{re.escape(str(out))}: another batch is writing to this folder {holder}\n", second.stderr)
    _, stderr = first.communicate(timeout=PATIENCE)
    assert first.returncode == 0, stderr
    check_complete(out, reference, "two batches at once: the second refused")


@pytest.mark.slow
def test_a_dask_worker_killed_mid_batch_loses_nothing(baseline, reference, tmp_path):
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


# Faults as they happen in the field (issue 12): the main process killed alone, SIGTERM and SIGHUP, a full,
# read-only or forbidden disk, too many open files, a lost Dask scheduler or all its workers. Each is followed
# by --resume and the check above; none may leave a process behind.

BIG = 200_000  # long enough that twenty kills at random moments mostly land mid-batch


@pytest.fixture(scope="module")
def big_reference(baseline, tmp_path_factory):
    return load_results(
        run_batch(baseline, tmp_path_factory.mktemp("big") / "r", runs=BIG, workers=1, block_size=BLOCK)
    )


def family(pid: int) -> list[psutil.Process]:
    """A process and all its descendants, as they are now."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def left_behind(members: list[psutil.Process], out: Path) -> list[str]:
    """Live processes (zombies are dead) among ``members`` or whose command line names ``out``."""
    found = {}
    for process in [*members, *psutil.process_iter()]:
        with contextlib.suppress(psutil.Error):
            if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
                continue
            command = " ".join(process.cmdline())
            if process in members or str(out) in command:
                found[process.pid] = f"{process.pid} {command[:120]}"
    return sorted(found.values())


def nothing_left(members: list[psutil.Process], out: Path) -> float:
    """Wait until no process of a stopped batch is left; return how long that took."""
    began = time.monotonic()
    wait_for(lambda: not left_behind(members, out), f"no process to be left (left: {left_behind(members, out)})")
    return time.monotonic() - began


def one_line(stderr: str) -> str:
    """The one line a failed command printed (no traceback, nothing else)."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def negsim(*args: str, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEGSIM), *args], cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE, **popen)


def resume(out: Path, runs: int = RUNS) -> subprocess.CompletedProcess:
    done = negsim(*BATCH[:2], "--runs", str(runs), "--workers", "2", "--quiet", "--out", str(out), "--resume")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done


@pytest.mark.slow
def test_kill_9_of_the_main_process_alone_leaves_nothing_and_resume_works_at_once(big_reference, tmp_path, chance):
    """What the OOM killer or ``kill -9 PID`` does: before, the workers lived on, asleep, holding the lock."""
    seed, rng = chance
    out = tmp_path / "killed"
    landed, waits = [], []
    for cycle in range(20):
        proc = start(out, "--runs", str(BIG), *(["--resume"] if cycle else []))
        if rng.random() < 0.75:  # mid-batch, a few chunks on: whatever the machine's speed
            target = chunks(out) + rng.randint(1, 6)
            wait_for(lambda: chunks(out) >= target or proc.poll() is not None, f"chunk {target}")  # noqa: B023
            time.sleep(rng.uniform(0, 0.3))
        else:  # anywhere: start-up, set-up, writing the summary
            time.sleep(rng.uniform(0.1, 4.0))
        members, before = family(proc.pid), chunks(out)
        mid = 0 < before < BIG // BLOCK
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)  # the main process alone: its workers are not touched
        _, stderr = proc.communicate(timeout=PATIENCE)
        story = f"seed {seed}, cycle {cycle}: {stderr}"
        assert proc.returncode in (-signal.SIGKILL, 0), story  # killed, or had finished: never refused
        assert unlocked(out), story  # the lock is free as soon as the main process is gone
        waits.append(nothing_left(members, out))
        landed.append(f"{'killed' if proc.returncode else 'finished'}{' mid-batch' * mid} at {before}/{BIG // BLOCK}")
    done = resume(out, BIG)
    survived = sum(s.startswith("killed") for s in landed)
    mid_batch = sum(s.startswith("killed mid-batch") for s in landed)
    assert mid_batch >= 1, landed
    story = f"seed {seed}: kill points {landed}; survived {survived} kills, {mid_batch} mid-batch"
    story += f"; longest wait for the workers to go {max(waits):.2f} s"
    check_complete(out, big_reference, story, runs=BIG)
    assert "Traceback" not in done.stderr


def test_workers_started_through_the_fork_server_die_with_the_batch(tmp_path):
    """Where the batch's process runs threads (Jupyter), workers come from a fork server: they die too."""
    out = tmp_path / "forkserver"
    script = (
        "import threading, time, sim\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()  # so: no fork\n"
        f"sim.run_batch(sim.load_scenario({BASELINE!r}), {str(out)!r}, runs={BIG}, workers=2, block_size={BLOCK})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    try:
        wait_for(lambda: chunks(out) > 0 or proc.poll() is not None, "the first chunk")
        members = family(proc.pid)
        assert any("forkserver" in " ".join(p.cmdline()) for p in members), [p.cmdline() for p in members]
        proc.kill()
        proc.wait(timeout=PATIENCE)
        nothing_left(members, out)
        assert unlocked(out)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_without_prctl_a_worker_notices_within_a_second_that_its_parent_is_gone():
    """The fallback for systems without PR_SET_PDEATHSIG: a thread watching the parent."""
    worker = (
        "import os, sys, time\nfrom sim.batch import executors\nsys.platform = 'darwin'\n"
        "executors.die_with(os.getppid(), forked=True)\nprint('watching', flush=True)\ntime.sleep(600)"
    )
    spawn = "import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); time.sleep(600)"
    parent = subprocess.Popen(
        [sys.executable, "-c", spawn, sys.executable, "-c", worker],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout.readline() == "watching\n"
    (child,) = family(parent.pid)[1:]
    parent.kill()
    parent.wait()
    wait_for(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, "the worker to exit")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_batch_as_ctrl_c_does(reference, tmp_path, signum):
    """What timeout, systemd, docker stop, Slurm and Kubernetes send, or a closed terminal: before, the
    process died of it, meta.json still said "running" and the workers lived on."""
    out = tmp_path / "stopped"
    proc = start(out)
    wait_for(lambda: chunks(out) > 0 or proc.poll() is not None, "the first chunk")
    members = family(proc.pid)
    os.kill(proc.pid, signum)  # the main process alone
    _, stderr = proc.communicate(timeout=PATIENCE)
    name = signal.Signals(signum).name
    line = one_line(stderr)
    assert proc.returncode == 128 + signum, stderr
    assert line == part_way(str(out), f"stopped by {name}", out)
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["status"], meta["stopped_by"]) == ("interrupted", name)
    nothing_left(members, out)
    kept = chunks(out)
    resume(out)
    check_complete(out, reference, f"{name} at {kept}/{RUNS // BLOCK} chunks")


@pytest.mark.slow
def test_a_local_worker_killed_alone_is_one_line_and_resumable(reference, tmp_path):
    """The OOM killer may pick a worker rather than the main process: before, a BrokenProcessPool traceback."""
    out = tmp_path / "worker"
    proc = start(out)
    wait_for(lambda: chunks(out) > 0 or proc.poll() is not None, "the first chunk")
    members = family(proc.pid)
    os.kill(members[-1].pid, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 1, stderr
    assert one_line(stderr).startswith("negsim: a local worker process died part-way"), stderr
    assert f"--out {out} --resume" in stderr
    nothing_left(members, out)
    resume(out)
    check_complete(out, reference, "a worker killed")


# The lock knows its holder.


def test_a_busy_lock_names_its_holder(tmp_path):
    folder = tmp_path / "r"
    with locked(folder), pytest.raises(ResultsError) as refused, locked(folder):
        pass
    assert re.fullmatch(
        rf"{re.escape(str(folder))}: another batch is writing to this folder "
        rf"\(pid {os.getpid()} on this host since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\)",
        str(refused.value),
    )
    assert (folder / ".lock").read_text() == ""  # released in order: nothing left to take over


def gone_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def stale_record(folder: Path, pid: int, host: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "host": host or socket.gethostname(), "since": time.time() - 3600.0}
    (folder / ".lock").write_text(json.dumps(record))


def test_a_lock_whose_holder_is_gone_is_taken_over_with_a_one_line_notice(baseline, tmp_path):
    out, dead = tmp_path / "r", gone_pid()
    stale_record(out, dead)
    notes = []
    with locked(out, notice=notes.append):
        pass
    assert len(notes) == 1 and re.fullmatch(
        rf"{re.escape(str(out))}: taking over the lock left by pid {dead} on this host since [-\d :]+, which stopped",
        notes[0],
    )
    stale_record(out, dead, host="elsewhere")  # and through the command line, on stderr
    done = negsim(*BATCH[:2], "--runs", "600", "--out", str(out), "--resume", "--quiet")
    assert done.returncode == 0, done.stderr
    assert one_line(done.stderr).startswith(f"{out}: taking over the lock left by pid {dead} on elsewhere since ")


def test_a_lock_held_by_processes_left_over_from_a_dead_batch_names_them(tmp_path):
    """Workers of an older version outliving their batch: named, with what to do."""
    out, dead = tmp_path / "r", gone_pid()
    stale_record(out, dead)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); "
            "print(flush=True); time.sleep(600)",
            str(out / ".lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        holder.stdout.readline()
        held = rf"\(held by pid {holder.pid} left over from pid {dead} on this host"
        with pytest.raises(ResultsError, match=held), locked(out):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_process_forked_while_the_lock_is_held_does_not_hold_it(tmp_path):
    """A worker that outlives its batch's process for any reason must not keep --resume out."""
    folder = tmp_path / "r"
    script = (
        "import os, sys, time\nfrom pathlib import Path\nfrom sim.batch.folder import locked\n"
        "with locked(Path(sys.argv[1])):\n"
        "    if os.fork() == 0:\n"
        "        print(os.getpid(), flush=True)\n"
        "    time.sleep(600)\n"
    )
    batch = subprocess.Popen([sys.executable, "-c", script, str(folder)], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(batch.stdout.readline()))
    try:
        batch.kill()  # dies holding the lock
        batch.wait()
        assert child.is_running() and child.status() != psutil.STATUS_ZOMBIE
        assert unlocked(folder)
    finally:
        child.kill()


# Operating-system errors: one line naming the path and what to do; the folder left resumable.


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    """A tmpfs of ``size`` mounted at ``path`` (root only); yields False where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    try:
        yield mounted.returncode == 0
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, options: str) -> None:
    """Remount (a read-only remount waits for files being written to be closed)."""
    wait_for(
        lambda: subprocess.run(["mount", "-o", f"remount,{options}", str(path)], capture_output=True).returncode == 0,
        f"remount {options} of {path}",
    )


# ``negsim`` with an operating-system error injected into the writer once five runs chunks exist: for machines
# where a small tmpfs or a read-only mount cannot be made. Forked workers inherit it.
INJECTED = """
import errno, os, sys
import sim.batch.folder as folder
from sim.cli import app
real, code = folder._temporary, getattr(errno, sys.argv.pop(1))
def failing(path):
    if path.parent.name == "runs" and len(list(path.parent.glob("chunk-*"))) >= 5:
        raise OSError(code, os.strerror(code))
    return real(path)
folder._temporary = failing
sys.argv[0] = "negsim"
app()
"""


def part_way(where: str, problem: str, out: Path) -> str:
    """The one line of a batch into ``out`` stopped part-way by ``problem`` at ``where``."""
    return f"{where}: {problem}; finished chunks are kept. Finish with: negsim run {BASELINE} --out {out} --resume"


def on_a_file_in(out: Path, line: str) -> str:
    """The file a one-line error names, checked to lie in ``out``."""
    where = line.split(": ", 1)[0]
    assert where.startswith(f"{out}/"), line
    return where


READ_ONLY = "read-only file system; choose a writable --out, or remount it read-write"


def test_a_read_only_location_is_one_line(baseline, tmp_path):
    """Before: a traceback from mkdir."""
    place = tmp_path / "ro"
    with tmpfs(place, "1m") as mounted:
        if not mounted:
            pytest.skip("cannot mount a file system here; the injected EROFS test covers the message")
        remount(place, "ro")
        done = negsim(*BATCH[:2], "--runs", "600", "--out", str(place / "r"), "--quiet")
        assert done.returncode == 1
        assert one_line(done.stderr) == f"{place}/r: {READ_ONLY}"


# fault: (tmpfs size, errno injected where no tmpfs can be mounted, the problem, remount options that make
# the fault mid-batch (a full disk needs none) and that repair it)
DISK_FAULTS = {
    "full": ("3m", "ENOSPC", "no space left on the device; free some space", None, "size=64m"),
    "read-only": ("64m", "EROFS", READ_ONLY, "ro", "rw"),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", DISK_FAULTS)
def test_a_full_or_read_only_disk_is_one_line_and_resume_after_repair_completes_the_batch(reference, tmp_path, fault):
    """Before: tracebacks (three for a full disk) and exit 1; the data was safe, and still is."""
    size, code, problem, make, repair = DISK_FAULTS[fault]
    disk = tmp_path / "disk"
    with tmpfs(disk, size) as mounted:
        out = disk / "r"
        proc = start(out) if mounted else start(out, inject=code)
        if mounted and make:
            wait_for(lambda: chunks(out) > 0 or proc.poll() is not None, "the first chunk")
        members = family(proc.pid)
        if mounted and make:
            remount(disk, make)
        _, stderr = proc.communicate(timeout=PATIENCE)
        assert proc.returncode == 1, stderr
        line = one_line(stderr)
        assert line == part_way(on_a_file_in(out, line), problem, out)
        nothing_left(members, out)
        kept = chunks(out)
        if mounted:
            remount(disk, repair)
        resume(out)
        how = "tmpfs" if mounted else "injected"
        check_complete(out, reference, f"disk {fault} at {kept}/{RUNS // BLOCK} chunks ({how})")


def without_root_privileges():
    """In the child, as root: give up the capabilities that let root write anywhere, so permissions apply."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP: gone for good after exec


def test_permission_denied_is_one_line(tmp_path):
    place = tmp_path / "theirs"
    place.mkdir(mode=0o555)
    done = negsim(*BATCH[:2], "--runs", "600", "--out", str(place / "r"), "--quiet", preexec_fn=without_root_privileges)
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"{place}/r: permission denied; choose a folder you may write to, or change its permissions"
    )


@pytest.mark.slow
def test_too_many_open_files_is_one_line_and_resumable(reference, tmp_path):
    out = tmp_path / "fds"
    done = negsim(*BATCH, "--out", str(out), preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (12, 12)))
    assert done.returncode == 1
    assert one_line(done.stderr).startswith(
        f"{out}: too many open files; raise the limit (ulimit -n 4096) or use fewer --workers"
    )
    resume(out)
    check_complete(out, reference, "too many open files")


@pytest.mark.parametrize("code", ["ENOSPC", "EROFS", "EACCES", "EMFILE"])
def test_each_operating_system_error_in_the_writer_leaves_the_folder_resumable(baseline, tmp_path, code):
    """Injected in this process, so that it runs anywhere: the message, the exception, resuming."""
    out, runs = tmp_path / "r", 5 * BLOCK
    reference = load_results(run_batch(baseline, tmp_path / "reference", runs=runs, workers=1, block_size=BLOCK))
    real = folder_module._temporary

    def failing(path):
        if path.parent.name == "runs" and chunks(out) >= 3:
            raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))
        return real(path)

    folder_module._temporary = failing
    try:
        with pytest.raises(StorageError) as stopped:
            run_batch(baseline, out, runs=runs, workers=1, block_size=BLOCK)
    finally:
        folder_module._temporary = real
    problem, todo = ADVICE[getattr(errno, code)]
    where = str(out) if code == "EMFILE" else str(out / "runs" / "chunk-000003.parquet")
    assert str(stopped.value) == f"{where}: {problem}; {todo}" and stopped.value.resumable
    assert chunks(out) == 3 and json.loads((out / "meta.json").read_text())["status"] == "interrupted"
    run_batch(baseline, out, workers=1, resume=True)
    pd.testing.assert_frame_equal(load_results(out), reference)


# Dask: a scheduler or all its workers lost mid-batch; workers that reach the folder write their own chunks.


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, workers: int = 2):
    """A ``dask scheduler`` and a ``dask worker`` process of their own, as an operator starts them."""
    bin_dir, file = Path(sys.executable).parent, tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "cwd": tmp_path}
    scheduler = subprocess.Popen(
        [
            bin_dir / "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            file,
        ],
        **quiet,
    )
    worker = None
    try:
        wait_for(lambda: file.exists() and '"address"' in file.read_text(), "the scheduler")
        address = json.loads(file.read_text())["address"]
        worker = subprocess.Popen(
            [bin_dir / "dask", "worker", address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"],
            **quiet,
        )
        with distributed.Client(address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=PATIENCE)
        yield address, scheduler, worker
    finally:
        for proc in (scheduler, worker):
            if proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("lost", ["scheduler", "workers"])
def test_a_dask_scheduler_or_all_its_workers_lost_mid_batch_is_one_line_and_resumable(reference, tmp_path, lost):
    """Before: a FutureCancelledError traceback under a screen of log lines (scheduler), or a batch waiting
    for ever (workers)."""
    out = tmp_path / "dask"
    with dask_cluster(tmp_path) as (address, scheduler, worker):
        proc = start(out, "--scheduler", address)
        wait_for(lambda: chunks(out) > 0 or proc.poll() is not None, "the first chunk")
        members = family(proc.pid)
        os.killpg(scheduler.pid if lost == "scheduler" else worker.pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=PATIENCE)
    what = {"scheduler": "lost the Dask scheduler", "workers": "the Dask cluster lost all its workers"}[lost]
    assert proc.returncode == 1, stderr
    assert one_line(stderr) == part_way(address, f"{what} part-way", out)
    nothing_left(members, out)
    kept = chunks(out)
    resume(out)
    check_complete(out, reference, f"Dask {lost} lost at {kept}/{RUNS // BLOCK} chunks")


def test_dask_workers_write_their_own_chunks_where_they_reach_the_folder(baseline, tmp_path):
    """Shared storage: the worker finds the batch's marker and writes; elsewhere it sends the chunk's bytes."""
    args = (runner.dump(baseline), 7, 0, 500, 0, str(tmp_path), 0)
    (tmp_path / ".reach-mine.tmp").touch()
    assert runner.play_block(*args, ".reach-mine.tmp") == (0, 500, None, None)
    written = chunk_path(tmp_path, "runs", 0).read_bytes()
    start_, rows, runs, traj = runner.play_block(*args, ".reach-not-here.tmp")
    assert (start_, rows, runs, traj) == (0, 500, written, None)  # the same bytes, for the client to write


@pytest.mark.slow
def test_dask_gives_the_local_results_whether_or_not_its_workers_reach_the_folder(baseline, tmp_path):
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        shared = run_batch(
            baseline, tmp_path / "shared", runs=6000, scheduler=cluster.scheduler_address, block_size=700
        )
        client.run(lambda: setattr(runner, "_reaches", lambda folder, marker: False))  # as if on other machines
        apart = run_batch(baseline, tmp_path / "apart", runs=6000, scheduler=cluster.scheduler_address, block_size=700)
    local = load_results(run_batch(baseline, tmp_path / "local", runs=6000, workers=1, block_size=700))
    pd.testing.assert_frame_equal(load_results(shared), local)
    pd.testing.assert_frame_equal(load_results(apart), local)
