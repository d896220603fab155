"""How a briefing writes numbers, dates, distributions and the basis of each number."""

from __future__ import annotations

import datetime as dt
import re

from sim.briefing.document import Note
from sim.scenario.distributions import Beta, Choice, Normal, Triangular, Uniform
from sim.scenario.labels import words

ASSUMPTION = re.compile(r"\s*assumption\s*(?::\s*(.*))?$", re.S | re.I)


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def whole_percent(p: float) -> str:
    """A probability in whole percent that never rounds a small chance to nothing or a large one to certainty:
    ``0.005`` -> ``<1%``, ``0.996`` -> ``>99%``, ``0.42`` -> ``42%``."""
    if 0 < p < 0.01:
        return "<1%"
    return ">99%" if 0.99 < p < 1 else f"{p:.0%}"


def listing(items) -> str:
    """Items as a sentence lists them: ``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return " and ".join(filter(None, [", ".join(items[:-1]), *items[-1:]]))


def interval(p: dict) -> str:
    return f"{pct(p['p'])} ({pct(p['low'])}–{pct(p['high'])})"


def day(d: dt.date | str) -> str:
    d = dt.date.fromisoformat(d) if isinstance(d, str) else d
    return f"{d.day} {d:%b %Y}"


def num(x: float) -> str:
    return f"{x:g}"


def value(v) -> str:
    """A number or distribution, as an analyst would write it."""
    if isinstance(v, Uniform):
        return f"{num(v.low)}–{num(v.high)} (uniform)"
    if isinstance(v, Triangular):
        return f"{num(v.low)}–{num(v.high)}, mode {num(v.mode)} (triangular)"
    if isinstance(v, Normal):
        return f"normal {num(v.mean_)} ± {num(v.sd)}, in [{num(v.low)}, {num(v.high)}]"
    if isinstance(v, Beta):
        return f"beta({num(v.a)}, {num(v.b)}) on [{num(v.low)}, {num(v.high)}]"
    if isinstance(v, Choice):
        return "one of " + ", ".join(num(x) for x in v.values)
    return num(v)


def shift(v) -> str:
    """A change: signed if a number (``+0.05``), else the distribution it is drawn from."""
    return f"{v:+g}" if isinstance(v, (int, float)) else value(v)


def notes(basis: dict[str, str]) -> list[Note]:
    """A ``basis`` mapping as Notes; an entry that is only ``assumption[: why]`` is marked as an assumption.

    The ``label`` key is the basis of the object as a whole, so its note names no field.
    """
    out = []
    for name, text in basis.items():
        bare = ASSUMPTION.match(text)
        out.append(Note("" if name == "label" else name, (bare.group(1) or "") if bare else text, bool(bare)))
    return out


def basis_of(obj) -> dict[str, str]:
    """An object's ``basis``, with its concession's (actors), gate's (phases) or relaxation's (red lines)."""
    inner = getattr(obj, "concession", None) or getattr(obj, "gate", None) or getattr(obj, "relax", None)
    return obj.basis | (inner.basis if inner is not None else {})


def titled(label: str, ident: str) -> str:
    """A label with the id to write in the YAML or a ``--vary`` path beneath, unless the label is the id."""
    return label if label.lower() == words(ident).lower() else f"{label}\n({ident})"
