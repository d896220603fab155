"""Briefing figures: one consistent style, every figure footed with scenario, runs, seed and date.

Each ``*_figure`` function takes plain data and returns a matplotlib Figure;
:func:`save` writes it as PNG and SVG.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.compare import p_text, signed
from sim.analysis.summary import Tally
from sim.batch.folder import atomic_write
from sim.engine.columns import is_collapse

COLOURS = {"declared": "#2a9d8f", "collapse": "#e76f51", "stalemate": "#8d99ae"}
INK = "#264653"
PERCENT = matplotlib.ticker.PercentFormatter(1.0)
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 160,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "svg.fonttype": "none",
}


def footer(fig, summary: dict, extra: str = "", runs: str = "") -> None:
    """Scenario name, run count (or ``runs`` as given), seed and date along the bottom edge."""
    parts = [
        summary.get("scenario", ""),
        runs or f"{summary.get('runs', 0):,} runs",
        f"seed {summary.get('seed')}",
        dt.date.today().isoformat(),
        "negsim",
    ]
    if extra:
        parts.insert(1, extra)
    fig.text(0.01, 0.01, "  |  ".join(str(p) for p in parts), fontsize=7.5, color="#666666", ha="left", va="bottom")


def _figure(width=7.0, height=4.0):
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height))
        ax = fig.subplots()
    fig.subplots_adjust(bottom=0.2, top=0.88, left=0.12, right=0.97)
    return fig, ax


def outcome_figure(summary: dict):
    """P(declared), P(collapse), P(stalemate) with 95% intervals."""
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(6.5, 3.8)
        probs = summary["probabilities"]
        names = list(probs)
        p = [probs[n]["p"] for n in names]
        err = [[probs[n]["p"] - probs[n]["low"] for n in names], [probs[n]["high"] - probs[n]["p"] for n in names]]
        bars = ax.bar(
            names,
            p,
            color=[COLOURS[n] for n in names],
            width=0.6,
            yerr=err,
            capsize=6,
            error_kw={"ecolor": INK, "lw": 1.2},
        )
        for bar, n in zip(bars, names, strict=True):
            ax.annotate(
                f"{probs[n]['p']:.0%}\n[{probs[n]['low']:.0%}–{probs[n]['high']:.0%}]",
                (bar.get_x() + bar.get_width() / 2, probs[n]["high"]),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                color=INK,
            )
        ax.set_ylim(0, min(1.0, max(x["high"] for x in probs.values()) + 0.2))
        ax.yaxis.set_major_formatter(PERCENT)
        ax.set_ylabel("probability by the horizon")
        ax.set_title(f"How the talks end: {summary.get('phase', 'the first phase').lower()}?")
        ax.grid(axis="x", visible=False)
        footer(fig, summary, "bars: 95% Wilson intervals")
    return fig


def declaration_curve_figure(summary: dict, start: dt.date | None = None, round_days: int = 7):
    """Cumulative probability of a declaration, and of a collapse before one, by round, with 95% bands."""
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure()
        cum = pd.DataFrame(summary["cumulative"])
        horizon = int(cum["round"].max())
        cum = pd.concat([cum, cum.tail(1).assign(round=horizon + 0.5)])  # the last round's level, drawn in full
        x = cum["round"]
        for outcome, label in (("declared", "P(declared by round)"), ("collapse", "P(collapse first, by round)")):
            ax.fill_between(
                x, cum[f"{outcome}_low"], cum[f"{outcome}_high"], step="post", color=COLOURS[outcome], alpha=0.25, lw=0
            )
            ax.step(x, cum[outcome], where="post", color=COLOURS[outcome], lw=2, label=label)
        ax.set_xlim(1, horizon + 0.5)
        top = max(cum["declared_high"].max(), cum["collapse_high"].max())
        ax.set_ylim(0, max(0.05, min(1.0, top * 1.15)))
        ax.yaxis.set_major_formatter(PERCENT)
        ax.set_xlabel("round (weeks)" if round_days == 7 else f"round ({round_days} days)")
        if start is not None:
            secax = ax.secondary_xaxis("top", functions=(lambda r: r, lambda r: r))
            ticks = list(range(1, horizon + 1, max(1, horizon // 6)))
            dates = [(start + dt.timedelta(days=round_days * t)).strftime("%d %b %y") for t in ticks]
            secax.set_xticks(ticks, dates, fontsize=8, color="#666666")
        ax.set_ylabel("cumulative probability (bands: 95%)")
        ax.set_title(
            f"When: {summary.get('phase', 'declaration').lower()}, or a collapse first", pad=22 if start else 6
        )
        ax.legend(loc="upper left", frameon=False)
        footer(fig, summary)
    return fig


def agreements_figure(summary: dict):
    """Declared, agreed, carried out: P(each phase declared), P(each issue agreed) and P(each milestone
    carried out) by the horizon, with 95% intervals."""
    rows = [(p["label"], p, COLOURS["declared"]) for p in summary.get("phases", [])]
    rows += [(f"agreed: {a['label']}", a, "#457b9d") for a in summary.get("agreements", [])]
    rows += [(f"carried out: {m['label']}", m, "#a8dadc") for m in summary.get("milestones", [])]
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(7.5, 1.0 + 0.42 * max(len(rows), 1))
        fig.subplots_adjust(left=0.4, bottom=0.16 if len(rows) > 4 else 0.3)
        y = np.arange(len(rows), 0, -1)
        p = np.array([r[1]["p"] for r in rows])
        err = [p - [r[1]["low"] for r in rows], [r[1]["high"] for r in rows] - p]
        ax.barh(y, p, color=[r[2] for r in rows], xerr=err, error_kw={"ecolor": INK, "lw": 1, "capsize": 3})
        for yi, pi, r in zip(y, p, rows, strict=True):
            ax.annotate(
                f"{pi:.0%}", (r[1]["high"], yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8.5
            )
        ax.set_yticks(y, [textwrap.shorten(r[0], 48) for r in rows], fontsize=8.5)
        ax.set_xlim(0, min(1.0, max([r[1]["high"] for r in rows], default=0.5) + 0.12))
        ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel("probability by the horizon (bars: 95% Wilson intervals)")
        ax.set_title("Declared, agreed, carried out")
        ax.grid(axis="y", visible=False)
        footer(fig, summary)
    return fig


def blocking_figure(summary: dict, actors: dict[str, str] | None = None, reasons: dict[str, str] | None = None):
    """What stopped the runs that ended without a declaration; ``actors`` and ``reasons`` map ids to names."""
    with matplotlib.rc_context(STYLE):
        rows = pd.DataFrame(summary["blocking"])
        fig, ax = _figure(7.0, 0.9 + 0.45 * max(len(rows), 1))
        fig.subplots_adjust(left=0.42, bottom=0.22 if len(rows) > 2 else 0.35)
        if rows.empty:
            ax.text(0.5, 0.5, "every run reached a declaration", ha="center", transform=ax.transAxes)
        else:
            actors, reasons = actors or {}, reasons or {}
            labels = [
                f"{actors.get(b, b)} — {reasons.get(r, r)}" if b != "-" else reasons.get(r, r)
                for b, r in zip(rows["blocker"], rows["reason"], strict=True)
            ]
            colour = [COLOURS["collapse"] if is_collapse(r) else COLOURS["stalemate"] for r in rows["reason"]]
            ax.barh(labels[::-1], rows["share"][::-1], color=colour[::-1])
            for y, v in enumerate(rows["share"][::-1]):
                ax.annotate(f"{v:.1%}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8.5)
            top = rows["share"].max() * 1.2
            ax.set_xlim(0, top)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0 if top >= 0.05 else 1))
        ax.set_xlabel("share of all runs")
        ax.set_title(f"What blocked it: {summary.get('phase', 'the declaration').lower()}")
        ax.grid(axis="y", visible=False)
        footer(fig, summary)
    return fig


def package_figure(
    counts: Tally, summary: dict, issues: list[tuple[str, str, str, str]], red_lines: list[tuple[str, str, str]] = ()
):
    """The values each issue was agreed at, in the runs that agreed it: distribution, median and 5–95% range.

    ``counts``: the batch's tally (the distributions come from its fine bins of agreed values); ``issues``:
    (id, label, low, high); ``red_lines``: (id, issue id, label). An issue whose agreements mostly sit on a
    red line's bound says so.
    """
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(8.0, 1.2 + 0.75 * len(issues))
        fig.subplots_adjust(left=0.31, bottom=0.2)
        quantiles = {a["issue"]: a["values"] for a in summary["agreements"]}
        y = np.arange(len(issues), 0, -1)
        row = {issue: yi for yi, (issue, *_) in zip(y, issues, strict=True)}
        agreed = {i[0]: counts.agreed[i[0]].density() if i[0] in counts.agreed else None for i in issues}
        shown = [i for i in issues if agreed[i[0]] is not None]
        if shown:
            parts = ax.violin(
                [agreed[i[0]] for i in shown],
                positions=[row[i[0]] for i in shown],
                orientation="horizontal",
                showmeans=False,
                showextrema=False,
                showmedians=False,
                widths=0.8,
            )
            for body in parts["bodies"]:
                body.set_facecolor(COLOURS["declared"])
                body.set_alpha(0.35)
        for issue, *_ in issues:
            q = quantiles[issue]
            if agreed[issue] is None:
                ax.text(50, row[issue], "never agreed", ha="center", va="center", fontsize=9, color="#888888")
                continue
            ax.hlines(row[issue], q["q05"], q["q95"], color=INK, lw=1)
            ax.hlines(row[issue], q["q25"], q["q75"], color=INK, lw=4)
            ax.plot(q["median"], row[issue], "o", ms=5, mfc="white", mec=INK, mew=1.2)
        for red_line, issue, label in red_lines:
            on = counts.on_bound_share(red_line)
            if on >= 0.5:
                share = "every agreement" if on == 1 else f"{100 * on:.{0 if on < 0.99 else 1}f}% of agreements"
                at = np.clip(quantiles[issue]["median"], 25, 75)
                ax.annotate(
                    f"{share} on the red line: {label}",
                    (at, row[issue]),
                    xytext=(0, 9),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color=COLOURS["collapse"],
                )
        ax.set_ylim(0.5, len(issues) + 0.5)
        labels = [
            "\n".join([i[1], *textwrap.wrap(f"0 = {i[2]}", 44), *textwrap.wrap(f"100 = {i[3]}", 44)]) for i in issues
        ]
        ax.set_yticks(y, labels, fontsize=7.5)
        ax.set_xlim(0, 100)
        ax.set_xlabel("value agreed (0–100 on each issue)")
        ax.set_title("What was agreed, issue by issue")
        footer(fig, summary, "runs that agreed each issue; dot: median, bars: 25–75%, 5–95%")
    return fig


def save(fig, folder: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``name.png`` and ``name.svg`` in ``folder`` (atomically)."""
    paths = []
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        with matplotlib.rc_context(STYLE):  # the style's resolution and SVG text apply when saving
            fig.savefig(buf, format=fmt, bbox_inches="tight")
        paths.append(folder / f"{name}.{fmt}")
        atomic_write(paths[-1], buf.getvalue())
    return paths


