"""The briefing report: the numbers of summary.json, figures inlined, claims cited with their text,
assumptions marked, text escaped, a multi-page PDF, and one-line CLI errors on a broken folder."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import pytest
import yaml
from helpers import pdf_pages
from matplotlib.backends.backend_pdf import PdfPages
from typer.testing import CliRunner

import sim
from sim.briefing import outputs, pdf
from sim.briefing.document import Figure, Table
from sim.briefing.outputs import write_outputs
from sim.briefing.report import briefing, write_report
from sim.cli import app
from sim.engine.columns import reason_words
from sim.scenario.labels import Names
from sim.scenario.loader import dump, load, validate

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
DIGEST = ROOT / "seeds" / "gaza_phase2_2025-12.yaml"


class Page(HTMLParser):
    """An HTML page read back: its tables (rows of cell text), every src/href, every id, and tag counts."""

    def __init__(self, text: str):
        super().__init__()
        self.tables, self.links, self.ids, self.tags, self.cell = [], [], set(), [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a.get("class")))
        self.links += [(tag, a[k]) for k in ("src", "href") if k in a]
        self.ids.update([a["id"]] if "id" in a else [])
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def table(self, first_header: str) -> list[list[str]]:
        """Body rows of the first table whose first header cell is ``first_header``."""
        return next(t[1:] for t in self.tables if t[0][0] == first_header)


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def day(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%b %Y}"


def _basis_entries(node, owner: str = ""):
    """(where, field, text) of every basis entry anywhere in a scenario's data (nested objects' included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "basis":
                yield from ((owner, field, text) for field, text in value.items())
            else:
                yield from _basis_entries(value, f"{owner}.{node.get('id', key)}".strip("."))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _basis_entries(value, f"{owner}.{k}")


def batch(scenario, folder: Path, runs: int) -> Path:
    sim.run_batch(scenario, folder, runs=runs, workers=1)
    sim.write_outputs(folder)
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = batch(sim.load_scenario(BASELINE), tmp_path_factory.mktemp("report") / "baseline", 600)
    write_report(out)
    return out


@pytest.fixture(scope="module")
def page(folder):
    return Page((folder / "report.html").read_text())


@pytest.fixture(scope="module")
def summary(folder):
    return json.loads((folder / "summary.json").read_text())


def test_key_numbers_are_those_of_the_summary(page, summary):
    probs = summary["probabilities"]
    assert page.table("Outcome") == [
        [o, pct(p["p"]), f"{pct(p['low'])} – {pct(p['high'])}", f"{p['k']:,} of {p['n']:,}"] for o, p in probs.items()
    ]
    t = summary["declaration_round"]
    assert page.table("Round of declaration") == [
        [label, f"{t[k]:g}", day(t[f"{k}_date"])]
        for label, k in (("first quartile", "q1"), ("median", "median"), ("third quartile", "q3"))
    ]
    blocking = page.table("Share of runs")
    assert [row[0] for row in blocking] == [pct(b["share"]) for b in summary["blocking"]]
    names = Names(load(BASELINE))
    assert [row[1] for row in blocking] == [
        {**names.actors, **names.veto_players}.get(b["blocker"], "—") for b in summary["blocking"]
    ]
    assert {"Israel", "Hamas's military wing"} <= {row[1] for row in blocking}
    assert "precondition: last hostage's remains recovered" in [row[2] for row in blocking]
    assert not any("_" in row[2] for row in blocking)
    shares = summary["preconditions"]["remains"]
    assert page.table("Precondition")[0] == [
        "Israel: last hostage's remains recovered",
        *(pct(shares.get(k, 0.0)) for k in ("met", "waived", "unmet")),
    ]
    issues = page.table("Issue agreed")
    assert [row[0] for row in issues] == [a["label"] for a in summary["agreements"]]
    assert [row[1] for row in issues] == [pct(a["p"]) for a in summary["agreements"]]
    assert [row[3] for row in issues] == [f"{a['k']:,} of {a['n']:,}" for a in summary["agreements"]]
    assert [row[1] for row in page.table("Milestone carried out")] == [pct(m["p"]) for m in summary["milestones"]]


