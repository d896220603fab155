"""Runs per second with 2, 3 and 5 principals (a measurement, not a test).

    .venv/bin/python benchmarks/principals.py [--runs 200]

Plays a generated file (three issues, principals with spread-out ideals and drawn reservations, one mediator who
drafts when the rule is bridging) on one core, one block, under each protocol rule, and prints runs/second and the
rounds a run negotiates before its outcome (more principals agree later, so a run plays more rounds). With two
principals the rules solve on the two principals' frontier; with more they ascend over weighted-median packages
(sim.engine.rules.ascend), 64 Frank-Wolfe steps an ascent, two ascents a proposal, each step a 24-step bisection:
some 5,000 small numpy calls a proposal, whatever the block size. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"runs/s on one core, one block of {args.runs} runs, 26 rounds (in brackets: rounds a run negotiates)")
    print(f"{'principals':>10} " + " ".join(f"{r:>16}" for r in RULES))
    for n in (2, 3, 5):
        cells = []
        for rule in RULES:
            spec = validate(generated(n, rule))
            start = time.perf_counter()
            model = NegotiationModel(spec, range(args.runs)).run()
            rate = args.runs / (time.perf_counter() - start)
            cells.append(f"{rate:.0f} ({model.end_round.mean():.1f})")
        print(f"{n:>10} " + " ".join(f"{c:>16}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