# ------------------------------------------------------------------ sensitivity and comparison
LOW_HIGH = ("#8ab17d", "#e9c46a")
ACTOR_COLOURS = ["#1d3557", "#e63946", "#2a9d8f", "#e9a800", "#7b4fa6", "#8c6d46", "#6c9bd2", "#ef8fb0"]


def field_label(path: str, info: dict) -> str:
    """A parameter path as the scenario names it (``info["labels"]``, from the analysis), else the path."""
    return info.get("labels", {}).get(path, path)


def _grid(n: int, width: float, height: float, columns: int = 3, xlabel: str = "", **kw):
    """``n`` panels in rows of ``columns``; ``xlabel`` goes under the lowest panel of each column."""
    cols = min(n, columns)
    rows = -(-n // cols)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width * cols + 0.8, height * rows + 1.1))
        axes = fig.subplots(rows, cols, squeeze=False, **kw)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes.flat[:n]):
        if xlabel and i + cols >= n:
            ax.set_xlabel(xlabel)
            ax.tick_params(labelbottom=True)
    return fig, list(axes.flat[:n])


def _margins(fig, top: float = 0.85, bottom: float = 0.8, left: float = 0.75, right: float = 0.2) -> None:
    """Fixed margins in inches (title and legend above, axis label and footer below)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(top=1 - top / h, bottom=bottom / h, left=left / w, right=1 - right / w)


def sweep_figure(table: pd.DataFrame, info: dict):
    """P(outcome) across each swept field, one panel per field, with the 95% band on P(declared)."""
    with matplotlib.rc_context(STYLE):
        fields = list(dict.fromkeys(table["field"]))
        one = len(fields) == 1
        fig, axes = _grid(len(fields), 6.4 if one else 3.6, 3.4 if one else 2.9, sharey=True)
        for ax, field in zip(axes, fields, strict=True):
            rows = table[table["field"] == field].sort_values("value")
            x = rows["value"]
            ax.fill_between(x, rows["low"], rows["high"], color=COLOURS["declared"], alpha=0.25, lw=0)
            ax.plot(x, rows["p_declared"], color=COLOURS["declared"], lw=2, marker="o", ms=4, label="declared")
            for outcome, dash in (("collapse", "--"), ("stalemate", ":")):
                ax.plot(x, rows[f"p_{outcome}"], color=COLOURS[outcome], lw=1.4, ls=dash, label=outcome)
            if "baseline" in info:
                ax.axhline(info["baseline"], color=INK, lw=1, ls="-.", alpha=0.8, label="baseline P(declared)")
            ax.set_xlabel(field_label(field, info))
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4 if len(fields) > 1 else 8))
        axes[0].set_ylim(0, 1)
        axes[0].yaxis.set_major_formatter(PERCENT)
        axes[0].set_ylabel("probability by the horizon")
        fig.suptitle("How the outcome moves with one assumption", fontweight="bold", fontsize=12)
        fig.legend(
            *axes[0].get_legend_handles_labels(),
            loc="upper center",
            ncol=4,
            frameon=False,
            bbox_to_anchor=(0.5, 1 - 0.38 / fig.get_size_inches()[1]),
            fontsize=8.5,
        )
        _margins(fig)
        fig.subplots_adjust(hspace=0.45, wspace=0.12)
        footer(fig, info, "band: 95% Wilson interval; each value played with the same runs")
    return fig


def tornado_figure(table: pd.DataFrame, info: dict):
    """P(declared) with each field at its low and high value, widest swing on top, around the baseline."""
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(7.5, 1.4 + 0.55 * len(table))
        fig.subplots_adjust(left=0.34, right=0.95, bottom=0.55 / (0.55 + 0.55 * len(table) / 1.4 + 0.5), top=0.85)
        base = info["baseline"]
        y = range(len(table))[::-1]
        for end, colour in zip(("low", "high"), LOW_HIGH, strict=True):
            p = table[f"p_at_{end}"]
            ax.barh(y, p - base, left=base, height=0.6, color=colour, label=f"at the {end} value")
            for yi, pi, v in zip(y, p, table[end], strict=True):
                ax.annotate(
                    f"{v:g}",
                    (pi, yi),
                    xytext=(4 if pi >= base else -4, 0),
                    textcoords="offset points",
                    ha="left" if pi >= base else "right",
                    va="center",
                    fontsize=8,
                    color=INK,
                )
        ax.axvline(base, color=INK, lw=1)
        ax.set_yticks(list(y), [field_label(f, info) for f in table["field"]])
        lo, hi = (
            min(table["p_at_low"].min(), table["p_at_high"].min(), base),
            max(table["p_at_low"].max(), table["p_at_high"].max(), base),
        )
        pad = 0.06 + 0.1 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
        step = 0.2 if hi - lo > 0.5 else 0.1 if hi - lo > 0.2 else 0.05
        ax.set_xticks([t for t in np.arange(0, 1 + step / 2, step) if lo - pad <= t <= hi + pad])
        ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel(f"P(declared) by the horizon (baseline {base:.0%})")
        ax.set_title("What moves the odds of a declaration", pad=24)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8.5)
        ax.grid(axis="y", visible=False)
        footer(fig, info, "each value played with the same runs")
    return fig


def indices_figure(indices: pd.DataFrame, info: dict):
    """Global sensitivity of P(outcome): Sobol first-order and total indices, or Morris mu* and sigma."""
    sobol = info.get("method") == "sobol"
    target = f"P({info.get('outcome', 'declared')})"
    measures = (
        (("first", "first-order (alone)"), ("total", "total (with interactions)"))
        if sobol
        else (("mu_star", "mu* (mean absolute effect)"), ("sigma", "sigma (interactions, non-linearity)"))
    )
    with matplotlib.rc_context(STYLE):
        n = len(indices)
        fig, ax = _figure(7.5, 1.4 + 0.5 * n)
        _margins(fig, top=0.45, bottom=0.8, left=2.6, right=0.25)
        y = np.arange(n)[::-1]
        ends = [0.0]
        for k, ((col, label), colour) in enumerate(zip(measures, ("#8ab17d", INK), strict=True)):
            at = y + (0.2 if k == 0 else -0.2)
            ax.barh(at, indices[col].clip(lower=0), height=0.38, color=colour, label=label)
            if f"{col}_conf" in indices:  # whiskers around the estimate itself, drawn in full
                conf = indices[f"{col}_conf"]
                ax.errorbar(indices[col], at, xerr=conf, fmt="none", ecolor="#555555", elinewidth=1, capsize=3)
                ends += [(indices[col] - conf).min(), (indices[col] + conf).max()]
            ends.append(indices[col].max())
        labels = [
            f"{field_label(p, info)}\n{lo:g} – {hi:g}"
            for p, lo, hi in zip(indices.index, indices["low"], indices["high"], strict=True)
        ]
        ax.set_yticks(y, labels, fontsize=8.5)
        lo, hi = min(ends), max(ends)
        left, right = lo - 0.04 * (hi - lo), hi + 0.06 * (hi - lo)
        ax.set_xlim(left, right)
        ax.axvline(0, color="#555555", lw=0.8)
        measure = f"share of the variance of {target}" if sobol else f"mean effect on {target} per unit of quantile"
        ax.set_xlabel(f"{measure}; whiskers: 95% bootstrap")
        design = f"{'Sobol' if sobol else 'Morris'}: {info['points']:,} points x {info['runs_per_point']} runs"
        if sobol and (lo < 0 or hi > 1):  # an index lies in [0, 1]: shade what lies outside
            for a, b in ((left, 0), (1, right)):
                if a < b:
                    ax.axvspan(a, b, color="#eeeeee", lw=0, zorder=0)
            design += "; grey: outside [0, 1], whiskers there call for more points"
        ax.set_title(f"Which assumptions move {target}")
        ax.legend(loc="lower right", frameon=False, fontsize=8.5)
        ax.grid(axis="y", visible=False)
        footer(fig, info, design)
    return fig


def _item(label: str) -> str:
    """A compared item's label for an axis: ``us_pressure (results/x/)`` -> ``us pressure`` above ``(results/x/)``."""
    name, bracket, where = label.partition(" (")
    return name.replace("_", " ") + ("\n(" + where if bracket else "")


