"""A self-contained briefing from a results folder: ``report.html`` and ``report.pdf``.

The briefing is assembled once as a list of blocks (headings, paragraphs, tables, figures)
and rendered twice: to one HTML file with the figures inlined as base64 PNG, and to PDF
pages drawn with matplotlib. Claim ids in the scenario's ``basis`` are resolved against the
seed digests (``seeds/*.yaml``) found beside the results; without a digest they are shown bare.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from sim import __version__  # noqa: E402
from sim.distributions import Beta, Choice, Normal, Triangular, Uniform  # noqa: E402
from sim.loader import load  # noqa: E402
from sim.outputs import drawn_figures  # noqa: E402
from sim.parameters import uncertain  # noqa: E402
from sim.plots import INK  # noqa: E402
from sim.results import ResultsError, atomic_write, read_json, read_meta  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

CLAIM_ID = re.compile(r"\b[a-z]{1,8}-\d{1,4}\b")
SUMMARY_KEYS = ("runs", "seed", "probabilities", "transition_round", "blocking", "preconditions")
ASSUMPTION = re.compile(r"\s*assumption\s*(?::\s*(.*))?$", re.S | re.I)
CAPTIONS = {
    "outcomes": "How the runs end by the horizon. Bars: 95% Wilson intervals.",
    "transition_curve": "Cumulative probability that a transition has been declared, by round and date, "
                        "with its 95% band.",
    "blocking": "What stopped the runs that ended without a transition: the blocking actor and its reason.",
    "packages": "The packages agreed in the runs with a transition, issue by issue (0-100 scale of each issue).",
    "positions": "What each actor says it wants, round by round, in the recorded runs: median with 50% and 90% "
                 "bands.",
}
TABLE_RULES = {
    "compromise": "a capability- and salience-weighted compromise of the actors' stated positions",
    "nash": "the Nash bargaining solution on the principals' utility frontier",
    "alternating": "alternating offers by the principals on their utility frontier",
}


# ------------------------------------------------------------------ the document
@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body | lead | note


@dataclass(frozen=True)
class Note:
    """One line of a ``basis``: the field it explains, the text, and whether it is a bare assumption."""

    field: str
    text: str
    assumption: bool


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple]  # cells are text or a list of Notes
    widths: tuple[float, ...]  # shares of the text width
    anchor: str = ""  # HTML: rows get the id anchor + first cell, e.g. claim-gz-03


@dataclass(frozen=True)
class Figure:
    name: str
    png: bytes
    image: np.ndarray = field(compare=False, repr=False)
    caption: str


@dataclass(frozen=True)
class Claim:
    text: str
    attribution: str


# ------------------------------------------------------------------ reading the folder
def read_digests(seeds: Path | None) -> tuple[dict[str, Claim], list[str]]:
    """Claims by id from every seed digest in ``seeds`` (files with a ``claims:`` list), and the digests used."""
    claims, used = {}, []
    for path in sorted(seeds.glob("*.yaml")) if seeds else []:
        try:
            data = yaml.safe_load(path.read_text())
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
            continue
        source = data.get("source") if isinstance(data.get("source"), dict) else {}
        about = ", ".join(str(source[k]) for k in ("outlet", "date") if source.get(k))
        used.append(f"{path.name} ({about})" if about else path.name)
        for c in data["claims"]:
            if isinstance(c, dict) and "id" in c:
                claims[str(c["id"])] = Claim(str(c.get("claim", "")), str(c.get("attribution", "")))
    return claims, used


def find_seeds(folder: Path) -> Path | None:
    """The ``seeds/`` folder beside the results (walking up), else the one of the repo holding ``sim``."""
    here = Path(__file__).resolve().parent.parent
    for base in (*folder.resolve().parents, here):
        if (base / "seeds").is_dir():
            return base / "seeds"
    return None


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
            raise ResultsError(f"{path}: missing or unreadable figure ({type(exc).__name__}); "
                               f"redraw it with: negsim summary {folder}") from None
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


def words(flag: str) -> str:
    return flag.replace("_", " ")


def notes(basis: dict[str, str]) -> list[Note]:
    """A ``basis`` mapping as Notes; an entry that is only ``assumption[: why]`` is marked as an assumption."""
    out = []
    for name, text in basis.items():
        bare = ASSUMPTION.match(text)
        out.append(Note(name, (bare.group(1) or "") if bare else text, bool(bare)))
    return out


def basis_of(obj) -> dict[str, str]:
    """An object's ``basis``, with its concession's for actors."""
    return obj.basis | (obj.concession.basis if hasattr(obj, "concession") else {})


def reason_label(reason: str, scenario: Scenario) -> str:
    """``precondition: remains`` -> ``precondition: remains recovered`` (ids replaced by labels)."""
    labels = {e.id: e.label or words(e.id) for e in scenario.events}
    labels |= {r.id: r.label or words(r.id) for r in scenario.red_lines}
    labels |= {p.id: words(p.flag) for p in scenario.preconditions}
    labels |= {i.id: i.label for i in scenario.issues}
    kind, _, ref = reason.partition(": ")
    return f"{kind}: {labels.get(ref, ref)}" if ref else kind


# ------------------------------------------------------------------ sections
def question(scenario: Scenario, summary: dict) -> list:
    m = scenario.meta
    names = " and ".join(a.name or a.id for a in scenario.principals)
    ask = (f"How likely is a transition, both principals ({names}) accepting one package, within "
           f"{m.horizon} rounds of {m.round_days} days ({day(m.start_date)} to {day(m.date_of(m.horizon))}); "
           "by when does it come; and what blocks it?")
    out = [Heading(m.name, 0), Paragraph(f"Briefing from {summary['runs']:,} simulated runs (seed {summary['seed']}), "
                                        f"negsim {__version__}, {day(dt.date.today())}.", "note"),
           Heading("The question"), Paragraph(ask, "lead")]
    return out + ([Paragraph(" ".join(m.description.split()))] if m.description else [])


def key_numbers(scenario: Scenario, summary: dict) -> list:
    m, probs, t = scenario.meta, summary["probabilities"], summary["transition_round"]
    actor = {a.id: a.name or a.id for a in scenario.actors}
    lines = [f"A transition is declared by {day(m.date_of(m.horizon))} in {interval(probs['transition'])} of runs; "
             f"the truce collapses in {pct(probs['collapse']['p'])} and talks are still stalled at the horizon in "
             f"{pct(probs['stalemate']['p'])} (95% Wilson intervals in brackets below)."]
    if t.get("median") is not None:
        lines.append(f"When a transition comes, half come by round {t['median']:g} ({day(t['median_date'])}); "
                     f"the middle half fall between round {t['q1']:g} ({day(t['q1_date'])}) and "
                     f"round {t['q3']:g} ({day(t['q3_date'])}).")
    else:
        lines.append("No run reached a transition within the horizon.")
    out = [Heading("Key numbers"), *(Paragraph(s) for s in lines),
           Table(("Outcome", "Probability", "95% interval", "Runs"),
                 [(name, pct(p["p"]), f"{pct(p['low'])} – {pct(p['high'])}", f"{p['k']:,} of {p['n']:,}")
                  for name, p in probs.items()], (0.3, 0.2, 0.3, 0.2))]
    if t.get("median") is not None:
        out.append(Table(("Round of transition", "Round", "Date"),
                         [(label, f"{t[k]:g}", day(t[f"{k}_date"])) for label, k in
                          (("first quartile", "q1"), ("median", "median"), ("third quartile", "q3"))],
                         (0.4, 0.2, 0.4)))
    if summary["blocking"]:
        out += [Heading("What blocks a transition", 2),
                Table(("Share of runs", "Blocked by", "Reason"),
                      [(pct(b["share"]), actor.get(b["blocker"], "—"), reason_label(b["reason"], scenario))
                       for b in summary["blocking"]], (0.2, 0.25, 0.55))]
    pre = {p.id: p for p in scenario.preconditions}
    if summary["preconditions"]:
        out += [Heading("Preconditions at the end of the runs", 2),
                Table(("Precondition", "Met", "Waived", "Unmet"),
                      [(f"{actor[pre[pid].actor]}: {words(pre[pid].flag)}" if pid in pre else pid,
                        *(pct(shares.get(k, 0.0)) for k in ("met", "waived", "unmet")))
                       for pid, shares in summary["preconditions"].items()], (0.46, 0.18, 0.18, 0.18))]
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


def trigger(e) -> str:
    if e.trigger == "at_round":
        text = f"round {e.at_round}, probability {value(e.probability)}"
    else:
        text = f"{e.trigger} {value(getattr(e, e.trigger))} per round"
    boosts = [f"×{value(v)} while {words(f)}" for f, v in e.boost.items()]
    return "\n".join([text, *boosts, *(["milestone: after a transition"] if e.milestone else [])])


def effects(e, actor: dict[str, str]) -> str:
    fx = e.effects
    out = [f"sets {words(f)}" for f in fx.set] + [f"clears {words(f)}" for f in fx.unset]
    out += [f"pressure on {actor[a]} {shift(v)}" for a, v in fx.pressure.items()]
    out += [f"{actor[a]} reservation {shift(v)}" for a, v in fx.reservation.items()]
    out += [f"{actor[a]} position on {i} {shift(v)}" for a, shifts in fx.position.items() for i, v in shifts.items()]
    if e.collapse:
        out.append(f"collapse chance {value(e.collapse)} each time")
    return "\n".join(out) or "—"


def when(w) -> str:
    parts = [f"after {', '.join(map(words, w.requires))}"] if w.requires else []
    parts += [f"unless {', '.join(map(words, w.unless))}"] if w.unless else []
    parts += [f"from round {w.from_round}"] if w.from_round else []
    parts += [f"until round {w.until_round}"] if w.until_round is not None else []
    return ", ".join(parts)


def bound(r) -> str:
    parts = [f"{r.issue} {sign} {value(v)}" for sign, v in (("≥", r.min), ("≤", r.max)) if v is not None]
    return " and ".join(parts)


def assumptions(s: Scenario) -> list:
    actor = {a.id: a.name or a.id for a in s.actors}
    out = [Heading("Assumptions"),
           Paragraph("Every number of the scenario with the basis it rests on: seed claims (listed under Sources) "
                     "or a stated assumption, marked as such. Ranges are sampled afresh in every run."),
           Heading("Issues", 2),
           Table(("Issue", "0 means", "100 means", "Basis"),
                 [(f"{i.label}\n({i.id})", i.low, i.high, notes(i.basis)) for i in s.issues], (0.2, 0.22, 0.26, 0.32)),
           Heading("Actors", 2),
           Table(("Actor", "Position (salience)", "Reservation", "Strategy", "Basis"),
                 [(f"{a.name or a.id}\n{a.role}\ncapability {value(a.capability)}",
                   "\n".join(f"{i} {value(a.position[i])} ({value(a.salience[i])})" for i in s.issue_ids()),
                   value(a.reservation), strategy(a.concession), notes(basis_of(a)))
                  for a in s.actors], (0.13, 0.2, 0.12, 0.15, 0.40))]
    if s.red_lines:
        out += [Heading("Red lines", 2),
                Table(("Red line", "Actor", "Bound", "Basis"),
                      [(r.label or words(r.id), actor[r.actor], bound(r), notes(r.basis)) for r in s.red_lines],
                      (0.28, 0.14, 0.18, 0.40))]
    if s.preconditions:
        out += [Heading("Preconditions", 2),
                Table(("Precondition", "Actor", "Waiver", "Basis"),
                      [(words(p.flag), actor[p.actor],
                        f"under pressure ≥ {value(p.waiver_pressure)}\nfrom round {p.earliest_waiver_round}"
                        if p.waivable else "never waived", notes(p.basis)) for p in s.preconditions],
                      (0.2, 0.14, 0.26, 0.40))]
    if s.leverage:
        out += [Heading("Leverage", 2),
                Table(("Leverage", "From → to", "Pressure per round", "Basis"),
                      [(words(lev.id), f"{actor[lev.source]} → {actor[lev.target]}",
                        "\n".join(filter(None, [value(lev.strength),
                                                "when blocking" if lev.on == "block" else "every round",
                                                when(lev.when)])), notes(lev.basis)) for lev in s.leverage],
                      (0.2, 0.2, 0.22, 0.38))]
    if s.events:
        out += [Heading("Events", 2),
                Table(("Event", "When", "Effects", "Basis"),
                      [(e.label or words(e.id), "\n".join(filter(None, [trigger(e), when(e.when)])),
                        effects(e, actor), notes(e.basis)) for e in s.events], (0.2, 0.22, 0.2, 0.38))]
    flags = ", ".join(f"{words(f)} {'yes' if v else 'no'}" for f, v in s.world.flags.items()) or "no flags"
    out.append(Paragraph(f"Protocol: the package on the table is {TABLE_RULES[s.protocol.rule]}; pressure decays by "
                         f"{value(s.protocol.pressure_decay)} of itself each round. World at the start: {flags}.",
                         "note"))
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
    rows = [(cid, claims[cid].text if cid in claims else "— not in the seed digest —",
             claims[cid].attribution if cid in claims else "", ", ".join(cited[cid]))
            for cid in sorted(cited, key=lambda c: (rank.get(c, len(rank)), c))]
    where = (f"Claims are paraphrases from the seed digest {', '.join(digests)}, in our own words, with their "
             "attribution." if digests else
             "No seed digest was found beside the results: claim ids are shown without their text.")
    return [Heading("Sources", 2), Paragraph(where, "note"),
            Table(("Claim", "What the source says", "Attribution", "Cited for"), rows, (0.07, 0.45, 0.15, 0.33),
                  anchor="claim-")]


def method(s: Scenario, meta: dict) -> list:
    m = s.meta
    principals = " and ".join(a.name or a.id for a in s.principals)
    others = ", ".join(a.name or a.id for a in s.actors if a.role != "principal")
    model = (
        f"negsim is an agent-based model built on Mesa. Each actor is an agent: the principals ({principals}) hold "
        "a veto and judge every package on the table against their red lines, their preconditions and an aspiration "
        "that falls over time from their ideal towards their reservation value, following their concession strategy"
        + (f"; {others} shape the package and apply leverage, pressure that builds on whoever blocks and can make "
           "a principal waive a precondition" if others else "")
        + f". The talks advance in rounds of {m.round_days} days from {day(m.start_date)} for {m.horizon} rounds. "
        "In each round world events fire (scheduled, by hazard or at a rate), the package tabled is "
        f"{TABLE_RULES[s.protocol.rule]}, the principals respond, leverage falls on whoever blocked and actors "
        "concede. A run ends in a transition when both principals accept the same package, in collapse when an "
        "incident breaks the truce, or in stalemate at the horizon.")
    monte_carlo = (
        f"The batch is a Monte Carlo of {meta['runs']:,} runs. Each run draws the scenario's {len(uncertain(s))} "
        "uncertain parameters (the ranges in the tables above) once and then plays out with its own random stream. "
        f"The streams are counter-based: every draw is a pure function of the root seed ({meta['seed']}), the run's "
        "index and a named key, so the results are identical whatever the block size or number of workers, and any "
        "run can be replayed alone. Probabilities are shares of runs with 95% Wilson score intervals. These "
        "intervals measure Monte Carlo error only: they say how precisely the model's probability is known, not "
        "whether the assumptions above are right.")
    provenance = f"Scenario hash {meta['scenario_hash']}, negsim {meta.get('version', __version__)}."
    return [Heading("Method"), Paragraph(model), Paragraph(monte_carlo), Paragraph(provenance, "note")]


def briefing(folder: Path, seeds: Path | None = None) -> tuple[Scenario, dict, list, dict[str, Claim]]:
    """The briefing of a complete results folder: its scenario, metadata, blocks and the claims cited."""
    meta = read_meta(folder)
    if meta.get("status") != "complete":
        raise ResultsError(f"{folder}: batch incomplete (status {meta.get('status')}); "
                           "finish it with negsim run --resume")
    summary = read_summary(folder)
    scenario = load(folder / "scenario.yaml")
    claims, digests = read_digests(seeds or find_seeds(folder))
    blocks = [*question(scenario, summary), *key_numbers(scenario, summary),
              *figures_section(read_figures(folder, scenario)), *assumptions(scenario),
              *sources(scenario, claims, digests), *method(scenario, meta)]
    return scenario, meta, blocks, claims


# ------------------------------------------------------------------ HTML
CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;max-width:58rem;margin:2rem auto;
padding:0 1.2rem;line-height:1.45;font-size:15px}
h1{color:#264653;font-size:1.7rem;margin-bottom:.2rem}h2{color:#264653;border-bottom:2px solid #2a9d8f;
padding-bottom:.15rem;margin-top:2.2rem}h3{color:#264653;margin-bottom:.4rem}
p.lead{font-size:1.1rem}p.note{color:#666;font-size:.88rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem;font-size:.86rem}
th{background:#eef3f2;text-align:left;padding:.35rem .5rem;border-bottom:1px solid #bbb}
td{padding:.35rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top;white-space:pre-line}
td ul{margin:0;padding-left:1rem;white-space:normal}td li{margin-bottom:.2rem}
.tag{background:#f4e3c1;color:#7a5200;border-radius:3px;padding:0 .3rem;font-size:.75rem;margin-right:.25rem}
.field{font-weight:600}a.claim{color:#1d6f65;text-decoration:none;white-space:nowrap;border-bottom:1px dotted #1d6f65}
figure{margin:1.2rem 0 2rem}figure img{width:100%;height:auto}figcaption{color:#555;font-size:.88rem}
"""