def test_the_report_says_p_declared_in_words_under_the_scenarios_name(folder, summary):
    text = (folder / "report.html").read_text()
    assert re.search(r"<h1[^>]*>Gaza phase two - baseline \(mid-December 2025\)</h1>", text)
    p = summary["probabilities"]["declared"]
    words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    assert f"Phase two declared by 15 Jun 2026 in {pct(p['p'])} ({pct(p['low'])}–{pct(p['high'])}) of runs" in words
    after = summary["collapse"]["after"]["p"]
    assert f"collapses first in {pct(summary['probabilities']['collapse']['p'])}, and in {pct(after)} more" in words


def test_figures_are_inlined_and_nothing_is_loaded_from_outside(folder, page):
    images = [src for tag, src in page.links if tag == "img"]
    wanted = sim.load_scenario(folder / "scenario.yaml").outputs.figures
    assert len(images) == len(wanted) == 7  # the summary's six figures (mechanisms too) and the fan chart of positions
    prefix = "data:image/png;base64,"
    assert all(src.startswith(prefix) for src in images)
    assert [base64.b64decode(src[len(prefix) :]) for src in images] == [
        (folder / "figures" / f"{name}.png").read_bytes() for name in wanted
    ]
    assert all(ref.startswith(("data:", "#")) for _, ref in page.links)
    assert not {tag for tag, _ in page.tags} & {"script", "link", "iframe"}


def test_cited_claims_are_listed_with_their_paraphrase_and_attribution(folder, page):
    claims = {c["id"]: c for c in yaml.safe_load(DIGEST.read_text())["claims"]}
    basis = [text for _, _, text in _basis_entries(yaml.safe_load((folder / "scenario.yaml").read_text()))]
    cited = set(re.findall(r"gz-\d+", " ".join(basis)))
    rows = {row[0]: row for row in page.table("Claim")}
    assert set(rows) == cited
    for cid in cited:
        assert rows[cid][1:3] == [claims[cid]["claim"], claims[cid]["attribution"]]
        assert f"claim-{cid}" in page.ids
    assert "israel.strategy" in rows["gz-10"][3]  # Israel's concession strategy rests on gz-10
    assert "phase_two.consent" in rows["gz-01"][3]  # and the gate's consent on gz-01
    assert {ref for tag, ref in page.links if tag == "a"} == {f"#claim-{cid}" for cid in cited}


def test_names_are_those_of_the_scenario_and_ids_are_made_readable():
    names = Names(load(BASELINE))
    assert [names.readable(i) for i in ("us_on_israel", "egyptian_teams_searching", "summit_held")] == [
        "US on Israel",
        "Egyptian teams searching",
        "summit held",
    ]  # capitals as the scenario's own text writes them
    assert names.actor("united_states") == "United States"
    assert reason_words("precondition: remains", names) == "precondition: last hostage's remains recovered"
    assert reason_words("collapse: violent_incident", names) == "collapse: violent incident"
    assert reason_words("red line: no_forced_disarmament", names) == "red line: no forced disarmament"
    assert names.field("actors.israel.position.weapons") == "Israel: position (Factional weapons)"
    assert names.field("events.remains_recovered.hazard") == "last hostage's remains recovered: hazard"
    assert names.field("leverage.us_on_israel_after_summit.strength") == "US on Israel after summit: strength"
    assert names.field("protocol.pressure_decay") == "pressure decay"


def test_assumption_tables_name_things_as_the_scenario_does(page):
    assert [row[0] for row in page.table("Leverage")] == [
        "US on Israel",
        "US on Israel after summit",
        "Egypt on Hamas",
        "Qatar on Hamas",
        "Turkey on Hamas",
    ]
    events = {row[0]: row for row in page.table("Event")}
    assert "×1.5 while Egyptian teams searching" in events["last hostage's remains recovered (remains_recovered)"][1]
    assert (
        "Hamas position on Factional weapons +15"
        in events["factions agree a weapons formula in Cairo (cairo_consensus)"][2]
    )
    basis = [row[3] for row in page.table("Issue")]
    assert basis[0].startswith("gz-18") and not any("label" in b for b in basis)  # the key of the issue's own basis