def comparison_figure(table: pd.DataFrame, info: dict):
    """P(outcome) per scenario with 95% intervals; the change in P(declared) from the first is noted on the right.

    ``info["warning"]`` (items differing in seed or runs) goes into the footer.
    """
    with matplotlib.rc_context(STYLE):
        n = len(table)
        fig, ax = _figure(8.0, 1.4 + 0.75 * n)
        _margins(fig, top=0.7, bottom=0.75, left=1.75, right=1.8)
        y = np.arange(n)[::-1]
        for k, outcome in enumerate(COLOURS):
            p = table[f"p_{outcome}"]
            err = [p - table[f"p_{outcome}_low"], table[f"p_{outcome}_high"] - p]
            pos = y + 0.25 * (1 - k)
            ax.barh(
                pos,
                p,
                height=0.24,
                color=COLOURS[outcome],
                label=outcome,
                xerr=err,
                error_kw={"ecolor": INK, "lw": 0.9, "capsize": 2},
            )
            for yi, pi, hi in zip(pos, p, table[f"p_{outcome}_high"], strict=True):
                ax.annotate(f"{pi:.0%}", (hi, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5)
        ax.set_yticks(y, [_item(s) for s in table["item"]])
        for yi, (_, row) in zip(y[1:], table.iloc[1:].iterrows(), strict=True):
            ax.annotate(
                f"declared {signed(100 * row['declared_diff'], 0)} pts\n"
                f"[{signed(100 * row['declared_diff_low'], 0)}, "
                f"{signed(100 * row['declared_diff_high'], 0)}], p {p_text(row['declared_p_value'])}",
                (1.0, yi),
                xycoords=("axes fraction", "data"),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color=INK,
                annotation_clip=False,
            )
        ax.set_xlim(0, min(1, table[[f"p_{o}_high" for o in COLOURS]].to_numpy().max() + 0.1))
        ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel("probability by the horizon")
        ax.set_title(f"Scenarios compared (changes against {_item(table['item'].iloc[0]).splitlines()[0]})", pad=22)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=8.5)
        ax.grid(axis="y", visible=False)
        if info.get("warning"):
            fig.text(
                0.01,
                0.01 + 0.2 / fig.get_size_inches()[1],
                f"note: {info['warning']}",
                fontsize=8,
                color=COLOURS["collapse"],
                ha="left",
                va="bottom",
            )
        footer(fig, info, "bars: 95% Wilson intervals")
    return fig


