"""The page's what-if view: the scenario's assumptions and uncertain parameters, the numbers they give, a save.

The numbers shown always belong to the inputs shown: each change asks the tab's :class:`whatif.Latest`
for a batch (which supersedes the one in flight), and until that batch's first estimate arrives the
what-if column says it is computing; a save writes the inputs on screen.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import solara

from sim.app import charts, variants, views, whatif
from sim.app.notice import Fresh, Html, Notice, Typed, attempt
from sim.app.places import Places, shown, whole
from sim.scenario.edit import source
from sim.scenario.labels import Names
from sim.scenario.schema import Scenario

RUN_CHOICES = [1_000, 2_000, 5_000, 10_000, 20_000]
KNOB_CSS = """<style>
.knob .v-input{margin-top:0!important;padding-top:0!important}
.knob .v-messages,.knob .v-text-field__details{display:none!important}
.knob .v-input__slot{margin-bottom:0!important}
.knob .v-slider{margin:0 4px!important}
</style>"""


@solara.component
def WhatIfView(base_spec: Scenario, path: Path, batch_seed: int, notice: solara.Reactive[Notice], places: Places):
    src = solara.use_memo(lambda: source(path), [])
    knobs = solara.use_memo(lambda: whatif.knobs(base_spec), [])
    assumptions = solara.use_memo(lambda: whatif.assumptions(base_spec, src), [])
    choices = solara.use_reactive({})
    spec_now = solara.use_reactive(base_spec)  # the scenario with the chosen assumptions
    pins = solara.use_reactive({})
    runs = solara.use_reactive(whatif.RUNS)
    seed = solara.use_reactive(batch_seed)
    revision = solara.use_reactive(0)  # bumped to put refused inputs back
    file_name = solara.use_reactive("what_if")
    confirm = solara.use_reactive(None)  # the file a save would replace, asked about
    arrived = solara.use_reactive(None)  # the latest numbers from the tab's batches
    latest = solara.use_memo(lambda: whatif.Latest(arrived.set), [])
    inputs = whatif.Inputs(
        spec_now.value, tuple(sorted(choices.value.items())), tuple(sorted(pins.value.items())), runs.value, seed.value
    )

    def ask():
        latest.ask(inputs, base_spec)

    solara.use_effect(ask, [inputs.key])
    numbers = arrived.value if arrived.value is not None and arrived.value.inputs.key == inputs.key else None

    def bump():
        revision.value += 1

    def changed():
        confirm.value = None

    def typed_name(text: str):
        if text != file_name.value:
            file_name.value = text
            changed()

    def choose(assumption: whatif.Assumption, option: str):
        chosen = {k: v for k, v in choices.value.items() if k != assumption.path}
        if option != assumption.current:
            chosen[assumption.path] = option
        spec = attempt(notice, whatif.assumed, src, chosen, put_back=bump)
        if spec is not None:
            choices.value, spec_now.value = chosen, spec
            changed()

    def pin(knob: whatif.Knob, value):
        checked = attempt(notice, knob.check, value, put_back=bump)
        if checked is not None:
            pins.value = {**pins.value, knob.path: round(checked, 12)}
            changed()

    def set_seed(text):
        value = attempt(notice, whole, text, "seed", put_back=bump)
        if value is not None:
            seed.value = value
            changed()

    def set_runs(value):
        if attempt(notice, whatif.runs_checked, value, put_back=bump) is not None:
            runs.value = value
            changed()

    def reset_all():
        pins.value, choices.value, spec_now.value = {}, {}, base_spec
        notice.value = Notice()
        changed()
        bump()

    def write(replace: bool):
        target = places.variant_file(file_name.value)
        variants.protected(target, path)
        extends = os.path.relpath(path, target.parent)
        data = variants.variant_data(base_spec, src.data, extends, pins.value, choices.value)
        try:
            return variants.save(target, variants.variant_text(data), replace)
        except FileExistsError:
            return variants.replacing(target, places.variants)

    def save(replace: bool = False):
        done = attempt(notice, write, replace)
        confirm.value = done if isinstance(done, variants.Replacing) else None
        if isinstance(done, Path):
            replays = "these numbers" if numbers is not None and numbers.final else "the numbers for these inputs"
            notice.value = Notice(
                f"saved {shown(done)}: it validates, and negsim run {shown(done)} --runs {runs.value} --seed "
                f"{seed.value} replays {replays}",
                saved=True,
            )

    names = Names(spec_now.value)
    with solara.Columns([2, 3]):
        with solara.Column(gap="4px"):
            with solara.Row(style={"align-items": "center"}, gap="8px"):
                Fresh(
                    revision.value,
                    lambda: solara.Select("runs", values=RUN_CHOICES, value=runs.value, on_value=set_runs),
                )
                Typed("seed", str(seed.value), set_seed, revision.value)
                solara.Button("reset all", on_click=reset_all, outlined=True)
            Html(
                "<div style='font-size:12px;color:#555'>Selectors change the scenario's main assumptions. Each "
                "slider spans its parameter's own distribution; a moved slider pins it in every run, the others "
                "are drawn as in the scenario.</div>"
            )
            scroll = {"max-height": "calc(100vh - 210px)", "overflow-y": "auto", "padding-top": "8px"}
            with solara.Column(style=scroll, gap="0px"):
                Html(KNOB_CSS)
                for a in assumptions:
                    Fresh(revision.value, lambda a=a: Assumption(a, choices.value.get(a.path, a.current), choose))
                for k in knobs:
                    Knob(k, pins.value.get(k.path), pin, revision.value)
        with solara.Column(gap="4px"):
            solara.ProgressLinear(numbers is None or not numbers.final)  # busy: hidden, but keeps its place
            base = _base(arrived.value, inputs)  # the scenario's column is the same for any pins: it stays
            now = whatif.headline(numbers.now) if numbers is not None and numbers.now is not None else None
            table = views.comparison_html(whatif.headline(base), now) if base is not None else ""
            Html(status(numbers, inputs) + table, "comparison")  # one widget: the line and the numbers change together
            with solara.Row(style={"align-items": "center"}, gap="8px"):
                Typed(f"variant file (in {shown(places.variants)})", file_name.value, typed_name)
                solara.Button("save variant", on_click=lambda: save(False), color="primary")
            if confirm.value is not None:
                with solara.Row(style={"align-items": "center"}, gap="8px"):
                    Html(f"<b>{escape(confirm.value.question())}</b>", "confirm")
                    solara.Button("replace", on_click=lambda: save(True), color="error")
                    solara.Button("keep it", on_click=lambda: confirm.set(None), outlined=True)
            if numbers is not None and numbers.now is not None:
                Html(charts.curves_svg(numbers.base, numbers.now))
                Html(charts.blockers_svg(numbers.base, numbers.now, {**names.actors, **names.veto_players}))


def _base(numbers: whatif.Numbers | None, inputs: whatif.Inputs) -> dict | None:
    """The unmodified scenario's summary at the runs and seed on screen, if the tab has it."""
    if (
        numbers is None
        or numbers.base is None
        or (numbers.inputs.runs, numbers.inputs.seed) != (inputs.runs, inputs.seed)
    ):
        return None
    return numbers.base


