"""What moved the numbers between two versions of a scenario: each change made alone to the earlier one.

The two versions are two forecasts: results folders, scenario files, or two entries of a forecast log
(:mod:`sim.analysis.forecast_log`), each a :class:`Version` (its resolved scenario, runs and seed). Every
scenario is played with the same runs and seed (common random numbers), so what differs comes from the
changes, not from the draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis.compare import signed
from sim.analysis.intervals import Z95
from sim.analysis.prediction_folder import agent_based
from sim.batch.folder import ResultsFolder
from sim.batch.runner import run_batch
from sim.engine.columns import OUTCOME_ORDER
from sim.scenario.edit import ABSENT, changed
from sim.scenario.errors import ScenarioError
from sim.scenario.labels import TEXT_FIELDS, Names
from sim.scenario.loader import dump, load, validate
from sim.scenario.parameters import join

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


@dataclass(frozen=True)
class Version:
    """A forecast to compare with another: its resolved scenario (YAML text), runs and seed, and a label."""

    label: str
    scenario_yaml: str
    runs: int
    seed: int


def version_of(item: str | Path) -> Version:
    """The forecast a results folder (of the agent-based model) or a scenario file makes."""
    path = Path(item)
    if not path.is_dir():
        spec = load(path)
        return Version(str(item), dump(spec), spec.meta.runs, spec.meta.seed)
    agent_based(path, ", not an agent-based forecast")
    results = ResultsFolder.open(path)
    return Version(str(item), results.scenario_text, int(results.meta["runs"]), results.meta["seed"])


def what_moved(earlier: Version, later: Version, runs: int | None = None, seed: int | None = None) -> pd.DataFrame:
    """:func:`attribution` from the ``earlier`` forecast to the ``later`` one, played with ``runs`` (default: the
    fewer of the two) at ``seed`` (default: the later one's)."""
    runs = runs or min(earlier.runs, later.runs)
    seed = later.seed if seed is None else seed
    return attribution(earlier.scenario_yaml, later.scenario_yaml, runs=runs, seed=seed)