def fan_figure(
    trajectories: pd.DataFrame,
    info: dict,
    labels: dict[str, str] | None = None,
    issues: list[str] | None = None,
    actors: list[str] | None = None,
    names: dict[str, str] | None = None,
):
    """Stated positions over rounds: median and 50%/90% bands per actor, one panel per issue.

    ``labels`` maps issue ids to titles and ``names`` actor ids to names; ``issues`` and ``actors``
    choose what to draw (default: all). Panels run two abreast, tall enough to read on a page.
    """
    issues = issues or list(dict.fromkeys(trajectories["issue"]))
    actors = actors or list(dict.fromkeys(trajectories["actor"]))
    columns = 3 if len(issues) > 6 else 2
    with matplotlib.rc_context(STYLE):
        fig, axes = _grid(
            len(issues),
            3.9 if len(issues) > 1 else 7.4,
            2.8 if len(issues) > 1 else 3.6,
            columns=columns,
            xlabel="round",
            sharex=True,
            sharey=True,
        )
        for ax, issue in zip(axes, issues, strict=True):
            on_issue = trajectories[trajectories["issue"] == issue]
            for actor, colour in zip(actors, itertools.cycle(ACTOR_COLOURS), strict=False):
                q = (
                    on_issue[on_issue["actor"] == actor]
                    .groupby("round")["position"]
                    .quantile([0.05, 0.25, 0.5, 0.75, 0.95])
                    .unstack()
                )
                ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.10, lw=0)
                ax.fill_between(q.index, q[0.25], q[0.75], color=colour, alpha=0.25, lw=0)
                ax.plot(q.index, q[0.5], color=colour, lw=1.6, label=(names or {}).get(actor, actor.replace("_", " ")))
            ax.set_title((labels or {}).get(issue, issue), fontsize=10)
            ax.set_ylim(0, 100)
        for ax in axes[::columns]:
            ax.set_ylabel("stated position (0–100)")
        fig.suptitle("Stated positions over the rounds", fontweight="bold", fontsize=12)
        fig.legend(
            *axes[0].get_legend_handles_labels(),
            loc="upper center",
            ncol=min(len(actors), 6),
            frameon=False,
            bbox_to_anchor=(0.5, 1 - 0.38 / fig.get_size_inches()[1]),
            fontsize=8.5,
        )
        _margins(fig, top=0.95)
        fig.subplots_adjust(hspace=0.35, wspace=0.08)
        recorded = f"{trajectories['run'].nunique():,} recorded runs"
        footer(
            fig,
            info,
            "median, 50% and 90% bands",
            runs=f"{recorded} of {info['runs']:,}" if info.get("runs") else recorded,
        )
    return fig


