"""Time of a what-if update in negsim app after a slider drag (a measurement, not a test).

    .venv/bin/python benchmarks/app_response.py [--drags 20] [--runs 5000] [--spin]

Each drag moves one uncertain parameter of the baseline scenario through ``--positions`` values ``--every``
seconds apart, handing each to the tab's :class:`sim.app.whatif.Latest` as the page does (each supersedes the
batch in flight); the numbers it shows are drawn as the page draws them (the comparison table and both charts).
From the drag's last position it times the first estimate (the first block) and the final numbers. Drags
cycle through the parameters, each to fresh points of its range (no answer kept from before). With ``--spin``
another process spins on a core meanwhile (``python -c 'while True: pass'``). Prints the median and the worst of
each, and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from sim.app import charts, views, whatif
from sim.scenario.labels import Names
from sim.scenario.loader import load

ROOT = Path(__file__).resolve().parents[1]


def drag(latest: whatif.Latest, inputs: list[whatif.Inputs], every: float, done: dict) -> tuple[float, float]:
    """Hand ``inputs`` to ``latest`` ``every`` seconds apart; the seconds from the last to its first estimate and
    to its final numbers."""
    for item in inputs[:-1]:
        latest.ask(item, item.spec)
        time.sleep(every)
    done.clear()
    done["key"], done["estimate"], done["final"] = inputs[-1].key, threading.Event(), threading.Event()
    start = time.perf_counter()
    latest.ask(inputs[-1], inputs[-1].spec)
    done["estimate"].wait()
    first = time.perf_counter() - start
    done["final"].wait()
    return first, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drags", type=int, default=20)
    parser.add_argument("--runs", type=int, default=whatif.RUNS)
    parser.add_argument("--positions", type=int, default=6, help="slider positions a drag passes")
    parser.add_argument("--every", type=float, default=0.06, help="seconds between two positions")
    parser.add_argument("--spin", action="store_true", help="another process spins on a core meanwhile")
    args = parser.parse_args()
    spec = load(ROOT / "scenarios" / "baseline.yaml")
    names = {**Names(spec).actors, **Names(spec).veto_players}
    knobs = [k for k in whatif.knobs(spec) if not k.choices]
    done: dict = {}

    def show(numbers: whatif.Numbers) -> None:  # what the page draws for each answer
        base, now = numbers.base, numbers.now
        views.comparison_html(whatif.headline(base), whatif.headline(now))
        charts.curves_svg(base, now)
        charts.blockers_svg(base, now, names)
        if done and numbers.inputs.key == done["key"]:
            done["final" if numbers.final else "estimate"].set()
            if numbers.final:
                done["estimate"].set()  # a batch of one block has no separate estimate

    latest = whatif.Latest(show)
    whatif.play(spec, {}, args.runs, spec.meta.seed)  # the scenario's own numbers, computed once on opening
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.spin else None
    firsts, finals, load_before = [], [], os.getloadavg()[0]
    try:
        for d in range(args.drags):
            knob = knobs[d % len(knobs)]
            shares = [((d * 0.618 + k * 0.071) % 1.0) for k in range(args.positions)]  # fresh points: no cache hit
            inputs = [
                whatif.Inputs(spec, (), ((knob.path, round(knob.low + (knob.high - knob.low) * s, 12)),), args.runs,
                              spec.meta.seed)
                for s in shares
            ]  # fmt: skip
            first, final = drag(latest, inputs, args.every, done)
            firsts.append(first)
            finals.append(final)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    load_after = os.getloadavg()[0]
    print(
        f"what-if after a drag, {args.runs:,} runs, {args.drags} drags of {args.positions} positions"
        f"{' with a core spinning' if args.spin else ''}: first estimate median {statistics.median(firsts):.3f} s, "
        f"worst {max(firsts):.3f} s; final numbers median {statistics.median(finals):.3f} s, worst {max(finals):.3f} s "
        f"(load average {load_before:.1f} before, {load_after:.1f} after, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
