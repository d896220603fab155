"""The app's page (Solara): step through one run, ask what-if, browse results.

Thin: it holds each browser tab's state (Solara keeps one session per tab) and calls the plain
functions of :mod:`sim.app`. Input it cannot act on shows its one-line message at the top of the
page, and the page keeps working.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from html import escape
from pathlib import Path

import solara
import solara.lab
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.analysis.summary_text import summary_text
from sim.app import browse, replay, views, whatif
from sim.app.places import EXPECTED, RESULTS, TARGET, Places, message, places_for
from sim.scenario.edit import source
from sim.scenario.labels import Names
from sim.scenario.loader import load, read
from sim.scenario.schema import Scenario

ERROR_STYLE = "color:#b00020;background:#fdecea;padding:6px 10px;border-radius:4px;font-family:monospace"
SUMMARY_STYLE = "font-size:12px;white-space:pre-wrap;max-height:640px;overflow-y:auto;background:#fafafa;padding:6px"
RUN_CHOICES = [1_000, 2_000, 5_000, 10_000, 20_000]


def started() -> Places:
    """The folders the server was started with (``negsim app`` passes them in the environment)."""
    target, results = os.environ.get(TARGET), os.environ.get(RESULTS)
    return places_for(Path(target) if target else None, Path(results) if results else None)


PLACES = started()


@dataclass(frozen=True)
class Loaded:
    """The scenario the app works on: its file (variants extend it), seed, and the batch it comes from."""

    spec: Scenario
    path: Path
    seed: int
    runs: int | None = None
    results: browse.Results | None = None


def load_target(places: Places) -> Loaded | None:
    if places.scenario is None:
        return None
    if places.scenario.name == "scenario.yaml" and (places.scenario.parent / "meta.json").exists():
        res = browse.open_results(places.scenario.parent)
        return Loaded(res.scenario, places.scenario, res.meta["seed"], res.meta["runs"], res)
    spec = load(places.scenario)
    return Loaded(spec, places.scenario, spec.meta.seed_or(None))


def attempt(error: solara.Reactive[str], action, *args):
    """Run ``action``; input it cannot act on sets the page's one-line message instead."""
    try:
        out = action(*args)
    except EXPECTED as exc:
        error.value = message(exc)
        return None
    error.value = ""
    return out


def Html(html: str, testid: str | None = None):
    return solara.HTML(tag="div", unsafe_innerHTML=html, attributes={"data-testid": testid} if testid else None)


@solara.component
def Page():
    loaded, problem = solara.use_memo(_first_load, [])
    error = solara.use_reactive(problem)
    solara.Title("negsim app")
    with solara.Column(style={"padding": "10px 18px", "max-width": "1400px"}):
        title = loaded.spec.meta.name if loaded else "no scenario loaded"
        Html(
            f"<h2 style='margin:0'>{escape(title)}</h2><div style='color:#666;font-size:13px'>reads under "
            f"{escape(str(PLACES.scenarios))} and {escape(str(PLACES.results))}; writes only on save</div>"
        )
        shown = f"<div style='{ERROR_STYLE}'>{escape(error.value)}</div>" if error.value else ""
        Html(shown, "error")  # always there, so the tabs below keep their place (and the chosen tab)
        with solara.lab.Tabs(lazy=True):
            if loaded is not None:
                with solara.lab.Tab("Step through a run"):
                    RunView(loaded, error)
                with solara.lab.Tab("What-if"):
                    WhatIfView(loaded, error)
            with solara.lab.Tab("Results"):
                ResultsView(loaded, error)


def _first_load() -> tuple[Loaded | None, str]:
    try:
        return load_target(PLACES), ""
    except EXPECTED as exc:
        return None, message(exc)


