"""Throughput, scaling and memory of baseline batches (a measurement, not a test).

    .venv/bin/python benchmarks/throughput.py            # all measurements (about 3 minutes on 2 cores)
    .venv/bin/python benchmarks/throughput.py --quick    # no 10^6-run batches
    .venv/bin/python benchmarks/throughput.py --against 3dec967   # one core, this engine beside an earlier one

Prints runs/second at 10^3..10^6 runs, 1 -> N worker scaling, peak memory of the whole
process tree, and the block engine against a per-run Mesa loop of the same model (block of one).
``--against REV`` instead plays a block of 10,000 baseline runs on one core with this checkout's code and
with the code of git revision REV (each its own baseline scenario, or both ``--scenario FILE``), alternately,
several times each, and prints both rates (wall clock and CPU time) and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

import sim
from sim.batch.folder import ResultsFolder
from sim.batch.runner import run_batch

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


class PeakMemory:
    """Samples the resident memory of this process and its children; keeps the peak."""

    def __init__(self, interval: float = 0.05):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _sample(self):
        me = psutil.Process()
        while not self._stop.is_set():
            rss = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            self.peak = max(self.peak, rss)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def batch(scenario, runs: int, workers: int | None) -> dict:
    """One batch into a fresh folder, then its summary and figures; timed separately."""
    with tempfile.TemporaryDirectory() as tmp, PeakMemory() as mem:
        start = time.perf_counter()
        folder = run_batch(scenario, Path(tmp) / "r", runs=runs, workers=workers, trajectories=0)
        played = time.perf_counter()
        sim.write_outputs(folder)
        done = time.perf_counter()
        workers = ResultsFolder.open(folder).meta["workers"]
    return {
        "runs": runs,
        "workers": workers,
        "batch_seconds": round(played - start, 2),
        "outputs_seconds": round(done - played, 2),
        "runs_per_second": round(runs / (played - start)),
        "peak_memory_mb": round(mem.peak / 2**20),
    }


def per_run_loop(scenario, runs: int) -> float:
    """Runs/second of the same model played one run per Mesa model (block of one)."""
    start = time.perf_counter()
    for i in range(runs):
        sim.NegotiationModel(scenario, [i]).run()
    return runs / (time.perf_counter() - start)


def block(scenario, runs: int) -> float:
    start = time.perf_counter()
    sim.NegotiationModel(scenario, range(runs)).run()
    return runs / (time.perf_counter() - start)


BLOCK = """
import sys, time
sys.path.insert(0, sys.argv[1])
import sim
scenario = sim.load_scenario(sys.argv[2] or sys.argv[1] + "/scenarios/baseline.yaml")
sim.NegotiationModel(scenario, range(100)).run()
wall, cpu = time.perf_counter(), time.process_time()
sim.NegotiationModel(scenario, range(10_000)).run()
print(10_000 / (time.perf_counter() - wall), 10_000 / (time.process_time() - cpu))
"""


def against(rev: str, repeats: int, scenario: Path | None = None) -> dict:
    """Runs/second of a block of 10,000 runs on one core: this checkout and revision ``rev``, alternately, each on its
    own baseline, or both on ``scenario`` (a file both versions read)."""
    root = Path(__file__).resolve().parents[1]
    rates: dict[str, list] = {"now": [], rev: []}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", tmp, rev], check=True,
                       capture_output=True)  # fmt: skip
        try:
            for _ in range(repeats):
                for name, code in (("now", root), (rev, Path(tmp))):
                    out = subprocess.run([sys.executable, "-c", BLOCK, str(code), str(scenario or "")],
                                         capture_output=True, text=True,
                                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
                    rates[name].append([float(x) for x in out.stdout.split()])
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", tmp], capture_output=True)
    median = {name: [statistics.median(r[k] for r in runs) for k in (0, 1)] for name, runs in rates.items()}
    for name, (wall, cpu) in median.items():
        print(f"{name:>10}: {wall:8.0f} runs/s wall, {cpu:8.0f} runs/s CPU (median of {repeats})")
    print(f"this checkout against {rev}: {median['now'][1] / median[rev][1]:.2f}x (CPU time)")
    return {"repeats": repeats, "scenario": str(scenario or "each one's baseline"), "median_runs_per_second": median}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10^6-run batch")
    parser.add_argument("--against", metavar="REV", help="one core: this engine beside git revision REV")
    parser.add_argument("--repeats", type=int, default=5, help="with --against: blocks played by each")
    parser.add_argument("--scenario", type=Path, help="with --against: the file both play (default: their baselines)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.against:
        result = against(args.against, args.repeats, args.scenario)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return
    scenario = sim.load_scenario(BASELINE)
    cores = os.cpu_count() or 1
    out: dict = {"cores": cores}

    loop, blk = per_run_loop(scenario, 300), block(scenario, 10_000)
    out["engine"] = {"per_run_loop_rps": round(loop, 1), "block_10k_rps": round(blk), "ratio": round(blk / loop)}
    print(f"per-run Mesa loop (block of 1): {loop:8.1f} runs/s")
    print(f"block of 10,000 (one process):  {blk:8.0f} runs/s   ratio {blk / loop:.0f}x")

    sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    out["batches"] = [batch(scenario, n, None) for n in sizes]
    for row in out["batches"]:
        print(
            f"{row['runs']:>9,} runs on {row['workers']} worker(s): {row['runs_per_second']:>7,} runs/s  "
            f"(batch {row['batch_seconds']} s + summary and figures {row['outputs_seconds']} s; "
            f"peak memory {row['peak_memory_mb']} MB)"
        )

    n = 100_000 if args.quick else 1_000_000
    one = batch(scenario, n, 1)
    many = next((b for b in out["batches"] if b["runs"] == n), None) or batch(scenario, n, cores)
    efficiency = many["runs_per_second"] / (cores * one["runs_per_second"])
    out["scaling"] = {"one": one, "all": many, "efficiency": round(efficiency, 3)}
    print(
        f"{n:,} runs on 1 worker: {one['runs_per_second']:,} runs/s; on {many['workers']}: "
        f"{many['runs_per_second']:,} runs/s; parallel efficiency {efficiency:.0%} (worker start-up included)"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
