"""Seed digests: the source documents' claims, by id, in our own words, with their attribution.

A digest is a YAML file with a ``source`` (outlet, date, ...) and a ``claims`` list; scenarios cite
claim ids in their ``basis`` entries. Digests live in a ``seeds/`` folder, or beside the scenario in a case folder
(``cases/<case>/``: the case's scenario ``<case>.yaml``, its ``digest.yaml`` and its ``observed.yaml``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

CASE_OBSERVED = "observed.yaml"  # a case folder's observed outcomes, beside its scenario and its digest


@dataclass(frozen=True)
class Claim:
    text: str
    attribution: str
    date: dt.date | None = None  # when it became known (the digest's ``date``), if it says


def read_digests(seeds: Path | None) -> tuple[dict[str, Claim], list[str]]:
    """Claims by id from every seed digest in ``seeds`` (files with a ``claims:`` list), and the digests used."""
    claims, used = {}, []
    for path in sorted(seeds.glob("*.yaml")) if seeds else []:
        try:
            data = yaml.safe_load(path.read_text())
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
            continue
        source = data.get("source") if isinstance(data.get("source"), dict) else {}
        about = ", ".join(str(source[k]) for k in ("outlet", "date") if source.get(k))
        used.append(f"{path.name} ({about})" if about else path.name)
        for c in data["claims"]:
            if isinstance(c, dict) and "id" in c:
                when = c.get("date")
                when = when if isinstance(when, dt.date) and not isinstance(when, dt.datetime) else None
                claims[str(c["id"])] = Claim(str(c.get("claim", "")), str(c.get("attribution", "")), when)
    return claims, used


def scenario_digests(path: Path) -> tuple[dict[str, Claim], list[str]]:
    """The claims a scenario file may cite: those of the digests in ``seeds/`` above it and of any digest beside it
    (a case folder's own), and the digests used."""
    seeds, here = find_seeds(path), path.resolve().parent
    claims, used = read_digests(seeds)
    if seeds is None or seeds.resolve() != here:
        beside, more = read_digests(here)
        claims, used = {**claims, **beside}, used + more
    return claims, used


def find_seeds(folder: Path) -> Path | None:
    """The ``seeds/`` folder beside the results (walking up), else the one of the repo holding ``sim``."""
    return find_beside(folder, "seeds")


def find_beside(path: Path, name: str) -> Path | None:
    """The folder ``name`` in a folder above ``path`` (walking up), else the one of the repo holding ``sim``."""
    here = Path(__file__).resolve().parents[2]
    for base in (*path.resolve().parents, here):
        if (base / name).is_dir():
            return base / name
    return None


def scored_cases(path: Path) -> set[str]:
    """The cases the observed-outcomes files (``observed/*.yaml`` above ``path``, and a case folder's ``observed.yaml``
    beside it) score: a scenario file named after one of them is a case file."""
    folder, cases = find_beside(path, "observed"), set()
    files = {*(folder.glob("*.yaml") if folder else []), *path.resolve().parent.glob(CASE_OBSERVED)}
    for file in sorted(files):
        try:
            data = yaml.safe_load(file.read_text())
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("case"), str):
            cases.add(data["case"])
    return cases
