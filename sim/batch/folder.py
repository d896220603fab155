"""The results folder: atomic writes, a lock, chunked Parquet, and checked reads.

Layout::

    scenario.yaml          the resolved scenario (after extends:)
    meta.json              version, seed, runs, block size, scenario hash, status, timings
    runs/chunk-NNNNNN.parquet          per-run outcomes, one file per block of runs
    trajectories/chunk-NNNNNN.parquet  per-round state of the recorded runs
    summary.json, summary.txt          the summary
    figures/                           PNG and SVG figures
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.errors import ResultsError
from sim.engine.columns import decoded

RUNS, TRAJECTORIES = "runs", "trajectories"
SCENARIO, META, FIGURES = "scenario.yaml", "meta.json", "figures"
SUMMARY_JSON, SUMMARY_TEXT = "summary.json", "summary.txt"
REPORT_HTML, REPORT_PDF = "report.html", "report.pdf"
DERIVED = (SUMMARY_JSON, SUMMARY_TEXT, REPORT_HTML, REPORT_PDF)  # files a reader writes from the runs


class ResultsFolder:
    """A batch's results folder: its files by name, and its scenario, meta, runs and trajectories, read checked.

    ``ResultsFolder(path)`` names a folder (which may not exist yet); :meth:`open` is the reader's entry: it
    refuses, in one line, anything that is not a results folder. The scenario and meta are read once.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def open(cls, path: str | Path) -> ResultsFolder:
        folder = cls(path)
        folder.meta  # noqa: B018 - read now: a folder that is not a results folder is refused here
        return folder

    def __repr__(self) -> str:
        return f"ResultsFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @staticmethod
    def holds_results(path: str | Path) -> bool:
        """Whether ``path`` is a folder a batch has begun writing into (it has a meta.json)."""
        return (Path(path) / META).is_file()

    @functools.cached_property
    def meta(self) -> dict:
        return read_meta(self.path)

    @functools.cached_property
    def scenario_text(self) -> str:
        path = self.path / SCENARIO
        try:
            return path.read_text()
        except OSError as exc:
            raise ResultsError(f"{path}: unreadable ({exc.strerror or type(exc).__name__})") from None

    @functools.cached_property
    def scenario(self):
        """The resolved scenario the batch played (a :class:`~sim.scenario.schema.Scenario`)."""
        from sim.scenario.loader import load

        return load(self.path / SCENARIO)

    @property
    def figures(self) -> Path:
        return self.path / FIGURES

    def chunks(self, kind: str = RUNS, columns: list[str] | None = None, blocks: range | None = None,
               categories: bool = False) -> Iterator[pd.DataFrame]:  # fmt: skip
        """The chunks of ``kind`` one by one (see :func:`iter_chunks`)."""
        return iter_chunks(self.path, kind, columns, blocks, categories)

    def columns(self, kind: str = RUNS) -> list[str]:
        return chunk_columns(self.path, kind)

    def runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every run, one row each (checked chunk by chunk)."""
        return read_chunks(self.path, RUNS, columns)

    def trajectories(self) -> pd.DataFrame:
        """The per-round state of the recorded runs (empty if none were recorded)."""
        return read_chunks(self.path, TRAJECTORIES)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    An operating-system error (disk full, read-only, ...) is raised naming ``path`` itself.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = _temporary(path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def _temporary(path: Path) -> tuple[int, str]:
    """A new hidden file beside ``path``, mode 0666 less the umask (results are meant to be shared)."""
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A table as the bytes of a zstd-compressed Parquet file: what a chunk holds."""
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    atomic_write(path, parquet_bytes(df))


def scenario_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def chunk_path(folder: Path, kind: str, index: int) -> Path:
    return folder / kind / f"chunk-{index:06d}.parquet"


@contextlib.contextmanager
def locked(folder: Path, notice=None):
    """Hold the folder's lock for the duration; refuse, naming its holder, if another batch holds it.

    The lock is an ``flock`` on ``.lock``, which the kernel releases when its holder dies, however it dies.
    The file records the holder (pid, host, start time) so that a refusal can name it; a record left by a
    holder that died is reported through ``notice`` (default: one line on stderr) as the lock is taken over.
    Processes forked while the lock is held do not hold it. A folder made here that nothing was written
    into is removed again if the batch fails.
    """
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder}: is a file, not a results folder")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o666)  # read-only: a writer would keep a remount read-only busy
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResultsError(f"{folder}: another batch is writing to this folder{_held_by(lock)}") from None
        left = _holder(lock)
        if left and left["pid"] != os.getpid():
            (notice or _to_stderr)(f"{folder}: taking over the lock left by {_named(left)}, which stopped")
        _forget_in_children()
        _held.add(fd)
        try:
            _write_holder(lock)
            yield
        except BaseException:
            with contextlib.suppress(OSError):
                if created and {p.name for p in folder.iterdir()} <= {LOCK}:
                    shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            _held.discard(fd)
            with contextlib.suppress(OSError):
                os.truncate(lock, 0)  # released in order: nothing to take over
            fcntl.flock(fd, fcntl.LOCK_UN)  # now, whatever copies of the descriptor other processes have
    finally:
        os.close(fd)


LOCK = ".lock"
_held: set[int] = set()  # descriptors of the locks this process holds


def _write_holder(lock: Path) -> None:
    me = psutil.Process()
    record = {"pid": me.pid, "host": socket.gethostname(), "since": me.create_time()}
    fd = os.open(lock, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, json.dumps(record).encode())
    finally:
        os.close(fd)


