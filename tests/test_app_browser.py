"""The app in a real browser: headless Chromium (Debian's package) driven by Playwright, at a common laptop size.

The app is started as ``negsim app results/baseline --variants scenarios`` in a folder of its own, on a free
loopback port, and opened at the address it prints (with its token). With NEGSIM_SCREENSHOTS set to a folder,
the tests also save a picture of each view there (``make screenshots``).
"""

from __future__ import annotations

import csv
import http.server
import io
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from helpers import serving

from sim.analysis.summary import probabilities
from sim.batch.runner import run_batch, simulate
from sim.briefing.outputs import write_outputs
from sim.engine.tables import trajectory_table
from sim.scenario.edit import edited, source
from sim.scenario.loader import load

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[1]
SHOTS = os.environ.get("NEGSIM_SCREENSHOTS")
WAIT = 60_000  # ms: a what-if batch on a loaded 2-core machine
WIDTH, HEIGHT = 1366, 768  # a common laptop screen: the main numbers must be on it without scrolling

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make env installs Debian's chromium)"),
    pytest.mark.browser,
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": WIDTH, "height": HEIGHT}, "accept_downloads": True}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A folder as a user has it (scenarios/, results/ with a batch of 300 runs and a damaged copy), and the app
    serving the batch, variants saved in scenarios/."""
    root = tmp_path_factory.mktemp("work")
    (root / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", root / "scenarios" / "baseline.yaml")
    folder = root / "results" / "baseline"
    run_batch(load(root / "scenarios" / "baseline.yaml"), folder, runs=300, workers=1, trajectories=5)
    write_outputs(folder)
    shutil.copytree(folder, root / "results" / "broken")
    chunk = next((root / "results" / "broken" / "runs").glob("*.parquet"))
    chunk.write_bytes(chunk.read_bytes()[:40])
    with serving("results/baseline", "--variants", "scenarios", cwd=root) as app:
        yield {"app": app, "url": app.url, "root": root, "folder": folder, "chunk": chunk}


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))  # the window as a laptop shows it


def above_the_fold(page, testid: str) -> None:
    """The element is in the first screenful of the page as it opens (typing into a box lower down scrolls it)."""
    page.evaluate("() => { window.scrollTo(0, 0); for (const e of document.querySelectorAll('*')) e.scrollTop = 0; }")
    box = page.get_by_test_id(testid).first.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 120) <= HEIGHT, (testid, box)


def opened(page, served, tab: str | None = None):
    page.goto(served["url"])
    page.get_by_role("button", name="Step").wait_for(timeout=WAIT)
    if tab:
        page.get_by_role("tab", name=tab).click()
    return page


def number(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).inner_text().split()[0])


def interval(p: dict) -> str:
    return f"{p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"


def select(page, label: str, option: str) -> None:
    """Choose ``option`` in the selector labelled ``label``."""
    page.locator(".v-select", has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}"))).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def slider(page, label: str):
    return page.locator(".v-input", has=page.locator("label", has_text=label)).get_by_role("slider")


def settled(page, runs: int) -> None:
    """Wait until the what-if's numbers are final for the inputs on screen."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("status")).to_contain_text(f"{runs:,} runs at seed", timeout=WAIT * 3)


# ------------------------------------------------------------------ step through
def test_three_rounds_of_a_run_show_the_engines_numbers(page, served):
    from playwright.sync_api import expect

    opened(page, served)
    expect(page.get_by_test_id("places")).to_have_text(
        "scenario results/baseline/scenario.yaml · results from results · variants saved in scenarios"
    )  # no temporary path in the header
    run = simulate(load(served["folder"] / "scenario.yaml"), runs=1, trajectories=1)
    traj = trajectory_table(run)
    step = page.get_by_role("button", name="Step")
    for k in (1, 2, 3):
        step.click()
        expect(page.get_by_test_id("round")).to_have_text(f"round {k}", timeout=WAIT)
        at = traj[traj["round"] == k]
        for issue in ("governance", "weapons", "force"):
            expected = at.loc[at["issue"] == issue, "package"].iloc[0]
            assert number(page, f"tabled-{issue}") == pytest.approx(expected, abs=0.005)
        for col, actor in enumerate(("israel", "hamas")):
            expected = at.loc[at["actor"] == actor, "threshold"].iloc[0]
            assert number(page, f"threshold-{col}") == pytest.approx(expected, abs=5e-5)
            expected = at.loc[at["actor"] == actor, "pressure"].iloc[0]
            assert number(page, f"pressure-{col}") == pytest.approx(expected, abs=5e-5)
    expect(page.get_by_test_id("outcome")).to_have_text("talks have not opened yet")
    for k in range(4, 13):  # the picture once talks have opened and the answers come in
        step.click()
        expect(page.get_by_test_id("round")).to_have_text(f"round {k}", timeout=WAIT)
    expect(page.get_by_test_id("on-table")).to_contain_text("the gate package (Phase two declared)")
    for testid in ("round", "tabled-governance", "threshold-1"):
        above_the_fold(page, testid)
    shot(page, "step-through")


