"""What the page shows, as HTML and figures built from plain data (so tests can read them without a browser).

Every number a test checks carries a ``data-testid`` (``tabled-<issue>``, ``p-declared-whatif``, ...).
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
from matplotlib.figure import Figure  # drawn without pyplot: the user's backend is left as it is

from sim.app.replay import Frame

CSS = """
<style>
.ns table{border-collapse:collapse;font-size:13px;margin:4px 0 10px 0}
.ns th,.ns td{padding:3px 8px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:middle}
.ns td.num{text-align:right;font-variant-numeric:tabular-nums}
.ns th{background:#f4f6f8;font-weight:600}
.ns .track{position:relative;width:260px;height:16px;background:#f0f0f0;border-radius:3px}
.ns .band{position:absolute;top:0;height:16px;background:#d8ecd8}
.ns .pos{position:absolute;top:3px;width:8px;height:8px;border-radius:4px;margin-left:-4px;opacity:.85}
.ns .tab{position:absolute;top:-2px;width:3px;height:20px;background:#111;margin-left:-1px}
.ns .no{color:#b00020;font-weight:600}.ns .yes{color:#1b7f2a;font-weight:600}
.ns .up{color:#1b7f2a}.ns .down{color:#b00020}
</style>
"""
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def _num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _table(head: list[str], rows: list[str]) -> str:
    return "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"


def _red_line(r: dict) -> str:
    bound = f"&ge; {r['min']:.0f}" if r["min"] is not None else f"&le; {r['max']:.0f}"
    relaxed = f" (relaxed round {r['relaxed']})" if r["relaxed"] >= 0 else ""
    return f"{escape(r['actor'])}: {bound}{relaxed}"


def frame_html(frame: Frame) -> str:
    """The table after a round: issues (package against positions and red lines), answers, pressure, flags."""
    actors = list(frame.issues[0]["positions"]) if frame.issues else []
    colour = {a: COLOURS[k % len(COLOURS)] for k, a in enumerate(actors)}
    legend = " ".join(f'<span style="color:{colour[a]}">&#9679; {escape(a)}</span>' for a in actors)
    rows = []
    for issue in frame.issues:
        band_lo = max([r["min"] for r in issue["red_lines"] if r["min"] is not None] or [0.0])
        band_hi = min([r["max"] for r in issue["red_lines"] if r["max"] is not None] or [100.0])
        band = (
            f'<div class="band" style="left:{band_lo:.1f}%;width:{max(band_hi - band_lo, 0):.1f}%"></div>'
            if band_hi > band_lo
            else ""
        )
        dots = "".join(
            f'<div class="pos" title="{escape(a)} {v:.1f}" style="left:{v:.1f}%;background:{colour[a]}"></div>'
            for a, v in issue["positions"].items()
        )
        track = f'<div class="track">{band}{dots}<div class="tab" style="left:{issue["tabled"]:.1f}%"></div></div>'
        lines = "; ".join(_red_line(r) for r in issue["red_lines"])
        agreed = f"round {issue['agreed_round']} at {issue['agreed_value']:.1f}" if issue["agreed_round"] >= 0 else "-"
        rows.append(
            f"<tr><td>{escape(issue['label'])}</td>"
            f'<td class="num" data-testid="tabled-{issue["id"]}">{issue["tabled"]:.2f}</td>'
            f"<td>{track}</td><td>{lines or '-'}</td><td>{agreed}</td></tr>"
        )
    issues = _table(
        [
            "issue",
            "tabled",
            "0 - 100: positions, tabled package (bar), zone the red lines allow",
            "red lines",
            "agreed",
        ],
        rows,
    )
    answers = _table(
        ["principal", "value of the package", "threshold", "answer", "reason"],
        [
            f"<tr><td>{escape(p['name'])}</td>"
            f'<td class="num" data-testid="value-{k}">{_num(p["value"], 4)}</td>'
            f'<td class="num" data-testid="threshold-{k}">{p["threshold"]:.4f}</td>'
            f'<td class="{p["answer"]}">{p["answer"]}</td><td>{escape(p["reason"])}</td></tr>'
            for k, p in enumerate(frame.principals)
        ],
    )
    actors_table = _table(
        ["actor", "role", "pressure on it", "budget left"],
        [
            f"<tr><td>{escape(a['name'])}</td><td>{a['role']}</td>"
            f'<td class="num" data-testid="pressure-{k}">{a["pressure"]:.4f}</td>'
            f'<td class="num">{_num(a["budget"], 1)}</td></tr>'
            for k, a in enumerate(frame.actors)
        ],
    )
    flags = ", ".join(escape(f) for f in frame.flags) or "-"
    return (
        f'{CSS}<div class="ns"><p><b data-testid="round">round {frame.round}</b> ({frame.date}) &middot; '
        f'<span data-testid="outcome">{escape(frame.outcome)}</span></p>'
        f"<p>{legend}</p>{issues}{answers}{actors_table}<p><b>world flags:</b> {flags}</p></div>"
    )


def log_html(log: list[tuple[int, str]]) -> str:
    """What happened, round by round (most recent first)."""
    if not log:
        return '<div class="ns"><i>nothing has happened yet</i></div>'
    items = "".join(f"<li>round {t}: {escape(what)}</li>" for t, what in reversed(log))
    return f'{CSS}<div class="ns"><ul data-testid="log" style="margin:0;padding-left:18px">{items}</ul></div>'


def _p(p: dict) -> str:
    return f"{p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")


def comparison_html(base: dict[str, dict], whatif: dict[str, dict]) -> str:
    """Each measure for the unmodified scenario and the what-if, with 95% Wilson intervals and the change."""
    rows = []
    for label, b in base.items():
        w = whatif[label]
        change = w["p"] - b["p"]
        kind = "up" if change > 0 else "down" if change < 0 else ""
        rows.append(
            f"<tr><td>P({escape(label)})</td>"
            f'<td class="num" data-testid="p-{_slug(label)}-scenario">{_p(b)}</td>'
            f'<td class="num" data-testid="p-{_slug(label)}-whatif">{_p(w)}</td>'
            f'<td class="num {kind}">{change:+.3f}</td></tr>'
        )
    return f'{CSS}<div class="ns">' + _table(["measure", "scenario", "what-if", "change"], rows) + "</div>"


def _svg(width: int, height: int, body: str, testid: str) -> str:
    return (
        f'<svg data-testid="{testid}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def curves_svg(base: dict, whatif: dict, width: int = 620, height: int = 280) -> str:
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
    """Who last blocked the first phase's declaration, as a share of all runs: scenario (grey) and what-if (blue)."""
    who = sorted(
        set(base["blocker_shares"]) | set(whatif["blocker_shares"]), key=lambda b: -whatif["blocker_shares"].get(b, 0.0)
    )
    label_w, row, top = 190, 34, 22
    height = top + row * max(len(who), 1) + 8
    most = max([*base["blocker_shares"].values(), *whatif["blocker_shares"].values(), 0.01])
    scale = (width - label_w - 60) / most
    out = [
        f'<text x="{label_w}" y="13" fill="#555">share of all runs it last blocked: scenario (grey), '
        "what-if (blue)</text>"
    ]
    for k, b in enumerate(who):
        y0 = top + k * row
        out.append(f'<text x="{label_w - 6}" y="{y0 + 19}" text-anchor="end">{escape(names.get(b, b))}</text>')
        for j, (summary, colour) in enumerate(((base, "#bbbbbb"), (whatif, "#1f77b4"))):
            share = summary["blocker_shares"].get(b, 0.0)
            out.append(
                f'<rect x="{label_w}" y="{y0 + 3 + 14 * j}" width="{share * scale:.1f}" height="12" '
                f'fill="{colour}"/><text x="{label_w + share * scale + 4:.1f}" y="{y0 + 13 + 14 * j}">'
                f"{share:.1%}</text>"
            )
    return _svg(width, height, "".join(out), "blockers")


def trace_figure(model, names: list[str], principals: list[int]) -> Figure:
    """From the model's data collector: each principal's value of the gate package against its threshold."""
    data = model.datacollector.model_vars
    fig = Figure(figsize=(6.2, 2.6), dpi=100, layout="constrained")
    ax = fig.subplots()
    rounds = data.get("round", [])
    for k, a in enumerate(principals):
        colour = COLOURS[k % len(COLOURS)]
        ax.plot(rounds, [v[0, a] for v in data.get("threshold", [])], "--", color=colour, label=f"{names[k]} threshold")
        ax.plot(rounds, [v[0, a] for v in data.get("value", [])], "o-", ms=3, color=colour, label=f"{names[k]} value")
    ax.set_xlabel("round")
    ax.set_ylabel("utility")
    ax.grid(alpha=0.3)
    if rounds:
        ax.legend(fontsize=7, ncol=2)
    return fig


def sliced_html(table, label: str) -> str:
    rows = [
        f'<tr><td class="num">{r["from"]:.4g} - {r["to"]:.4g}</td><td class="num">{r["n"]:,}</td>'
        f'<td class="num">{_p(r)}</td></tr>'
        for r in table.to_dict(orient="records")
    ]
    return (
        f'{CSS}<div class="ns"><p>P(declared) by {escape(label)}</p>'
        + _table(["value", "runs", "P(declared) [95%]"], rows)
        + "</div>"
    )
