"""Runs per second with 2, 3 and 5 principals (a measurement, not a test).

    .venv/bin/python benchmarks/principals.py [--runs 2000] [--solver] [--stages]

Plays a generated file (three issues, principals with spread-out ideals and drawn reservations, one mediator who
drafts when the rule is bridging) on one core, one block, under each protocol rule, and prints runs/second, the
rounds a run negotiates before its outcome (more principals agree later, so a run plays more rounds) and the
microseconds a run's round costs. With two principals the rules solve on the two principals' frontier in closed
form; with more, each proposal is a concave programme solved by an interior point (sim.engine.rules.optimum),
about a dozen Newton steps, each one (N + 1) linear system per run. ``--solver`` times the N-party rules alone,
per run, against the size of the arrays they work on (issues x corners x actors); ``--stages`` splits the N-party
rounds' time by the programme solved. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.engine import rules
from sim.engine.model import NegotiationModel
from sim.scenario.loader import validate

RULES = ("compromise", "nash", "bridging", "alternating")
ISSUES = ("a", "b", "c")


def generated(principals: int, rule: str) -> dict:
    """A file with ``principals`` principals spread around the issue space and a mediator."""
    rng = np.random.default_rng(principals)
    actors = [
        {
            "id": f"p{k}",
            "role": "principal",
            "position": dict(zip(ISSUES, rng.uniform(0, 100, 3).round(1).tolist(), strict=True)),
            "salience": dict(zip(ISSUES, rng.dirichlet(np.ones(3)).round(3).tolist(), strict=True)),
            "reservation": {"dist": "uniform", "low": 0.3, "high": 0.6},
            "concession": {"strategy": "linear", "deadline": {"dist": "uniform", "low": 15, "high": 40}},
        }
        for k in range(principals)
    ]
    actors.append(
        {
            "id": "mediator",
            "role": "mediator",
            "position": dict.fromkeys(ISSUES, 50),
            "salience": dict.fromkeys(ISSUES, 1 / 3),
            "bridging": "nash",
        }
    )
    return {
        "meta": {"name": f"{principals} principals", "horizon": 26, "seed": 1},
        "issues": [{"id": i, "label": i, "low": "0", "high": "100"} for i in ISSUES],
        "actors": actors,
        "protocol": {"rule": rule, "tabled_by": ["mediator"]},
    }


def engine(runs: int) -> None:
    print(f"one core, one block of {runs} runs, 26 rounds: runs/s (rounds a run negotiates; microseconds a round)")
    print(f"{'principals':>10} " + " ".join(f"{r:>22}" for r in RULES))
    for n in (2, 3, 5):
        cells = []
        for rule in RULES:
            spec = validate(generated(n, rule))
            start = time.perf_counter()
            model = NegotiationModel(spec, range(runs)).run()
            seconds = time.perf_counter() - start
            rounds = model.end_round.mean()
            cells.append(f"{runs / seconds:.0f} ({rounds:.1f}; {seconds / runs / rounds * 1e6:.1f})")
        print(f"{n:>10} " + " ".join(f"{c:>22}" for c in cells), flush=True)


def solver(runs: int) -> None:
    """Microseconds per run of each N-party rule on drawn problems (floors some draws cannot meet), by number of
    actors and issues, with the numbers each run's problem holds (issues x corners x actors)."""
    print(f"\nN-party rules alone, {runs} drawn problems at once: microseconds per run (best of 3)")
    print(f"{'actors':>6} {'issues':>6} {'numbers':>8} {'max-min':>8} {'nash':>8} {'best for':>8}")
    for n in (3, 5, 7):
        for issues in (3, 5):
            cells = [f"{min(_seconds(solve) for _ in range(3)) / runs * 1e6:8.1f}" for solve in _drawn(runs, n, issues)]
            print(f"{n:>6} {issues:>6} {issues * n * n:>8} " + " ".join(cells), flush=True)


def stages(runs: int) -> None:
    """Where the N-party rounds' time goes: the share of a block's time in the interior point, by programme (the
    max-min run to its end, where no package gives every member its floor, or stopped at the first mixture that
    does; the Nash or best-for programme from there), and how many problems each solved."""
    print(f"\nN-party rounds, one block of {runs} runs: share of the time in each programme (problems solved)")
    solve = rules.optimum
    for n in (3, 5):
        for rule in ("bridging", "alternating"):
            spent = {"max-min": [0.0, 0], "max-min until inside": [0.0, 0], "programme": [0.0, 0]}

            def timed(packages, floor, gain, lift, kappa, rho, lifted, start=None, enough=None, spent=spent):
                kind = "max-min until inside" if enough is not None else "max-min" if lift else "programme"
                begin = time.perf_counter()
                out = solve(packages, floor, gain, lift, kappa, rho, lifted, start, enough)
                spent[kind][0] += time.perf_counter() - begin
                spent[kind][1] += len(floor)
                return out

            spec, rules.optimum = validate(generated(n, rule)), timed
            try:
                seconds = _seconds(NegotiationModel(spec, range(runs)).run)
            finally:
                rules.optimum = solve
            cells = ", ".join(f"{kind} {s / seconds:.0%} ({count})" for kind, (s, count) in spent.items() if count)
            print(f"{n} principals, {rule}: {seconds:.2f} s; {cells}", flush=True)


def _drawn(runs: int, n: int, issues: int):
    """The three N-party rules, each ready to solve ``runs`` drawn problems with ``n`` actors on ``issues`` issues."""
    rng = np.random.default_rng(n * 10 + issues)
    ideal, salience = rng.uniform(0, 100, (runs, n, issues)), rng.dirichlet(np.ones(issues), (runs, n))
    packages = rules.Packages(ideal, salience, np.zeros((runs, issues)), np.full((runs, issues), 100.0))
    floor, everyone, first = rng.uniform(0.2, 0.7, (runs, n)), np.ones((runs, n), dtype=bool), np.zeros(runs, int)
    return (
        lambda: rules.maximin_n(packages, floor, everyone),
        lambda: rules.nash_n(packages, floor, everyone),
        lambda: rules.best_for(packages, first, floor, everyone),
    )


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--solver", action="store_true", help="also time the N-party rules alone")
    parser.add_argument("--stages", action="store_true", help="also split the N-party rounds' time by programme")
    args = parser.parse_args()
    engine(args.runs)
    if args.solver:
        solver(args.runs)
    if args.stages:
        stages(args.runs)


if __name__ == "__main__":
    main()
