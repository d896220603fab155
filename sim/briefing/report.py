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
from sim.engine.outcomes import reason_words
from sim.scenario.digest import Claim, find_seeds, read_digests
from sim.scenario.distributions import Beta, Choice, Normal, Triangular, Uniform
from sim.scenario.labels import Names, words
from sim.scenario.loader import load
from sim.scenario.parameters import uncertain
from sim.scenario.schema import Scenario

SUMMARY_KEYS = ("runs", "seed", "probabilities", "transition_round", "blocking", "preconditions")
ASSUMPTION = re.compile(r"\s*assumption\s*(?::\s*(.*))?$", re.S | re.I)
CAPTIONS = {
    "outcomes": "How the runs end by the horizon. Bars: 95% Wilson intervals.",
    "transition_curve": "Cumulative probability that a transition has been declared, by round and date, "
    "with its 95% band.",
    "blocking": "What stopped the runs that ended without a transition: the blocking actor and its reason.",
    "packages": "The packages agreed in the runs with a transition, issue by issue (0-100 scale of each issue).",
    "positions": "What each actor says it wants, round by round, in the recorded runs: median with 50% and 90% bands.",
}
TABLE_RULES = {
    "compromise": "a capability- and salience-weighted compromise of the actors' stated positions",
    "nash": "the Nash bargaining solution on the principals' utility frontier",
    "alternating": "alternating offers by the principals on their utility frontier",
}


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
    """An object's ``basis``, with its concession's for actors."""
    return obj.basis | (obj.concession.basis if hasattr(obj, "concession") else {})


def titled(label: str, ident: str) -> str:
    """A label with the id to write in the YAML or a ``--vary`` path beneath, unless the label is the id."""
    return label if label.lower() == words(ident).lower() else f"{label}\n({ident})"


