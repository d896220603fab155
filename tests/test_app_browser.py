"""The app in a real browser: headless Chromium (Debian's package) driven by Playwright.

The app is started as ``negsim app RESULTS_FOLDER`` on a free loopback port. With NEGSIM_SCREENSHOTS
set to a folder, the tests also save a picture of each view there (``make screenshots``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

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

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make env installs Debian's chromium)"),
    pytest.mark.browser,
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1500 if SHOTS else 1000}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A results folder (300 runs), a damaged copy beside it, and the app serving them."""
    results = tmp_path_factory.mktemp("results")
    folder = results / "baseline"
    run_batch(load(ROOT / "scenarios" / "baseline.yaml"), folder, runs=300, workers=1, trajectories=5)
    write_outputs(folder)
    shutil.copytree(folder, results / "broken")
    chunk = next((results / "broken" / "runs").glob("*.parquet"))
    chunk.write_bytes(chunk.read_bytes()[:40])
    with started(folder) as url:
        yield {"url": url, "folder": folder, "results": results, "chunk": chunk}


@contextlib.contextmanager
def started(target: Path):
    """``negsim app TARGET`` on a free loopback port, stopped afterwards; yields its address."""
    port = free_port()
    app = subprocess.Popen(
        [str(Path(sys.executable).with_name("negsim")), "app", str(target), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=target.parent,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and app.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        app.kill()
        pytest.fail(f"the app did not start: {app.communicate()[0]}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=20)


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def opened(page, served, tab: str | None = None):
    page.goto(served["url"])
    page.get_by_role("button", name="Step").wait_for(timeout=WAIT)
    if tab:
        page.get_by_role("tab", name=tab).click()
    return page


def number(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).inner_text().split()[0])


def test_three_rounds_of_a_run_show_the_engines_numbers(page, served):
    from playwright.sync_api import expect

    opened(page, served)
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
    if SHOTS:  # the picture once talks have opened and the answers come in
        for k in range(4, 13):
            step.click()
            expect(page.get_by_test_id("round")).to_have_text(f"round {k}", timeout=WAIT)
        shot(page, "step-through")


def test_a_slider_moved_shows_the_p_declared_of_a_batch_with_that_value(page, served):
    from playwright.sync_api import expect

    opened(page, served, "What-if")
    before = page.get_by_test_id("p-declared-whatif")
    expect(before).to_have_text(page.get_by_test_id("p-declared-scenario").inner_text(), timeout=WAIT)
    knob = page.locator(".knob-actors-israel-reservation")
    knob.get_by_role("slider").focus()
    page.keyboard.press("End")  # the top of its distribution
    expect(knob.locator("input[type=text]")).to_have_value("0.75", timeout=WAIT)
    spec = edited(source(served["folder"] / "scenario.yaml"), {"actors.israel.reservation": 0.75})
    p = probabilities(run_batch(spec, runs=5_000))["declared"]
    expected = f"{p['p']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"
    expect(page.get_by_test_id("p-declared-whatif")).to_have_text(expected, timeout=WAIT)
    shot(page, "what-if")

    target = served["folder"] / "tougher_israel.yaml"
    page.get_by_label("variant file").fill("tougher_israel")
    page.get_by_role("button", name="save variant").click()
    expect(page.get_by_test_id("saved")).to_contain_text("it validates", timeout=WAIT)
    variant = load(target)
    assert variant.actors[variant.actor_index("israel")].reservation == 0.75
    assert probabilities(run_batch(variant, runs=5_000))["declared"] == p
    written = target.read_text()
    knob.get_by_role("slider").focus()
    page.keyboard.press("Home")
    expect(knob.locator("input[type=text]")).to_have_value("0.55", timeout=WAIT)
    page.get_by_role("button", name="save variant").click()
    expect(page.get_by_test_id("confirm")).to_contain_text("already exists", timeout=WAIT)
    assert target.read_text() == written  # nothing replaced without confirmation
    page.get_by_role("button", name="replace").click()
    expect(page.get_by_test_id("saved")).to_be_visible(timeout=WAIT)
    reloaded = load(target)
    assert reloaded.actors[reloaded.actor_index("israel")].reservation == 0.55


def test_bad_input_is_one_line_in_the_page_and_the_app_keeps_working(page, served):
    from playwright.sync_api import expect

    opened(page, served, "What-if")
    box = page.locator(".knob-actors-israel-reservation input[type=text]")
    box.fill("0.99")
    box.press("Enter")
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("actors.israel.reservation: 0.99 is outside its range 0.55 to 0.75", timeout=WAIT)
    page.locator(".assumption-actors-israel-concession-strategy").click()
    page.get_by_role("option", name="conceder", exact=True).click()  # its Boulware exponent does not fit
    expect(error).to_contain_text("scenario.yaml:", timeout=WAIT)
    expect(error).to_contain_text("actors.israel.concession: a conceder exponent must be > 1")
    page.get_by_role("tab", name="Results").click()
    folder_box = page.get_by_label("results folder")
    for typed, says in (
        ("../", "outside"),
        ("/etc", "not an absolute one"),
        (str(served["folder"]), "absolute"),
        ("broken", str(served["chunk"])),
        ("nothing_here", "nothing_here"),
    ):
        folder_box.fill(typed)
        page.get_by_role("button", name="open").click()
        expect(error).to_contain_text(says, timeout=WAIT)
        assert "\n" not in error.inner_text().strip()
    folder_box.fill("baseline")
    page.get_by_role("button", name="open").click()
    expect(error).to_have_text("", timeout=WAIT)
    expect(page.get_by_test_id("summary")).to_contain_text("300 runs", timeout=WAIT)
    expect(page.get_by_test_id("sliced")).to_contain_text("P(declared) by", timeout=WAIT)
    shot(page, "results")
    assert sorted(p.name for p in served["results"].iterdir()) == ["baseline", "broken"]


def test_two_tabs_keep_their_own_state(context, served):
    from playwright.sync_api import expect

    first, second = opened(context.new_page(), served), opened(context.new_page(), served)
    for _ in range(2):
        first.get_by_role("button", name="Step").click()
    expect(first.get_by_test_id("round")).to_have_text("round 2", timeout=WAIT)
    expect(second.get_by_test_id("round")).to_have_text("round 0", timeout=WAIT)
    second.get_by_label("run index").fill("5")
    second.get_by_label("run index").press("Enter")
    second.get_by_role("button", name="Step").click()
    expect(second.get_by_test_id("round")).to_have_text("round 1", timeout=WAIT)
    expect(first.get_by_test_id("round")).to_have_text("round 2", timeout=WAIT)


def test_a_scenario_that_fails_validation_is_its_line_and_the_results_view_still_opens(page, served, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "bad.yaml"
    bad.write_text((served["folder"] / "scenario.yaml").read_text().replace("horizon: 26", "horizon: -3"))
    with started(bad) as url:
        page.goto(url)
        error = page.get_by_test_id("error")
        expect(error).to_contain_text(f"{bad}:", timeout=WAIT)
        expect(error).to_contain_text("meta.horizon")
        assert "\n" not in error.inner_text().strip()
        page.get_by_role("tab", name="Results").click()
        expect(page.get_by_label("results folder")).to_be_visible(timeout=WAIT)


def test_play_pause_and_reset_drive_the_same_run(page, served):
    """Play steps on its own, pause holds the round, and reset starts the same run again from its first frame."""
    import re

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
