"""Dask against local processes at the same worker count (a measurement, not a test).

    .venv/bin/python benchmarks/dask_vs_local.py                       # 10^6 runs, 2 workers, best of 3
    .venv/bin/python benchmarks/dask_vs_local.py --runs 300000 --repeat 1

Times ``run_batch`` into a fresh folder three ways, each the best of ``--repeat`` batches:

- local: ``--workers N`` local processes (forked; their start-up is included);
- Dask, shared disk: a ``distributed.LocalCluster`` of N single-threaded worker processes, started and
  warmed up beforehand (as an operator's cluster is); the workers reach the folder and write their chunks;
- Dask, apart: the same cluster, its workers told they cannot see the folder (as on other machines without
  shared storage): they send each chunk back as Parquet bytes and this process writes it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import distributed

import sim
from sim.batch import runner
from sim.batch.runner import run_batch

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def timed(scenario, runs: int, repeat: int, **how) -> float:
    """The best wall time of ``repeat`` batches of ``runs`` runs into fresh folders."""
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_batch(scenario, Path(tmp) / "r", runs=runs, **how)
            best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    scenario = sim.load_scenario(BASELINE)
    seconds = {"local": timed(scenario, args.runs, args.repeat, workers=args.workers)}
    with (
        distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        address = cluster.scheduler_address
        timed(scenario, 20_000, 1, scheduler=address)  # warm-up: the workers import the package
        seconds["dask_shared_disk"] = timed(scenario, args.runs, args.repeat, scheduler=address)
        client.run(lambda: setattr(runner, "_reaches", lambda folder, marker: False))
        seconds["dask_apart"] = timed(scenario, args.runs, args.repeat, scheduler=address)
    figures = {
        "runs": args.runs,
        "workers": args.workers,
        "load_average_1min": round(os.getloadavg()[0], 2),
        **{f"{k}_seconds": round(v, 2) for k, v in seconds.items()},
        **{f"{k}_runs_per_second": round(args.runs / v) for k, v in seconds.items()},
        **{f"{k}_against_local": round(v / seconds["local"], 2) for k, v in seconds.items() if k != "local"},
    }
    for key, value in figures.items():
        print(f"{key:36} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