# ------------------------------------------------------------------ calibration
def calibration_figure(result: dict, prior: dict[str, np.ndarray], known: dict[str, float] | None = None):
    """Prior against posterior, one panel per calibrated parameter: the prior's density (``prior``: evenly spaced
    quantiles), the posterior's (a weighted kernel density of the particles), its 95% interval, and a ``known``
    true value where there is one (a synthetic case)."""
    from scipy import stats

    rows, posterior = result["parameters"], result["posterior"]
    fig, axes = _grid(len(rows), 3.6, 2.2, columns=3)
    _margins(fig, top=1.0, bottom=1.0, left=0.3, right=0.3)
    fig.subplots_adjust(hspace=0.75, wspace=0.25)
    with matplotlib.rc_context(STYLE):
        for ax, row in zip(axes, rows, strict=True):
            p = row["parameter"]
            draws, x, w = prior[p], posterior[p].to_numpy(), posterior["weight"].to_numpy()
            lo, hi = float(np.min(draws)), float(np.max(draws))
            grid = np.linspace(lo, hi, 200)
            ax.hist(draws, bins=np.linspace(lo, hi, 21), density=True, color="#d5d5d5", label="prior")
            if np.ptp(x) > 0:
                density = stats.gaussian_kde(x, weights=w)(grid)
                ax.fill_between(grid, density, color=COLOURS["declared"], alpha=0.35, lw=0)
                ax.plot(grid, density, color=COLOURS["declared"], lw=1.8, label="posterior")
            ax.axvline(row["low"], color=COLOURS["declared"], lw=0.9, ls="--", label="posterior 95%")
            ax.axvline(row["high"], color=COLOURS["declared"], lw=0.9, ls="--")
            if known and p in known:
                ax.axvline(known[p], color=COLOURS["collapse"], lw=1.8, label="true value")
            ax.set_title(_item(row["label"]), fontsize=9.5)
            ax.set_xlim(lo, hi)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            ax.set_yticks([])
            ax.grid(axis="y", visible=False)
        axes[0].legend(loc="upper left", bbox_to_anchor=(0, -0.25), ncol=4, frameon=False, fontsize=7.5)
        fig.suptitle(f"Prior and posterior: {result['scenario']}\ncalibrated to {result['targets']}", fontsize=11,
                     fontweight="bold")  # fmt: skip
        eps = result["epsilons"][-1] if result["epsilons"] else float("nan")
        design = (f"ABC-SMC (pyabc {result['pyabc']}): {result['populations']} populations of "
                  f"{result['population']} x {result['runs_per_point']} runs, tolerance {eps:.2f} sd")  # fmt: skip
        footer(fig, {"scenario": result["scenario"], "seed": result["seed"]}, design, runs="calibration")
    return fig


