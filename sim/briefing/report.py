"""A self-contained briefing from a results folder: ``report.html`` and ``report.pdf``.

The briefing is assembled once as a list of blocks (headings, paragraphs, tables, figures)
(:mod:`sim.briefing.document`) and rendered twice: to one HTML file with the figures inlined as
base64 PNG, and to PDF pages drawn with matplotlib (:mod:`sim.briefing.pdf`). Names come from the
scenario (:mod:`sim.scenario.labels`). Claim ids in the scenario's ``basis`` are resolved against the
seed digests (``seeds/*.yaml``) found beside the results; without a digest they are shown bare.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import matplotlib.image as mpimg

from sim import __version__
from sim.batch.folder import ResultsError, atomic_write, read_json, read_meta
from sim.briefing.document import CLAIM_ID, Figure, Heading, Note, Paragraph, Table, to_html
from sim.briefing.outputs import drawn_figures
from sim.briefing.pdf import to_pdf
from sim.engine.columns import reason_words
from sim.scenario.digest import Claim, find_seeds, read_digests
from sim.scenario.distributions import Beta, Choice, Normal, Triangular, Uniform
from sim.scenario.labels import Names, words
from sim.scenario.loader import load
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

SUMMARY_KEYS = ("runs", "seed", "probabilities", "declaration_round", "blocking", "preconditions", "agreements")
ASSUMPTION = re.compile(r"\s*assumption\s*(?::\s*(.*))?$", re.S | re.I)
CAPTIONS = {
    "outcomes": "How the runs end by the horizon. Bars: 95% Wilson intervals.",
    "declaration_curve": "Cumulative probability of a declaration, and of a collapse before one, by round and "
    "date, with 95% bands.",
    "agreements": "Declared, agreed, carried out: the share of runs reaching each by the horizon.",
    "blocking": "What stopped the runs that ended without a declaration: the blocking party and its reason.",
    "packages": "The values each issue was agreed at, in the runs that agreed it (0-100 scale of each issue).",
    "positions": "What each actor says it wants, round by round, in the recorded runs: median with 50% and 90% bands.",
}
TABLE_RULES = {
    "compromise": "a capability- and salience-weighted compromise of the actors' stated positions",
    "bridging": "a bridging package drafted by a third party among those every principal's red lines allow",
    "nash": "the Nash bargaining solution on the principals' utility frontier",
    "alternating": "alternating offers by the principals on their utility frontier",
}
BRIDGING = {
    "own": "the package it likes best inside the zone of agreement",
    "nash": "the Nash product of the surpluses",
    "maximin": "equal surpluses",
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
def read_summary(folder: Path) -> dict:
    hint = f"; rewrite it with: negsim summary {folder}"
    return read_json(folder / "summary.json", SUMMARY_KEYS, f"missing (write it with: negsim summary {folder})", hint)


def read_figures(folder: Path, scenario: Scenario) -> list[Figure]:
    figures = []
    for name in drawn_figures(scenario, read_meta(folder)):
        path = folder / "figures" / f"{name}.png"
        try:
            png = path.read_bytes()
            image = mpimg.imread(io.BytesIO(png), format="png")
        except (OSError, ValueError, SyntaxError) as exc:
            raise ResultsError(
                f"{path}: missing or unreadable figure ({type(exc).__name__}); redraw it with: negsim summary {folder}"
            ) from None
        figures.append(Figure(name, png, image, CAPTIONS.get(name, f"{words(name).capitalize()}.")))
    return figures


# ------------------------------------------------------------------ wording
def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def interval(p: dict) -> str:
    return f"{pct(p['p'])} ({pct(p['low'])}–{pct(p['high'])})"


def day(d: dt.date | str) -> str:
    d = dt.date.fromisoformat(d) if isinstance(d, str) else d
    return f"{d.day} {d:%b %Y}"


def num(x: float) -> str:
    return f"{x:g}"


def value(v) -> str:
    """A number or distribution, as an analyst would write it."""
    if isinstance(v, Uniform):
        return f"{num(v.low)}–{num(v.high)} (uniform)"
    if isinstance(v, Triangular):
        return f"{num(v.low)}–{num(v.high)}, mode {num(v.mode)} (triangular)"
    if isinstance(v, Normal):
        return f"normal {num(v.mean_)} ± {num(v.sd)}, in [{num(v.low)}, {num(v.high)}]"
    if isinstance(v, Beta):
        return f"beta({num(v.a)}, {num(v.b)}) on [{num(v.low)}, {num(v.high)}]"
    if isinstance(v, Choice):
        return "one of " + ", ".join(num(x) for x in v.values)
    return num(v)


def shift(v) -> str:
    """A change: signed if a number (``+0.05``), else the distribution it is drawn from."""
    return f"{v:+g}" if isinstance(v, (int, float)) else value(v)


def notes(basis: dict[str, str]) -> list[Note]:
    """A ``basis`` mapping as Notes; an entry that is only ``assumption[: why]`` is marked as an assumption.

    The ``label`` key is the basis of the object as a whole, so its note names no field.
    """
    out = []
    for name, text in basis.items():
        bare = ASSUMPTION.match(text)
        out.append(Note("" if name == "label" else name, (bare.group(1) or "") if bare else text, bool(bare)))
    return out


def basis_of(obj) -> dict[str, str]:
    """An object's ``basis``, with its concession's (actors), gate's (phases) or relaxation's (red lines)."""
    inner = getattr(obj, "concession", None) or getattr(obj, "gate", None) or getattr(obj, "relax", None)
    return obj.basis | (inner.basis if inner is not None else {})


def titled(label: str, ident: str) -> str:
    """A label with the id to write in the YAML or a ``--vary`` path beneath, unless the label is the id."""
    return label if label.lower() == words(ident).lower() else f"{label}\n({ident})"


# ------------------------------------------------------------------ sections
def question(scenario: Scenario, summary: dict) -> list:
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


def key_numbers(scenario: Scenario, summary: dict) -> list:
    m, probs, t = scenario.meta, summary["probabilities"], summary["declaration_round"]
    names = Names(scenario)
    phase = summary.get("phase") or names.phases[scenario.ordered_phases()[0].id]
    after = summary["collapse"]["after"]
    lines = [
        f"{phase} by {day(m.date_of(m.horizon))} in {interval(probs['declared'])} of runs; the ceasefire "
        f"collapses first in {pct(probs['collapse']['p'])}, and in {pct(after['p'])} more after a declaration; "
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
    if summary["blocking"]:
        out += [
            Heading("What blocks the declaration", 2),
            Table(
                ("Share of runs", "Blocked by", "Reason"),
                [
                    (
                        pct(b["share"]),
                        names.actor(b["blocker"]) if b["blocker"] != "-" else "—",
                        reason_words(b["reason"], names),
                    )
                    for b in summary["blocking"]
                ],
                (0.2, 0.3, 0.5),
            ),
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
        if summary.get("open_blocking"):
            out.append(
                Table(
                    ("Share of runs", "Holding up the open issues", "Reason"),
                    [
                        (
                            pct(b["share"]),
                            names.actor(b["blocker"]) if b["blocker"] != "-" else "—",
                            reason_words(b["reason"], names),
                        )
                        for b in summary["open_blocking"]
                    ],
                    (0.2, 0.3, 0.5),
                )
            )
    return out


def figures_section(figures: list[Figure]) -> list:
    return [Heading("Figures"), *figures] if figures else []


def strategy(a) -> str:
    c = a.concession
    if c is None:
        return "does not concede" if a.role == "principal" else f"third party; drafts by {BRIDGING[a.bridging]}"
    parts = [c.strategy]
    if c.exponent is not None:
        parts.append(f"exponent {value(c.exponent)}")
    if c.deadline is not None:
        parts.append(f"deadline (rounds of talks) {value(c.deadline)}")
    if c.strategy == "responsive":
        parts.append(f"reciprocity {value(c.reciprocity)}")
    if c.strategy == "zeuthen":
        parts.append(f"step {value(c.step)}")
    if c.strategy == "subgame_perfect":
        parts.append(f"patience {value(c.patience)}")
    return "\n".join(parts)


def trigger(e, names: Names) -> str:
    if e.trigger == "at_round":
        text = f"round {e.at_round}, probability {value(e.probability)}"
    elif e.trigger == "convened_by":
        text = f"convened by {names.actor(e.convened_by)} at a cost of {value(e.cost)}"
    else:
        text = f"{e.trigger} {value(getattr(e, e.trigger))} per round"
    boosts = [f"×{value(v)} while {names.readable(f)}" for f, v in e.boost.items()]
    if e.after_progress is not None:
        boosts.append(f"×{value(e.after_progress.factor)} within {e.after_progress.window} rounds of progress")
    if e.by is not None:
        boosts.append(f"by {names.actor(e.by)}")
    return "\n".join([text, *boosts])


def effects(e, names: Names) -> str:
    fx = e.effects
    out = [f"sets {names.readable(f)}" for f in fx.set] + [f"clears {names.readable(f)}" for f in fx.unset]
    out += [f"pressure on {names.actor(a)} {shift(v)}" for a, v in fx.pressure.items()]
    out += [f"{names.actor(a)} reservation {shift(v)}" for a, v in fx.reservation.items()]
    out += [
        f"{names.actor(a)} position on {names.issues[i]} {shift(v)}"
        for a, shifts in fx.position.items()
        for i, v in shifts.items()
    ]
    out += [
        f"{names.actor(a)} moves {value(x.share)} of the way toward {names.actor(x.toward)}"
        for a, x in fx.align.items()
    ]
    if e.collapse:
        out.append(f"collapse chance {value(e.collapse)} each time")
    return "\n".join(out) or "—"


def when(w, names: Names) -> str:
    parts = [f"after {', '.join(map(names.readable, w.requires))}"] if w.requires else []
    parts += [f"unless {', '.join(map(names.readable, w.unless))}"] if w.unless else []
    parts += [f"from round {w.from_round}"] if w.from_round else []
    parts += [f"until round {w.until_round}"] if w.until_round is not None else []
    return ", ".join(parts)


def bound(r, names: Names) -> str:
    parts = [f"{names.issues[r.issue]} {sign} {value(v)}" for sign, v in (("≥", r.min), ("≤", r.max)) if v is not None]
    if r.relax is not None:
        parts.append(f"relaxed to {value(r.relax.to)} under pressure ≥ {value(r.relax.audience_cost)} (audience cost)")
    return "\n".join(parts)


def _position(a, s: Scenario) -> str:
    if a.role == "spoiler":
        return "no seat at the table"
    return "\n".join(f"{i} {value(a.position[i])} ({value(a.salience[i])})" for i in s.issue_ids())


def _lever(lev, names: Names) -> str:
    parts = [value(lev.strength), "when blocking" if lev.on == "block" else "every round", when(lev.when, names)]
    if lev.cost:
        parts.append(f"cost {value(lev.cost)} a round")
    if lev.follow_through:
        parts.append(
            f"credibility {value(lev.credibility)}, loses {value(lev.erosion)} a round not followed "
            f"through (cost {value(lev.follow_through)})"
        )
    if lev.scaled_by_distance:
        parts.append("scaled by how far apart they stand")
    return "\n".join(filter(None, parts))


def assumptions(s: Scenario) -> list:
    names = Names(s)
    section = lambda title, header, rows, widths: [Heading(title, 2), Table(header, rows, widths)] if rows else []
    out = [
        Heading("Assumptions"),
        Paragraph(
            "Every number of the scenario with the basis it rests on: seed claims (listed under Sources) "
            "or a stated assumption, marked as such. Ranges are sampled afresh in every run. Ids in "
            "brackets are those to use in the scenario file and in negsim sweep."
        ),
        *section(
            "Issues",
            ("Issue", "0 means", "100 means", "Basis"),
            [(titled(i.label, i.id), i.low, i.high, notes(i.basis)) for i in s.issues],
            (0.2, 0.22, 0.26, 0.32),
        ),
        *section(
            "Actors",
            ("Actor", "Position (salience)", "Reservation", "Strategy", "Basis"),
            [
                (
                    f"{titled(names.actor(a.id), a.id)}\n{a.role}\ncapability {value(a.capability)}"
                    + (f"\nbudget {value(a.budget)}" if a.budget else ""),
                    _position(a, s),
                    value(a.reservation) if a.role == "principal" else "—",
                    strategy(a),
                    notes(basis_of(a)),
                )
                for a in s.actors
            ],
            (0.15, 0.2, 0.1, 0.15, 0.40),
        ),
        *section(
            "Phases and their gates",
            ("Phase", "Consent", "Settled / deferred", "Basis"),
            [
                (
                    titled(names.phases[p.id], p.id),
                    ", ".join(map(names.actor, p.gate.consent)),
                    "settles: "
                    + ", ".join(names.issues[i] for i in s.settled(p))
                    + ("\ndefers: " + ", ".join(names.issues[i] for i in p.gate.defer) if p.gate.defer else "")
                    + (f"\nafter {names.phases[p.gate.after]}" if p.gate.after else ""),
                    notes(p.basis | p.gate.basis),
                )
                for p in s.phases
            ],
            (0.18, 0.17, 0.27, 0.38),
        ),
        *section(
            "Red lines",
            ("Red line", "Actor", "Bound", "Basis"),
            [
                (
                    titled(names.red_lines[r.id], r.id),
                    names.actor(r.actor),
                    bound(r, names),
                    notes(r.basis | (r.relax.basis if r.relax else {})),
                )
                for r in s.red_lines
            ],
            (0.22, 0.12, 0.26, 0.40),
        ),
        *section(
            "Domestic veto players",
            ("Veto player", "Of", "Their own red lines", "Basis"),
            [
                (
                    titled(names.veto_players[v.id], v.id),
                    names.actor(v.principal),
                    "\n".join(
                        f"{names.issues[i]} {sign} {value(x)}"
                        for i, b in v.bounds.items()
                        for sign, x in (("≥", b.min), ("≤", b.max))
                        if x is not None
                    )
                    + (f"\n{when(v.when, names)}" if when(v.when, names) else ""),
                    notes(v.basis),
                )
                for v in s.veto_players
            ],
            (0.2, 0.12, 0.28, 0.40),
        ),
        *section(
            "Preconditions",
            ("Precondition", "Actor", "Waiver", "Basis"),
            [
                (
                    titled(names.preconditions[p.id], p.id),
                    names.actor(p.actor),
                    f"under pressure ≥ {value(p.waiver_pressure)}\nfrom round {p.earliest_waiver_round}"
                    if p.waivable
                    else "never waived",
                    notes(p.basis),
                )
                for p in s.preconditions
            ],
            (0.2, 0.14, 0.26, 0.40),
        ),
        *section(
            "Leverage",
            ("Leverage", "From → to", "Pressure per round", "Basis"),
            [
                (
                    titled(names.leverage[lev.id], lev.id),
                    f"{names.actor(lev.source)} → {names.actor(lev.target)}",
                    _lever(lev, names),
                    notes(lev.basis),
                )
                for lev in s.leverage
            ],
            (0.2, 0.18, 0.24, 0.38),
        ),
        *section(
            "Guarantees",
            ("Guarantee", "From → to", "Value, cost", "Basis"),
            [
                (
                    titled(names.guarantees[g.id], g.id),
                    f"{names.actor(g.source)} → {names.actor(g.target)}",
                    f"{value(g.value)} on {', '.join(names.issues[i] for i in g.issues)}\ncost {value(g.cost)}",
                    notes(g.basis),
                )
                for g in s.guarantees
            ],
            (0.2, 0.18, 0.24, 0.38),
        ),
        *section(
            "Vetoed roles",
            ("Vetoed", "By", "On", "Basis"),
            [(names.actor(v.of), names.actor(v.by), names.issues[v.issue], notes(v.basis)) for v in s.vetoes],
            (0.2, 0.18, 0.24, 0.38),
        ),
        *section(
            "Events",
            ("Event", "When", "Effects", "Basis"),
            [
                (
                    titled(names.events[e.id], e.id),
                    "\n".join(filter(None, [trigger(e, names), when(e.when, names)])),
                    effects(e, names),
                    notes(e.basis),
                )
                for e in s.events
            ],
            (0.2, 0.22, 0.2, 0.38),
        ),
        *section(
            "Implementation milestones",
            ("Milestone", "Follows", "Chance per round", "Basis"),
            [
                (
                    titled(names.milestones[m.id], m.id),
                    ", ".join(names.issues[i] for i in m.issues) + " agreed",
                    value(m.hazard),
                    notes(m.basis),
                )
                for m in s.milestones
            ],
            (0.22, 0.2, 0.2, 0.38),
        ),
    ]
    r, pr = s.risk, s.protocol
    tablers = f"\ntabled in turn by {', '.join(map(names.actor, pr.tabled_by))}" if pr.tabled_by else ""
    opens = f"\ntalks open {when(pr.opens_when, names)}" if when(pr.opens_when, names) else ""
    rules_rows = [
        (
            "Protocol",
            f"{TABLE_RULES[pr.rule]}{tablers}\npressure decays by {value(pr.pressure_decay)} of itself "
            f"each round{opens}",
            notes(pr.basis),
        ),
        (
            "Risk of collapse",
            f"breakdown chance {value(r.hazard)} a round; ×(1 + {value(r.stall_growth)} per round "
            f"beyond {r.stall_after} without progress), up to ×{value(r.stall_cap)}; "
            f"×{value(r.agreement_factor)} per agreed issue; ×{value(r.declared_factor)} once a "
            "phase is declared; the same factors scale each incident's collapse chance",
            notes(r.basis),
        ),
    ]
    flags = ", ".join(f"{names.readable(f)} {'yes' if v else 'no'}" for f, v in s.world.flags.items()) or "no flags"
    out += [
        *section("Protocol and risk", ("", "What the scenario sets", "Basis"), rules_rows, (0.16, 0.44, 0.40)),
        Paragraph(f"World at the start: {flags}.", "note"),
    ]
    return out


def citations(s: Scenario) -> dict[str, list[str]]:
    """Claim id -> the scenario fields citing it (``object.field``), in order of first citation."""
    cited: dict[str, list[str]] = {}
    objects = [
        *s.issues,
        *s.actors,
        *s.red_lines,
        *s.preconditions,
        *s.phases,
        *s.veto_players,
        *s.leverage,
        *s.guarantees,
        *s.events,
        *s.milestones,
    ]
    named = [(o.id, basis_of(o)) for o in objects] + [
        ("risk", s.risk.basis),
        ("protocol", s.protocol.basis),
        ("world", s.world.basis),
        *((f"veto of {v.of} on {v.issue}", v.basis) for v in s.vetoes),
    ]
    for ident, basis in named:
        for name, text in basis.items():
            for cid in CLAIM_ID.findall(text):
                where = f"{ident}.{name}"
                if where not in cited.setdefault(cid, []):
                    cited[cid].append(where)
    return cited


def sources(s: Scenario, claims: dict[str, Claim], digests: list[str]) -> list:
    cited, rank = citations(s), {cid: k for k, cid in enumerate(claims)}
    rows = [
        (
            cid,
            claims[cid].text if cid in claims else "— not in the seed digest —",
            claims[cid].attribution if cid in claims else "",
            ", ".join(cited[cid]),
        )
        for cid in sorted(cited, key=lambda c: (rank.get(c, len(rank)), c))
    ]
    where = (
        f"Claims are paraphrases from the seed digest {', '.join(digests)}, in our own words, with their attribution."
        if digests
        else "No seed digest was found beside the results: claim ids are shown without their text."
    )
    return [
        Heading("Sources", 2),
        Paragraph(where, "note"),
        Table(
            ("Claim", "What the source says", "Attribution", "Cited for"),
            rows,
            (0.07, 0.45, 0.15, 0.33),
            anchor="claim-",
        ),
    ]


def method(s: Scenario, meta: dict) -> list:
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
        "'collapse' if the ceasefire breaks down before that, and 'stalemate' otherwise."
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


def briefing(folder: Path, seeds: Path | None = None) -> tuple[Scenario, dict, list, dict[str, Claim]]:
    """The briefing of a complete results folder: its scenario, metadata, blocks and the claims cited."""
    meta = read_meta(folder)
    if meta.get("status") != "complete":
        raise ResultsError(
            f"{folder}: batch incomplete (status {meta.get('status')}); finish it with negsim run --resume"
        )
    summary = read_summary(folder)
    scenario = load(folder / "scenario.yaml")
    claims, digests = read_digests(seeds or find_seeds(folder))
    blocks = [
        *question(scenario, summary),
        *key_numbers(scenario, summary),
        *figures_section(read_figures(folder, scenario)),
        *assumptions(scenario),
        *sources(scenario, claims, digests),
        *method(scenario, meta),
    ]
    return scenario, meta, blocks, claims


# ------------------------------------------------------------------ entry point
def write_report(folder: str | Path, seeds: str | Path | None = None) -> list[Path]:
    """Write ``report.html`` and ``report.pdf`` into a complete results folder; returns their paths.

    ``seeds`` is the folder of seed digests (default: ``seeds/`` beside the results or the repo).
    """
    folder = Path(folder)
    scenario, meta, blocks, claims = briefing(folder, Path(seeds) if seeds else None)
    title = scenario.meta.name
    footer = f"{title}  |  {meta['runs']:,} runs  |  seed {meta['seed']}  |  {dt.date.today().isoformat()}  |  negsim"
    paths = [folder / "report.html", folder / "report.pdf"]
    atomic_write(paths[0], to_html(title, blocks, claims))
    atomic_write(paths[1], to_pdf(title, blocks, footer))
    return paths
