"""The page's charts: small SVGs drawn here rather than Matplotlib figures, since the page redraws them on every
round and every slider move; their axes are fixed (whole rounds from 0 to the horizon, a scale's own range) so
that nothing jumps while a run plays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np

from sim.analysis.intervals import proportion
from sim.app.replay import Frame
from sim.app.views import colours


def _svg(width: int, height: int, body: str, testid: str) -> str:
    return (
        f'<svg data-testid="{testid}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _step(span: float, most: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most about ``most`` steps over ``span``."""
    raw = max(span, 1e-12) / most
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _ticks(low: float, high: float, most: int = 4) -> list[float]:
    step = _step(high - low, most)
    start = math.ceil(low / step - 1e-9) * step
    return [round(v, 10) for v in np.arange(start, high + step * 1e-6, step)]


def _rounded_up(value: float, most: int = 4) -> float:
    step = _step(value, most)
    return math.ceil(value / step - 1e-9) * step


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: list[tuple[float, float]]
    dash: str = ""


def chart_svg(
    series: list[Series],
    rounds: int,
    y_range: tuple[float, float],
    y_label: str,
    testid: str,
    title: str = "",
    at: int | None = None,
    width: int = 430,
    height: int = 170,
) -> str:
    """Lines over whole rounds 0..``rounds`` on a fixed y range, a legend, and the round shown (``at``) marked."""
    left, right, top, bottom = 44, 8, 18 + 13 * math.ceil(len(series) / 3), 30
    lo, hi = y_range
    x = lambda r: left + r / max(rounds, 1) * (width - left - right)
    y = lambda v: top + (1 - (v - lo) / max(hi - lo, 1e-12)) * (height - top - bottom)
    out = [f'<text x="{left}" y="11" font-weight="600">{escape(title)}</text>']
    for t in _ticks(lo, hi):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 4}" y="{y(t) + 4:.1f}" text-anchor="end">{t:g}</text>'
        )
    step = max(1, math.ceil(rounds / 10))
    for r in range(0, rounds + 1, step):  # whole rounds only
        out.append(f'<text x="{x(r):.1f}" y="{height - bottom + 13}" text-anchor="middle">{r}</text>')
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 3}" text-anchor="middle">round</text>'
        f'<text transform="translate(10,{(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    if at is not None:
        out.append(f'<line x1="{x(at):.1f}" x2="{x(at):.1f}" y1="{top}" y2="{height - bottom}" stroke="#aaa"/>')
    for s in series:
        if len(s.points) > 1:
            line = " ".join(f"{x(r):.1f},{y(v):.1f}" for r, v in s.points if v == v)
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            out.append(f'<polyline points="{line}" fill="none" stroke="{s.colour}" stroke-width="1.8"{dash}/>')
        out += [f'<circle cx="{x(r):.1f}" cy="{y(v):.1f}" r="2" fill="{s.colour}"/>' for r, v in s.points if v == v]
    for k, s in enumerate(series):  # legend, three to a row
        lx, ly = left + (k % 3) * (width - left) / 3, 24 + 13 * (k // 3)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(
            f'<line x1="{lx:.0f}" x2="{lx + 16:.0f}" y1="{ly - 4}" y2="{ly - 4}" stroke="{s.colour}" stroke-width="2"'
            f'{dash}/><text x="{lx + 20:.0f}" y="{ly}">{escape(s.label[:22])}</text>'
        )
    if not any(s.points for s in series):
        out.append(f'<text x="{(left + width) / 2}" y="{(top + height - bottom) / 2}" text-anchor="middle" '
                   'fill="#888">fills in as rounds are played</text>')  # fmt: skip
    return _svg(width, height, "".join(out), testid)


def run_charts(frames: list[Frame], rounds: int, at: int) -> list[str]:
    """The run over its rounds: each issue's stated positions and tabled package, each principal's value of the
    gate package against its threshold, and the pressure on each actor and the third parties' budgets."""
    played = [f for f in frames if f.round > 0]
    actors = list(frames[0].issues[0]["positions"]) if frames[0].issues else []
    colour = colours(actors)
    out = []
    for i, issue in enumerate(frames[0].issues):
        lines = [Series(a, colour[a], [(f.round, f.issues[i]["positions"][a]) for f in frames]) for a in actors]
        lines.append(Series("tabled", "#111", [(f.round, f.issues[i]["tabled"]) for f in played], "4,3"))
        out.append(chart_svg(lines, rounds, (0, 100), "position (0-100)", f"positions-{issue['id']}",
                             f"{issue['label']}: stated positions", at))  # fmt: skip
    principals = [p["name"] for p in frames[0].principals]
    pc = colours(principals)
    lines = []
    for k, name in enumerate(principals):
        value = [(f.round, f.principals[k]["value"] or math.nan) for f in played]
        threshold = [(f.round, f.principals[k]["threshold"]) for f in played]
        lines += [Series(f"{name} value", pc[name], value), Series(f"{name} threshold", pc[name], threshold, "4,3")]
    out.append(chart_svg(lines, rounds, (0, 1), "utility", "values", "the gate package: value against threshold", at))
    ac = colours([a["name"] for a in frames[0].actors])
    pressure = [Series(a["name"], ac[a["name"]], [(f.round, f.actors[k]["pressure"]) for f in frames])
                for k, a in enumerate(frames[0].actors)]  # fmt: skip
    top = _rounded_up(max([v for s in pressure for _, v in s.points] + [0.05]))
    out.append(chart_svg(pressure, rounds, (0, top), "pressure", "pressure", "pressure on each actor", at))
    budgets = [Series(a["name"], ac[a["name"]], [(f.round, f.actors[k]["budget"]) for f in frames])
               for k, a in enumerate(frames[0].actors) if a["budget"] is not None]  # fmt: skip
    if budgets:
        top = _rounded_up(max([v for s in budgets for _, v in s.points] + [1.0]))
        out.append(chart_svg(budgets, rounds, (0, top), "budget left", "budgets", "third parties' budgets", at))
    return out


