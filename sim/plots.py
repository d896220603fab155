"""Briefing figures: one consistent style, every figure footed with scenario, runs, seed and date.

Each ``*_figure`` function takes plain data and returns a matplotlib Figure;
:func:`save` writes it as PNG and SVG.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.results import atomic_write  # noqa: E402

COLOURS = {"transition": "#2a9d8f", "collapse": "#e76f51", "stalemate": "#8d99ae"}
INK = "#264653"
STYLE = {
    "figure.dpi": 110, "savefig.dpi": 160, "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#555555", "axes.grid": True,
    "grid.color": "#e5e5e5", "grid.linewidth": 0.8, "axes.axisbelow": True, "svg.fonttype": "none",
}


def footer(fig, summary: dict, extra: str = "") -> None:
    """Scenario name, run count, seed and date along the bottom edge."""
    parts = [summary.get("scenario", ""), f"{summary.get('runs', 0):,} runs", f"seed {summary.get('seed')}",
             dt.date.today().isoformat(), "negsim"]
    if extra:
        parts.insert(1, extra)
    fig.text(0.01, 0.01, "  |  ".join(str(p) for p in parts), fontsize=7.5, color="#666666", ha="left", va="bottom")


def _figure(width=7.0, height=4.0):
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height))
    fig.subplots_adjust(bottom=0.2, top=0.88, left=0.12, right=0.97)
    return fig, ax


def outcome_figure(summary: dict):
    """P(transition), P(collapse), P(stalemate) with 95% intervals."""
    with plt.rc_context(STYLE):
        fig, ax = _figure(6.5, 3.8)
        probs = summary["probabilities"]
        names = list(probs)
        p = [probs[n]["p"] for n in names]
        err = [[probs[n]["p"] - probs[n]["low"] for n in names], [probs[n]["high"] - probs[n]["p"] for n in names]]
        bars = ax.bar(names, p, color=[COLOURS[n] for n in names], width=0.6, yerr=err, capsize=6,
                      error_kw={"ecolor": INK, "lw": 1.2})
        for bar, n in zip(bars, names):
            ax.annotate(f"{probs[n]['p']:.0%}\n[{probs[n]['low']:.0%}–{probs[n]['high']:.0%}]",
                        (bar.get_x() + bar.get_width() / 2, probs[n]["high"]), xytext=(0, 4),
                        textcoords="offset points", ha="center", va="bottom", fontsize=9, color=INK)
        ax.set_ylim(0, min(1.0, max(x["high"] for x in probs.values()) + 0.2))
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_ylabel("probability by the horizon")
        ax.set_title("How the negotiation ends")
        ax.grid(axis="x", visible=False)
        footer(fig, summary, "bars: 95% Wilson intervals")
    return fig


def transition_curve_figure(summary: dict, start: dt.date | None = None, round_days: int = 7):
    """Cumulative probability of a declared transition by round, with its 95% band."""
    with plt.rc_context(STYLE):
        fig, ax = _figure()
        cum = pd.DataFrame(summary["cumulative_transition"])
        x = cum["round"]
        ax.fill_between(x, cum["low"], cum["high"], color=COLOURS["transition"], alpha=0.25, lw=0, label="95% band")
        ax.step(x, cum["p"], where="post", color=COLOURS["transition"], lw=2, label="P(transition by round)")
        ax.set_xlim(1, x.max())
        ax.set_ylim(0, max(0.05, min(1.0, cum["high"].max() * 1.15)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("round (weeks)" if round_days == 7 else f"round ({round_days} days)")
        if start is not None:
            secax = ax.secondary_xaxis("top", functions=(lambda r: r, lambda r: r))
            ticks = list(range(1, int(x.max()) + 1, max(1, int(x.max()) // 6)))
            secax.set_xticks(ticks, [(start + dt.timedelta(days=round_days * t)).strftime("%d %b %y") for t in ticks],
                             fontsize=8, color="#666666")
        ax.set_ylabel("cumulative probability")
        ax.set_title("When phase two is declared", pad=22 if start else 6)
        ax.legend(loc="upper left", frameon=False)
        footer(fig, summary)
    return fig


def blocking_figure(summary: dict):
    """What stopped the runs that ended without a transition."""
    with plt.rc_context(STYLE):
        rows = pd.DataFrame(summary["blocking"])
        fig, ax = _figure(7.0, 0.9 + 0.45 * max(len(rows), 1))
        fig.subplots_adjust(left=0.42, bottom=0.22 if len(rows) > 2 else 0.35)
        if rows.empty:
            ax.text(0.5, 0.5, "every run reached a transition", ha="center", transform=ax.transAxes)
        else:
            labels = [f"{b} — {r}" if b != "-" else r for b, r in zip(rows["blocker"], rows["reason"])]
            colour = [COLOURS["collapse"] if r.startswith("collapse") else COLOURS["stalemate"] for r in rows["reason"]]
            ax.barh(labels[::-1], rows["share"][::-1], color=colour[::-1])
            for y, v in enumerate(rows["share"][::-1]):
                ax.annotate(f"{v:.1%}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8.5)
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_xlim(0, rows["share"].max() * 1.2)
        ax.set_xlabel("share of all runs")
        ax.set_title("What blocked a transition")
        ax.grid(axis="y", visible=False)
        footer(fig, summary)
    return fig


def package_figure(df: pd.DataFrame, summary: dict, issues: list[tuple[str, str, str, str]]):
    """Distribution of agreed packages per issue (runs with a transition). ``issues``: (id, label, low, high)."""
    with plt.rc_context(STYLE):
        fig, ax = _figure(7.0, 1.2 + 0.7 * len(issues))
        fig.subplots_adjust(left=0.3, bottom=0.2)
        done = df[df["outcome"] == "transition"]
        data = [done[f"package.{i[0]}"].dropna().to_numpy() for i in issues]
        if len(done):
            parts = ax.violinplot(data[::-1], vert=False, showmedians=True, widths=0.8)
            for body in parts["bodies"]:
                body.set_facecolor(COLOURS["transition"])
                body.set_alpha(0.45)
        ax.set_yticks(range(1, len(issues) + 1), [f"{i[1]}\n0 = {i[2]}\n100 = {i[3]}" for i in issues[::-1]],
                      fontsize=7.5)
        ax.set_xlim(0, 100)
        ax.set_xlabel("agreed package (0–100 on each issue)")
        ax.set_title("What the agreed packages look like")
        footer(fig, summary, f"{len(done):,} runs with a transition")
    return fig


def save(fig, folder: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``name.png`` and ``name.svg`` in ``folder`` (atomically) and close it."""
    paths = []
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight")
        paths.append(folder / f"{name}.{fmt}")
        atomic_write(paths[-1], buf.getvalue())
    plt.close(fig)
    return paths
