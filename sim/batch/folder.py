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
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.errors import ResultsError
from sim.engine.outcomes import decoded

RUNS, TRAJECTORIES = "runs", "trajectories"


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _temporary(path: Path) -> tuple[int, str]:
    """A new hidden file beside ``path``, mode 0666 less the umask (results are meant to be shared)."""
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink, compression="zstd")
    atomic_write(path, sink.getvalue().to_pybytes())


def scenario_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def chunk_path(folder: Path, kind: str, index: int) -> Path:
    return folder / kind / f"chunk-{index:06d}.parquet"


@contextlib.contextmanager
def locked(folder: Path):
    """Hold the folder's lock for the duration; refuse if another batch holds it.

    A folder made here that nothing was written into is removed again if the batch fails.
    """
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder}: is a file, not a results folder")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResultsError(f"{folder}: another batch is writing to this folder") from None
        try:
            yield
        except BaseException:
            if created and {p.name for p in folder.iterdir()} <= {".lock"}:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        Path(folder) / "meta.json",
        ("runs", "seed", "block_size", "scenario_hash"),
        "not a results folder (no meta.json)",
    )


def write_meta(folder: Path, meta: dict) -> None:
    atomic_write(Path(folder) / "meta.json", json.dumps(meta, indent=2, default=str))


def expected_rows(meta: dict, index: int) -> int:
    start = index * meta["block_size"]
    return max(0, min(meta["block_size"], meta["runs"] - start))


def chunk_ok(path: Path, rows: int) -> bool:
    """True if ``path`` is a complete, readable chunk of ``rows`` rows (its data read, not just its footer)."""
    try:
        return pq.read_table(path).num_rows == rows
    except Exception:
        return False


def read_chunks(folder: Path, kind: str = RUNS, columns: list[str] | None = None) -> pd.DataFrame:
    """All chunks of ``kind`` as one DataFrame; a corrupt or truncated chunk is named in the error."""
    folder = Path(folder)
    meta = read_meta(folder)
    frames = []
    n_blocks = -(-meta["runs"] // meta["block_size"])
    for index in range(n_blocks):
        path = chunk_path(folder, kind, index)
        if not path.exists():
            if kind == RUNS:
                raise ResultsError(f"{path}: missing chunk (batch incomplete: finish it with --resume)")
            continue
        try:
            df = pq.read_table(path, columns=columns).to_pandas()
        except Exception as exc:
            raise ResultsError(f"{path}: corrupt or truncated chunk ({type(exc).__name__})") from None
        if kind == RUNS and len(df) != expected_rows(meta, index):
            raise ResultsError(f"{path}: has {len(df)} rows, expected {expected_rows(meta, index)}")
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return decoded(out)
