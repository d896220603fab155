"""Ten million baseline runs end to end: the batch, the summary and the figures (a measurement, not a test).

    .venv/bin/python benchmarks/ten_million.py                         # 10^7 runs, 2 workers (an idle machine!)
    .venv/bin/python benchmarks/ten_million.py --runs 1000000 --json benchmarks/one_million.json

Runs ``negsim run scenarios/baseline.yaml --runs N --workers W`` as an operator would, into a fresh folder, and
samples its whole process tree every ``--interval`` seconds: the summed proportional set size (PSS: each
process's private memory plus its share of pages shared with others, so forked workers are not counted
twice) and its peak, in the batch and after it (summary and figures). The batch ends when ``meta.json``
says "complete"; its own time is the ``seconds`` it records. Reports the wall time end to end, runs/s, the
summary's share of the batch time, and the peaks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from figures import report

from sim.batch.folder import ResultsError, ResultsFolder

ROOT = Path(__file__).resolve().parents[1]
NEGSIM = Path(sys.executable).parent / "negsim"


def pss(root: psutil.Process) -> int:
    """The summed PSS of a process and all its descendants, in bytes (0 for those gone meanwhile)."""
    total = 0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += process.memory_full_info().pss
    return total


def status(folder: Path) -> str | None:
    try:
        return ResultsFolder.open(folder).meta.get("status")
    except ResultsError:
        return None


def measure(runs: int, workers: int, out: Path, interval: float) -> dict:
    command = [str(NEGSIM), "run", "scenarios/baseline.yaml", "--runs", str(runs), "--workers", str(workers)]
    command += ["--out", str(out), "--overwrite", "--quiet"]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = {"batch": 0, "summary": 0}
    batch_ended = None
    while proc.poll() is None:
        phase = "summary" if batch_ended is not None else "batch"
        peak[phase] = max(peak[phase], pss(root))
        if batch_ended is None and status(out) == "complete":
            batch_ended = time.perf_counter()
        time.sleep(interval)
    ended = time.perf_counter()
    if proc.returncode != 0:
        sys.exit(f"negsim run failed ({proc.returncode}): {proc.stderr.read().strip()}")
    meta = ResultsFolder.open(out).meta
    batch = meta["seconds"]
    after = ended - (batch_ended or ended)
    return {
        "runs": runs,
        "workers": workers,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "wall_seconds": round(ended - started, 1),
        "batch_seconds": batch,
        "runs_per_second_batch": meta["runs_per_second"],
        "runs_per_second_end_to_end": round(runs / (ended - started)),
        "summary_and_figures_seconds": round(after, 1),
        "summary_share_of_batch": round(after / batch, 3),
        "peak_pss_mb": round(max(peak.values()) / 2**20),
        "peak_pss_mb_batch": round(peak["batch"] / 2**20),
        "peak_pss_mb_summary": round(peak["summary"] / 2**20),
        "sample_interval_seconds": interval,
        "results_mb": round(sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between memory samples")
    parser.add_argument("--out", type=Path, help="results folder (default: a temporary one, removed after)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    temporary = args.out is None
    out = args.out or Path(tempfile.mkdtemp(prefix="negsim-ten-million-")) / "baseline"
    try:
        figures = measure(args.runs, args.workers, out, args.interval)
    finally:
        if temporary:
            shutil.rmtree(out.parent, ignore_errors=True)
    report(figures, args.json)


if __name__ == "__main__":
    main()