def test_step_back_jump_play_speed_one_actor_and_the_runs_rounds_downloaded(page, served):
    from playwright.sync_api import expect

    opened(page, served)
    step = page.get_by_role("button", name="Step")
    for k in range(1, 7):
        step.click()
        expect(page.get_by_test_id("round")).to_have_text(f"round {k}", timeout=WAIT)
    page.get_by_role("button", name="back a round").click()
    page.get_by_role("button", name="back a round").click()
    expect(page.get_by_test_id("round")).to_have_text("round 4", timeout=WAIT)
    expect(page.get_by_test_id("frame")).to_contain_text("played up to round 6: showing a kept round")
    traj = trajectory_table(simulate(load(served["folder"] / "scenario.yaml"), runs=1, trajectories=1))
    at = traj[(traj["round"] == 4) & (traj["issue"] == "force")]
    assert number(page, "tabled-force") == pytest.approx(at["package"].iloc[0], abs=0.005)  # round 4's own frame
    shown = slider(page, "show round")
    shown.focus()
    page.keyboard.press("Home")  # jump to the first round kept
    expect(page.get_by_test_id("round")).to_have_text("round 0", timeout=WAIT)
    step.click()  # a new round played: the view follows it
    expect(page.get_by_test_id("round")).to_have_text("round 7", timeout=WAIT)
    assert slider(page, "play: 400 ms a round").get_attribute("aria-valuenow") == "400"
    select(page, "follow one actor over the rounds", "Hamas")
    rows = page.get_by_test_id("agent").locator("tr")
    expect(rows).to_have_count(1 + 8, timeout=WAIT)  # a header and rounds 0 to 7
    with page.expect_download() as download:
        page.get_by_role("button", name="download its rounds (CSV)").click()
    got = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert (
        download.value.suggested_filename
        == f"run-0-seed-{load(served['folder'] / 'scenario.yaml').meta.seed}-rounds.csv"
    )
    assert {int(r["round"]) for r in got} == set(range(1, 8))
    row = next(r for r in got if r["round"] == "4" and r["issue"] == "force")
    assert float(row["package"]) == pytest.approx(at["package"].iloc[0], abs=1e-9)


def test_play_pause_and_reset_drive_the_same_run(page, served):
    """Play steps on its own, pause holds the round, and reset starts the same run again from its first frame."""
    from playwright.sync_api import expect

    opened(page, served)
    first = page.get_by_test_id("round").inner_text()
    page.get_by_role("button", name="▶").click()
    expect(page.get_by_test_id("round")).to_have_text(re.compile(r"round ([3-9]|\d{2,})$"), timeout=WAIT)
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="▶").wait_for(timeout=WAIT)
    rounds = [page.get_by_test_id("round").inner_text()]
    for _ in range(6):  # a round under way when the button was pressed may still be shown, on a slow machine late
        page.wait_for_timeout(1500)  # more than three play intervals of 400 ms
        rounds.append(page.get_by_test_id("round").inner_text())
        if rounds[-1] == rounds[-2]:
            break
    held = rounds[-1]
    assert rounds[-2] == held, f"still playing after pause: {rounds}"
    run = trajectory_table(simulate(load(served["folder"] / "scenario.yaml"), runs=1, trajectories=1))
    assert int(held.split()[1]) < run["round"].max(), "held only because the run had ended"
    played = {issue: number(page, f"tabled-{issue}") for issue in ("governance", "force")}
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_test_id("round")).to_have_text(first, timeout=WAIT)
    step = page.get_by_role("button", name="Step")
    for k in range(1, int(held.split()[1]) + 1):
        step.click()
        expect(page.get_by_test_id("round")).to_have_text(f"round {k}", timeout=WAIT)
    assert {issue: number(page, f"tabled-{issue}") for issue in played} == played