def test_standard_figures_name_actors_and_say_how_many_runs_were_recorded(folder, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(outputs, "save", lambda fig, _, name: drawn.setdefault(name, fig))
    write_outputs(shutil.copytree(folder, tmp_path / "copy"))
    actors = [a.name for a in load(BASELINE).actors]
    blocking = [t.get_text() for t in drawn["blocking"].axes[0].get_yticklabels()]
    players = [v.name for v in load(BASELINE).veto_players]
    assert blocking and all(b.split(" — ")[0] in actors + players or b.startswith("collapse: ") for b in blocking)
    seated = [a.name for a in load(BASELINE).seated]  # a spoiler has no position to draw
    assert [t.get_text() for t in drawn["positions"].legends[0].get_texts()] == seated
    assert "200 recorded runs of 600" in drawn["positions"].texts[-1].get_text()
    assert any("on the red line: no forced disarmament" in t.get_text() for t in drawn["packages"].axes[0].texts)


def _rows_drawn(monkeypatch) -> list[tuple[int, bool]]:
    """Record (page, is header) for every table row the PDF draws."""
    rows, draw = [], pdf.Pages._row

    def row(self, cells, widths, pad, shade=False):
        rows.append((self.number, shade))
        draw(self, cells, widths, pad, shade)

    monkeypatch.setattr(pdf.Pages, "_row", row)
    return rows


def _no_header_alone(rows: list[tuple[int, bool]]) -> bool:
    return all(k + 1 < len(rows) and rows[k + 1] == (page, False) for k, (page, head) in enumerate(rows) if head)


@pytest.mark.slow
def test_pdf_never_leaves_a_table_header_alone_at_the_foot_of_a_page(folder, monkeypatch):
    rows = _rows_drawn(monkeypatch)
    with PdfPages(io.BytesIO()) as out:
        pages = pdf.Pages(out, "footer")
        pages.new_page()
        pages.y = pdf.A4[1] - pdf.MARGIN - 1.0  # room for a header and a short row, not for this tall one
        pages.table(Table(("Actor", "Basis"), [("Israel", "\n".join(["a line"] * 20)), ("Hamas", "short")], (0.3, 0.7)))
        pages.close_page()
    assert rows == [(2, True), (2, False), (2, False)]
    del rows[:]
    pdf.to_pdf("t", briefing(folder)[2], "footer")
    assert len(rows) > 50 and _no_header_alone(rows)


def test_pdf_table_headers_are_never_broken_inside_a_word(folder):
    tables = [b for b in briefing(folder)[2] if isinstance(b, Table)]
    assert any("Reservation" in t.header for t in tables)
    for t in tables:
        widths = pdf.column_widths(t, 0.05)
        assert sum(widths) == pytest.approx(pdf.TEXT_WIDTH)
        for header, width in zip(t.header, widths, strict=True):
            assert " ".join(pdf.wrap(header, width - 0.1, "head")).split() == header.split()


def test_pdf_gives_the_fan_chart_most_of_a_page(folder):
    png = (folder / "figures" / "positions.png").read_bytes()
    with PdfPages(io.BytesIO()) as out:
        pages = pdf.Pages(out, "footer")
        pages.figure(Figure("positions", png, mpimg.imread(io.BytesIO(png)), "caption"))
        drawn = pages.fig.axes[-1].get_position()
        pages.close_page()
    assert drawn.width * pdf.A4[0] == pytest.approx(pdf.TEXT_WIDTH, rel=0.02) and drawn.height * pdf.A4[1] > 6


def _bare(folder: Path, sections=None) -> list[tuple[str, str]]:
    data = yaml.safe_load((folder / "scenario.yaml").read_text())
    return [
        (where, field)
        for where, field, text in _basis_entries(data)
        if re.match(r"\s*assumption\b", text) and (sections is None or where.split(".")[0] in sections)
    ]


def test_every_bare_assumption_of_the_scenario_is_marked(folder, page):
    """Every basis entry that is only "assumption: ..." is tagged as one in the report, from every section
    (issues, actors, red lines, phases, veto players, leverage, guarantees, events, milestones, risk, protocol)."""
    bare = _bare(folder)
    assert len(bare) > 40 and {where.split(".")[0] for where, _ in bare} >= {"risk", "protocol", "actors"}
    assert page.tags.count(("span", "tag")) == len(bare)


@pytest.mark.slow
def test_without_a_digest_claim_ids_are_shown_bare(folder, tmp_path):
    copy = shutil.copytree(folder, tmp_path / "copy")
    (tmp_path / "no_seeds").mkdir()
    write_report(copy, seeds=tmp_path / "no_seeds")
    page = Page((copy / "report.html").read_text())
    rows = page.table("Claim")
    assert rows and all(row[1] == "— not in the seed digest —" and row[2] == "" for row in rows)
    assert "No seed digest was found" in (copy / "report.html").read_text()


@pytest.mark.slow
def test_text_from_the_scenario_is_escaped(tmp_path):
    data = yaml.safe_load(dump(sim.load_scenario(BASELINE)))
    data["meta"]["name"] = 'Talks <script>alert("x")</script> & co'
    data["actors"][0]["basis"]["noise"] = "assumption: <img src=x onerror=alert(1)>"
    folder = batch(validate(data), tmp_path / "hostile", 300)
    write_report(folder)
    text = (folder / "report.html").read_text()
    page = Page(text)
    assert "<script>" not in text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in text
    assert "onerror=alert(1)&gt;" in text
    assert not {tag for tag, _ in page.tags} & {"script"}
    assert all(src.startswith("data:image/png;base64,") for tag, src in page.links if tag == "img")


def test_pdf_has_text_pages_and_the_figures(folder):
    pdf = (folder / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages > 1 and f"/Count {pages}".encode() in pdf
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) == 7


def test_pdf_text_has_the_key_numbers_and_claims(folder, summary):
    pages = pdf_pages(folder / "report.pdf")
    text = " ".join(" ".join(pages).split())
    p = summary["probabilities"]["declared"]
    assert f"{pct(p['low'])} – {pct(p['high'])}" in text
    assert "gz-10" in text and "Israel demands that the body of the final hostage" in text
    assert "label:" not in text and "label (assumption)" not in text
    assert "Method" in text and "Wilson" in text
    assert all(summary["scenario"] in " ".join(page.split()) for page in pages[1:])  # the footer on every page


def test_cli_report_writes_both_files(folder, tmp_path):
    copy = shutil.copytree(folder, tmp_path / "copy", ignore=shutil.ignore_patterns("report.*"))
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(copy / "report.html"), str(copy / "report.pdf")]
    assert pdf_pages(copy / "report.pdf")[0].strip()