# ------------------------------------------------------------------ scenario discovery
def discovery_figure(found: dict):
    """PRIM's coverage/density trade-off along the peeling trajectory (colour: parameters restricted; the chosen
    box ringed) and the chosen box's limits, each on its parameter's whole range."""
    from sim.analysis.discover import bounds_text

    limits = found["box"]["limits"]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(12.5, max(4.2, 1.6 + 0.55 * len(limits))))
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
    _margins(fig, top=0.8, bottom=0.85, left=0.7, right=0.3)
    fig.subplots_adjust(wspace=1.0)
    with matplotlib.rc_context(STYLE):
        steps = pd.DataFrame(found["trajectory"])
        dots = left.scatter(steps["coverage"], steps["density"], c=steps["res_dim"], cmap="viridis", s=22, zorder=3)
        chosen = steps[steps["id"] == found["chosen"]].iloc[0]
        ring = {"s": 140, "facecolors": "none", "edgecolors": COLOURS["collapse"], "linewidths": 2, "zorder": 4}
        left.scatter([chosen["coverage"]], [chosen["density"]], label=f"chosen: box {found['chosen']}", **ring)
        left.axhline(found["base_rate"], color="#888888", lw=0.9, ls="--", label="all runs")
        left.axvline(found["min_coverage"], color="#bbbbbb", lw=0.9, ls=":")
        left.set_xlabel("coverage (share of the runs reaching it, inside the box)")
        left.set_ylabel(f"density: P({found['outcome']}) inside the box")
        whole = matplotlib.ticker.PercentFormatter(1.0, decimals=0)
        left.xaxis.set_major_formatter(whole)
        left.yaxis.set_major_formatter(whole)
        left.invert_xaxis()
        left.legend(loc="upper left", frameon=False, fontsize=8)
        fig.colorbar(dots, ax=left, label="parameters restricted", shrink=0.85)
        left.set_title("PRIM: peeling trajectory")
        y = np.arange(len(limits))[::-1]
        for at, rule in zip(y, limits, strict=True):
            lo, hi = rule["range"]
            a, b = (rule["low"] - lo) / (hi - lo), (rule["high"] - lo) / (hi - lo)
            right.barh(at, 1, left=0, color="#eeeeee", height=0.5)
            right.barh(at, b - a, left=a, color=COLOURS["declared"], height=0.5)
            right.text(1.02, at, bounds_text(rule), va="center", fontsize=8)
        right.set_yticks(y, [textwrap.fill(r["label"], 34) for r in limits], fontsize=8)
        right.set_xlim(0, 1)
        right.set_xticks([0, 1], ["lowest", "highest"])
        right.set_xlabel("each parameter's range in the scenario")
        right.grid(visible=False)
        b = found["box"]
        right.set_title(f"Box {found['chosen']}: P = {b['density']:.2f} (all runs {found['base_rate']:.2f}), "
                        f"coverage {b['coverage']:.0%}", fontsize=10.5)  # fmt: skip
        fig.suptitle(f"Where {found['outcome']} is likeliest: {found['scenario']}", fontsize=11, fontweight="bold")
        footer(fig, found, f"PRIM (EMA Workbench), {found['parameters']} parameters")
    return fig
