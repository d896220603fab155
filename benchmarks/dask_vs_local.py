"""Dask against local processes at the same worker count (a measurement, not a test).

    .venv/bin/python benchmarks/dask_vs_local.py                       # 10^6 runs, 2 workers, best of 3
    .venv/bin/python benchmarks/dask_vs_local.py --runs 300000 --repeat 1

Times ``run_batch`` into a fresh folder four ways, taken in turn ``--repeat`` times (best reported):

- local: ``--workers N`` local processes, in a fresh process as ``negsim run`` has them (forked; their
  start-up is included); also with glibc's default malloc thresholds in the workers, as before they
  were set (see ``sim.batch.executors.roomy_malloc``);
- Dask, shared disk: a ``distributed.LocalCluster`` of N single-threaded worker processes, started and
  warmed up beforehand (as an operator's cluster is); the workers reach the folder and write their chunks;
- Dask, apart: the same cluster, its workers told they cannot see the folder (as on other machines without
  shared storage): they send each chunk back as Parquet bytes and this process writes it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import distributed
from figures import report

import sim
from sim.batch.runner import run_batch

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def timed(scenario, runs: int, **how) -> float:
    """Wall time of one batch of ``runs`` runs into a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_batch(scenario, Path(tmp) / "r", runs=runs, **how)
        return time.perf_counter() - start


LOCAL = """
import sys, tempfile, time
from pathlib import Path
import sim
from sim.batch import executors
if sys.argv[4] == "glibc-defaults":  # forked workers inherit this: glibc's adaptive thresholds, as before
    executors._mallopt = lambda settings: False
scenario = sim.load_scenario(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    start = time.perf_counter()
    sim.run_batch(scenario, Path(tmp) / "r", runs=int(sys.argv[2]), workers=int(sys.argv[3]))
    print(time.perf_counter() - start)
"""


def timed_local(runs: int, workers: int, environ: dict, malloc: str = "roomy") -> float:
    """One local batch in a fresh process, as ``negsim run`` plays it (forked workers), in the environment
    this benchmark started with (a LocalCluster changes its parent's, e.g. MALLOC_TRIM_THRESHOLD_)."""
    command = [sys.executable, "-c", LOCAL, str(BASELINE), str(runs), str(workers), malloc]
    return float(subprocess.run(command, capture_output=True, text=True, check=True, env=environ).stdout)


def blind(on: bool) -> None:
    """On a Dask worker: behave as if the results folder were out of reach (``on``), or not."""
    from sim.batch import runner as here

    if not hasattr(here, "_sighted"):
        here._sighted = here._reaches
    here._reaches = (lambda folder, marker: marker is None) if on else here._sighted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    scenario = sim.load_scenario(BASELINE)
    ways = ("local", "local_glibc_defaults", "dask_shared_disk", "dask_apart")
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    loads, environ = [os.getloadavg()[0]], dict(os.environ)
    with (
        distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        address = cluster.scheduler_address
        timed(scenario, 20_000, scheduler=address)  # warm-up: the workers import the package
        for _ in range(args.repeat):  # the three ways in turn, so that they share the machine's ups and downs
            seconds["local"].append(timed_local(args.runs, args.workers, environ))
            seconds["local_glibc_defaults"].append(timed_local(args.runs, args.workers, environ, "glibc-defaults"))
            client.run(blind, False)
            seconds["dask_shared_disk"].append(timed(scenario, args.runs, scheduler=address))
            client.run(blind, True)
            seconds["dask_apart"].append(timed(scenario, args.runs, scheduler=address))
            loads.append(os.getloadavg()[0])
    best = {k: min(v) for k, v in seconds.items()}
    figures = {
        "runs": args.runs,
        "workers": args.workers,
        "repeats": args.repeat,
        "load_average_1min": [round(x, 2) for x in loads],
        **{f"{k}_seconds": [round(x, 2) for x in v] for k, v in seconds.items()},
        **{f"{k}_runs_per_second_best": round(args.runs / v) for k, v in best.items()},
        **{f"{k}_against_local_best": round(v / best["local"], 2) for k, v in best.items() if k != "local"},
    }
    report(figures, args.json)


if __name__ == "__main__":
    main()