# ------------------------------------------------------------------ sections
def question(scenario: Scenario, summary: dict) -> list:
    m = scenario.meta
    names = " and ".join(a.name or a.id for a in scenario.principals)
    ask = (
        f"How likely is a transition, both principals ({names}) accepting one package, within "
        f"{m.horizon} rounds of {m.round_days} days ({day(m.start_date)} to {day(m.date_of(m.horizon))}); "
        "by when does it come; and what blocks it?"
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


def key_numbers(scenario: Scenario, summary: dict) -> list:
    m, probs, t = scenario.meta, summary["probabilities"], summary["transition_round"]
    names = Names(scenario)
    lines = [
        f"A transition is declared by {day(m.date_of(m.horizon))} in {interval(probs['transition'])} of runs; "
        f"the truce collapses in {pct(probs['collapse']['p'])} and talks are still stalled at the horizon in "
        f"{pct(probs['stalemate']['p'])} (95% Wilson intervals in brackets below)."
    ]
    if t.get("median") is not None:
        lines.append(
            f"When a transition comes, half come by round {t['median']:g} ({day(t['median_date'])}); "
            f"the middle half fall between round {t['q1']:g} ({day(t['q1_date'])}) and "
            f"round {t['q3']:g} ({day(t['q3_date'])})."
        )
    else:
        lines.append("No run reached a transition within the horizon.")
    out = [
        Heading("Key numbers"),
        *(Paragraph(s) for s in lines),
        Table(
            ("Outcome", "Probability", "95% interval", "Runs"),
            [
                (name, pct(p["p"]), f"{pct(p['low'])} – {pct(p['high'])}", f"{p['k']:,} of {p['n']:,}")
                for name, p in probs.items()
            ],
            (0.3, 0.2, 0.3, 0.2),
        ),
    ]
    if t.get("median") is not None:
        out.append(
            Table(
                ("Round of transition", "Round", "Date"),
                [
                    (label, f"{t[k]:g}", day(t[f"{k}_date"]))
                    for label, k in (("first quartile", "q1"), ("median", "median"), ("third quartile", "q3"))
                ],
                (0.4, 0.2, 0.4),
            )
        )
    if summary["blocking"]:
        out += [
            Heading("What blocks a transition", 2),
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
                (0.2, 0.25, 0.55),
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
    if summary.get("milestones"):
        out += [
            Heading("Carrying a transition out", 2),
            Paragraph(
                "Declaring a transition is not implementing it. Of the runs with a declared transition, "
                "the share that reached each implementation milestone by the horizon:"
            ),
            Table(
                ("Milestone", "Share", "95% interval", "Median rounds after the declaration"),
                [
                    (
                        r["milestone"],
                        pct(r["p"]),
                        f"{pct(r['low'])} – {pct(r['high'])}",
                        "—" if r["median_rounds_after"] is None else f"{r['median_rounds_after']:g}",
                    )
                    for r in summary["milestones"]
                ],
                (0.4, 0.15, 0.2, 0.25),
            ),
        ]
    return out


def figures_section(figures: list[Figure]) -> list:
    return [Heading("Figures"), *figures] if figures else []


def strategy(c) -> str:
    parts = [c.strategy]
    if c.exponent is not None:
        parts.append(f"exponent {value(c.exponent)}")
    if c.deadline is not None:
        parts.append(f"deadline (rounds) {value(c.deadline)}")
    if c.strategy == "zeuthen":
        parts.append(f"step {value(c.step)}")
    if c.strategy == "subgame_perfect":
        parts.append(f"patience {value(c.patience)}")
    return "\n".join(parts)


def trigger(e, names: Names) -> str:
    if e.trigger == "at_round":
        text = f"round {e.at_round}, probability {value(e.probability)}"
    else:
        text = f"{e.trigger} {value(getattr(e, e.trigger))} per round"
    boosts = [f"×{value(v)} while {names.readable(f)}" for f, v in e.boost.items()]
    return "\n".join([text, *boosts, *(["milestone: after a transition"] if e.milestone else [])])


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
    return " and ".join(parts)


def assumptions(s: Scenario) -> list:
    names = Names(s)
    out = [
        Heading("Assumptions"),
        Paragraph(
            "Every number of the scenario with the basis it rests on: seed claims (listed under Sources) "
            "or a stated assumption, marked as such. Ranges are sampled afresh in every run. Ids in "
            "brackets are those to use in the scenario file and in negsim sweep."
        ),
        Heading("Issues", 2),
        Table(
            ("Issue", "0 means", "100 means", "Basis"),
            [(titled(i.label, i.id), i.low, i.high, notes(i.basis)) for i in s.issues],
            (0.2, 0.22, 0.26, 0.32),
        ),
        Heading("Actors", 2),
        Table(
            ("Actor", "Position (salience)", "Reservation", "Strategy", "Basis"),
            [
                (
                    f"{titled(names.actor(a.id), a.id)}\n{a.role}\ncapability {value(a.capability)}",
                    "\n".join(f"{i} {value(a.position[i])} ({value(a.salience[i])})" for i in s.issue_ids()),
                    value(a.reservation),
                    strategy(a.concession),
                    notes(basis_of(a)),
                )
                for a in s.actors
            ],
            (0.13, 0.2, 0.12, 0.15, 0.40),
        ),
    ]
    if s.red_lines:
        out += [
            Heading("Red lines", 2),
            Table(
                ("Red line", "Actor", "Bound", "Basis"),
                [
                    (titled(names.red_lines[r.id], r.id), names.actor(r.actor), bound(r, names), notes(r.basis))
                    for r in s.red_lines
                ],
                (0.28, 0.14, 0.18, 0.40),
            ),
        ]
    if s.preconditions:
        out += [
            Heading("Preconditions", 2),
            Table(
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
        ]
    if s.leverage:
        out += [
            Heading("Leverage", 2),
            Table(
                ("Leverage", "From → to", "Pressure per round", "Basis"),
                [
                    (
                        titled(names.readable(lev.id), lev.id),
                        f"{names.actor(lev.source)} → {names.actor(lev.target)}",
                        "\n".join(
                            filter(
                                None,
                                [
                                    value(lev.strength),
                                    "when blocking" if lev.on == "block" else "every round",
                                    when(lev.when, names),
                                ],
                            )
                        ),
                        notes(lev.basis),
                    )
                    for lev in s.leverage
                ],
                (0.2, 0.2, 0.22, 0.38),
            ),
        ]
    if s.events:
        out += [
            Heading("Events", 2),
            Table(
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
        ]
    flags = ", ".join(f"{names.readable(f)} {'yes' if v else 'no'}" for f, v in s.world.flags.items()) or "no flags"
    out.append(
        Paragraph(
            f"Protocol: the package on the table is {TABLE_RULES[s.protocol.rule]}; pressure decays by "
            f"{value(s.protocol.pressure_decay)} of itself each round. World at the start: {flags}.",
            "note",
        )
    )
    return out


def citations(s: Scenario) -> dict[str, list[str]]:
    """Claim id -> the scenario fields citing it (``object.field``), in order of first citation."""
    cited: dict[str, list[str]] = {}
    objects = [*s.issues, *s.actors, *s.red_lines, *s.preconditions, *s.leverage, *s.events]
    for obj in objects:
        for name, text in basis_of(obj).items():
            for cid in CLAIM_ID.findall(text):
                where = f"{obj.id}.{name}"
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
    others = ", ".join(a.name or a.id for a in s.actors if a.role != "principal")
    model = (
        f"negsim is an agent-based model built on Mesa. Each actor is an agent: the principals ({principals}) hold "
        "a veto and judge every package on the table against their red lines, their preconditions and an aspiration "
        "that falls over time from their ideal towards their reservation value, following their concession strategy"
        + (
            f"; {others} shape the package and apply leverage, pressure that builds on whoever blocks and can make "
            "a principal waive a precondition"
            if others
            else ""
        )
        + f". The talks advance in rounds of {m.round_days} days from {day(m.start_date)} for {m.horizon} rounds. "
        "In each round world events fire (scheduled, by hazard or at a rate), the package tabled is "
        f"{TABLE_RULES[s.protocol.rule]}, the principals respond, leverage falls on whoever blocked and actors "
        "concede. A run ends in a transition when both principals accept the same package, in collapse when an "
        "incident breaks the truce, or in stalemate at the horizon."
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
    return [Heading("Method"), Paragraph(model), Paragraph(monte_carlo), Paragraph(provenance, "note")]


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