def status(numbers: whatif.Numbers | None, inputs: whatif.Inputs) -> str:
    """Whether the numbers shown are final, an early estimate, or still to come."""
    if numbers is not None and numbers.problem:
        return f"<div data-testid='status' style='color:#b00020'>{escape(numbers.problem)}</div>"
    if numbers is not None and numbers.final:
        return (
            f"<div data-testid='status' style='font-size:13px;color:#1b7f2a'>{inputs.runs:,} runs at seed "
            f"{inputs.seed}: the numbers below are for the inputs on the left</div>"
        )
    done = f"first estimate from {numbers.done:,} of {inputs.runs:,} runs" if numbers is not None else "computing"
    return (
        f"<div data-testid='status' data-busy='yes' style='font-size:13px;color:#8a5a00'>{done}; playing the rest "
        "…</div>"
    )


@solara.component
def Assumption(a: whatif.Assumption, value: str, choose):
    with solara.Div(classes=[f"assumption-{a.path.replace('.', '-')}"]):
        solara.Select(a.label, values=a.possible, value=value, on_value=lambda v: choose(a, v), dense=True)
        if a.ruled_out:  # one short line; the reasons show on hovering it
            why = "; ".join(f"{o}: {r}" for o, r in a.ruled_out.items())
            Html(
                f"<div title='{escape(why)}' style='font-size:11px;color:#777;margin:-4px 0 6px 0;white-space:nowrap;"
                f"overflow:hidden;text-overflow:ellipsis'>not possible here: {escape(', '.join(a.ruled_out))} "
                "(point here for why)</div>",
                "ruled-out",
            )


@solara.component
def Knob(knob: whatif.Knob, pinned: float | None, pin, revision: int):
    value = knob.default if pinned is None else pinned
    state = "pinned" if pinned is not None else "drawn"
    label = (
        f"<div title='{escape(knob.path)}: {escape(knob.distribution)}' style='font-size:12px;line-height:14px'>"
        f"{'<b>' if pinned is not None else ''}{escape(knob.label)}{'</b>' if pinned is not None else ''} "
        f"<span style='color:#888'>({state})</span></div>"
    )
    with solara.Row(
        style={"align-items": "center", "border-bottom": "1px solid #eee", "min-height": "34px"},
        classes=["knob", f"knob-{knob.path.replace('.', '-')}"],
        gap="4px",
    ):
        with solara.Div(style={"flex": "0 0 40%"}):
            Html(label)
        if knob.choices:  # a choice among values: a selector
            with solara.Div(style={"flex": "1"}):
                choices = list(knob.choices)
                Fresh(
                    revision,
                    lambda: solara.Select("value", choices, value, on_value=lambda v: pin(knob, v), dense=True),
                )
            return
        with solara.Div(style={"flex": "1"}):
            solara.SliderFloat(
                "", value=value, min=knob.low, max=knob.high, step=knob.step, on_value=lambda v: pin(knob, v)
            )
        with solara.Div(style={"flex": "0 0 76px"}):
            Typed("", f"{value:.12g}", lambda v: pin(knob, v), revision, dense=True)
