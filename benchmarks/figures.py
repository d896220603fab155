"""What every benchmark does with its figures: print them one per line and, if asked, keep them as JSON."""

from __future__ import annotations

import json
from pathlib import Path


def report(figures: dict, path: Path | None) -> None:
    width = max(map(len, figures), default=0) + 2
    for key, value in figures.items():
        print(f"{key:{width}} {value}")
    if path:
        path.write_text(json.dumps(figures, indent=2) + "\n")
