"""Start-up time of the command line (a measurement, not a test).

    .venv/bin/python benchmarks/startup.py [--repeat 15]

Times ``negsim --help`` and ``negsim validate scenarios/baseline.yaml`` as a user types them
(a fresh process each time) and prints the median and the worst of the repeats.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEGSIM = Path(sys.executable).parent / "negsim"
COMMANDS = {"negsim --help": ["--help"], "negsim validate baseline": ["validate", "scenarios/baseline.yaml"]}


def timed(args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([str(NEGSIM), *args], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    timed(["--help"], 2)  # warm the file cache
    for name, args in COMMANDS.items():
        times = timed(args, repeat)
        print(f"{name:<28} median {statistics.median(times):.3f} s   worst {max(times):.3f} s   ({repeat} runs)")


if __name__ == "__main__":
    main()
