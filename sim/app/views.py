"""What the page shows as tables, HTML built from plain data (so tests can read it without a browser); the
charts are in :mod:`sim.app.charts`.

Every number a test checks carries a ``data-testid`` (``tabled-<issue>``, ``p-declared-whatif``, ...).
"""

from __future__ import annotations

from html import escape

from sim.app.replay import Frame

CSS = """
<style>
.ns table{border-collapse:collapse;font-size:13px;margin:4px 0 8px 0}
.ns th,.ns td{padding:2px 7px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:middle}
.ns td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ns th{background:#f4f6f8;font-weight:600}
.ns .track{position:relative;width:240px;height:16px;background:#f0f0f0;border-radius:3px}
.ns .ends{display:flex;justify-content:space-between;width:240px;font-size:10px;color:#666;line-height:12px}
.ns .band{position:absolute;top:0;height:16px;background:#d8ecd8}
.ns .pos{position:absolute;top:3px;width:8px;height:8px;border-radius:4px;margin-left:-4px;opacity:.85}
.ns .tab{position:absolute;top:-2px;width:3px;height:20px;background:#111;margin-left:-1px}
.ns .no{color:#b00020;font-weight:600}.ns .yes{color:#1b7f2a;font-weight:600}
.ns .up{color:#1b7f2a}.ns .down{color:#b00020}.ns .note{color:#666;font-size:12px}
.ns .wait{color:#999}
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


def colours(names: list[str]) -> dict[str, str]:
    return {a: COLOURS[k % len(COLOURS)] for k, a in enumerate(names)}


def frame_html(frame: Frame, latest: int | None = None) -> str:
    """The table after a round: issues (package against positions and red lines, each scale's two ends named),
    what was put to the principals and their answers, pressure and budgets, world flags."""
    actors = list(frame.issues[0]["positions"]) if frame.issues else []
    colour = colours(actors)
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
        ends = f'<div class="ends"><span>0: {escape(issue["low"])}</span><span>100: {escape(issue["high"])}</span>'
        bar = f'<div class="tab" style="left:{issue["tabled"]:.1f}%"></div>'
        track = f'{ends}</div><div class="track">{band}{dots}{bar}</div>'
        lines = "; ".join(_red_line(r) for r in issue["red_lines"])
        agreed = f"round {issue['agreed_round']} at {issue['agreed_value']:.1f}" if issue["agreed_round"] >= 0 else "-"
        rows.append(
            f"<tr><td>{escape(issue['label'])}</td>"
            f'<td class="num" data-testid="tabled-{issue["id"]}">{issue["tabled"]:.2f}</td>'
            f"<td>{track}</td><td>{lines or '-'}</td><td>{agreed}</td></tr>"
        )
    issues = _table(
        ["issue", "tabled", "positions (dots), tabled package (bar), zone the red lines allow (green)", "red lines",
         "agreed"],
        rows,
    )  # fmt: skip
    put = "; ".join(escape(t) for t in frame.on_table) or "nothing was put to the principals this round"
    answers = _table(
        ["principal", "value of the gate package", "threshold", "answer", "why (issues refused)"],
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
    kept = latest is not None and latest > frame.round
    back = f" (played up to round {latest}: showing a kept round)" if kept else ""
    return (
        f'{CSS}<div class="ns"><p style="margin:2px 0"><b data-testid="round">round {frame.round}</b> ({frame.date})'
        f'{escape(back)} &middot; <span data-testid="outcome">{escape(frame.outcome)}</span></p>'
        f"<p style='margin:2px 0'>{legend}</p>{issues}"
        f'<p style="margin:2px 0" data-testid="on-table"><b>put to the principals:</b> {put}</p>{answers}'
        f"{actors_table}<p><b>world flags:</b> {flags}</p></div>"
    )


def log_html(log: list[tuple[int, str]]) -> str:
    """What happened, round by round (most recent first)."""
    if not log:
        return f'{CSS}<div class="ns note"><i>nothing has happened yet</i></div>'
    items = "".join(f"<li>round {t}: {escape(what)}</li>" for t, what in reversed(log))
    return f'{CSS}<div class="ns"><ul data-testid="log" style="margin:0;padding-left:18px">{items}</ul></div>'


def agent_html(frames: list[Frame], name: str) -> str:
    """One actor over the kept rounds: its stated position on each issue, the pressure on it, its budget and,
    for a principal, its value of the gate package, its threshold and its answer."""
    principal = {p["name"]: k for k, p in enumerate(frames[0].principals)}.get(name)
    actor = next(k for k, a in enumerate(frames[0].actors) if a["name"] == name)
    issues = [i["label"] for i in frames[0].issues]
    head = ["round", *issues, "pressure", "budget"]
    if principal is not None:
        head += ["value", "threshold", "answer"]
    rows = []
    for f in frames:
        cells = [f'<td class="num">{f.round}</td>']
        cells += [f'<td class="num">{i["positions"].get(name, float("nan")):.1f}</td>' for i in f.issues]
        a = f.actors[actor]
        cells += [f'<td class="num">{a["pressure"]:.4f}</td>', f'<td class="num">{_num(a["budget"], 1)}</td>']
        if principal is not None:
            p = f.principals[principal]
            cells += [
                f'<td class="num">{_num(p["value"], 4)}</td>',
                f'<td class="num">{p["threshold"]:.4f}</td>',
                f'<td class="{p["answer"]}">{p["answer"]}</td>',
            ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'{CSS}<div class="ns" data-testid="agent">' + _table(head, rows) + "</div>"


# ------------------------------------------------------------------ what-if
def _p(p: dict) -> str:
    return f"{p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")


def comparison_html(base: dict[str, dict], whatif: dict[str, dict] | None) -> str:
    """Each measure for the unmodified scenario and the what-if, with 95% Wilson intervals and the change (the
    what-if's cells wait while its numbers are computed)."""
    rows = []
    for label, b in base.items():
        w = whatif[label] if whatif is not None else None
        change = w["p"] - b["p"] if w is not None else None
        kind = "up" if change and change > 0 else "down" if change and change < 0 else ""
        shown = _p(w) if w is not None else '<span class="wait">computing…</span>'
        rows.append(
            f"<tr><td>P({escape(label)})</td>"
            f'<td class="num" data-testid="p-{_slug(label)}-scenario">{_p(b)}</td>'
            f'<td class="num" data-testid="p-{_slug(label)}-whatif">{shown}</td>'
            f'<td class="num {kind}">{"" if change is None else f"{change:+.3f}"}</td></tr>'
        )
    head = ["measure", "scenario [95% interval]", "what-if [95% interval]", "change"]
    return f'{CSS}<div class="ns">' + _table(head, rows) + "</div>"


# ------------------------------------------------------------------ results
def results_html(summary: dict) -> str:
    """A results folder's headline: P(declared), P(collapse) and P(stalemate) with their 95% intervals, and
    when a declaration comes."""
    rows = [
        f'<tr><td>P({escape(name)})</td><td class="num" data-testid="result-{name}">{_p(p)}</td>'
        f'<td class="num">{p["k"]:,} of {p["n"]:,}</td></tr>'
        for name, p in summary["probabilities"].items()
    ]
    t = summary["declaration_round"]
    when = (
        f"<p>round of declaration, quartiles: {t['q1']:g} / {t['median']:g} / {t['q3']:g}</p>"
        if t.get("median") is not None
        else ""
    )
    mechanisms = [
        _table(
            [m["label"], "weight", "P(declared) [95% interval]", "P(collapse) [95% interval]"],
            [
                f'<tr><td>{escape(a["label"])}</td><td class="num">{a["weight"]:.0%}</td>'
                f'<td class="num">{_p(a["probabilities"]["declared"])}</td>'
                f'<td class="num">{_p(a["probabilities"]["collapse"])}</td></tr>'
                for a in m["alternatives"]
                if a["runs"]
            ],
        )
        for m in summary.get("mechanisms", [])
    ]
    return (
        f'{CSS}<div class="ns"><p><b>{escape(summary["scenario"])}</b>: {summary["runs"]:,} runs, seed '
        f"{summary['seed']} ({escape(summary.get('phase', 'first phase'))})</p>"
        + _table(["outcome", "P [95% interval]", "runs"], rows)
        + when
        + ("<p>under each alternative where the sources cannot decide (the rows above are the mixture):</p>"
           + "".join(mechanisms) if mechanisms else "")
        + "</div>"
    )  # fmt: skip


def sliced_html(table, label: str) -> str:
    rows = [
        f'<tr><td class="num">{r["from"]:.4g} - {r["to"]:.4g}</td><td class="num">{r["n"]:,}</td>'
        f'<td class="num">{_p(r)}</td></tr>'
        for r in table.to_dict(orient="records")
    ]
    return (
        f'{CSS}<div class="ns"><p>P(declared) by {escape(label)}</p>'
        + _table(["value", "runs", "P(declared) [95% interval]"], rows)
        + "</div>"
    )
