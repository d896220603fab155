"""A briefing as a list of blocks (headings, paragraphs, tables, figures), and its HTML rendering.

The same blocks are drawn as PDF pages by :mod:`sim.briefing.pdf`. Claim ids in the text link to the
table of sources.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

import numpy as np

from sim.scenario.digest import Claim

CLAIM_ID = re.compile(r"\b[a-z]{1,8}-\d{1,4}\b")


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body | lead | note


@dataclass(frozen=True)
class Note:
    """One line of a ``basis``: the field it explains, the text, and whether it is a bare assumption."""

    field: str
    text: str
    assumption: bool


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple]  # cells are text or a list of Notes
    widths: tuple[float, ...]  # shares of the text width
    anchor: str = ""  # HTML: rows get the id anchor + first cell, e.g. claim-gz-03


@dataclass(frozen=True)
class Figure:
    name: str
    png: bytes
    image: np.ndarray = field(compare=False, repr=False)
    caption: str


CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;max-width:58rem;margin:2rem auto;
padding:0 1.2rem;line-height:1.45;font-size:15px}
h1{color:#264653;font-size:1.7rem;margin-bottom:.2rem}h2{color:#264653;border-bottom:2px solid #2a9d8f;
padding-bottom:.15rem;margin-top:2.2rem}h3{color:#264653;margin-bottom:.4rem}
p.lead{font-size:1.1rem}p.note{color:#666;font-size:.88rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem;font-size:.86rem}
th{background:#eef3f2;text-align:left;padding:.35rem .5rem;border-bottom:1px solid #bbb}
td{padding:.35rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top;white-space:pre-line}
td ul{margin:0;padding-left:1rem;white-space:normal}td li{margin-bottom:.2rem}
.tag{background:#f4e3c1;color:#7a5200;border-radius:3px;padding:0 .3rem;font-size:.75rem;margin-right:.25rem}
.field{font-weight:600}a.claim{color:#1d6f65;text-decoration:none;white-space:nowrap;border-bottom:1px dotted #1d6f65}
figure{margin:1.2rem 0 2rem}figure img{width:100%;height:auto}figcaption{color:#555;font-size:.88rem}
"""


def _linked(text: str, claims: dict[str, Claim]) -> str:
    """Escaped text with claim ids linked to the Sources table (hover shows the paraphrase)."""

    def link(m):
        c = claims.get(m.group(0))
        title = f' title="{html.escape(c.text)} ({html.escape(c.attribution)})"' if c else ""
        return f'<a class="claim" href="#claim-{m.group(0)}"{title}>{m.group(0)}</a>'

    return CLAIM_ID.sub(link, html.escape(text))


def _cell(cell, claims) -> str:
    if isinstance(cell, str):
        return html.escape(cell)
    items = "".join(_note(n, claims) for n in cell)
    return f"<ul>{items}</ul>" if items else "—"


def _note(n: Note, claims) -> str:
    """A basis note as a list item: [assumption tag] field: text (no field for the object's own basis)."""
    tag = "<span class=tag>assumption</span>" if n.assumption else ""
    field = f"<span class=field>{html.escape(n.field)}</span>{': ' * bool(n.text)}" if n.field else ""
    return f"<li>{tag}{field}{_linked(n.text, claims)}</li>"


def _html_block(b, claims) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level + 1}>{html.escape(b.text)}</h{b.level + 1}>"
    if isinstance(b, Paragraph):
        return f'<p class="{b.style}">{html.escape(b.text)}</p>'
    if isinstance(b, Figure):
        data = base64.b64encode(b.png).decode()
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b.caption)}">'
            f"<figcaption>{html.escape(b.caption)}</figcaption></figure>"
        )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
    cols = "".join(f'<col style="width:{100 * w:.0f}%">' for w in b.widths)
    body = "".join(
        (f'<tr id="{b.anchor}{html.escape(r[0])}">' if b.anchor else "<tr>")
        + "".join(f"<td>{_cell(c, claims)}</td>" for c in r)
        + "</tr>"
        for r in b.rows
    )
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(title: str, blocks: list, claims: dict[str, Claim]) -> str:
    body = "\n".join(_html_block(b, claims) for b in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body>\n{body}\n</body></html>\n"
    )
