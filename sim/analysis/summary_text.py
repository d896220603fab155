"""The summary of a batch as a readable plain-text table: what ``summary.txt`` holds and ``negsim run`` prints."""

from __future__ import annotations

from sim.engine.columns import reason_beside


def _row(p: dict) -> str:
    return f"{p['p']:>8.3f}   [{p['low']:.3f}, {p['high']:.3f}]"


def status_lines(status: dict | None) -> list[str]:
    """How a milestone with a deadline ended, a line per status it ended in: P, interval and median round (the
    round it was carried out, else the round it was last due by)."""
    lines = []
    for label, p in (status or {}).items():
        if p["k"]:
            median = p["rounds"]["median"]
            when = "not due by the end" if median is None else f"median round {median:g}"
            lines.append(f"{_row(p)}      {label} ({when})")
    return lines


def uncertainty_lines(spread: dict | None) -> list[str]:
    """The two kinds of uncertainty (:mod:`sim.analysis.uncertainty`) as lines of the plain-text summary."""
    if spread is None:
        return []
    if not spread.get("points"):
        return ["", f"spread across assumptions: not estimated ({spread.get('why', 'no design')})"]
    lines = [
        "",
        f"two kinds of uncertainty ({spread['points']} sets of assumptions x {spread['runs_per_point']} runs):",
        f"{'outcome':<12}{'P':>8}  {'runs (MC)':>9}   assumptions: sd, 10%-90% range, share of run variance",
    ]
    for name, row in spread["outcomes"].items():
        a = row["assumptions"]
        lines.append(
            f"{name:<12}{row['p']:>8.3f}  {'±' + format(row['monte_carlo'], '.3f'):>9}   "
            f"{a['sd']:.3f}, {a['low']:.3f}-{a['high']:.3f}, {a['share_of_variance']:.0%}"
        )
    lines.append("  (more runs narrow the Monte Carlo error, not the spread across assumptions)")
    return lines


def mechanism_lines(mechanisms: list[dict], mixture: dict) -> list[str]:
    """Structural uncertainty: P(declared / collapse / stalemate) under each alternative of each mechanism, and the
    mixture (the whole batch), as lines of the plain-text summary."""
    if not mechanisms:
        return []
    lines = ["", "under each alternative where the sources cannot decide (P declared / collapse / stalemate):"]
    cell = lambda p: f"{p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"
    for m in mechanisms:
        lines.append(f"  {m['label']}")
        for a in m["alternatives"]:
            if not a["runs"]:
                lines.append(f"    {a['label']} (weight {a['weight']:.2f}): no run drew it")
                continue
            p = a["probabilities"]
            lines.append(f"    {a['label']} (weight {a['weight']:.2f}, {a['runs']:,} runs): "
                         + " / ".join(cell(p[o]) for o in ("declared", "collapse", "stalemate")))  # fmt: skip
        lines.append("    mixture: " + " / ".join(cell(mixture[o]) for o in ("declared", "collapse", "stalemate")))
    return lines


