"""PDF rendering of a briefing's blocks: A4 pages drawn with matplotlib, fonts embedded."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.figure
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from sim import __version__
from sim.briefing.document import Figure, Heading, Paragraph, Table
from sim.briefing.style import INK

A4 = (8.27, 11.69)
MARGIN = 0.75
TEXT_WIDTH = A4[0] - 2 * MARGIN
STYLES = {  # size, weight, colour, style, space before (in)
    "title": (17, "bold", INK, "normal", 0.0),
    "h1": (13.5, "bold", INK, "normal", 0.22),
    "h2": (11, "bold", INK, "normal", 0.14),
    "body": (9.5, "normal", "#222222", "normal", 0.06),
    "lead": (10.5, "normal", "#222222", "normal", 0.06),
    "note": (8.5, "normal", "#666666", "italic", 0.04),
    "cell": (7.6, "normal", "#222222", "normal", 0.0),
    "head": (7.6, "bold", "#222222", "normal", 0.0),
    "tag": (7.6, "normal", "#8a5a00", "normal", 0.0),
    "caption": (8.5, "normal", "#555555", "italic", 0.04),
}
_MEASURE = RendererAgg(1, 1, 720)


def _font(style: str) -> FontProperties:
    size, weight, _, slant, _ = STYLES[style]
    return FontProperties(size=size, weight=weight, style=slant)


def _leading(style: str) -> float:
    return STYLES[style][0] * 1.32 / 72


def text_width(text: str, style: str) -> float:
    """Width of ``text`` in inches in the style's font."""
    return _MEASURE.get_text_width_height_descent(text, _font(style), ismath=False)[0] / 720


def wrap(text: str, width: float, style: str) -> list[str]:
    """Greedy word wrap to ``width`` inches, measured in the style's font; a word wider than that is broken,
    after an ``_``, ``-`` or ``/`` if it has one that fits (``trump_netanyahu_`` / ``summit``)."""
    lines = []

    def fits(s: str) -> bool:
        return text_width(s, style) <= width

    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and not fits(trial):
                lines.append(line)
                trial = word
            line = trial
            while not fits(line):
                cut = next((k for k in range(len(line) - 1, 0, -1) if fits(line[:k])), 1)
                cut = next((k for k in range(cut, 0, -1) if line[k - 1] in "_-/"), cut)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def column_widths(t: Table, pad: float) -> list[float]:
    """The table's column widths in inches, widened where a header word would not fit (never broken),
    the room taken from columns with width to spare."""
    widths = [w * TEXT_WIDTH for w in t.widths]
    need = [max(text_width(word, "head") for word in h.split() or [""]) + 2 * pad + 0.02 for h in t.header]
    short = sum(max(0.0, n - w) for n, w in zip(need, widths, strict=True))
    spare = [max(0.0, w - n) for n, w in zip(need, widths, strict=True)]
    if not short or short > sum(spare):
        return widths
    return [n if n > w else w - short * room / sum(spare) for w, n, room in zip(widths, need, spare, strict=True)]


def _height(cells: list[list[tuple[str, str]]], pad: float) -> float:
    return max(sum(_leading(s) for _, s in cell) for cell in cells) + 2 * pad


