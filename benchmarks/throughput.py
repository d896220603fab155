"""Throughput, scaling and memory of baseline batches (a measurement, not a test).

    .venv/bin/python benchmarks/throughput.py            # all measurements (about 3 minutes on 2 cores)
    .venv/bin/python benchmarks/throughput.py --quick    # no 10^6-run batches

Prints runs/second at 10^3..10^6 runs, 1 -> N worker scaling, peak memory of the whole
process tree, and the block engine against a per-run Mesa loop of the same model (block of one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10^6-run batch")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
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
