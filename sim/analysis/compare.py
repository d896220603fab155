"""Scenarios side by side: P(outcome) with Wilson intervals, and each one's difference from the first.

Items are scenario files (played here) or results folders (read back, with their own runs and
seed: a note warns when items differ in either). Differences in
P(declared) and P(collapse) come with Newcombe's hybrid score interval and a pooled
two-proportion z-test. Scenario files played with the same seed share their random streams,
which makes the independent-samples test conservative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import difference
from sim.analysis.summary import probabilities
from sim.batch.folder import read_meta
from sim.batch.runner import load_results, run_batch
from sim.engine.outcomes import OUTCOME_ORDER
from sim.scenario.loader import load

TESTED = ("declared", "collapse")


def outcomes_of(item: str | Path, runs: int | None = None, seed: int | None = None) -> tuple[dict, pd.DataFrame]:
    """(scenario name, runs, seed) and the per-run outcomes of a results folder or a scenario file."""
    path = Path(item)
    if path.is_dir():
        meta = read_meta(path)
        df = load_results(path, columns=["outcome"])
        return {"scenario": meta["scenario"], "runs": len(df), "seed": meta["seed"]}, df
    spec = load(path)
    seed = spec.meta.seed_or(seed)
    df = run_batch(spec, runs=runs, seed=seed)
    return {"scenario": spec.meta.name, "runs": len(df), "seed": seed}, df


def labels(items) -> list[str]:
    """Item names: a file's stem or a folder's name; where names clash, with the path (folders end in ``/``)."""
    paths = [Path(i) for i in items]
    names = [p.name if p.is_dir() else p.stem for p in paths]
    out = [
        f"{n} ({p}{'/' if p.is_dir() else ''})" if names.count(n) > 1 else n for n, p in zip(names, paths, strict=True)
    ]
    return [f"{x} #{k + 1}" if out.count(x) > 1 else x for k, x in enumerate(out)]


def mismatch(table: pd.DataFrame) -> str:
    """A warning when the items differ in seed or in run count, else ``""``."""
    differ = [
        f"{what} ({', '.join(format(v, fmt) for v in dict.fromkeys(table[col]))})"
        for col, what, fmt in (("seed", "seed", ""), ("runs", "run count", ","))
        if table[col].nunique() > 1
    ]
    return f"items differ in {' and '.join(differ)}" if differ else ""


def compare(items, runs: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """One row per item: P(outcome) with intervals; for all but the first, the difference from the first.

    ``runs`` and ``seed`` apply to scenario files; results folders are read as they are.
    ``attrs["warning"]`` says when the items differ in seed or run count.
    """
    if len(items) < 2:
        raise ValueError("compare needs at least two scenarios or results folders")
    rows, first = [], None
    for item, label in zip(items, labels(items), strict=True):
        info, df = outcomes_of(item, runs, seed)
        probs = probabilities(df)
        row = {"item": label, "kind": "results folder" if Path(item).is_dir() else "scenario file", **info}
        for o in OUTCOME_ORDER:
            row.update({f"p_{o}": probs[o]["p"], f"p_{o}_low": probs[o]["low"], f"p_{o}_high": probs[o]["high"]})
        for o in TESTED:
            d = (
                difference(first[o]["k"], first[o]["n"], probs[o]["k"], probs[o]["n"])
                if first
                else dict.fromkeys(("diff", "low", "high", "p_value"), np.nan)
            )
            row.update(
                {
                    f"{o}_diff": d["diff"],
                    f"{o}_diff_low": d["low"],
                    f"{o}_diff_high": d["high"],
                    f"{o}_p_value": d["p_value"],
                }
            )
        first = first or probs
        rows.append(row)
    table = pd.DataFrame(rows)
    seeds = set(table["seed"])
    others = table["item"].iloc[1] if len(table) == 2 else f"{len(table) - 1} scenarios"
    table.attrs = {
        "scenario": f"{others} against {table['item'].iloc[0]}",
        "runs": int(table["runs"].sum()),
        "seed": seeds.pop() if len(seeds) == 1 else "various",
        "warning": mismatch(table),
    }
    return table


def text(table: pd.DataFrame) -> str:
    """A comparison as readable lines: P(outcome) per item, then each item's change from the first."""
    w = max(26, table["item"].str.len().max() + 2)
    lines = [f"{'item':<{w}}{'runs':>8}{'seed':>12}   {'P(declared)':<24}{'P(collapse)':<24}P(stalemate)"]
    for r in table.to_dict(orient="records"):
        cells = "".join(
            f"{r[f'p_{o}']:.3f} [{r[f'p_{o}_low']:.3f}, {r[f'p_{o}_high']:.3f}]".ljust(24) for o in OUTCOME_ORDER
        )
        lines.append(f"{r['item']:<{w}}{r['runs']:>8,}{r['seed']:>12}   {cells}".rstrip())
    if table.attrs.get("warning"):
        lines += [
            "",
            f"note: {table.attrs['warning']}: results folders keep their own runs and seed, "
            "--runs and --seed apply to scenario files only",
        ]
    lines += ["", f"change from {table['item'].iloc[0]} (95% interval, two-proportion z-test)"]
    for r in table.iloc[1:].to_dict(orient="records"):
        cells = "   ".join(
            f"{o} {signed(r[f'{o}_diff'], 3)} [{signed(r[f'{o}_diff_low'], 3)}, "
            f"{signed(r[f'{o}_diff_high'], 3)}] p {p_text(r[f'{o}_p_value'])}"
            for o in TESTED
        )
        lines.append(f"{r['item']:<{w}}{cells}")
    return "\n".join(lines) + "\n"


def signed(x: float, places: int) -> str:
    """``x`` with its sign to ``places`` decimals, never a negative zero: ``-0.0002`` -> ``+0.000``."""
    return f"{round(x, places) + 0.0:+.{places}f}"


def p_text(p: float) -> str:
    """A p-value as text: ``< 0.001`` or ``= 0.123``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
