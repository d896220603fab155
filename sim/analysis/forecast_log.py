"""The forecast log: one JSON line per forecast, appended by ``negsim run --forecast-log FILE``.

An entry holds the question, when it was filed, the scenario's name, hash and resolved text, the seed and
runs, the headline probabilities with their Wilson intervals, and how many runs had reached each result by
each round (so ``negsim score`` can score it without the results folder, and ``negsim compare`` can replay
the scenario). Appending writes a whole line at once under a lock; a line that an earlier crash left
unfinished is closed first, so no entry runs into another, and reading skips (and names) any line that is
not a whole entry.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

from sim.analysis.attribution import Version
from sim.analysis.score import Forecast, reached_by_round
from sim.analysis.summary import probabilities
from sim.batch.errors import ResultsError
from sim.batch.folder import ResultsFolder, scenario_hash
from sim.engine.columns import OUTCOME_ORDER
from sim.scenario.loader import dump

REQUIRED = ("question", "filed", "scenario", "scenario_hash", "seed", "runs", "start_date", "round_days", "reached")


def entry(folder: str | Path, question: str | None = None, filed: dt.datetime | None = None) -> dict:
    """The log entry of a results folder's forecast (``question`` defaults to the scenario's name)."""
    results = ResultsFolder.open(folder)
    meta, spec, df = results.meta, results.scenario, results.runs()
    text = dump(spec)
    probs = probabilities(df)
    return {
        "question": question or spec.meta.name,
        "filed": (filed or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "scenario": spec.meta.name,
        "scenario_hash": scenario_hash(text),
        "seed": meta["seed"],
        "runs": len(df),
        "results": str(folder),
        "start_date": spec.meta.start_date.isoformat(),
        "round_days": spec.meta.round_days,
        "horizon": spec.meta.horizon,
        "probabilities": {o: {k: probs[o][k] for k in ("p", "low", "high")} for o in OUTCOME_ORDER},
        "reached": reached_by_round(df, spec),
        "scenario_yaml": text,
    }


def append(path: str | Path, record: dict) -> None:
    """Append ``record`` as one line; earlier lines are never rewritten."""
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise ResultsError(f"{path}: cannot write the forecast log ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and not _is_log(os.pread(fd, 4096, 0)):
            raise ResultsError(f"{path}: not a forecast log (it does not begin with a JSON entry); choose another file")
        if size and os.pread(fd, 1, size - 1) != b"\n":  # an unfinished line from a crash: close it
            line = b"\n" + line
        written = 0
        while written < len(line):
            written += os.write(fd, line[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def check(path: str | Path) -> None:
    """Raise :class:`ResultsError` unless ``path`` is a forecast log or a file still to be made (before a batch
    is run to be filed there)."""
    path = Path(path)
    if path.is_dir():
        raise ResultsError(f"{path}: is a folder, not a forecast log")
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the forecast log ({exc.strerror or exc})") from None
    if head and not _is_log(head):
        raise ResultsError(f"{path}: not a forecast log (it does not begin with a JSON entry); choose another file")


def _is_log(head: bytes) -> bool:
    """Whether a file's first bytes begin like a forecast log: a JSON object (perhaps cut short by a crash)."""
    return head.lstrip().startswith(b"{")


def read(path: str | Path) -> tuple[list[dict], list[str]]:
    """The log's entries (each with its ``line``), and a note for each line that is not a whole entry."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such forecast log") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the forecast log ({exc.strerror or exc})") from None
    entries, skipped = [], []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            skipped.append(f"{path}:{number}: (entry): skipped: not a whole JSON line")
            continue
        absent = [k for k in REQUIRED if k not in record] if isinstance(record, dict) else list(REQUIRED)
        if absent:
            skipped.append(f"{path}:{number}: (entry): skipped: missing {', '.join(absent)}")
            continue
        entries.append({**record, "line": number})
    return entries, skipped


def forecasts_of(entries: list[dict], question: str) -> list[dict]:
    """The entries of one question, oldest first (by filing time, then by line)."""
    return sorted((e for e in entries if e["question"] == question), key=lambda e: (e["filed"], e["line"]))


def label(path: str | Path, record: dict) -> str:
    return f"{path}:{record['line']} ({record['filed']})"


def forecast(path: str | Path, record: dict) -> Forecast:
    """A log entry as a :class:`~sim.analysis.score.Forecast`."""
    return Forecast(
        label(path, record),
        record["scenario"],
        dt.date.fromisoformat(record["start_date"]),
        int(record["round_days"]),
        int(record["runs"]),
        {k: list(v) for k, v in record["reached"].items()},
    )


def pair(path: str | Path, entries: list[dict], lines: list[int], question: str | None = None) -> list[dict]:
    """The two forecasts of one question to compare, earlier first: those on ``lines`` of the log, else the last
    two of ``question`` (default: that of the log's last entry); refused in one line if there are no such two."""
    if lines:
        by_line = {e["line"]: e for e in entries}
        if len(lines) != 2:
            raise ResultsError("--entry: give exactly two lines of the log")
        if missing := [n for n in lines if n not in by_line]:
            raise ResultsError(f"{path}: no forecast on line(s) {', '.join(map(str, missing))}")
        chosen = sorted((by_line[n] for n in lines), key=lambda e: (e["filed"], e["line"]))
        if chosen[0]["question"] != chosen[1]["question"]:
            asked = " and ".join(repr(e["question"]) for e in chosen)
            raise ResultsError(f"{path}: lines {lines[0]} and {lines[1]} answer different questions ({asked})")
    else:
        if not entries:
            raise ResultsError(f"{path}: holds no forecast")
        asked = question or entries[-1]["question"]
        chosen = forecasts_of(entries, asked)[-2:]
        if len(chosen) < 2:
            raise ResultsError(f"{path}: needs two forecasts of {asked!r} to compare (it has {len(chosen)})")
    if any("scenario_yaml" not in e for e in chosen):
        raise ResultsError(f"{path}: an entry without its scenario cannot be replayed")
    return chosen


def version(path: str | Path, record: dict) -> Version:
    """A log entry as a :class:`~sim.analysis.attribution.Version` to compare with another."""
    return Version(label(path, record), record["scenario_yaml"], int(record["runs"]), record["seed"])
