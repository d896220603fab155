"""Scenarios side by side: P(outcome) with Wilson intervals, and each one's difference from the first.

Items are scenario files (played here) or results folders (read back, with their own runs and
seed: a note warns when items differ in either). Differences in
P(declared) and P(collapse) come with Newcombe's hybrid score interval and a pooled
two-proportion z-test. Scenario files played with the same seed share their random streams,
which makes the independent-samples test conservative.

Results folders of other model families (``negsim run --model compromise|median|eum|nash``, see
:mod:`sim.analysis.families`) are point predictions, not probabilities: when any item is one, the table
gains a ``model`` column and, per issue, ``value.<issue>``: a family's predicted value (the median over
its parameter draws) beside each agent-based item's median agreed value (``agreed.<issue>.value`` over
the runs that agreed the issue), with ``p_agreed.<issue>``, the share of runs that agreed the issue or of
draws with a predicted value (the Nash solution has none where the red lines do not meet). The
probabilities and differences are then those of the agent-based items alone, against the first of them.
A comparison of agent-based items only is unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis import families
from sim.analysis.intervals import Z95, difference
from sim.analysis.summary import Tally, folder_chunks, frame_chunks, tally, tally_folder
from sim.batch.folder import read_meta
from sim.batch.runner import load_results, run_batch
from sim.engine.columns import OUTCOME_ORDER
from sim.scenario.edit import ABSENT, changed
from sim.scenario.errors import ScenarioError
from sim.scenario.labels import TEXT_FIELDS, Names
from sim.scenario.loader import load, validate
from sim.scenario.parameters import join

TESTED = ("declared", "collapse")


def outcomes_of(item: str | Path, runs: int | None = None, seed: int | None = None) -> tuple[dict, object]:
    """(scenario name, runs, seed, model) and what an item holds: for the agent-based model, the counts of its
    runs (a results folder's read chunk by chunk, in flat memory) and a source of its chunks; for a point
    prediction's folder, its table of predictions."""
    path = Path(item)
    if path.is_dir():
        meta = read_meta(path)
        model = families.model_of(meta)
        if model != "abm":
            df = load_results(path)
            return {"scenario": meta["scenario"], "runs": len(df), "seed": meta["seed"], "model": model}, df
        counts = tally_folder(path, load(path / "scenario.yaml"))
        info = {"scenario": meta["scenario"], "runs": counts.n, "seed": meta["seed"], "model": model}
        return info, (counts, folder_chunks(path))
    spec = load(path)
    seed = spec.meta.seed_or(seed)
    df = run_batch(spec, runs=runs, seed=seed)
    info = {"scenario": spec.meta.name, "runs": len(df), "seed": seed, "model": "abm"}
    return info, (tally(df, spec), frame_chunks(df))


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
    mixed = any(Path(i).is_dir() and families.model_of(read_meta(Path(i))) != "abm" for i in items)
    rows, first = [], None
    for item, label in zip(items, labels(items), strict=True):
        info, held = outcomes_of(item, runs, seed)
        model = info.pop("model")
        row = {"item": label, "kind": "results folder" if Path(item).is_dir() else "scenario file", **info}
        if model != "abm":
            rows.append({**row, "model": model, **predicted_values(held)})
            continue
        counts, chunks = held
        if mixed:
            row.update(model=model, **agreed_values(counts, chunks))
        probs = counts.probabilities()
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
    for issue in families.predicted_issues(df.columns):
        known = df[families.value_column(issue)].dropna()
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


def text(table: pd.DataFrame) -> str:
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


# What moved the numbers between two versions of a scenario: each change applied alone to the earlier one.

NOT_ASSUMPTIONS = ("meta.name", "meta.description", "meta.runs", "meta.seed")  # the comparison fixes runs and seed


@dataclass(frozen=True)
class Change:
    """A scenario value that differs between two versions, by dotted path (list items by id)."""

    path: str
    old: Any
    new: Any

    def kind(self) -> str:
        return "added" if self.old is ABSENT else "removed" if self.new is ABSENT else "changed"


def changes(old: Any, new: Any, path: str = "") -> list[Change]:
    """The changes from ``old`` to ``new`` (a scenario's plain data): numbers, distributions, lists of ids, and
    whole items added or removed; the ``basis`` and other texts that no number depends on are left out."""
    if path in NOT_ASSUMPTIONS or path.rpartition(".")[2] == "basis":
        return []
    if isinstance(old, dict) and isinstance(new, dict) and "dist" not in old and "dist" not in new:
        keys = [*old, *(k for k in new if k not in old)]
        return [c for k in keys for c in changes(old.get(k, ABSENT), new.get(k, ABSENT), join(path, k))]
    if _by_id(old) and _by_id(new):
        before, after = {x["id"]: x for x in old}, {x["id"]: x for x in new}
        ids = [*before, *(i for i in after if i not in before)]
        return [c for i in ids for c in changes(before.get(i, ABSENT), after.get(i, ABSENT), join(path, i))]
    if old == new or (path.rpartition(".")[2] in TEXT_FIELDS and isinstance(old, str) and isinstance(new, str)):
        return []
    return [Change(path, old, new)]


def _by_id(node: Any) -> bool:
    return isinstance(node, list) and all(isinstance(x, dict) and isinstance(x.get("id"), str) for x in node)


def played(spec, runs: int, seed: int) -> np.ndarray:
    """The outcome of each of ``runs`` runs of a scenario at ``seed``, by run index."""
    return run_batch(spec, runs=runs, seed=seed)["outcome"].to_numpy(dtype=object)


def moved(before: np.ndarray, after: np.ndarray) -> dict:
    """Per outcome, the change in its share from ``before`` to ``after`` (the same runs, common random numbers)
    and the 95% margin of that change from the runs' paired differences: ``d_<outcome>``, ``margin_<outcome>``."""
    out = {}
    for o in OUTCOME_ORDER:
        diff = (after == o).astype(float) - (before == o).astype(float)
        out[f"d_{o}"] = float(diff.mean())
        out[f"margin_{o}"] = float(Z95 * diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else np.nan
    return out


def attribution(earlier: str, later: str, runs: int, seed: int) -> pd.DataFrame:
    """What moved P(outcome) from the ``earlier`` resolved scenario (YAML text) to the ``later`` one.

    One row per change, its effect when made alone to the earlier scenario, with the 95% Monte Carlo margin of
    that effect; then the changes' interaction (the total less the sum of the effects alone, with the effects
    of changes that cannot be made alone, such as an event that needs a flag another change adds) and the total.
    Every scenario is played with the same ``runs`` and ``seed``, so differences come from the changes, not from
    the draws (common random numbers), and the margins are those of paired differences.
    """
    before, after = yaml.safe_load(earlier), yaml.safe_load(later)
    base_spec, new_spec = validate(before), validate(after)
    names = Names(new_spec)
    base = played(base_spec, runs, seed)
    total = played(new_spec, runs, seed)
    rows = []
    for c in changes(before, after):
        row = {"change": c.path, "what": names.field(c.path), "kind": c.kind()}
        row |= {"old": _shown(c.old), "new": _shown(c.new)}
        try:
            alone = played(validate(changed(before, c.path, c.new)), runs, seed)
        except ScenarioError as exc:
            rows.append({**row, "note": f"cannot be made alone: {exc.problems[0].path}: {exc.problems[0].message}"})
            continue
        rows.append({**row, **moved(base, alone), "note": ""})
    effects = [f"{x}_{o}" for o in OUTCOME_ORDER for x in ("d", "margin")]
    table = pd.DataFrame(rows, columns=["change", "what", "kind", "old", "new", *effects, "note"])
    everything = moved(base, total)
    rest = {f"d_{o}": everything[f"d_{o}"] - table[f"d_{o}"].sum() for o in OUTCOME_ORDER}
    ends = [
        {"change": "(interaction)", "what": "interactions, and the changes that cannot be made alone", **rest},
        {"change": "(total)", "what": "earlier -> later", **everything},
    ]
    table = pd.concat([table, pd.DataFrame(ends)], ignore_index=True)
    table.attrs = {
        "runs": runs,
        "seed": seed,
        "earlier": {o: float((base == o).mean()) for o in OUTCOME_ORDER},
        "later": {o: float((total == o).mean()) for o in OUTCOME_ORDER},
        "changes": len(rows),
    }
    return table


def _shown(value: Any) -> str:
    """A value of a change as short text (``-`` when absent)."""
    if value is ABSENT:
        return "-"
    if isinstance(value, dict) and "dist" in value:
        return value["dist"] + "(" + ", ".join(f"{k} {v}" for k, v in value.items() if k != "dist") + ")"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def attribution_text(table: pd.DataFrame, earlier: str, later: str) -> str:
    """What moved the numbers, change by change, the largest move in any outcome first."""
    a = table.attrs
    w = max(24, table["what"].str.len().max() + 2)
    cells = lambda values: "".join(
        f"{v:>{12 + (o == 'stalemate')}}" for v, o in zip(values, OUTCOME_ORDER, strict=True)
    )
    lines = [
        f"from {earlier}",
        f"  to {later}",
        f"each change made alone to the earlier scenario; {a['runs']:,} runs at seed {a['seed']} for every scenario",
        "",
        f"{'':<{w}}" + cells(f"P({o})" for o in OUTCOME_ORDER),
        *(f"{k:<{w}}" + cells(f"{a[k][o]:.3f}" for o in OUTCOME_ORDER) for k in ("earlier", "later")),
        "",
        f"{'change':<{w}}" + cells(OUTCOME_ORDER) + "   from -> to",
    ]
    ends = table["change"].str.startswith("(")
    body = table[~ends]
    size = body[[f"d_{o}" for o in OUTCOME_ORDER]].abs().max(axis=1).fillna(-1)
    order = body.assign(size=size).sort_values("size", ascending=False, kind="stable")
    for r in [*order.to_dict(orient="records"), *table[ends].to_dict(orient="records")]:
        shown = ["-" if pd.isna(r[f"d_{o}"]) else signed(r[f"d_{o}"], 3) for o in OUTCOME_ORDER]
        tail = {"added": "added", "removed": "removed", "changed": f"{r['old']} -> {r['new']}"}.get(r["kind"], "")
        if isinstance(r.get("note"), str) and r["note"]:
            tail += f"  ({r['note']})"
        lines.append(f"{r['what']:<{w}}{cells(shown)}   {tail}".rstrip())
    if not a["changes"]:
        lines.append("(no scenario value differs: the two forecasts differ only by runs or seed)")
    else:
        margins = ", ".join(f"{o} ±{body[f'margin_{o}'].max():.3f}" for o in OUTCOME_ORDER)
        lines += ["", f"Monte Carlo margin (95%, paired runs) of a change's effect, at most: {margins}"]
    return "\n".join(lines) + "\n"
