"""Time of a what-if update in negsim app (a measurement, not a test).

    .venv/bin/python benchmarks/app_response.py [--moves 20] [--runs 5000]

Each of ``--moves`` slider moves pins one uncertain parameter of the baseline scenario at a new value
(moves cycle through the parameters, each to a fresh point of its range) and does what the page does
on a move: replays the batch in this process (one block), summarises it and draws the comparison table
and both charts. Prints the median and the worst, and the machine's load average while it ran.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from sim.app import views, whatif
from sim.scenario.labels import Names
from sim.scenario.loader import load

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--runs", type=int, default=whatif.RUNS)
    args = parser.parse_args()
    spec = load(ROOT / "scenarios" / "baseline.yaml")
    names = Names(spec)
    knobs = whatif.knobs(spec)
    base = whatif.play(spec, {}, args.runs)  # the page computes the scenario's numbers once, on opening
    times, load_before = [], os.getloadavg()[0]
    for move in range(args.moves):
        knob = knobs[move % len(knobs)]
        value = knob.low + (knob.high - knob.low) * ((move * 0.618) % 1.0)  # a new point each move: no cache hit
        start = time.perf_counter()
        now = whatif.play(spec, {knob.path: round(value, 12)}, args.runs)
        views.comparison_html(whatif.headline(base), whatif.headline(now))
        views.curves_svg(base, now)
        views.blockers_svg(base, now, names.actors)
        times.append(time.perf_counter() - start)
    print(
        f"what-if update, {args.runs:,} runs: median {statistics.median(times):.3f} s, worst {max(times):.3f} s "
        f"({args.moves} slider moves; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
        f"{os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
