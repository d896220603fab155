"""The figures of the analysis commands: sweeps and tornadoes, global indices, comparisons, calibration and
scenario discovery.

Each ``*_figure`` function takes what its analysis returns (a table with its ``attrs``, or a dict) and returns a
matplotlib Figure in the one style of :mod:`sim.briefing.style`.
"""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.compare import p_text, signed
from sim.briefing.style import COLOURS, INK, PERCENT, STYLE, footer, new_figure, panel_grid, set_margins
from sim.briefing.wording import whole_percent

LOW_HIGH = ("#8ab17d", "#e9c46a")


def field_label(path: str, info: dict) -> str:
    """A parameter path as the scenario names it (``info["labels"]``, from the analysis), else the path."""
    return info.get("labels", {}).get(path, path)


def sweep_figure(table: pd.DataFrame, info: dict):
    """P(outcome) across each swept field, one panel per field, with the 95% band on P(declared)."""
    with matplotlib.rc_context(STYLE):
        fields = list(dict.fromkeys(table["field"]))
        one = len(fields) == 1
        fig, axes = panel_grid(len(fields), 6.4 if one else 3.6, 3.4 if one else 2.9, sharey=True)
        for ax, field in zip(axes, fields, strict=True):
            rows = table[table["field"] == field].sort_values("value")
            x = rows["value"]
            ax.fill_between(x, rows["low"], rows["high"], color=COLOURS["declared"], alpha=0.25, lw=0)
            ax.plot(x, rows["p_declared"], color=COLOURS["declared"], lw=2, marker="o", ms=4, label="declared")
            for outcome, dash in (("collapse", "--"), ("stalemate", ":")):
                ax.plot(x, rows[f"p_{outcome}"], color=COLOURS[outcome], lw=1.4, ls=dash, label=outcome)
            if "baseline" in info:
                ax.axhline(info["baseline"], color=INK, lw=1, ls="-.", alpha=0.8, label="baseline P(declared)")
            unit = info.get("units", {}).get(field)
            ax.set_xlabel(textwrap.fill(field_label(field, info) + (f" ({unit})" if unit else ""), 56 if one else 34))
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
        set_margins(fig)
        fig.subplots_adjust(hspace=0.45, wspace=0.12)
        footer(fig, info, "band: 95% Wilson interval; each value played with the same runs")
    return fig


def tornado_figure(table: pd.DataFrame, info: dict):
    """P(declared) with each field at its low and high value, widest swing on top, around the baseline."""
    with matplotlib.rc_context(STYLE):
        fig, ax = new_figure(7.5, 1.4 + 0.55 * len(table))
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
        ax.set_xlabel(f"P(declared) by the horizon (baseline {whole_percent(base)})")
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
        fig, ax = new_figure(7.5, 1.4 + 0.5 * n)
        set_margins(fig, top=0.45, bottom=0.8, left=2.6, right=0.25)
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
        fig, ax = new_figure(8.0, 1.4 + 0.75 * n)
        set_margins(fig, top=0.7, bottom=0.75, left=1.75, right=1.8)
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
                ax.annotate(
                    whole_percent(pi), (hi, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5
                )
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


# ------------------------------------------------------------------ calibration
def calibration_figure(result: dict, prior: dict[str, np.ndarray], known: dict[str, float] | None = None):
    """Prior against posterior, one panel per calibrated parameter: the prior's density (``prior``: evenly spaced
    quantiles), the posterior's (a weighted kernel density of the particles), its 95% interval, and a ``known``
    true value where there is one (a synthetic case)."""
    from scipy import stats

    rows, posterior = result["parameters"], result["posterior"]
    fig, axes = panel_grid(len(rows), 3.6, 2.2, columns=3)
    set_margins(fig, top=1.0, bottom=1.0, left=0.3, right=0.3)
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
    set_margins(fig, top=0.8, bottom=0.85, left=0.7, right=0.3)
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
                        f"coverage {whole_percent(b['coverage'])}", fontsize=10.5)  # fmt: skip
        fig.suptitle(f"Where {found['outcome']} is likeliest: {found['scenario']}", fontsize=11, fontweight="bold")
        footer(fig, found, f"PRIM (EMA Workbench), {found['parameters']} parameters")
    return fig