# ------------------------------------------------------------------ one run
@solara.component
def RunView(loaded: Loaded, error: solara.Reactive[str]):
    spec = loaded.spec
    run = solara.use_reactive(0)
    seed = solara.use_reactive(loaded.seed)
    params = solara.use_reactive(replay.model_parameters(spec, 0, loaded.seed))
    model = solara.use_reactive(solara.use_memo(lambda: replay.model_for(spec, 0, loaded.seed), []))
    history = solara.use_memo(lambda: {"model": None, "frames": [], "log": []}, [])

    def choose(index, new_seed):
        if index is None or new_seed is None:
            return
        if index < 0 or (loaded.runs is not None and new_seed == loaded.seed and index >= loaded.runs):
            limit = f" (the batch has runs 0 to {loaded.runs - 1:,})" if loaded.runs else ""
            error.value = f"run index {index}: not a run of this batch{limit}"
            return
        if new_seed < 0:
            error.value = f"seed {new_seed}: a seed is a whole number from 0"
            return
        error.value = ""
        run.value, seed.value = index, new_seed
        params.value = replay.model_parameters(spec, index, new_seed)
        model.value = replay.model_for(spec, index, new_seed)

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.InputInt("run index", value=run.value, on_value=lambda v: choose(v, seed.value))
        solara.InputInt("seed", value=seed.value, on_value=lambda v: choose(run.value, v))
        solara.Button("fresh seed", on_click=lambda: choose(run.value, secrets.randbelow(2**31)), outlined=True)
        if loaded.runs:
            solara.Text(f"batch of {loaded.runs:,} runs at seed {loaded.seed}: run {run.value} replays its row")
    ModelController(
        model,
        model_parameters=params,
        play_interval=solara.use_reactive(400),
        render_interval=solara.use_reactive(1),
        use_threads=solara.use_reactive(False),
    )
    update_counter.get()  # the controller bumps it after each step
    m = model.value
    if history["model"] is not m:
        history.update(model=m, frames=[replay.frame(m)], log=[])
    if m.steps > history["frames"][-1].round:
        latest = replay.frame(m, history["frames"][-1])
        history["frames"].append(latest)
        history["log"] += [(latest.round, what) for what in latest.happened]
    frame = history["frames"][-1]
    names = Names(spec)
    with solara.Columns([3, 2]):
        Html(views.frame_html(frame), "frame")
        with solara.Column():
            solara.FigureMatplotlib(
                views.trace_figure(m, [names.actor(p.actor.id) for p in m.principals], [p.index for p in m.principals]),
                format="png",
            )
            Html(views.log_html(history["log"]))


# ------------------------------------------------------------------ what-if
@solara.component
def WhatIfView(loaded: Loaded, error: solara.Reactive[str]):
    base_spec = loaded.spec
    knobs = solara.use_memo(lambda: whatif.knobs(base_spec), [id(base_spec)])
    assumptions = solara.use_memo(lambda: whatif.assumptions(base_spec), [id(base_spec)])
    src = solara.use_memo(lambda: source(loaded.path), [id(base_spec)])
    choices = solara.use_reactive({})
    spec_now = solara.use_reactive(base_spec)  # the scenario with the chosen assumptions
    pins = solara.use_reactive({})
    runs = solara.use_reactive(whatif.RUNS)
    seed = solara.use_reactive(loaded.seed)
    file_name = solara.use_reactive("what_if")
    confirm = solara.use_reactive("")
    saved = solara.use_reactive("")
    spec = spec_now.value
    base = solara.use_memo(
        lambda: whatif.play(base_spec, {}, runs.value, seed.value), [id(base_spec), runs.value, seed.value]
    )
    key = tuple(sorted(pins.value.items()))
    now = solara.use_memo(
        lambda: whatif.play(spec, pins.value, runs.value, seed.value), [id(spec), key, runs.value, seed.value]
    )

    def choose(assumption: whatif.Assumption, option: str):
        chosen = {k: v for k, v in choices.value.items() if k != assumption.path}
        if option != assumption.current:
            chosen[assumption.path] = option
        changed = attempt(error, whatif.assumed, src, chosen)
        if changed is not None:
            choices.value, spec_now.value = chosen, changed
            saved.value = confirm.value = ""

    def pin(knob: whatif.Knob, value):
        if value is None:
            return
        checked = attempt(error, knob.check, value)
        if checked is not None:
            pins.value = {**pins.value, knob.path: checked}
            saved.value = confirm.value = ""

    def reset_all():
        pins.value, choices.value, spec_now.value = {}, {}, base_spec

    def save(overwrite: bool = False):
        path = attempt(error, PLACES.variant_file, file_name.value)
        if path is None:
            return
        data, _ = read(loaded.path)
        extends = os.path.relpath(loaded.path, path.parent)
        text = attempt(
            error, lambda: whatif.variant_text(whatif.variant_data(base_spec, data, extends, pins.value, choices.value))
        )
        if text is None:
            return
        try:
            whatif.save_variant(path, text, overwrite)
        except FileExistsError:
            confirm.value = str(path)
            return
        confirm.value = ""
        if attempt(error, load, path) is not None:
            saved.value = (
                f"saved {path} (it validates; negsim run {path.name} --runs {runs.value} --seed {seed.value} "
                f"replays these numbers)"
            )

    with solara.Columns([2, 3]):
        with solara.Column():
            with solara.Row(style={"align-items": "center"}):
                solara.Select("runs", values=RUN_CHOICES, value=runs)
                solara.InputInt("seed", value=seed.value, on_value=lambda v: v is not None and v >= 0 and seed.set(v))
                solara.Button("reset all", on_click=lambda: reset_all(), outlined=True)
            Html(
                "<div style='font-size:12px;color:#555'>The selectors change the scenario's main assumptions. Each "
                "slider spans its parameter's own distribution; a moved slider pins the parameter in every run, the "
                "others are drawn as in the scenario.</div>"
            )
            with solara.Column(style={"max-height": "900px", "overflow-y": "auto"}):
                for a in assumptions:
                    solara.Select(
                        a.label,
                        values=list(a.options),
                        value=choices.value.get(a.path, a.current),
                        on_value=lambda v, a=a: choose(a, v),
                        classes=[f"assumption-{a.path.replace('.', '-')}"],
                    )
                for k in knobs:
                    Knob(k, pins.value.get(k.path), pin)
        with solara.Column():
            Html(views.comparison_html(whatif.headline(base), whatif.headline(now)), "comparison")
            names = Names(spec)
            Html(views.curves_svg(base, now))
            Html(views.blockers_svg(base, now, {**names.actors, **names.veto_players}))
            with solara.Row(style={"align-items": "center"}):
                solara.InputText(f"variant file (in {PLACES.scenarios})", value=file_name)
                solara.Button("save variant", on_click=lambda: save(False), color="primary")
            if confirm.value:
                with solara.Row(style={"align-items": "center"}):
                    Html(f"<b>{escape(confirm.value)}</b> already exists. Replace it?", "confirm")
                    solara.Button("replace", on_click=lambda: save(True), color="error")
                    solara.Button("keep it", on_click=lambda: confirm.set(""), outlined=True)
            if saved.value:
                Html(f"<div style='color:#1b7f2a'>{escape(saved.value)}</div>", "saved")


