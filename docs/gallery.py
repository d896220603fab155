"""Draw the documentation's gallery: the figures of a batch of the tutorial's full case, copied to docs/gallery/.

Run from the repository's root: ``.venv/bin/python docs/gallery.py`` (about a minute). The figures are committed,
so building the site does not play a batch.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sim.batch.runner import run_batch
from sim.briefing.outputs import write_outputs
from sim.scenario.loader import load

DOCS = Path(__file__).resolve().parent
CASE = DOCS / "tutorial" / "5_full_case.yaml"
GALLERY = DOCS / "gallery"
RUNS = 4000
TRAJECTORIES = 200


def draw(runs: int = RUNS) -> list[Path]:
    """Play the case, draw its figures, and copy the PNGs to docs/gallery/; return what was written."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = run_batch(load(CASE), Path(tmp) / "port", runs=runs, workers=1, trajectories=TRAJECTORIES)
        write_outputs(folder, workers=1)
        GALLERY.mkdir(exist_ok=True)
        written = []
        for png in sorted((folder / "figures").glob("*.png")):
            written.append(Path(shutil.copy(png, GALLERY / png.name)))
        shutil.copy(folder / "summary.txt", GALLERY / "summary.txt")
    return written


if __name__ == "__main__":
    for path in draw():
        print(path.relative_to(DOCS.parent))