@pytest.mark.parametrize("damage", ["missing folder", "garbled meta.json", "no summary.json", "truncated figure"])
def test_cli_report_on_a_broken_folder_is_one_line_and_exit_2(folder, tmp_path, damage):
    copy = shutil.copytree(folder, tmp_path / "copy")
    if damage == "missing folder":
        copy = tmp_path / "nowhere"
    elif damage == "garbled meta.json":
        (copy / "meta.json").write_text("{")
    elif damage == "no summary.json":
        (copy / "summary.json").unlink()
    else:
        (copy / "figures" / "packages.png").write_bytes((folder / "figures" / "packages.png").read_bytes()[:200])
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(copy) in result.stderr
    assert result.stdout == ""


def test_the_question_keeps_every_word_and_the_scenarios_capitals(folder):
    """The question quotes the phase as the scenario names it and keeps proper nouns capitalised."""
    from sim.batch.folder import ResultsFolder
    from sim.briefing.report import question_section, read_summary

    results = ResultsFolder.open(folder)
    ask = question_section(results.scenario, read_summary(results))[3].text
    assert ask.startswith("How likely is the outcome “Phase two declared” (Israel and Hamas consenting, settling ")
    assert "governance of Gaza and international stabilization force" in ask  # Gaza keeps its capital
    names = Names(results.scenario)
    assert names.inline("Israeli withdrawal") == "Israeli withdrawal" and names.inline("US pressure") == "US pressure"


def test_the_method_calls_only_the_tablers_drafters_and_a_spoiler_no_drafter(folder):
    from sim.batch.folder import ResultsFolder
    from sim.briefing.report import method_section

    results = ResultsFolder.open(folder)
    model = method_section(results.scenario, results.meta)[1].text
    assert "United States, Egypt and Qatar draft bridging packages in turn" in model
    assert "Spoilers (Armed groups opposed to the deal) have no seat at the table and draft nothing" in model
    drafters = model.split("draft bridging packages")[0].rsplit(";", 1)[1]
    assert "Turkey" not in drafters and "Armed groups" not in drafters