@solara.component
def Knob(knob: whatif.Knob, pinned: float | None, pin):
    value = knob.default if pinned is None else pinned
    state = "pinned" if pinned is not None else f"drawn: {knob.distribution}"
    with solara.Column(gap="0px", style={"border-bottom": "1px solid #eee", "padding": "2px 0"}):
        Html(
            f"<div style='font-size:13px'><b>{escape(knob.label)}</b> <span style='color:#777'>({escape(state)})"
            "</span></div>"
        )
        with solara.Row(style={"align-items": "center"}, classes=[f"knob-{knob.path.replace('.', '-')}"]):
            if knob.choices:  # a choice among values: a selector
                solara.Select("value", values=list(knob.choices), value=value, on_value=lambda v: pin(knob, v))
                return
            with solara.Column(style={"flex": "3"}):
                solara.SliderFloat(
                    "", value=value, min=knob.low, max=knob.high, step=knob.step, on_value=lambda v: pin(knob, v)
                )
            with solara.Column(style={"flex": "1"}):
                solara.InputFloat("value", value=value, on_value=lambda v: pin(knob, v), dense=True)


# ------------------------------------------------------------------ results
@solara.component
def ResultsView(loaded: Loaded | None, error: solara.Reactive[str]):
    start = loaded.results if loaded else None
    name = solara.use_reactive(os.path.relpath(start.folder, PLACES.results) if start else "")
    res = solara.use_reactive(start)
    column = solara.use_reactive(None)
    bins = solara.use_reactive(4)

    def open_folder():
        folder = attempt(error, PLACES.results_folder, name.value)
        opened = folder and attempt(error, browse.open_results, folder)
        if opened:
            res.value, column.value = opened, None

    with solara.Row(style={"align-items": "center"}):
        solara.InputText(f"results folder (in {PLACES.results})", value=name)
        solara.Button("open", on_click=open_folder, color="primary")
    r = res.value
    if r is None:
        return
    with solara.Columns([2, 3]):
        with solara.Column():
            params = r.parameters()
            chosen = column.value or next(iter(params), None)
            if chosen:
                labels = {v: k for k, v in params.items()}
                solara.Select(
                    "slice runs by", values=list(labels), value=params[chosen], on_value=lambda v: column.set(labels[v])
                )
                solara.InputInt("bins", value=bins.value, on_value=lambda v: v and 1 <= v <= 20 and bins.set(v))
                Html(views.sliced_html(browse.sliced(r.runs, chosen, bins.value), params[chosen]), "sliced")
            Html(f"<pre style='{SUMMARY_STYLE}'>{escape(summary_text(r.summary))}</pre>", "summary")
        with solara.Column():
            for png in r.figures:
                solara.Image(png.read_bytes(), width="100%")
