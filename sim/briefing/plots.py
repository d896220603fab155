"""The figures of a batch, drawn into its results folder: how the runs end, when, what is agreed, what blocks it,
the packages agreed and the actors' stated positions.

Each ``*_figure`` function takes plain data (the summary, and the tally or trajectories it needs) and returns a
matplotlib Figure in the one style of :mod:`sim.briefing.style`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import textwrap

import matplotlib
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd

from sim.analysis.tally import Tally
from sim.briefing.style import COLOURS, INK, PERCENT, STYLE, fit_left, footer, new_figure, panel_grid, set_margins
from sim.briefing.wording import whole_percent
from sim.engine.columns import is_collapse, reason_beside

ACTOR_COLOURS = ["#1d3557", "#e63946", "#2a9d8f", "#e9a800", "#7b4fa6", "#8c6d46", "#6c9bd2", "#ef8fb0"]


def outcome_figure(summary: dict):
    """P(declared), P(collapse), P(stalemate) with 95% intervals."""
    with matplotlib.rc_context(STYLE):
        fig, ax = new_figure(6.5, 3.8)
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
                f"{whole_percent(probs[n]['p'])}\n[{whole_percent(probs[n]['low'])}–{whole_percent(probs[n]['high'])}]",
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
        fig, ax = new_figure()
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
    rows += [(f"milestone: {m['label']}", m, "#a8dadc") for m in summary.get("milestones", [])]
    with matplotlib.rc_context(STYLE):
        fig, ax = new_figure(7.5, 1.0 + 0.42 * max(len(rows), 1))
        fig.subplots_adjust(left=0.4, bottom=0.16 if len(rows) > 4 else 0.3)
        y = np.arange(len(rows), 0, -1)
        p = np.array([r[1]["p"] for r in rows])
        err = [p - [r[1]["low"] for r in rows], [r[1]["high"] for r in rows] - p]
        ax.barh(y, p, color=[r[2] for r in rows], xerr=err, error_kw={"ecolor": INK, "lw": 1, "capsize": 3})
        for yi, pi, r in zip(y, p, rows, strict=True):
            ax.annotate(
                whole_percent(pi),
                (r[1]["high"], yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
            )
        ax.set_yticks(y, [textwrap.shorten(r[0], 48) for r in rows], fontsize=8.5)
        ax.set_xlim(0, min(1.0, max([r[1]["high"] for r in rows], default=0.5) + 0.12))
        ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel("probability by the horizon (bars: 95% Wilson intervals)")
        ax.set_title("Declared, agreed, carried out")
        ax.grid(axis="y", visible=False)
        footer(fig, summary)
    return fig


def mechanisms_figure(summary: dict):
    """Structural uncertainty: P(declared) and P(collapse first) among the runs that drew each alternative of each
    mechanism, with 95% intervals, beside the mixture (the whole batch)."""
    mechanisms = summary.get("mechanisms", [])
    rows = []
    for m in mechanisms:
        rows.append((m["label"], None))
        rows += [
            (f"{textwrap.shorten(a['label'], 46)} ({whole_percent(a['weight'])})", a)
            for a in m["alternatives"]
            if a["runs"]
        ]
    with matplotlib.rc_context(STYLE):
        fig, ax = new_figure(8.0, 1.3 + 0.36 * max(len(rows), 1))
        fig.subplots_adjust(left=0.46, bottom=0.12 if len(rows) > 6 else 0.25, top=0.86)
        y = np.arange(len(rows), 0, -1)
        mixture = summary["probabilities"]
        for outcome, shift in (("declared", 0.12), ("collapse", -0.12)):
            ax.axvline(mixture[outcome]["p"], color=COLOURS[outcome], lw=1, ls="--",
                       label=f"mixture: P({outcome}) {whole_percent(mixture[outcome]['p'])}")  # fmt: skip
            for yi, (_, a) in zip(y, rows, strict=True):
                if a is None:
                    continue
                p = a["probabilities"][outcome]
                ax.errorbar(p["p"], yi + shift, xerr=[[p["p"] - p["low"]], [p["high"] - p["p"]]], fmt="o", ms=4,
                            color=COLOURS[outcome], ecolor=COLOURS[outcome], capsize=2,
                            label=f"P({outcome}) under the alternative" if yi == y[1] else None)  # fmt: skip
        ax.set_yticks(y, [r[0] for r in rows], fontsize=8.5)
        for tick, (_, a) in zip(ax.get_yticklabels(), rows, strict=True):
            tick.set_fontweight("bold" if a is None else "normal")
        highs = [a["probabilities"][o]["high"] for _, a in rows if a is not None for o in ("declared", "collapse")]
        ax.set_xlim(0, min(1.0, max(highs, default=0.5) + 0.15))
        ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel("probability by the horizon among the runs that drew the alternative (95% Wilson intervals)")
        ax.set_title("Where the sources cannot decide: the answer under each alternative", pad=30)
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=7.5, frameon=False)
        footer(fig, summary, "weights in brackets")
    return fig


def blocking_figure(summary: dict, actors: dict[str, str] | None = None, reasons: dict[str, str] | None = None):
    """What stopped the runs that ended without a declaration; ``actors`` and ``reasons`` map ids to names."""
    with matplotlib.rc_context(STYLE):
        rows = pd.DataFrame(summary["blocking"])
        fig, ax = new_figure(7.0, 1.3 + 0.45 * max(len(rows), 1))
        fig.subplots_adjust(bottom=0.9 / fig.get_size_inches()[1], top=1 - 0.5 / fig.get_size_inches()[1])
        if rows.empty:
            ax.text(0.5, 0.5, "every run reached a declaration", ha="center", transform=ax.transAxes)
        else:
            actors, reasons = actors or {}, reasons or {}
            labels = []
            for b, r in zip(rows["blocker"], rows["reason"], strict=True):
                who = actors.get(b, b)
                labels.append(f"{who} — {reason_beside(reasons.get(r, r), who)}" if b != "-" else reasons.get(r, r))
            collapse = [is_collapse(r) for r in rows["reason"]]
            colour = [COLOURS["collapse"] if c else COLOURS["stalemate"] for c in collapse]
            ax.barh(labels[::-1], rows["share"][::-1], color=colour[::-1])
            for y, v in enumerate(rows["share"][::-1]):
                ax.annotate(f"{v:.1%}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8.5)
            top = rows["share"].max() * 1.2
            ax.set_xlim(0, top)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0 if top >= 0.05 else 1))
            kinds = {"a collapse came first": COLOURS["collapse"], "a party held it up": COLOURS["stalemate"]}
            shown = [k for k, c in zip(kinds, (True, False), strict=True) if c in collapse]
            ax.legend(
                handles=[matplotlib.patches.Patch(color=kinds[k], label=k) for k in shown],
                loc="lower right",
                frameon=False,
                fontsize=8.5,
            )
        ax.set_xlabel("share of all runs")
        ax.grid(axis="y", visible=False)
        fit_left(fig, ax)
        width, height = fig.get_size_inches()
        fig.suptitle(
            textwrap.fill(f"What blocked it: {summary.get('phase', 'the declaration').lower()}", int(width * 9)),
            x=0.12 / width,
            y=1 - 0.08 / height,
            ha="left",
            va="top",
            fontweight="bold",
            fontsize=12,
        )
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
        fig, ax = new_figure(8.0, 1.2 + 0.75 * len(issues))
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


def fan_figure(
    trajectories: pd.DataFrame,
    info: dict,
    labels: dict[str, str] | None = None,
    issues: list[str] | None = None,
    actors: list[str] | None = None,
    names: dict[str, str] | None = None,
    scales: dict[str, tuple[str, str]] | None = None,
):
    """Stated positions over rounds: median and 50%/90% bands per actor, one panel per issue.

    ``labels`` maps issue ids to titles, ``scales`` to what 0 and 100 mean on the issue (written under its title),
    and ``names`` actor ids to names; ``issues`` and ``actors`` choose what to draw (default: all). Panels run two
    abreast, tall enough to read on a page.
    """
    issues = issues or list(dict.fromkeys(trajectories["issue"]))
    scale = {
        issue: textwrap.wrap("0 = {}; 100 = {}".format(*(scales or {})[issue]), 62) if issue in (scales or {}) else []
        for issue in issues
    }
    extra = max(len(lines) for lines in scale.values())  # lines of scale under the titles
    actors = actors or list(dict.fromkeys(trajectories["actor"]))
    columns = 3 if len(issues) > 6 else 2
    with matplotlib.rc_context(STYLE):
        fig, axes = panel_grid(
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
            ax.set_title((labels or {}).get(issue, issue), fontsize=10, pad=4 + 9.5 * len(scale[issue]))
            ax.annotate("\n".join(scale[issue]), (0.5, 1), xycoords="axes fraction", xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7.5, color="#555")  # fmt: skip
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
        set_margins(fig, top=0.95 + 0.14 * extra)
        fig.subplots_adjust(hspace=0.35 + 0.05 * extra, wspace=0.08)
        recorded = f"{trajectories['run'].nunique():,} recorded runs"
        footer(
            fig,
            info,
            "median, 50% and 90% bands",
            runs=f"{recorded} of {info['runs']:,}" if info.get("runs") else recorded,
        )
    return fig