def summary_text(summary: dict) -> str:
    """The summary as a readable plain-text table."""
    lines = [f"{summary['scenario']}  ({summary['runs']:,} runs, seed {summary['seed']})", ""]
    if "as_of" in summary:
        a = summary["as_of"]
        lines.insert(1, f"as of round {a['round']} ({a['date']}): play resumes in round {a['round'] + 1}; rounds "
                        f"count from {a['start']}, as in a run from the start")  # fmt: skip
    lines.append(f"{'outcome':<12}{'P':>8}   95% interval     ({summary.get('phase', 'first phase')})")
    for name, p in summary["probabilities"].items():
        lines.append(f"{name:<12}{_row(p)}")
    c = summary["collapse"]
    lines.append(f"{'collapse after declaration':<12}{_row(c['after'])}")
    if "consented" in summary:
        lines.append(f"{'every party explicitly consented':<12}{_row(summary['consented'])}")
        how = ", ".join(f"{rule.replace('_', '-')} {share:.1%}" for rule, share in summary["declared_how"].items())
        if how:
            lines.append(f"declared by: {how} (of the declared runs)")
    lines += mechanism_lines(summary.get("mechanisms", []), summary["probabilities"])
    if summary.get("precision"):
        stages = " -> ".join(f"{n:,}" for n in summary["precision"]["stages"])
        lines.append(f"runs in stages {stages}: {summary['precision']['why']}")
    lines += uncertainty_lines(summary.get("uncertainty"))
    t = summary["declaration_round"]
    if t.get("median") is not None:
        dates = f"  ({t['q1_date']} / {t['median_date']} / {t['q3_date']})" if "median_date" in t else ""
        lines += ["", f"round of declaration, quartiles: {t['q1']:g} / {t['median']:g} / {t['q3']:g}{dates}"]
    if len(summary.get("phases", [])) > 1:
        lines += ["", f"{'P':>8}   95% interval     phase declared by the horizon"]
        lines += [f"{_row(p)}    {p['label']}" for p in summary["phases"]]
    if summary.get("agreements"):
        lines += [
            "",
            f"{'P':>8}   95% interval     issue agreed by the horizon (median round; values 5% / median / 95%)",
        ]
        for a in summary["agreements"]:
            v, r = a["values"], a["rounds"]
            when = f"round {r['median']:g}" if r.get("median") is not None else "-"
            values = f"{v['q05']:.0f} / {v['median']:.0f} / {v['q95']:.0f}" if a["k"] else "-"
            lines.append(f"{_row(a)}    {a['label']} ({when}; {values})")
    if summary.get("milestones"):
        lines += [
            "",
            f"{'P':>8}   95% interval     milestone carried out (share of declared runs; median rounds after)",
        ]
        for m in summary["milestones"]:
            lag = "-" if m["median_rounds_after"] is None else f"{m['median_rounds_after']:g}"
            share = f"{m['given_declared']['p']:.1%}" if m["given_declared"]["n"] else "no run declared"
            lines.append(f"{_row(m)}    {m['label']} ({share}; {lag})")
            lines += status_lines(m.get("status"))
    for title, rows in (
        ("what blocked the runs without a declaration:", summary["blocking"]),
        ("what held up the issues still open in declared runs:", summary.get("open_blocking")),
    ):
        if rows:
            lines += ["", title]
            for row in rows:
                who = row.get("who", row["blocker"])
                why = reason_beside(row.get("why", row["reason"]), who)
                lines.append(f"  {row['share']:>6.1%}  {who:<29} {why}")
    for title, key in (
        ("collapse before a declaration, by cause", "before"),
        ("any collapse by the horizon, by cause", "any"),
    ):
        causes = summary.get("collapse_causes", {}).get(key)
        if causes:
            lines += ["", f"{title}: " + ", ".join(f"{c} {p['p']:.1%}" for c, p in causes.items())]
    if summary.get("coalitions"):
        formed = ", ".join(f"{k} {v:.1%}" for k, v in summary["coalitions"].items())
        lines += ["", f"coalitions that declared the first phase (share of all runs): {formed}"]
    if summary.get("veto_unmet"):
        unmet = ", ".join(f"{k} {v:.1%}" for k, v in summary["veto_unmet"].items())
        lines += ["", f"veto players whose terms could not be drafted inside the other side's red lines: {unmet}"]
    for pid, shares in summary["preconditions"].items():
        parts = ", ".join(f"{k} {v:.1%}" for k, v in sorted(shares.items()))
        lines += ["", f"precondition {pid}: {parts}"]
    for title, key in (("red lines relaxed", "red_lines_relaxed"), ("guarantees offered", "guarantees_offered")):
        if summary.get(key):
            lines += ["", f"{title}: " + ", ".join(f"{k} {v:.1%}" for k, v in summary[key].items())]
    if summary.get("conditional"):
        lines += [
            "",
            "P(declared | condition); share = how often the condition held",
            f"{'P':>8}   95% interval    {'share':>6}   condition",
        ]
        for row in summary["conditional"]:
            lines.append(f"{_row(row)}  {row['share']:>6.1%}   {row['condition']}")
    return "\n".join(lines) + "\n"