def _holder(lock: Path) -> dict | None:
    """The holder recorded in a lock file, if a readable record is there."""
    try:
        record = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(record, dict) and isinstance(record.get("pid"), int) and isinstance(record.get("since"), float)
    return record if ok else None


def _named(holder: dict) -> str:
    """'pid 1234 on this host since 2026-11-27 14:05:09'."""
    host = "this host" if holder.get("host") == socket.gethostname() else holder.get("host", "another host")
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["since"]))
    return f"pid {holder['pid']} on {host} since {since}"


def _held_by(lock: Path) -> str:
    """Who holds a busy lock, as the end of the refusal: the recorded holder, or what is left of it."""
    holder = _holder(lock)
    if holder is None:
        return ""
    if holder.get("host") != socket.gethostname() or _running(holder):
        return f" ({_named(holder)})"
    others = sorted(_having_open(lock) - {os.getpid()})
    who = f"pid {', '.join(map(str, others))}" if others else "processes"
    return f" (held by {who} left over from {_named(holder)}, which stopped: end them to resume)"


def _running(holder: dict) -> bool:
    try:
        return abs(psutil.Process(holder["pid"]).create_time() - holder["since"]) < 1e-3
    except psutil.Error:
        return False


def _having_open(path: Path) -> set[int]:
    found = set()
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if any(f.path == str(path.resolve()) for f in process.open_files()):
                found.add(process.pid)
    return found


@functools.cache
def _forget_in_children() -> None:
    """Once per process, on first use: no hook is registered by importing the module."""
    os.register_at_fork(after_in_child=_forget_locks_in_child)


def _to_stderr(message: str) -> None:
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr, flush=True)


def _forget_locks_in_child() -> None:
    """In a process forked while a lock is held: point its copies of the lock descriptors at /dev/null,
    so that the lock is the parent's alone and is released when the parent dies, even if the child lives on."""
    if _held:
        null = os.open(os.devnull, os.O_RDONLY)
        for fd in _held:
            os.dup2(null, fd)
        os.close(null)
        _held.clear()


def read_json(path: Path, required: tuple[str, ...], missing: str, hint: str = "") -> dict:
    """A JSON object with the ``required`` keys, or a one-line ResultsError naming the file."""
    if not path.exists():
        raise ResultsError(f"{path}: {missing}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable ({type(exc).__name__}: {exc}){hint}") from None
    absent = [k for k in required if k not in data] if isinstance(data, dict) else list(required)
    if absent:
        raise ResultsError(f"{path}: missing field(s) {', '.join(absent)}{hint}")
    return data


def read_meta(folder: Path) -> dict:
    if not Path(folder).is_dir():
        raise ResultsError(
            f"{folder}: no such results folder"
            if not Path(folder).exists()
            else f"{folder}: is a file, not a results folder"
        )
    return read_json(
        Path(folder) / META,
        ("runs", "seed", "block_size", "scenario_hash"),
        "not a results folder (no meta.json)",
    )


def write_meta(folder: Path, meta: dict) -> None:
    atomic_write(Path(folder) / META, json.dumps(meta, indent=2, default=str))


def expected_rows(meta: dict, index: int) -> int:
    start = index * meta["block_size"]
    return max(0, min(meta["block_size"], meta["runs"] - start))


def chunk_ok(path: Path, rows: int) -> bool:
    """True if ``path`` is a complete, readable chunk of ``rows`` rows (its data read, not just its footer)."""
    try:
        return pq.read_table(path).num_rows == rows
    except Exception:
        return False


def iter_chunks(
    folder: Path,
    kind: str = RUNS,
    columns: list[str] | None = None,
    blocks: range | None = None,
    categories: bool = False,
) -> Iterator[pd.DataFrame]:
    """The chunks of ``kind`` one by one, in order (only ``columns``, and of ``blocks``, if given; text
    columns as categories if ``categories``: quicker to read and to count); a missing runs chunk, a corrupt or
    truncated chunk, or one of the wrong length is named in the error."""
    folder = Path(folder)
    meta = read_meta(folder)
    for index in blocks if blocks is not None else range(-(-meta["runs"] // meta["block_size"])):
        path = chunk_path(folder, kind, index)
        if not path.exists():
            if kind == RUNS:
                raise ResultsError(f"{path}: missing chunk (batch incomplete: finish it with --resume)")
            continue
        try:
            texts = [f.name for f in pq.read_schema(path) if pa.types.is_string(f.type)] if categories else None
            df = pq.read_table(path, columns=columns, read_dictionary=texts).to_pandas()
        except Exception as exc:
            raise ResultsError(f"{path}: corrupt or truncated chunk ({type(exc).__name__})") from None
        if kind == RUNS and len(df) != expected_rows(meta, index):
            raise ResultsError(f"{path}: has {len(df)} rows, expected {expected_rows(meta, index)}")
        yield decoded(df)


def chunk_columns(folder: Path, kind: str = RUNS) -> list[str]:
    """The columns of a results folder's chunks of ``kind`` (those of its first chunk; none without one)."""
    path = chunk_path(Path(folder), kind, 0)
    if not path.exists():
        return []
    try:
        return pq.read_schema(path).names
    except Exception as exc:
        raise ResultsError(f"{path}: corrupt or truncated chunk ({type(exc).__name__})") from None


def read_chunks(folder: Path, kind: str = RUNS, columns: list[str] | None = None) -> pd.DataFrame:
    """All chunks of ``kind`` as one DataFrame; a corrupt or truncated chunk is named in the error."""
    frames = list(iter_chunks(folder, kind, columns))
    if not frames:
        return pd.DataFrame()
    return decoded(pd.concat(frames, ignore_index=True))