def test_two_tabs_keep_their_own_state(context, served):
    from playwright.sync_api import expect

    first, second = opened(context.new_page(), served), opened(context.new_page(), served)
    for _ in range(2):
        first.get_by_role("button", name="Step").click()
    expect(first.get_by_test_id("round")).to_have_text("round 2", timeout=WAIT)
    expect(second.get_by_test_id("round")).to_have_text("round 0", timeout=WAIT)
    second.get_by_label("run index").fill("5")
    second.get_by_label("run index").press("Enter")
    expect(second.get_by_test_id("replays")).to_contain_text("run 5 of the batch", timeout=WAIT)
    second.wait_for_timeout(1_000)  # Mesa's controller is made anew for the new run: a click on the old one is lost
    second.get_by_role("button", name="Step").click()
    expect(second.get_by_test_id("round")).to_have_text("round 1", timeout=WAIT)
    expect(first.get_by_test_id("round")).to_have_text("round 2", timeout=WAIT)


# ------------------------------------------------------------------ what-if
def test_a_slider_moved_shows_the_p_declared_of_a_batch_with_that_value_and_saves_it(page, served):
    from playwright.sync_api import expect

    opened(page, served, "What-if")
    settled(page, 5_000)
    expect(page.get_by_test_id("p-declared-whatif")).to_have_text(
        page.get_by_test_id("p-declared-scenario").inner_text()
    )
    knob = page.locator(".knob-actors-israel-reservation")
    knob.get_by_role("slider").focus()
    page.keyboard.press("End")  # the top of its distribution
    expect(knob.locator("input[type=text]")).to_have_value("0.75", timeout=WAIT)
    spec = edited(source(served["folder"] / "scenario.yaml"), {"actors.israel.reservation": 0.75})
    p = probabilities(run_batch(spec, runs=5_000))["declared"]
    expect(page.get_by_test_id("p-declared-whatif")).to_have_text(interval(p), timeout=WAIT)
    settled(page, 5_000)
    above_the_fold(page, "p-declared-whatif")
    shot(page, "what-if")

    target = served["root"] / "scenarios" / "tougher_israel.yaml"
    page.get_by_label("variant file").fill("tougher_israel")
    page.get_by_role("button", name="save variant").click()
    expect(page.get_by_test_id("saved")).to_contain_text("it validates", timeout=WAIT)
    expect(page.get_by_test_id("saved")).to_contain_text("replays these numbers")
    variant = load(target)
    assert variant.actors[variant.actor_index("israel")].reservation == 0.75
    assert probabilities(run_batch(variant, runs=5_000))["declared"] == p
    written = target.read_text()
    knob.get_by_role("slider").focus()
    page.keyboard.press("Home")
    expect(knob.locator("input[type=text]")).to_have_value("0.55", timeout=WAIT)
    page.get_by_role("button", name="save variant").click()
    expect(page.get_by_test_id("confirm")).to_have_text(
        "scenarios/tougher_israel.yaml already exists (a what-if saved by negsim app); no file extends it. Replace it?",
        timeout=WAIT,
    )
    assert target.read_text() == written  # nothing replaced without confirmation
    page.get_by_role("button", name="replace").click()
    expect(page.get_by_test_id("saved")).to_be_visible(timeout=WAIT)
    reloaded = load(target)
    assert reloaded.actors[reloaded.actor_index("israel")].reservation == 0.55
    page.get_by_label("variant file").fill("../results/baseline/scenario")  # the batch's own scenario: never
    page.get_by_role("button", name="save variant").click()
    expect(page.get_by_test_id("error")).to_contain_text("outside scenarios", timeout=WAIT)
    expect(page.get_by_test_id("saved")).to_have_count(0)  # the green line of the last save is gone
    batch_scenario = (served["root"] / "results" / "broken" / "scenario.yaml").read_text()  # copied before
    assert (served["folder"] / "scenario.yaml").read_text() == batch_scenario


