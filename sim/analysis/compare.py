"""Scenarios side by side: P(outcome) with Wilson intervals, and each one's difference from the first.

Items are scenario files (played here) or results folders (read back, with their own runs and
seed: a note warns when items differ in either). Differences in P(declared) and P(collapse) are
tested as the ``test`` column says. Items with the same seed and the same run ids share their random
streams, so their runs are matched one to one: their difference comes with a paired interval and
McNemar's test on the run-matched outcomes. Otherwise (another seed, other runs) it comes with
Newcombe's hybrid score interval and a pooled two-proportion z-test.

Results folders of other model families (``negsim run --model compromise|median|eum|nash``, see
:mod:`sim.analysis.predict`) are point predictions, not probabilities: when any item is one, the table
gains a ``model`` column and, per issue, ``value.<issue>``: a family's predicted value (the median over
its parameter draws) beside each agent-based item's median agreed value (``agreed.<issue>.value`` over
the runs that agreed the issue), with ``p_agreed.<issue>``, the share of runs that agreed the issue or of
draws with a predicted value (the Nash solution has none where the red lines do not meet). The
probabilities and differences are then those of the agent-based items alone, against the first of them.
A comparison of agent-based items only is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.intervals import difference, paired_difference
from sim.analysis.predict import predicted_issues, value_column
from sim.analysis.prediction_folder import family_of, point_family
from sim.analysis.tally import Tally, folder_chunks, frame_chunks, tally_folder, tally_runs
from sim.batch.folder import ResultsFolder
from sim.batch.runner import run_batch
from sim.engine.columns import OUTCOME_ORDER, reached
from sim.scenario.loader import load

TESTED = ("declared", "collapse")
PAIRED, UNPAIRED = "McNemar (paired by run)", "two-proportion z-test"


def read_item(item: str | Path, runs: int | None = None, seed: int | None = None) -> tuple[dict, object]:
    """(scenario name, runs, seed, model family) and what an item holds: for the agent-based model, the counts of
    its runs (a results folder's read chunk by chunk, in flat memory) and a source of its chunks; for a point
    prediction's folder, its table of predictions."""
    path = Path(item)
    if path.is_dir():
        results = ResultsFolder.open(path)
        meta, family = results.meta, family_of(results.meta)
        if family != "abm":
            df = results.runs()
            return {"scenario": meta["scenario"], "runs": len(df), "seed": meta["seed"], "model": family}, df
        counts = tally_folder(results, results.scenario)
        info = {"scenario": meta["scenario"], "runs": counts.n, "seed": meta["seed"], "model": family}
        return info, (counts, folder_chunks(path))
    spec = load(path)
    seed = spec.meta.seed_or(seed)
    df = run_batch(spec, runs=runs, seed=seed)
    info = {"scenario": spec.meta.name, "runs": len(df), "seed": seed, "model": "abm"}
    return info, (tally_runs(df, spec), frame_chunks(df))


def run_outcomes(chunks) -> pd.DataFrame:
    """Each run's id and whether it reached each tested outcome, in run order."""
    parts = [
        pd.DataFrame({"run": c["run"].to_numpy(), **{o: reached(c, o) for o in TESTED}})
        for c in chunks(["run", "outcome"])
    ]
    return pd.concat(parts).sort_values("run", ignore_index=True)


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
    mixed = any(Path(i).is_dir() and point_family(i) for i in items)
    rows, first, first_runs = [], None, None
    for item, label in zip(items, labels(items), strict=True):
        info, held = read_item(item, runs, seed)
        family = info.pop("model")
        row = {"item": label, "kind": "results folder" if Path(item).is_dir() else "scenario file", **info}
        if family != "abm":
            rows.append({**row, "model": family, **predicted_values(held)})
            continue
        counts, chunks = held
        if mixed:
            row.update(model=family, **agreed_values(counts, chunks))
        probs = counts.probabilities()
        for o in OUTCOME_ORDER:
            row.update({f"p_{o}": probs[o]["p"], f"p_{o}_low": probs[o]["low"], f"p_{o}_high": probs[o]["high"]})
        reached_by_run = run_outcomes(chunks)
        paired = (
            first is not None
            and first_runs[1] == info["seed"]
            and np.array_equal(first_runs[0]["run"], reached_by_run["run"])
        )
        row["test"] = (PAIRED if paired else UNPAIRED) if first else ""
        for o in TESTED:
            d = (
                (
                    paired_difference(first_runs[0][o].to_numpy(), reached_by_run[o].to_numpy())
                    if paired
                    else difference(first[o]["k"], first[o]["n"], probs[o]["k"], probs[o]["n"])
                )
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
        first, first_runs = first or probs, first_runs or (reached_by_run, info["seed"])
        rows.append(row)
    table = pd.DataFrame(rows)
    if mixed:  # a point prediction at the medians has no seed: keep the others' as integers
        table["seed"] = pd.Series([r["seed"] for r in rows], dtype=object)
        value_columns = [c for c in table.columns if c.startswith("value.")]
        front = [c for c in table.columns if c not in value_columns and not c.startswith("p_agreed.")]
        table = table[front + [c for v in value_columns for c in (v, f"p_agreed.{v[6:]}") if c in table]]
    abm = abm_rows(table)
    seeds = set(abm["seed"])
    others = table["item"].iloc[1] if len(table) == 2 else f"{len(table) - 1} {'items' if mixed else 'scenarios'}"
    table.attrs = {
        "scenario": f"{others} against {table['item'].iloc[0]}",
        "runs": int(abm["runs"].sum()),
        "seed": seeds.pop() if len(seeds) == 1 else "various",
        "warning": mismatch(abm) if len(abm) else "",
    }
    return table


def abm_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of agent-based items (all of them when no other model family takes part)."""
    return table[table["model"] == "abm"] if "model" in table else table


def predicted_values(df: pd.DataFrame) -> dict:
    """Per issue, ``value.<issue>``: a family's predicted value (median over its draws), and ``p_agreed.<issue>``,
    the share of draws with a predicted value."""
    out = {}
    for issue in predicted_issues(df.columns):
        known = df[value_column(issue)].dropna()
        out[f"value.{issue}"] = float(known.median()) if len(known) else np.nan
        out[f"p_agreed.{issue}"] = len(known) / len(df) if len(df) else np.nan
    return out


def agreed_values(counts: Tally, chunks) -> dict:
    """Per issue, ``value.<issue>``: the agent-based runs' median agreed value, and ``p_agreed.<issue>``, the
    share of runs that agreed it."""
    medians = counts.agreed_medians(chunks)
    out = {}
    for issue, agreed in counts.agreed.items():
        out[f"value.{issue}"] = medians[issue]
        out[f"p_agreed.{issue}"] = agreed.n / counts.n if counts.n else np.nan
    return out


def comparison_text(table: pd.DataFrame) -> str:
    """A comparison as readable lines: P(outcome) per item, then each item's change from the first; with other
    model families, those of the agent-based items, then every item's value per issue."""
    if "model" not in table:
        return outcome_text(table)
    abm = abm_rows(table).reset_index(drop=True)
    abm.attrs = table.attrs
    lines = [outcome_text(abm, changes=len(abm) > 1)] if len(abm) else []  # ends in a newline: a blank line
    issues = [c[6:] for c in table.columns if c.startswith("value.")]
    w = max(26, table["item"].str.len().max() + 2)
    lines += [
        "value per issue: a family's prediction, the agent-based model's median agreed value;",
        "in brackets the share of runs that agreed it (of a family's draws with a value, where not all)",
    ]
    lines.append(f"{'item':<{w}}{'model':<12}" + "".join(f"{i:>16}" for i in issues))
    for r in table.to_dict(orient="records"):
        cells = []
        for i in issues:
            v, p = r.get(f"value.{i}", np.nan), r.get(f"p_agreed.{i}", np.nan)
            cell = "-" if pd.isna(v) else f"{v:.1f}"
            shown = not pd.isna(p) and (r["model"] == "abm" or p < 1)
            cells.append(f"{cell} ({p:.1%})" if shown else cell)
        lines.append(f"{r['item']:<{w}}{r['model']:<12}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines) + "\n"


def outcome_text(table: pd.DataFrame, changes: bool = True) -> str:
    """P(outcome) per agent-based item, then (``changes``) each one's change from the first."""
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
    if not changes:
        return "\n".join(lines) + "\n"
    lines += ["", f"change from {table['item'].iloc[0]} (95% interval; p-value, by the test named)"]
    for r in table.iloc[1:].to_dict(orient="records"):
        cells = "   ".join(
            f"{o} {signed(r[f'{o}_diff'], 3)} [{signed(r[f'{o}_diff_low'], 3)}, "
            f"{signed(r[f'{o}_diff_high'], 3)}] p {p_text(r[f'{o}_p_value'])}"
            for o in TESTED
        )
        lines.append(f"{r['item']:<{w}}{cells}   {r.get('test', '')}".rstrip())  # a table from before names none
    return "\n".join(lines) + "\n"


def signed(x: float, places: int) -> str:
    """``x`` with its sign to ``places`` decimals, never a negative zero: ``-0.0002`` -> ``+0.000``."""
    return f"{round(x, places) + 0.0:+.{places}f}"


def p_text(p: float) -> str:
    """A p-value as text: ``< 0.001`` or ``= 0.123``."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
