"""Seed digests: the source documents' claims, by id, in our own words, with their attribution.

A digest is a YAML file with a ``source`` (outlet, date, ...) and a ``claims`` list; scenarios cite
claim ids in their ``basis`` entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Claim:
    text: str
    attribution: str


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
                claims[str(c["id"])] = Claim(str(c.get("claim", "")), str(c.get("attribution", "")))
    return claims, used


def find_seeds(folder: Path) -> Path | None:
    """The ``seeds/`` folder beside the results (walking up), else the one of the repo holding ``sim``."""
    here = Path(__file__).resolve().parents[2]
    for base in (*folder.resolve().parents, here):
        if (base / "seeds").is_dir():
            return base / "seeds"
    return None
