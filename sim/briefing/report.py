"""A self-contained briefing from a results folder: ``report.html`` and ``report.pdf``.

The briefing is assembled once as a list of blocks (headings, paragraphs, tables, figures)
(:mod:`sim.briefing.document`) and rendered twice: to one HTML file with the figures inlined as
base64 PNG, and to PDF pages drawn with matplotlib (:mod:`sim.briefing.pdf`). This module writes the
narrative (the question, the key numbers, the figures, the method); the scenario itself is described by
:mod:`sim.briefing.assumptions`. Names come from the scenario (:mod:`sim.scenario.labels`). Claim ids in the
scenario's ``basis`` are resolved against the seed digests (``seeds/*.yaml``) found beside the results;
without a digest they are shown bare.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import matplotlib.image as mpimg

from sim import __version__
from sim.analysis.prediction_folder import agent_based
from sim.batch.folder import REPORT_HTML, REPORT_PDF, SUMMARY_JSON, ResultsError, ResultsFolder, atomic_write, read_json
from sim.briefing.assumptions import assumptions, sources
from sim.briefing.document import Figure, Heading, Paragraph, Table, to_html
from sim.briefing.outputs import drawn_figures
from sim.briefing.pdf import to_pdf
from sim.briefing.wording import day, interval, pct
from sim.engine.columns import reason_words
from sim.scenario.digest import Claim, find_seeds, read_digests
from sim.scenario.labels import Names, words
from sim.scenario.parameters import uncertain
from sim.scenario.schema import OutcomeWords, Scenario

SUMMARY_KEYS = ("runs", "seed", "probabilities", "declaration_round", "blocking", "preconditions", "agreements")
CAPTIONS = {
    "outcomes": "How the runs end by the horizon. Bars: 95% Wilson intervals.",
    "declaration_curve": "Cumulative probability of a declaration, and of a collapse before one, by round and "
    "date, with 95% bands.",
    "agreements": "Declared, agreed, carried out: the share of runs reaching each by the horizon.",
    "mechanisms": "Where the sources cannot decide how something works: the probabilities among the runs that drew "
    "each alternative, beside the mixture (dashed).",
    "blocking": "What stopped the runs that ended without a declaration: the blocking party and its reason.",
    "packages": "The values each issue was agreed at, in the runs that agreed it (0-100 scale of each issue).",
    "positions": "What each actor says it wants, round by round, in the recorded runs: median with 50% and 90% bands.",
}
LIMITS = (
    "What the model cannot express: issues are independent axes with linear, additive utilities (no thresholds, "
    "no complementarities between issues); a proposal is judged on the issues it settles as if nothing else were "
    "at stake; phases are declared one at a time in a fixed order; bridging packages are drafted between exactly "
    "two principals; third parties act by fixed rules (press whoever said no while they can pay, offer a guarantee "
    "once, table in turn), not by strategic foresight; pressure is one number per actor; actors learn nothing about "
    "each other's reservation values; the risk of collapse is a hazard, not a model of the armed conflict itself; "
    "and every number marked as an assumption is an assumption."
)


# ------------------------------------------------------------------ reading the folder
def read_summary(folder: ResultsFolder) -> dict:
    hint = f"; rewrite it with: negsim summary {folder.path}"
    missing = f"missing (write it with: negsim summary {folder.path})"
    return read_json(folder / SUMMARY_JSON, SUMMARY_KEYS, missing, hint)


def read_figures(folder: ResultsFolder) -> list[Figure]:
    figures = []
    for name in drawn_figures(folder.scenario, folder.meta):
        path = folder.figures / f"{name}.png"
        try:
            png = path.read_bytes()
            image = mpimg.imread(io.BytesIO(png), format="png")
        except (OSError, ValueError, SyntaxError) as exc:
            why = f"missing or unreadable figure ({type(exc).__name__})"
            raise ResultsError(f"{path}: {why}; redraw it with: negsim summary {folder.path}") from None
        figures.append(Figure(name, png, image, CAPTIONS.get(name, f"{words(name).capitalize()}.")))
    return figures


# ------------------------------------------------------------------ sections
def question_section(scenario: Scenario, summary: dict) -> list:
    m = scenario.meta
    first = scenario.ordered_phases()[0]
    names = Names(scenario)
    who = " and ".join(names.actor(a) for a in first.gate.consent)
    settled = ", ".join(names.issues[i] for i in scenario.settled(first))
    ask = (
        f"How likely is it that {names.phases[first.id].lower()} ({who} consenting, settling {settled.lower()}) "
        f"within {m.horizon} rounds of {m.round_days} days ({day(m.start_date)} to {day(m.date_of(m.horizon))}); "
        "by when; what blocks it; and how much of it is agreed and carried out?"
    )
    out = [
        Heading(m.name, 0),
        Paragraph(
            f"Briefing from {summary['runs']:,} simulated runs (seed {summary['seed']}), "
            f"negsim {__version__}, {day(dt.date.today())}.",
            "note",
        ),
        Heading("The question"),
        Paragraph(ask, "lead"),
    ]
    return out + ([Paragraph(" ".join(m.description.split()))] if m.description else [])


def _share_table(header: str, rows: list[dict], label: str = "label") -> Table:
    return Table(
        (header, "Probability", "95% interval", "Runs"),
        [(r[label], pct(r["p"]), f"{pct(r['low'])} – {pct(r['high'])}", f"{r['k']:,} of {r['n']:,}") for r in rows],
        (0.4, 0.18, 0.24, 0.18),
    )


def _statuses(milestones: list[dict]) -> list:
    """How the milestones with a deadline ended (done, extended, partial, missed, still pending), with the median
    date: carried out, else last due."""
    rows = [
        (m["label"], status, pct(p["p"]), f"{pct(p['low'])} – {pct(p['high'])}",
         day(p["rounds"]["median_date"]) if p["rounds"].get("median_date") else "—")
        for m in milestones
        for status, p in m.get("status", {}).items()
        if p["k"]
    ]  # fmt: skip
    if not rows:
        return []
    return [
        Paragraph("Against their deadlines (the date is the median of when each was carried out, else last due):"),
        Table(("Milestone", "Ended", "Probability", "95% interval", "Median date"), rows, (0.3, 0.14, 0.16, 0.2, 0.2)),
    ]


def _blocking_table(who: str, rows: list[dict], names: Names) -> Table:
    """What stopped runs (a summary's ``blocking`` or ``open_blocking``): share, who (headed ``who``), and why."""
    named = lambda b: names.actor(b["blocker"]) if b["blocker"] != "-" else "—"
    cells = [(pct(b["share"]), named(b), reason_words(b["reason"], names)) for b in rows]
    return Table(("Share of runs", who, "Reason"), cells, (0.2, 0.3, 0.5))


def _two_kinds(spread: dict | None) -> list:
    """Monte Carlo error beside the spread due to uncertain assumptions (:mod:`sim.analysis.uncertainty`)."""
    if not spread or not spread.get("points"):
        return []
    declared = spread["outcomes"]["declared"]
    a = declared["assumptions"]
    return [
        Heading("Two kinds of uncertainty", 2),
        Paragraph(
            f"The intervals above are Monte Carlo error: more runs narrow them (±{pct(declared['monte_carlo'])} "
            f"on the declaration). They are not the uncertainty of the answer. Played under {spread['points']} "
            f"sets of assumptions drawn from the scenario's uncertain parameters ({spread['runs_per_point']} runs "
            f"each), the probability of a declaration ranges from {pct(a['low'])} to {pct(a['high'])} "
            f"(10th to 90th percentile, binomial noise removed): which assumptions hold matters far more than "
            f"how many runs are played, and no number of runs narrows that range."
            if a["high"] - a["low"] > 4 * declared["monte_carlo"]
            else f"The intervals above are Monte Carlo error; across {spread['points']} sets of assumptions the "
            f"probability of a declaration ranges from {pct(a['low'])} to {pct(a['high'])} (10th to 90th "
            "percentile), no wider than the Monte Carlo error itself."
        ),
        Table(
            ("Outcome", "Probability", "Monte Carlo ±", "Across assumptions (10%–90%)", "Share of run variance"),
            [
                (
                    name,
                    pct(row["p"]),
                    pct(row["monte_carlo"]),
                    f"{pct(row['assumptions']['low'])} – {pct(row['assumptions']['high'])}",
                    pct(row["assumptions"]["share_of_variance"]),
                )
                for name, row in spread["outcomes"].items()
            ],
            (0.2, 0.16, 0.16, 0.28, 0.2),
        ),
    ]


def _structural(summary: dict) -> list:
    """The third kind of uncertainty: which mechanism applies, where the sources cannot decide."""
    mechanisms = summary.get("mechanisms") or []
    if not mechanisms:
        return []
    out = [
        Heading("A third kind of uncertainty: which mechanism applies", 2),
        Paragraph(
            "Where the sources cannot decide how something works, each run drew one alternative (with the weight "
            "shown) and the headline numbers are the mixture. Among the runs that drew each alternative:"
        ),
    ]
    for m in mechanisms:
        rows = [
            (
                a["label"],
                pct(a["weight"]),
                f"{a['runs']:,}",
                *(interval(a["probabilities"][o]) for o in ("declared", "collapse")),
                interval(a["consented"]),
            )
            for a in m["alternatives"]
            if a["runs"]
        ]
        probs = summary["probabilities"]
        rows.append(("mixture", "", f"{summary['runs']:,}", interval(probs["declared"]), interval(probs["collapse"]),
                     interval(summary["consented"])))  # fmt: skip
        out.append(Table((m["label"], "Weight", "Runs", "Declared", "Collapse first", "Every party consented"), rows,
                         (0.34, 0.08, 0.1, 0.16, 0.16, 0.16)))  # fmt: skip
    return out


def _declared_and_consented(summary: dict) -> list:
    """An announcement is not a mutual agreement: how declarations came, and explicit consent."""
    if "consented" not in summary:
        return []
    how = ", ".join(f"{words(rule)} {pct(share)}" for rule, share in summary.get("declared_how", {}).items())
    return [
        Heading("Declared, announced, consented", 2),
        Paragraph(
            f"Every party explicitly accepted the phase's terms in {interval(summary['consented'])} of runs, against "
            f"{pct(summary['probabilities']['declared']['p'])} in which it was declared"
            + (f" (declared by {how} of the declared runs)" if how else "")
            + ". A phase announced by a third party stands unless a party openly objects; a question that asks "
            "whether both sides agreed is answered by the first number, not the second."
        ),
    ]


def _collapse_causes(summary: dict, words: OutcomeWords) -> list:
    causes = summary.get("collapse_causes", {})
    if not causes.get("any"):
        return []
    before = causes.get("before", {})
    rows = [(cause, interval(before.get(cause, {"p": 0.0, "low": 0.0, "high": 0.0})), interval(p))
            for cause, p in causes["any"].items()]  # fmt: skip
    return [Heading(f"Why {words.collapse}", 2),
            Table(("Cause", "Before a declaration", "Any time by the horizon"), rows, (0.5, 0.25, 0.25))]  # fmt: skip


def key_numbers_section(scenario: Scenario, summary: dict) -> list:
    m, probs, t = scenario.meta, summary["probabilities"], summary["declaration_round"]
    names = Names(scenario)
    phase = summary.get("phase") or names.phases[scenario.ordered_phases()[0].id]
    after = summary["collapse"]["after"]
    lines = [
        f"{phase} by {day(m.date_of(m.horizon))} in {interval(probs['declared'])} of runs; "
        f"{m.outcome_words.collapse} first in {pct(probs['collapse']['p'])}, and in {pct(after['p'])} more after "
        "a declaration; "
        f"talks are still stuck at the horizon in {pct(probs['stalemate']['p'])} (95% Wilson intervals below)."
    ]
    if t.get("median") is not None:
        lines.append(
            f"When it comes, half the declarations come by round {t['median']:g} ({day(t['median_date'])}); "
            f"the middle half fall between round {t['q1']:g} ({day(t['q1_date'])}) and "
            f"round {t['q3']:g} ({day(t['q3_date'])})."
        )
    else:
        lines.append("No run reached a declaration within the horizon.")
    outcome_rows = [{"label": name, **p} for name, p in probs.items()]
    out = [Heading("Key numbers"), *(Paragraph(x) for x in lines), _share_table("Outcome", outcome_rows)]
    if t.get("median") is not None:
        out.append(
            Table(
                ("Round of declaration", "Round", "Date"),
                [
                    (label, f"{t[k]:g}", day(t[f"{k}_date"]))
                    for label, k in (("first quartile", "q1"), ("median", "median"), ("third quartile", "q3"))
                ],
                (0.4, 0.2, 0.4),
            )
        )
    out += _two_kinds(summary.get("uncertainty"))
    out += _structural(summary)
    out += _declared_and_consented(summary)
    out += _collapse_causes(summary, scenario.meta.outcome_words)
    if summary["blocking"]:
        out += [
            Heading("What blocks the declaration", 2),
            _blocking_table("Blocked by", summary["blocking"], names),
        ]
    pre = {p.id: p for p in scenario.preconditions}
    if summary["preconditions"]:
        out += [
            Heading("Preconditions at the end of the runs", 2),
            Table(
                ("Precondition", "Met", "Waived", "Unmet"),
                [
                    (
                        f"{names.actor(pre[pid].actor)}: {names.preconditions[pid]}" if pid in pre else pid,
                        *(pct(shares.get(k, 0.0)) for k in ("met", "waived", "unmet")),
                    )
                    for pid, shares in summary["preconditions"].items()
                ],
                (0.46, 0.18, 0.18, 0.18),
            ),
        ]
    if summary.get("agreements"):
        out += [
            Heading("Declared is not agreed, agreed is not done", 2),
            Paragraph(
                "Issues deferred into the phase are negotiated after the declaration, and implementation follows "
                "each agreement on its own timing. By the horizon:"
            ),
            _share_table("Issue agreed", summary["agreements"]),
        ]
        if summary.get("milestones"):
            out.append(_share_table("Milestone carried out", summary["milestones"]))
            out += _statuses(summary["milestones"])
        if summary.get("open_blocking"):
            out.append(_blocking_table("Holding up the open issues", summary["open_blocking"], names))
    return out


def figures_section(figures: list[Figure]) -> list:
    return [Heading("Figures"), *figures] if figures else []


def method_section(s: Scenario, meta: dict) -> list:
    m = s.meta
    principals = " and ".join(a.name or a.id for a in s.principals)
    others = ", ".join(a.name or a.id for a in s.seated if a.role != "principal")
    model = (
        f"negsim is an agent-based model built on Mesa. Each actor is an agent. The principals ({principals}) hold "
        "a veto: a phase is declared when the principals its gate names accept a package on the issues it settles, "
        "with the gate's preconditions met or waived; issues deferred into the phase are negotiated after it. A "
        "principal judges a package on the issues on the table against its red lines and what it holds out for, "
        "which falls on its own clock from its ideal toward its reservation value once talks open; a package it "
        "accepts must also pass its domestic veto players"
        + (
            f". The third parties ({others}) act by stated rules: they draft bridging packages in turn, press a "
            "principal who said no while they can pay for it, offer guarantees, and convene meetings"
            if others
            else ""
        )
        + f". Rounds last {m.round_days} days from {day(m.start_date)}; the horizon of {m.horizon} rounds only ends "
        "the observation. The risk of collapse grows while talks stall and falls with agreements; a declared phase "
        "can still collapse. A run's outcome is 'declared' if the first phase is declared by the horizon, "
        f"'collapse' if {m.outcome_words.collapse} before that, and 'stalemate' otherwise."
    )
    monte_carlo = (
        f"The batch is a Monte Carlo of {meta['runs']:,} runs. Each run draws the scenario's {len(uncertain(s))} "
        "uncertain parameters (the ranges in the tables above) once and then plays out with its own random stream. "
        f"The streams are counter-based: every draw is a pure function of the root seed ({meta['seed']}), the run's "
        "index and a named key, so the results are identical whatever the block size or number of workers, and any "
        "run can be replayed alone. Probabilities are shares of runs with 95% Wilson score intervals. These "
        "intervals measure Monte Carlo error only: they say how precisely the model's probability is known, not "
        "whether the assumptions above are right."
    )
    provenance = f"Scenario hash {meta['scenario_hash']}, negsim {meta.get('version', __version__)}."
    return [
        Heading("Method"),
        Paragraph(model),
        Paragraph(monte_carlo),
        Paragraph(LIMITS),
        Paragraph(provenance, "note"),
    ]


def briefing(folder: str | Path, seeds: Path | None = None) -> tuple[Scenario, dict, list, dict[str, Claim]]:
    """The briefing of a complete results folder: its scenario, metadata, blocks and the claims cited."""
    why = (
        f"; the report briefs an agent-based batch (put the two side by side with: negsim compare ABM_FOLDER {folder})"
    )
    agent_based(folder, why)
    results = ResultsFolder.open(folder)
    meta = results.meta
    if meta.get("status") != "complete":
        raise ResultsError(
            f"{results.path}: batch incomplete (status {meta.get('status')}); finish it with negsim run --resume"
        )
    summary = read_summary(results)
    scenario = results.scenario
    claims, digests = read_digests(seeds or find_seeds(results.path))
    blocks = [
        *question_section(scenario, summary),
        *key_numbers_section(scenario, summary),
        *figures_section(read_figures(results)),
        *assumptions(scenario),
        *sources(scenario, claims, digests),
        *method_section(scenario, meta),
    ]
    return scenario, meta, blocks, claims


def write_report(folder: str | Path, seeds: str | Path | None = None) -> list[Path]:
    """Write ``report.html`` and ``report.pdf`` into a complete results folder; returns their paths.

    ``seeds`` is the folder of seed digests (default: ``seeds/`` beside the results or the repo).
    """
    scenario, meta, blocks, claims = briefing(folder, Path(seeds) if seeds else None)
    title = scenario.meta.name
    footer = f"{title}  |  {meta['runs']:,} runs  |  seed {meta['seed']}  |  {dt.date.today().isoformat()}  |  negsim"
    paths = [Path(folder) / REPORT_HTML, Path(folder) / REPORT_PDF]
    atomic_write(paths[0], to_html(title, blocks, claims))
    atomic_write(paths[1], to_pdf(title, blocks, footer))
    return paths