def _linked(text: str, claims: dict[str, Claim]) -> str:
    """Escaped text with claim ids linked to the Sources table (hover shows the paraphrase)."""
    def link(m):
        c = claims.get(m.group(0))
        title = f' title="{html.escape(c.text)} ({html.escape(c.attribution)})"' if c else ""
        return f'<a class="claim" href="#claim-{m.group(0)}"{title}>{m.group(0)}</a>'

    return CLAIM_ID.sub(link, html.escape(text))


def _cell(cell, claims) -> str:
    if isinstance(cell, str):
        return html.escape(cell)
    items = "".join(f'<li>{"<span class=tag>assumption</span>" if n.assumption else ""}'
                    f'<span class=field>{html.escape(n.field)}</span>'
                    f'{": " * bool(n.text)}{_linked(n.text, claims)}</li>' for n in cell)
    return f"<ul>{items}</ul>" if items else "—"


def _html_block(b, claims) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level + 1}>{html.escape(b.text)}</h{b.level + 1}>"
    if isinstance(b, Paragraph):
        return f'<p class="{b.style}">{html.escape(b.text)}</p>'
    if isinstance(b, Figure):
        data = base64.b64encode(b.png).decode()
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b.caption)}">'
                f"<figcaption>{html.escape(b.caption)}</figcaption></figure>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
    cols = "".join(f'<col style="width:{100 * w:.0f}%">' for w in b.widths)
    body = "".join(
        (f'<tr id="{b.anchor}{html.escape(r[0])}">' if b.anchor else "<tr>")
        + "".join(f"<td>{_cell(c, claims)}</td>" for c in r) + "</tr>" for r in b.rows)
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(title: str, blocks: list, claims: dict[str, Claim]) -> str:
    body = "\n".join(_html_block(b, claims) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")


# ------------------------------------------------------------------ PDF
A4 = (8.27, 11.69)
MARGIN = 0.75
TEXT_WIDTH = A4[0] - 2 * MARGIN
STYLES = {  # size, weight, colour, style, space before (in)
    "title": (17, "bold", INK, "normal", 0.0), "h1": (13.5, "bold", INK, "normal", 0.22),
    "h2": (11, "bold", INK, "normal", 0.14), "body": (9.5, "normal", "#222222", "normal", 0.06),
    "lead": (10.5, "normal", "#222222", "normal", 0.06), "note": (8.5, "normal", "#666666", "italic", 0.04),
    "cell": (7.6, "normal", "#222222", "normal", 0.0), "head": (7.6, "bold", "#222222", "normal", 0.0),
    "tag": (7.6, "normal", "#8a5a00", "normal", 0.0), "caption": (8.5, "normal", "#555555", "italic", 0.04),
}
_MEASURE = RendererAgg(1, 1, 720)


def _font(style: str) -> FontProperties:
    size, weight, _, slant, _ = STYLES[style]
    return FontProperties(size=size, weight=weight, style=slant)


def _leading(style: str) -> float:
    return STYLES[style][0] * 1.32 / 72


def wrap(text: str, width: float, style: str) -> list[str]:
    """Greedy word wrap to ``width`` inches, measured in the style's font; a word wider than that is broken."""
    font, lines = _font(style), []

    def fits(s: str) -> bool:
        return _MEASURE.get_text_width_height_descent(s, font, ismath=False)[0] / 720 <= width

    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and not fits(trial):
                lines.append(line)
                trial = word
            line = trial
            while not fits(line):
                cut = next((k for k in range(len(line) - 1, 0, -1) if fits(line[:k])), 1)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


class Pages:
    """A4 pages filled top to bottom; a block that does not fit starts a new page."""

    def __init__(self, pdf: PdfPages, footer: str):
        self.pdf, self.footer, self.fig, self.number = pdf, footer, None, 0

    def new_page(self) -> None:
        self.close_page()
        self.number += 1
        self.fig = plt.figure(figsize=A4)
        self.y = MARGIN
        self.fig.text(MARGIN / A4[0], 0.45 / A4[1], self.footer, fontsize=7, color="#888888", parse_math=False)
        self.fig.text(1 - MARGIN / A4[0], 0.45 / A4[1], str(self.number), fontsize=7, color="#888888", ha="right")

    def close_page(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None

    def room(self, height: float) -> None:
        if self.fig is None or (self.y + height > A4[1] - MARGIN and self.y > MARGIN):
            self.new_page()

    def lines(self, lines: list[str], style: str, x: float = MARGIN, y: float | None = None) -> float:
        size, weight, colour, slant, _ = STYLES[style]
        top = self.y if y is None else y
        for k, line in enumerate(lines):
            self.fig.text(x / A4[0], 1 - (top + k * _leading(style)) / A4[1], line, fontsize=size, weight=weight,
                          color=colour, style=slant, va="top", parse_math=False)
        return len(lines) * _leading(style)

    def paragraph(self, text: str, style: str, keep: float = 0.0) -> None:
        lines = wrap(text, TEXT_WIDTH, style)
        self.room(STYLES[style][4] + len(lines) * _leading(style) + keep)
        self.y += STYLES[style][4]
        self.y += self.lines(lines, style)

    def table(self, t: Table) -> None:
        pad = 0.05
        widths = [w * TEXT_WIDTH for w in t.widths]
        head = [[(line, "head") for line in wrap(h, w - 2 * pad, "head")] for h, w in zip(t.header, widths)]
        self.room(0.9)  # the header and a first row or two, not a header alone
        self.y += 0.06
        self._row(head, widths, pad, shade=True)
        for row in t.rows:
            cells = [self._cell_lines(c, w - 2 * pad) for c, w in zip(row, widths)]
            height = max(sum(_leading(s) for _, s in cell) for cell in cells) + 2 * pad
            if self.y + height > A4[1] - MARGIN:
                self.new_page()
                self._row(head, widths, pad, shade=True)
            self._row(cells, widths, pad)
        self.y += 0.12

    @staticmethod
    def _cell_lines(cell, width: float) -> list[tuple[str, str]]:
        if isinstance(cell, str):
            return [(line, "cell") for line in wrap(cell, width, "cell")]
        out = []
        for n in cell:
            style = "tag" if n.assumption else "cell"
            label = f"{n.field} (assumption)" if n.assumption else n.field
            out += [(line, style) for line in wrap(f"{label}: {n.text}" if n.text else label, width, style)]
        return out or [("—", "cell")]

    def _row(self, cells: list[list[tuple[str, str]]], widths, pad, shade=False) -> None:
        height = max(sum(_leading(s) for _, s in cell) for cell in cells) + 2 * pad
        bottom = 1 - (self.y + height) / A4[1]
        if shade:
            self.fig.add_artist(Rectangle((MARGIN / A4[0], bottom), TEXT_WIDTH / A4[0], height / A4[1],
                                          color="#eef3f2", lw=0, zorder=-1))
        self.fig.add_artist(plt.Line2D([MARGIN / A4[0], 1 - MARGIN / A4[0]], [bottom, bottom], color="#cccccc", lw=0.5))
        x = MARGIN
        for cell, w in zip(cells, widths):
            y = self.y + pad
            for line, s in cell:
                y += self.lines([line], s, x + pad, y)
            x += w
        self.y += height

    def figure(self, f: Figure) -> None:
        h_px, w_px = f.image.shape[:2]
        width = TEXT_WIDTH
        height = min(width * h_px / w_px, 4.6)
        width = height * w_px / h_px
        caption = wrap(f.caption, TEXT_WIDTH, "caption")
        self.room(height + len(caption) * _leading("caption") + 0.3)
        self.y += 0.1
        ax = self.fig.add_axes(((MARGIN + (TEXT_WIDTH - width) / 2) / A4[0], 1 - (self.y + height) / A4[1],
                                width / A4[0], height / A4[1]))
        ax.imshow(f.image, interpolation="none")
        ax.set_axis_off()
        self.y += height + 0.05
        self.y += self.lines(caption, "caption") + 0.15


def to_pdf(title: str, blocks: list, footer: str) -> bytes:
    buf = io.BytesIO()
    info = {"Title": title, "Creator": f"negsim {__version__}"}
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(buf, metadata=info) as pdf:
        pages = Pages(pdf, footer)
        for b in blocks:
            if isinstance(b, Heading):
                style = "title" if b.level == 0 else f"h{b.level}"
                if b.level == 1 and pages.fig is not None and pages.y > A4[1] / 2:
                    pages.new_page()
                pages.paragraph(b.text, style, keep=0.8)
                pages.y += 0.04
            elif isinstance(b, Paragraph):
                pages.paragraph(b.text, b.style)
            elif isinstance(b, Table):
                pages.table(b)
            else:
                pages.figure(b)
        pages.close_page()
    return buf.getvalue()


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
