"""Shared by the tests: small scenarios built in code, and checks that a written figure is a real image."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from sim.scenario.loader import validate
from sim.scenario.schema import Scenario


def actor(id_: str, position: dict, salience: dict, role: str = "principal", **fields) -> dict:
    return {"id": id_, "role": role, "position": position, "salience": salience, **fields}


def uniform(low: float, high: float) -> dict:
    return {"dist": "uniform", "low": low, "high": high}


def two_principals(issues=("a",)) -> list[dict]:
    """Principals ``p`` (ideal 0 on every issue) and ``q`` (ideal 100), equal salience."""
    even = {i: 1 / len(issues) for i in issues}
    return [actor("p", dict.fromkeys(issues, 0), even), actor("q", dict.fromkeys(issues, 100), even)]


def scenario(issues=("a",), actors=None, horizon: int = 10, seed: int = 11, meta=None, **sections) -> Scenario:
    """A validated scenario: ``issues`` on 0-100 (ids, or ``{id: label}``), ``actors`` (default
    :func:`two_principals`), more ``meta`` fields and any other section."""
    labels = issues if isinstance(issues, dict) else {i: f"issue {i}" for i in issues}
    return validate(
        {
            "meta": {"name": "test", "horizon": horizon, "seed": seed, **(meta or {})},
            "issues": [{"id": i, "label": label, "low": "none", "high": "all"} for i, label in labels.items()],
            "actors": actors if actors is not None else two_principals(tuple(labels)),
            **sections,
        }
    )


def assert_image(path: Path, min_width: int = 300, min_height: int = 150) -> np.ndarray:
    """``path`` is a PNG that decodes to a picture of plausible size with something drawn on it."""
    import matplotlib.image as mpimg

    assert path.read_bytes().startswith(b"\x89PNG"), path
    image = mpimg.imread(path)
    height, width = image.shape[:2]
    assert width >= min_width and height >= min_height, (path, image.shape)
    assert width <= 8000 and height <= 8000, (path, image.shape)
    assert image.ndim == 3 and image.shape[2] in (3, 4), (path, image.shape)
    assert np.ptp(image[..., :3]) > 0.5, f"{path}: a blank image"  # dark ink on a light ground
    return image


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF (pypdf: no external tool needed)."""
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def svg_texts(path: Path) -> list[str]:
    """The texts drawn in an SVG written by matplotlib: as text elements, or as paths each under a comment."""
    import html
    import re

    svg = path.read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and svg.rstrip().endswith("</svg>"), path
    found = re.findall(r"<!-- (.*?) -->|<text\b[^>]*>(.*?)</text>", svg, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", comment or text)) for comment, text in found]


def assert_figure(folder: Path, name: str, *texts: str) -> list[str]:
    """``name`` in ``folder`` is written as PNG and SVG: a real image whose SVG draws each of ``texts`` (as a
    whole text or within one); returns the texts the SVG draws."""
    assert_image(folder / f"{name}.png")
    drawn = svg_texts(folder / f"{name}.svg")
    for text in texts:
        assert any(text in t for t in drawn), (name, text, drawn)
    return drawn


def figure_titles(summary: dict) -> dict[str, str]:
    """The title each standard figure carries, by figure name (several name the scenario's first phase)."""
    phase = summary["phase"].lower()
    return {
        "outcomes": f"How the talks end: {phase}?",
        "declaration_curve": f"When: {phase}, or a collapse first",
        "agreements": "Declared, agreed, carried out",
        "blocking": f"What blocked it: {phase}",
        "packages": "What was agreed, issue by issue",
    }


def assert_standard_figures(folder: Path, summary: dict, prefix: str = "") -> None:
    """The five standard figures in ``folder`` are real images whose SVGs carry their title, the summary's
    run count and seed, and (the outcome figure) its rounded probabilities and intervals."""
    for name, title in figure_titles(summary).items():
        assert_image(folder / f"{prefix}{name}.png")
        texts = svg_texts(folder / f"{prefix}{name}.svg")
        assert title in texts, (name, texts)
        assert any(f"{summary['runs']:,} runs  |  seed {summary['seed']}" in t for t in texts), (name, texts)
    texts = svg_texts(folder / f"{prefix}outcomes.svg")
    assert list(summary["probabilities"]) == ["declared", "collapse", "stalemate"]
    for outcome, p in summary["probabilities"].items():
        assert outcome in texts and f"{p['p']:.0%}" in texts and f"[{p['low']:.0%}–{p['high']:.0%}]" in texts, outcome


class ServedApp:
    """A running ``negsim app`` (see :func:`serving`): its address with the token, port, token, and what it printed."""

    def __init__(self, process):
        import threading
        import time

        import pytest

        self.process, self.lines = process, []
        threading.Thread(
            target=lambda: self.lines.extend(line.rstrip("\n") for line in process.stdout), daemon=True
        ).start()
        deadline = time.monotonic() + 90
        while not any("token=" in line for line in self.lines):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start: {self.output}")
            time.sleep(0.1)
        self.url = next(line for line in self.lines if "token=" in line).split()[2]
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.token = self.url.split("token=")[1]
        self.base = f"http://127.0.0.1:{self.port}/"

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def serving(*args: str, cwd: Path | None = None):
    """``negsim app ARGS --port 0`` (a free loopback port) run in ``cwd``, stopped afterwards."""
    import os
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("negsim")), "app", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        yield ServedApp(process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
