"""Whether every number a scenario file sets cites its basis (``negsim validate --strict``).

A number is sourced when the ``basis`` of the nearest object that carries one (an actor, a red line, an event, ...)
has an entry for it: its field name, or a dotted path down to it (``effects``, ``effects.pressure``). Numbers the
file leaves at their defaults need none, nor do ``meta`` and ``outputs`` (how the runs are played, not claims).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.scenario.errors import ScenarioError
from sim.scenario.fields import Sourced
from sim.scenario.loader import hindsight_problems, named, problem_at, read_scenario
from sim.scenario.parameters import join
from sim.scenario.schema import Scenario

UNSOURCED = ("meta", "outputs")  # sections whose numbers are choices about the runs, not claims about the world


def _number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, dict) and "dist" in value
    )


def _covered(basis: dict[str, str], relative: str) -> bool:
    parts = relative.split(".")
    return any(".".join(parts[:k]) in basis for k in range(1, len(parts) + 1))


def unsourced(scenario: BaseModel, data: dict) -> list[tuple[str, str]]:
    """(dotted path, message) for each number ``data`` (the scenario as read, ``extends:`` resolved) sets without a
    ``basis`` entry, ``scenario`` being its validated form."""
    out: list[tuple[str, str]] = []
    _walk(scenario, data, "", None, out)
    return out


def _walk(model: Any, data: Any, path: str, owner: tuple[str, dict] | None, out: list) -> None:
    """Visit ``data`` beside its validated ``model``; ``owner`` is the nearest sourced object (path, basis)."""
    if isinstance(model, BaseModel) and isinstance(data, dict):
        if isinstance(model, Sourced):
            owner = (path, model.basis)
        fields = {(f.alias or n): n for n, f in type(model).model_fields.items()}
        for key, value in data.items():
            if key == "basis" or key not in fields or (not path and key in UNSOURCED):
                continue
            _walk(getattr(model, fields[key]), value, join(path, key), owner, out)
    elif isinstance(data, list) and isinstance(model, list):
        for k, (m, d) in enumerate(zip(model, data, strict=False)):
            _walk(m, d, join(path, str(k)), owner, out)
    elif isinstance(data, dict) and isinstance(model, dict) and not _number(data):
        for key, value in data.items():
            _walk(model.get(key), value, join(path, key), owner, out)
    elif _number(data):
        where, basis = owner if owner is not None else ("", {})
        relative = path[len(where) + 1 :] if where else path
        key = relative.split(".")[0]
        if not _covered(basis, relative) and join(where, key) not in [p for p, _ in out]:
            out.append(
                (join(where, key), f"no basis: add '{key}: <claim ids, or assumption: why>' to the basis beside it")
            )


def load_sourced(path: str | Path) -> Scenario:
    """Load a scenario file as :func:`~sim.scenario.loader.load_case` does and require a basis for every number it
    sets; raise :class:`ScenarioError` listing every problem (the validator's first, then each unsourced number on
    its line, then what a case file takes from after its start)."""
    scenario, data, where = read_scenario(path)
    problems = [problem_at(where, str(path), p, msg) for p, msg in unsourced(scenario, data)]
    problems += hindsight_problems(path, scenario, where)
    if problems:
        raise ScenarioError(named(problems, data))
    return scenario