def test_fast_typing_and_a_drag_leave_inputs_numbers_and_save_in_agreement(page, served):
    """Typing 0.6 then 0.7 while 20,000 runs play, and dragging a slider: the box, the slider, the numbers and
    a save all agree, and a busy indicator shows while the numbers are not final."""
    from playwright.sync_api import expect

    opened(page, served, "What-if")
    settled(page, 5_000)
    select(page, "runs", "20000")
    knob = page.locator(".knob-actors-israel-reservation")
    box = knob.locator("input[type=text]")
    for value in ("0.6", "0.7"):
        box.fill(value)
        box.press("Enter")
    expect(page.locator("[data-busy=yes]")).to_be_visible(timeout=WAIT)  # busy while it computes
    settled(page, 20_000)
    expect(box).to_have_value("0.7")
    expect(knob.get_by_role("slider")).to_have_attribute("aria-valuenow", "0.7")
    spec = edited(source(served["folder"] / "scenario.yaml"), {"actors.israel.reservation": 0.7})
    p = probabilities(run_batch(spec, runs=20_000))["declared"]
    expect(page.get_by_test_id("p-declared-whatif")).to_have_text(interval(p))

    select(page, "runs", "5000")
    hazard = page.locator(".knob-events-remains_recovered-hazard")
    slider = hazard.locator(".v-slider")
    slider.scroll_into_view_if_needed()  # the list of sliders scrolls inside the page
    bounds = slider.bounding_box()
    y = bounds["y"] + bounds["height"] / 2
    page.mouse.move(bounds["x"] + bounds["width"] * 0.5, y)
    page.mouse.down()
    for share in (0.55, 0.65, 0.8, 0.9, 0.7, 0.3, 0.2):  # a drag back and forth, positions passed mid-drag
        page.mouse.move(bounds["x"] + bounds["width"] * share, y, steps=3)
    page.mouse.up()
    page.wait_for_timeout(1_500)  # the last position reaches the page
    settled(page, 5_000)
    value = hazard.locator("input[type=text]").input_value()
    assert float(value) == pytest.approx(0.02, abs=0.004)  # where the drag ended: a fifth of 0.01 to 0.06
    expect(hazard.get_by_role("slider")).to_have_attribute("aria-valuenow", value)
    pins = {"actors.israel.reservation": 0.7, "events.remains_recovered.hazard": float(value)}
    spec = edited(source(served["folder"] / "scenario.yaml"), pins)  # an independent route to the same numbers
    p = probabilities(run_batch(spec, runs=5_000))["declared"]
    expect(page.get_by_test_id("p-declared-whatif")).to_have_text(interval(p))
    page.get_by_label("variant file").fill("dragged")
    page.get_by_role("button", name="save variant").click()
    expect(page.get_by_test_id("saved")).to_contain_text("replays these numbers", timeout=WAIT)
    variant = load(served["root"] / "scenarios" / "dragged.yaml")
    assert next(e for e in variant.events if e.id == "remains_recovered").hazard == float(value)
    assert variant.actors[variant.actor_index("israel")].reservation == 0.7
    assert probabilities(run_batch(variant, runs=5_000))["declared"] == p


def test_bad_input_is_one_line_in_the_page_put_back_and_the_app_keeps_working(page, served):
    from playwright.sync_api import expect

    opened(page, served, "What-if")
    error = page.get_by_test_id("error")
    box = page.locator(".knob-actors-israel-reservation input[type=text]")
    before = box.input_value()
    box.fill("0.99")
    box.press("Enter")
    expect(error).to_contain_text("(actors.israel.reservation): 0.99 is outside its range 0.55 to 0.75", timeout=WAIT)
    expect(box).to_have_value(before)  # the refused value is put back
    page.locator(".assumption-actors-israel-concession-strategy .v-select").click()
    expect(page.get_by_role("option", name="linear", exact=True)).to_be_visible()
    expect(page.get_by_role("option", name="conceder", exact=True)).to_have_count(0)  # not offered: it cannot be
    page.keyboard.press("Escape")
    note = page.locator(".assumption-actors-israel-concession-strategy").get_by_test_id("ruled-out").locator("div")
    expect(note).to_contain_text("not possible here: conceder, subgame_perfect")
    expect(note).to_have_attribute(
        "title", re.compile(r"^conceder: actors\.israel\.concession: a conceder exponent must be > 1;")
    )
    seed = page.get_by_label("seed")
    kept = seed.input_value()
    seed.fill("-5")
    seed.press("Enter")
    expect(error).to_contain_text("seed -5: give a whole number from 0", timeout=WAIT)
    expect(seed).to_have_value(kept)
    page.get_by_label("variant file").fill("x" * 300)
    page.get_by_role("button", name="save variant").click()
    expect(error).to_contain_text("variant file: a name of 300 characters is too long", timeout=WAIT)
    page.get_by_label("variant file").fill("what_if.yaml/x")
    page.get_by_role("button", name="save variant").click()
    expect(error).to_contain_text("is not a folder", timeout=WAIT)
    expect(page.get_by_test_id("saved")).to_have_count(0)

    page.get_by_role("tab", name="Results").click()
    folder_box = page.get_by_label("or type one")
    for typed, says in (
        ("../", "outside"),
        ("/etc", "not an absolute one"),
        (str(served["folder"]), "absolute"),
        ("broken", str(served["chunk"])),
        ("nothing_here", "nothing_here"),
        ("a\x00b", "control characters"),
    ):
        folder_box.fill(typed)
        page.get_by_role("button", name="open").click()
        expect(error).to_contain_text(says, timeout=WAIT)
        assert "\n" not in error.inner_text().strip()
        expect(page.get_by_label("or type one")).to_have_value("baseline")  # the box names what is shown
        expect(page.get_by_test_id("headline")).to_contain_text("300 runs")
    bins = page.get_by_label("bins")
    for typed in ("0", "25", "-3", "many"):
        bins.fill(typed)
        bins.press("Enter")
        expect(error).to_contain_text("bins", timeout=WAIT)
        expect(page.get_by_label("bins")).to_have_value("4")
    page.get_by_label("bins").fill("3")
    page.get_by_label("bins").press("Enter")
    expect(error).to_have_text("", timeout=WAIT)
    expect(page.get_by_test_id("sliced").locator("tr")).to_have_count(4)
    expect(page.get_by_test_id("summary")).to_contain_text("300 runs", timeout=WAIT)
    above_the_fold(page, "result-declared")
    shot(page, "results")
    assert sorted(p.name for p in (served["root"] / "results").iterdir()) == ["baseline", "broken"]