class Pages:
    """A4 pages filled top to bottom; a block that does not fit starts a new page."""

    def __init__(self, pdf: PdfPages, footer: str):
        self.pdf, self.footer, self.fig, self.number = pdf, footer, None, 0

    def new_page(self) -> None:
        self.close_page()
        self.number += 1
        self.fig = matplotlib.figure.Figure(figsize=A4)
        self.y = MARGIN
        self.fig.text(MARGIN / A4[0], 0.45 / A4[1], self.footer, fontsize=7, color="#888888", parse_math=False)
        self.fig.text(1 - MARGIN / A4[0], 0.45 / A4[1], str(self.number), fontsize=7, color="#888888", ha="right")

    def close_page(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def room(self, height: float) -> None:
        if self.fig is None or (self.y + height > A4[1] - MARGIN and self.y > MARGIN):
            self.new_page()

    def lines(self, lines: list[str], style: str, x: float = MARGIN, y: float | None = None) -> float:
        size, weight, colour, slant, _ = STYLES[style]
        top = self.y if y is None else y
        for k, line in enumerate(lines):
            self.fig.text(
                x / A4[0],
                1 - (top + k * _leading(style)) / A4[1],
                line,
                fontsize=size,
                weight=weight,
                color=colour,
                style=slant,
                va="top",
                parse_math=False,
            )
        return len(lines) * _leading(style)

    def paragraph(self, text: str, style: str, keep: float = 0.0) -> None:
        lines = wrap(text, TEXT_WIDTH, style)
        self.room(STYLES[style][4] + len(lines) * _leading(style) + keep)
        self.y += STYLES[style][4]
        self.y += self.lines(lines, style)

    def table(self, t: Table) -> None:
        pad = 0.05
        widths = column_widths(t, pad)
        head = [
            [(line, "head") for line in wrap(h, w - 2 * pad, "head")] for h, w in zip(t.header, widths, strict=True)
        ]
        rows = [[self._cell_lines(c, w - 2 * pad) for c, w in zip(row, widths, strict=True)] for row in t.rows]
        self.room(0.06 + _height(head, pad) + (_height(rows[0], pad) if rows else 0))  # never a header alone
        self.y += 0.06
        self._row(head, widths, pad, shade=True)
        for cells in rows:
            if self.y + _height(cells, pad) > A4[1] - MARGIN:
                self.new_page()
                self._row(head, widths, pad, shade=True)
            self._row(cells, widths, pad)
        self.y += 0.12

    @staticmethod
    def _cell_lines(cell, width: float) -> list[tuple[str, str]]:
        if isinstance(cell, str):
            return [(line, "cell") for line in wrap(cell, width, "cell")]
        out = []
        for n in cell:
            style = "tag" if n.assumption else "cell"
            label = (f"{n.field} (assumption)" if n.field else "assumption") if n.assumption else n.field
            text = ": ".join(filter(None, (label, n.text)))
            out += [(line, style) for line in wrap(text, width, style)]
        return out or [("—", "cell")]

    def _row(self, cells: list[list[tuple[str, str]]], widths, pad, shade=False) -> None:
        height = _height(cells, pad)
        bottom = 1 - (self.y + height) / A4[1]
        if shade:
            self.fig.add_artist(
                Rectangle(
                    (MARGIN / A4[0], bottom), TEXT_WIDTH / A4[0], height / A4[1], color="#eef3f2", lw=0, zorder=-1
                )
            )
        self.fig.add_artist(Line2D([MARGIN / A4[0], 1 - MARGIN / A4[0]], [bottom, bottom], color="#cccccc", lw=0.5))
        x = MARGIN
        for cell, w in zip(cells, widths, strict=True):
            y = self.y + pad
            for line, s in cell:
                y += self.lines([line], s, x + pad, y)
            x += w
        self.y += height

    def figure(self, f: Figure) -> None:
        h_px, w_px = f.image.shape[:2]
        caption = wrap(f.caption, TEXT_WIDTH, "caption")
        body = A4[1] - 2 * MARGIN - len(caption) * _leading("caption") - 0.3  # a tall figure may fill a page
        height = min(TEXT_WIDTH * h_px / w_px, body)
        width = height * w_px / h_px
        self.room(height + len(caption) * _leading("caption") + 0.3)
        self.y += 0.1
        ax = self.fig.add_axes(
            ((MARGIN + (TEXT_WIDTH - width) / 2) / A4[0], 1 - (self.y + height) / A4[1], width / A4[0], height / A4[1])
        )
        ax.imshow(f.image, interpolation="none")
        ax.set_axis_off()
        self.y += height + 0.05
        self.y += self.lines(caption, "caption") + 0.15


def to_pdf(title: str, blocks: list, footer: str) -> bytes:
    buf = io.BytesIO()
    info = {"Title": title, "Creator": f"negsim {__version__}"}
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(buf, metadata=info) as pdf:
        pages = Pages(pdf, footer)
        for b in blocks:
            if isinstance(b, Heading):
                style = "title" if b.level == 0 else f"h{b.level}"
                if b.level == 1 and pages.fig is not None and pages.y > A4[1] / 2:
                    pages.new_page()
                pages.paragraph(b.text, style, keep=0.8)
                pages.y += 0.04
            elif isinstance(b, Paragraph):
                pages.paragraph(b.text, b.style)
            elif isinstance(b, Table):
                pages.table(b)
            else:
                pages.figure(b)
        pages.close_page()
    return buf.getvalue()
