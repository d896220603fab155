"""Monte Carlo batches: blocks of runs, any executor, streamed to a results folder, resumable.

A run's numbers depend only on the scenario, the root seed and the run's index, so the
block size, the number of workers and the order in which blocks finish never change them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.batch.errors import Stopped, storage_error
from sim.batch.executors import executor, roomy_malloc
from sim.batch.folder import (
    DERIVED,
    FIGURES,
    LOCK,
    META,
    RUNS,
    SCENARIO,
    TRAJECTORIES,
    ResultsError,
    ResultsFolder,
    atomic_write,
    chunk_ok,
    chunk_path,
    expected_rows,
    locked,
    parquet_bytes,
    read_meta,
    scenario_hash,
    write_meta,
)
from sim.engine import tables
from sim.engine.model import NegotiationModel
from sim.scenario.loader import dump, validate
from sim.scenario.schema import Scenario

DEFAULT_BLOCK = 10_000


@functools.lru_cache(maxsize=8)
def _scenario(text: str) -> Scenario:
    import yaml

    return validate(yaml.safe_load(text))


def play_block(
    scenario_yaml: str,
    seed: int,
    start: int,
    stop: int,
    trajectories: int,
    folder: str | None = None,
    index: int = 0,
    marker: str | None = None,
):
    """Play runs [start, stop) as one block.

    With ``folder`` the worker writes the block's chunks itself and returns (start, rows, None, None):
    local workers share the disk; a remote worker does so only if it finds the batch's ``marker`` file
    there, proof that it sees the same folder. Otherwise it returns (start, rows, runs, trajectories)
    with the chunks as Parquet bytes (trajectories None if none were recorded), for the caller to write.
    """
    with roomy_malloc():
        model = NegotiationModel(_scenario(scenario_yaml), range(start, stop), seed=seed, trajectories=trajectories)
        model.run()
        runs, traj = tables.run_table(model), tables.trajectory_table(model)
        rows, runs_bytes, traj_bytes = len(runs), parquet_bytes(runs), parquet_bytes(traj) if len(traj) else None
        del model, runs, traj  # before the memory is handed back
    if folder is not None and _reaches(folder, marker):
        write_chunk(Path(folder), index, runs_bytes, traj_bytes)
        return start, rows, None, None
    return start, rows, runs_bytes, traj_bytes


def _reaches(folder: str, marker: str | None) -> bool:
    """Whether this process sees the batch's folder: local workers do; a remote one if it finds the marker."""
    return marker is None or os.path.exists(os.path.join(folder, marker))


def write_chunk(folder: Path, index: int, runs: bytes, traj: bytes | None) -> None:
    """Trajectories first, runs last: a block counts as done once its runs chunk exists."""
    if traj is not None:
        atomic_write(chunk_path(folder, TRAJECTORIES, index), traj)
    atomic_write(chunk_path(folder, RUNS, index), runs)


def simulate(
    scenario: Scenario,
    runs: int | None = None,
    seed: int | None = None,
    trajectories: int = 0,
    overrides: dict | None = None,
    first: int = 0,
    stop: Callable[[], bool] | None = None,
) -> NegotiationModel:
    """Play ``runs`` runs (indices from ``first``) in this process as one block and return the played model
    (for notebooks, and the app, which plays a batch block by block). ``stop`` is asked between rounds: once it
    says so the model is returned unfinished (the app drops a batch a newer request has superseded)."""
    runs = runs or scenario.meta.runs
    ids = range(first, first + runs)
    model = NegotiationModel(scenario, ids, seed=seed, trajectories=trajectories, overrides=overrides)
    if stop is None:
        return model.run()
    while model.running and not stop():
        model.step()
    return model