# ------------------------------------------------------------------ what-if
def curves_svg(base: dict, whatif: dict, width: int = 620, height: int = 250) -> str:
    """P(declared by round k) and P(collapse before a declaration by round k): the scenario dashed, the what-if
    solid with its 95% band (an SVG drawn here: the page redraws it on every slider move)."""
    left, right, top, bottom = 46, 10, 28, 34
    rounds = [r["round"] for r in whatif["cumulative"]]
    peak = max(max(r[f"{k}_high"] for r in s["cumulative"]) for s in (base, whatif) for k in ("declared", "collapse"))
    top_y = max(0.05, math.ceil(peak / 0.05 - 1e-9) * 0.05)
    x = lambda k: left + (k - rounds[0]) / max(rounds[-1] - rounds[0], 1) * (width - left - right)
    y = lambda p: top + (1 - p / top_y) * (height - top - bottom)
    out = []
    tick = 0.05 if top_y <= 0.3 else 0.1 if top_y <= 0.6 else 0.2
    for t in np.arange(0, top_y + 1e-9, tick):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 4}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.2f}</text>'
        )
    for k in range(5 * math.ceil(rounds[0] / 5), rounds[-1] + 1, 5):
        out.append(f'<text x="{x(k):.1f}" y="{height - bottom + 14}" text-anchor="middle">{k}</text>')
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 4}" text-anchor="middle">round</text>'
        f'<text transform="translate(11,{(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">'
        "share of runs by round</text>"
    )
    for key, colour in (("declared", "#1f77b4"), ("collapse", "#d62728")):
        rows = whatif["cumulative"]
        band = [f"{x(r['round']):.1f},{y(r[f'{key}_high']):.1f}" for r in rows]
        band += [f"{x(r['round']):.1f},{y(r[f'{key}_low']):.1f}" for r in reversed(rows)]
        out.append(f'<polygon points="{" ".join(band)}" fill="{colour}" opacity="0.15"/>')
        for summary, dash in ((base, ' stroke-dasharray="5,4"'), (whatif, "")):
            line = " ".join(f"{x(r['round']):.1f},{y(r[key]):.1f}" for r in summary["cumulative"])
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
    legend = [
        ("declared", "#1f77b4", ""),
        ("collapse first", "#d62728", ""),
        ("scenario", "#555", "5,4"),
        ("what-if (band: 95%)", "#555", ""),
    ]
    at = left + 6
    for label, colour, dash in legend:
        out.append(
            f'<line x1="{at}" x2="{at + 22}" y1="12" y2="12" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="{dash or "none"}"/><text x="{at + 26}" y="16">{escape(label)}</text>'
        )
        at += 34 + 6.2 * len(label)
    return _svg(width, height, "".join(out), "curves")


def blockers_svg(base: dict, whatif: dict, names: dict[str, str], width: int = 620) -> str:
    """Who last blocked the first phase's declaration, as a share of all runs with its 95% interval (the
    whisker): scenario (grey) and what-if (blue)."""
    who = sorted(
        set(base["blocker_shares"]) | set(whatif["blocker_shares"]), key=lambda b: -whatif["blocker_shares"].get(b, 0.0)
    )
    label_w, row, top = 190, 34, 22
    height = top + row * max(len(who), 1) + 8
    shares = {
        id(s): {b: proportion(round(s["blocker_shares"].get(b, 0.0) * s["runs"]), s["runs"]) for b in who}
        for s in (base, whatif)
    }
    most = max([p["high"] for s in shares.values() for p in s.values()] + [0.01])
    scale = (width - label_w - 70) / most
    out = [
        f'<text x="{label_w}" y="13" fill="#555">share of all runs it last blocked, 95% interval: scenario (grey), '
        "what-if (blue)</text>"
    ]
    for k, b in enumerate(who):
        y0 = top + k * row
        out.append(f'<text x="{label_w - 6}" y="{y0 + 19}" text-anchor="end">{escape(names.get(b, b))}</text>')
        for j, (summary, colour) in enumerate(((base, "#bbbbbb"), (whatif, "#1f77b4"))):
            p = shares[id(summary)][b]
            mid = y0 + 9 + 14 * j
            out.append(
                f'<rect x="{label_w}" y="{y0 + 3 + 14 * j}" width="{p["p"] * scale:.1f}" height="12" fill="{colour}"/>'
                f'<line x1="{label_w + p["low"] * scale:.1f}" x2="{label_w + p["high"] * scale:.1f}" y1="{mid}" '
                f'y2="{mid}" stroke="#333"/><text x="{label_w + p["high"] * scale + 4:.1f}" y="{y0 + 13 + 14 * j}">'
                f"{p['p']:.1%}</text>"
            )
    return _svg(width, height, "".join(out), "blockers")