def test_a_scenario_that_fails_validation_is_its_line_and_the_results_view_lists_the_folders(page, served, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "bad.yaml"
    bad.write_text((served["folder"] / "scenario.yaml").read_text().replace("horizon: 26", "horizon: -3"))
    with serving(str(bad), "--results", str(served["root"] / "results"), cwd=tmp_path) as app:
        page.goto(app.url)
        error = page.get_by_test_id("error")
        expect(error).to_contain_text("bad.yaml:", timeout=WAIT)
        expect(error).to_contain_text("meta.horizon")
        assert "\n" not in error.inner_text().strip()
        page.get_by_role("tab", name="Results").click()
        select(page, "results folders in", "baseline")
        expect(page.get_by_test_id("headline")).to_contain_text("300 runs", timeout=WAIT)


# ------------------------------------------------------------------ only the user's own tab
def test_a_page_from_another_origin_cannot_open_the_apps_websocket(page, served, tmp_path):
    """Another local page, in the same browser that holds the app's cookie, tries Solara's websocket: refused."""
    probe = (
        "<html><body><div id='said'>waiting</div><script>"
        f"const ws = new WebSocket('ws://127.0.0.1:{served['app'].port}/jupyter/api/kernels/k9/channels?session_id=e1');"
        "ws.onopen = () => document.getElementById('said').textContent = 'open';"
        "ws.onerror = () => document.getElementById('said').textContent = 'refused';"
        "</script></body></html>"
    )
    (tmp_path / "evil.html").write_text(probe)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        opened(page, served)  # the user's own tab: the cookie is in this browser now
        said = page.evaluate(
            "() => new Promise(done => { const ws = new WebSocket(location.origin.replace('http', 'ws') + "
            "'/jupyter/api/kernels/k8/channels?session_id=own'); ws.onopen = () => { done('open'); ws.close(); };"
            " ws.onerror = () => done('refused'); })"
        )
        assert said == "open"  # from the app's own page it opens: the probe can tell
        other = page.context.new_page()
        other.goto(f"http://127.0.0.1:{evil.server_address[1]}/evil.html")
        other.wait_for_function("document.getElementById('said').textContent !== 'waiting'", timeout=WAIT)
        assert other.inner_text("#said") == "refused"
    finally:
        evil.shutdown()


def test_a_missing_token_and_a_foreign_host_are_refused_in_the_browser(browser, browser_type, served):
    fresh = browser.new_context()  # a browser that never opened the printed address
    page = fresh.new_page()
    page.goto(served["app"].base)
    assert (
        page.inner_text("body").strip() == "refused: open the address negsim app printed (it carries the app's token)"
    )
    fresh.close()
    rebinding = browser_type.launch(
        executable_path=str(CHROMIUM), args=[*ARGS, "--host-resolver-rules=MAP rebound.test 127.0.0.1"]
    )  # a name the attacker controls, made to resolve to the user's machine
    try:
        page = rebinding.new_page()
        page.goto(f"http://rebound.test:{served['app'].port}/?token={served['url'].split('token=')[1]}")
        assert page.inner_text("body").startswith("refused: Host 'rebound.test:")
    finally:
        rebinding.close()