@dataclass
class Batch:
    """What to run: a scenario, a seed, a run count, and how runs are cut into blocks."""

    scenario: Scenario
    runs: int
    seed: int
    block_size: int
    trajectories: int = 0
    text: str = field(init=False)

    def __post_init__(self):
        self.text = dump(self.scenario)

    @property
    def n_blocks(self) -> int:
        return -(-self.runs // self.block_size)

    def meta(self) -> dict:
        return {
            "version": __version__,
            "scenario": self.scenario.meta.name,
            "scenario_hash": scenario_hash(self.text),
            "seed": self.seed,
            "runs": self.runs,
            "block_size": self.block_size,
            "trajectories": self.trajectories,
            "status": "running",
            "python": sys.version.split()[0],
        }

    def task(self, index: int, folder: str, marker: str | None):
        start = index * self.block_size
        stop = min(start + self.block_size, self.runs)
        return self.text, self.seed, start, stop, self.trajectories, folder, index, marker


def block_size_for(runs: int, workers: int) -> int:
    """Blocks big enough to amortise numpy overhead, small enough to keep every worker busy."""
    return max(1, min(DEFAULT_BLOCK, -(-runs // (4 * max(workers, 1)))))


@dataclass(frozen=True)
class Execution:
    """How a batch is played: its seed (default: the scenario's), where (``workers`` local processes, ``workers=1``
    in-process, a Dask ``scheduler`` address), how runs are cut into blocks, how many runs record their rounds
    (default: the scenario's ``outputs.trajectories``), whether to ``resume`` or ``overwrite`` a folder, and a
    ``progress(done, total)`` callback. Only the seed changes the numbers."""

    seed: int | None = None
    workers: int | None = None
    scheduler: str | None = None
    block_size: int | None = None
    trajectories: int | None = None
    resume: bool = False
    overwrite: bool = False
    progress: Callable[[int, int], None] | None = None


def run_batch(
    scenario: Scenario,
    out: str | Path | None = None,
    *,
    runs: int | None = None,
    grow: bool = False,
    execution: Execution | None = None,
    **options,
) -> pd.DataFrame | Path:
    """Run a Monte Carlo batch, played as ``execution`` (or the :class:`Execution` fields given as ``options``) says.

    With ``out=None`` the runs are played in this process and returned as a DataFrame.
    With a folder, blocks are played on the chosen executor (local processes by default,
    ``workers=1`` for in-process, ``scheduler='tcp://…'`` for Dask) and written as they
    finish; ``resume=True`` completes an interrupted batch (its runs and seed unless given), and with
    ``grow=True`` gives a batch more ``runs``: it then holds what a batch of that size would.
    """
    how = replace(execution or Execution(), **options)
    seed, resume = how.seed, how.resume
    if resume and out is not None and ResultsFolder.holds_results(out):  # finish the batch as it was begun
        begun = read_meta(Path(out))
        runs, seed = runs or begun["runs"], begun["seed"] if seed is None else seed
    runs = runs or scenario.meta.runs
    seed = scenario.meta.seed_or(seed)
    trajectories = scenario.outputs.trajectories if how.trajectories is None else how.trajectories
    if out is None:
        model = simulate(scenario, runs, seed, trajectories)
        return tables.run_table(model)
    folder = Path(out)
    try:
        pool = executor(how.workers, how.scheduler, runs)
        try:
            with locked(folder):
                batch = Batch(scenario, runs, seed, how.block_size or block_size_for(runs, pool.workers), trajectories)
                try:
                    todo = prepare_folder(folder, batch, resume, how.overwrite, grow)
                    _play(folder, batch, todo, pool, how.progress)
                except BaseException:
                    pool.abort()  # workers gone before the lock is released
                    raise
        finally:
            pool.close()
    except OSError as exc:  # disk full, read-only, permission denied, too many open files: one line
        raise storage_error(exc, folder, resumable=ResultsFolder.holds_results(folder)) from None
    return folder


def prepare_folder(folder: Path, batch: Batch, resume: bool, overwrite: bool, grow: bool = False) -> list[int]:
    """Check the folder against the batch; return the block indices still to play."""
    has_meta = ResultsFolder.holds_results(folder)
    if has_meta and resume:
        meta = read_meta(folder)
        asked = batch.meta()
        if grow and asked["runs"] >= meta["runs"]:  # runs keep their indices: the last, partial block is replayed
            meta["runs"] = asked["runs"]
            write_meta(folder, meta)
        for key, what in (
            ("scenario_hash", "the scenario has changed since the batch began"),
            ("seed", f"the seed differs (the batch began with seed {meta['seed']})"),
            ("runs", f"the run count differs (the batch began with {meta['runs']:,} runs)"),
        ):
            if meta[key] != asked[key]:
                raise ResultsError(f"{folder / META}: cannot resume: {what}")
        batch.block_size = meta["block_size"]
        batch.trajectories = meta.get("trajectories", batch.trajectories)
        atomic_write(folder / SCENARIO, batch.text)  # the batch may have been killed before writing it
        for tmp in [*folder.glob("*/.chunk-*.tmp"), *folder.glob(".*.tmp")]:  # writes a killed batch left
            tmp.unlink(missing_ok=True)
        return [i for i in range(batch.n_blocks) if not chunk_ok(chunk_path(folder, RUNS, i), expected_rows(meta, i))]
    if has_meta and not overwrite:
        raise ResultsError(
            f"{folder}: already holds results (use --overwrite to replace them or --resume to finish them)"
        )
    if any(not _leftover(p) for p in folder.iterdir()) and not has_meta and not overwrite:
        raise ResultsError(f"{folder}: exists and is not a results folder (choose another --out)")
    for name in (RUNS, TRAJECTORIES, FIGURES):
        shutil.rmtree(folder / name, ignore_errors=True)
    for name in (*DERIVED, META):
        (folder / name).unlink(missing_ok=True)
    write_meta(folder, batch.meta())  # first: from here on the folder is a results folder that --resume finishes
    atomic_write(folder / SCENARIO, batch.text)
    return list(range(batch.n_blocks))


def _leftover(path: Path) -> bool:
    """The lock, or the temporary file of a write that a killed batch did not finish."""
    return path.name == LOCK or (path.name.startswith(".") and path.name.endswith(".tmp"))


def _play(folder: Path, batch: Batch, todo: list[int], pool, progress) -> None:
    meta = read_meta(folder)
    meta.update(status="running", workers=pool.workers)
    meta.pop("stopped_by", None)
    write_meta(folder, meta)
    total, done = batch.runs, batch.runs - sum(expected_rows(meta, i) for i in todo)
    started = time.perf_counter()
    if progress:
        progress(done, total)
    try:
        with _marker(folder, pool) as (target, marker):
            tasks = (batch.task(i, target, marker) for i in todo)
            for start, rows, runs, traj in pool.imap_unordered(play_block, tasks):
                if runs is not None:
                    write_chunk(folder, start // batch.block_size, runs, traj)
                done += rows
                if progress:
                    progress(done, total)
    except BaseException as exc:
        meta.update(status="interrupted", runs_done=done)
        if isinstance(exc, Stopped):
            meta["stopped_by"] = exc.signal
        with contextlib.suppress(OSError):  # a full or read-only disk: the error that stopped the batch says so
            write_meta(folder, meta)
        raise
    elapsed = time.perf_counter() - started
    played = sum(expected_rows(meta, i) for i in todo)
    meta.update(
        status="complete",
        seconds=round(elapsed, 3),
        runs_per_second=round(played / elapsed, 1) if elapsed > 0 else None,
    )
    write_meta(folder, meta)


@contextlib.contextmanager
def _marker(folder: Path, pool):
    """(the folder as workers are given it, the name of the batch's marker file or None).

    Local workers share this disk. Remote ones get the absolute path and a marker file made for this
    batch: a worker that finds it sees the same folder and writes its own chunks.
    """
    if pool.shares_disk:
        yield str(folder), None
        return
    name = f".reach-{secrets.token_hex(8)}.tmp"
    atomic_write(folder / name, b"")
    try:
        yield str(folder.resolve()), name
    finally:
        with contextlib.suppress(OSError):
            (folder / name).unlink()


def load_results(folder: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Per-run results of a results folder as one DataFrame (checked chunk by chunk)."""
    return ResultsFolder.open(folder).runs(columns)


def load_trajectories(folder: str | Path) -> pd.DataFrame:
    """The per-round state of a results folder's recorded runs."""
    return ResultsFolder.open(folder).trajectories()


def default_out(scenario_path: str | Path) -> Path:
    return Path("results") / Path(scenario_path).stem
