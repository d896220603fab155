"""The calibrated scenario: a scenario file that ``extends:`` the original with each calibrated parameter's
posterior as its distribution, each with a basis that cites the calibration run.

It is written only once a calibration is complete, through a temporary file that is checked by loading it,
then renamed: a reader never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel

from sim.batch.folder import atomic_write
from sim.scenario.fields import Sourced
from sim.scenario.loader import load
from sim.scenario.schema import Scenario
from sim.scenario.targets import Targets


def calibrated_file(spec: Scenario, scenario_path: Path, targets: Targets, targets_path: Path, result: dict,
                    folder: Path, out: Path) -> str:  # fmt: skip
    """The text of a scenario that ``extends:`` the original with each calibrated parameter's posterior, each
    with a basis that cites the calibration run."""
    overlay: dict = {
        "extends": os.path.relpath(scenario_path.resolve(), out.parent.resolve()),
        "meta": {
            "name": f"{spec.meta.name} - calibrated to {targets.name}",
            "description": f"{spec.meta.name}, with {len(result['parameters'])} uncertain parameter(s) fitted to "
            f"the frequencies of {targets.name} ({targets.reference}) by negsim calibrate.",
        },
    }
    eps = result["epsilons"][-1] if result["epsilons"] else float("nan")
    run = (f"calibrated by negsim calibrate on {result['finished'][:10]}: ABC-SMC (pyabc {result['pyabc']}) to "
           f"{targets_path.name} ({targets.name}; {targets.reference}), {result['populations']} populations of "
           f"{result['population']} particles x {result['runs_per_point']} runs, seed {result['seed']}, final "
           f"tolerance {eps:.2f} sd; run kept in {folder}")  # fmt: skip
    for row in result["parameters"]:
        _place(overlay, spec, row["parameter"], row["fitted"], f"{run}; prior {row['prior']}")
    head = (f"# {overlay['meta']['name']}\n# Written by negsim calibrate; the posterior of each calibrated "
            "parameter, as a distribution. Regenerate rather than edit.\n")  # fmt: skip
    return head + yaml.safe_dump(overlay, sort_keys=False, allow_unicode=True, width=110)


def _place(overlay: dict, spec: Scenario, path: str, value: dict, basis: str) -> None:
    """Put ``value`` at parameter ``path`` in ``overlay`` (lists of objects by id, as ``extends:`` merges
    them) and its ``basis`` on the nearest object that has one (its prior's own basis kept beside)."""
    parts = path.split(".")
    node, out = spec, overlay
    owner, key, prior_basis = None, None, ""
    i = 0
    while i < len(parts):
        part, last = parts[i], i == len(parts) - 1
        if isinstance(node, BaseModel):
            fields = {f.alias or n: n for n, f in type(node).model_fields.items()}
            if isinstance(node, Sourced):
                owner, key, prior_basis = out, part, node.basis.get(part, "")
            child = getattr(node, fields[part])
        else:  # a mapping (positions by issue, bounds by issue, effects by actor)
            child = node[part]
        if last:
            out[part] = value
            break
        if isinstance(child, list):
            ident = parts[i + 1]
            items = out.setdefault(part, [])
            item = next((x for x in items if x["id"] == ident), None)
            if item is None:
                item = {"id": ident}
                items.append(item)
            node, out = next(x for x in child if x.id == ident), item
            i += 2
            continue
        node, out = child, out.setdefault(part, {})
        i += 1
    if owner is not None:
        text = f"{basis} (its basis: {prior_basis})" if prior_basis else basis
        owner.setdefault("basis", {}).setdefault(key, text)


def write_scenario(text: str, out: Path) -> None:
    """Write the calibrated scenario: to a temporary file beside ``out`` (so ``extends:`` resolves), checked
    by loading it, then renamed over ``out``: a reader never sees half a file."""
    tmp = out.parent / f".{out.name}.tmp"
    atomic_write(tmp, text)
    try:
        load(tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
