"""The page's first view: one run stepped through round by round, with Mesa's controller.

Every round's frame is kept, so the view can step back or jump to any round played (the model
itself only moves forward); charts show the run over its rounds, one actor can be followed on its
own, and the run's rounds download as the batch would record them.
"""

from __future__ import annotations

import secrets

import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.app import charts, replay, views
from sim.app.notice import Html, Notice, Typed, attempt
from sim.app.places import SEEDS, AppError, whole
from sim.engine.tables import trajectory_table
from sim.scenario.schema import MAX_RUNS, Scenario


def chosen(spec: Scenario, index, seed, batch_seed: int, batch_runs: int | None) -> tuple[int, int, dict]:
    """Run ``index`` at ``seed`` (numbers, or text typed into the page), checked (at the batch's seed, a run of
    the batch), and its model's parameters."""
    seed, index = whole(seed, "seed", 0, SEEDS), whole(index, "run index", 0, MAX_RUNS)
    if batch_runs is not None and seed == batch_seed and index >= batch_runs:
        raise AppError(f"run index {index}: not a run of this batch (it has runs 0 to {batch_runs - 1:,})")
    return index, seed, replay.model_parameters(spec, index, seed)


@solara.component
def RunView(spec: Scenario, batch_seed: int, batch_runs: int | None, notice: solara.Reactive[Notice]):
    run = solara.use_reactive(0)
    seed = solara.use_reactive(batch_seed)
    revision = solara.use_reactive(0)  # bumped to put refused inputs back
    params = solara.use_reactive(replay.model_parameters(spec, 0, batch_seed))
    model = solara.use_reactive(solara.use_memo(lambda: replay.model_for(spec, 0, batch_seed), []))
    interval = solara.use_reactive(400)
    viewing = solara.use_reactive((None, 0))  # (round shown, the last round when it was chosen): None follows play
    history = solara.use_memo(lambda: {"model": None, "frames": [], "log": []}, [])
    actor = solara.use_reactive(None)

    def choose(index, new_seed):
        got = attempt(notice, chosen, spec, index, new_seed, batch_seed, batch_runs, put_back=bump)
        if got is not None:
            run.value, seed.value, params.value = got
            model.value = replay.model_for(spec, run.value, seed.value)
            viewing.value = (None, 0)

    def bump():
        revision.value += 1

    update_counter.get()  # Mesa's controller bumps it after each step
    m = model.value
    if history["model"] is not m:
        history.update(model=m, frames=[replay.frame(m)], log=[])
    while m.steps > history["frames"][-1].round:  # a step (or several, on a fast play) since the last render
        latest = replay.frame(m, history["frames"][-1])
        history["frames"].append(latest)
        history["log"] += [(latest.round, what) for what in latest.happened]
    frames = history["frames"]
    last = frames[-1].round
    pinned, when = viewing.value
    at = pinned if pinned is not None and when == last else last  # a new round played: follow it again

    def view(k: int):
        viewing.value = (min(max(k, 0), last), last) if k < last else (None, 0)

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="10px"):
        Typed("run index", str(run.value), lambda v: choose(v, seed.value), revision.value)
        Typed("seed", str(seed.value), lambda v: choose(run.value, v), revision.value)
        solara.Button("fresh seed", on_click=lambda: choose(run.value, secrets.randbelow(2**31)), outlined=True)
        if batch_runs is not None and seed.value == batch_seed:
            said = f"run {run.value} of the batch of {batch_runs:,} runs at seed {batch_seed}: it replays its row"
        elif batch_runs is not None:
            said = f"seed {seed.value} is not the batch's ({batch_seed}): a run of its own, in no row of the batch"
        else:
            said = f"run {run.value} at seed {seed.value}: as negsim run plays it"
        Html(f"<span style='font-size:13px;color:#444'>{said}</span>", "replays")
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="10px"):
        ModelController(
            model,
            model_parameters=params,
            play_interval=interval,
            render_interval=solara.use_reactive(1),
            use_threads=solara.use_reactive(False),
        ).key(f"controller-{run.value}-{seed.value}")
        with solara.Div(style={"width": "230px"}):
            solara.SliderInt(f"play: {interval.value} ms a round", value=interval, min=50, max=2000, step=50)
        solara.Button("back a round", on_click=lambda: view(at - 1), disabled=at == 0, outlined=True)
        solara.Button("forward a round", on_click=lambda: view(at + 1), disabled=at >= last, outlined=True)
        if last > 0:
            with solara.Div(style={"width": "170px"}):
                solara.SliderInt("show round", value=at, min=0, max=last, on_value=view)
        solara.FileDownload(
            lambda: trajectory_table(model.value).to_csv(index=False).encode(),
            filename=f"run-{run.value}-seed-{seed.value}-rounds.csv",
            label="download its rounds (CSV)",
        )
    frame = frames[at]
    with solara.Columns([3, 2]):
        with solara.Column():
            Html(views.frame_html(frame, last), "frame")
            names = [a["name"] for a in frame.actors]
            solara.Select("follow one actor over the rounds", values=names, value=actor)
            if actor.value in names:
                Html(views.agent_html(frames[: at + 1], actor.value))
            Html(views.log_html([(t, what) for t, what in history["log"] if t <= at]))
        with solara.Column():
            for svg in charts.run_charts(frames[: at + 1], spec.meta.horizon, at):
                Html(svg)
