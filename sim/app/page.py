"""The app's page (Solara): step through one run, ask what-if, browse results.

Thin: it holds each browser tab's state (Solara keeps one session per tab) and calls the plain
functions of :mod:`sim.app`; each view is a module of its own (:mod:`sim.app.page_run`,
:mod:`sim.app.page_whatif`, :mod:`sim.app.page_results`). Input it cannot act on shows its one-line
message at the top of the page (:mod:`sim.app.notice`), and the page keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

import solara
import solara.lab

from sim.app import browse
from sim.app.notice import Html, Notice, NoticeLine, said
from sim.app.page_results import ResultsView
from sim.app.page_run import RunView
from sim.app.page_whatif import WhatIfView
from sim.app.places import Places, from_environment, shown
from sim.scenario.loader import load
from sim.scenario.schema import Scenario

PLACES = from_environment()
STYLE = "<style>.v-slide-group__content .v-tab{min-height:36px;height:36px}</style>"  # a slim bar of tabs


@dataclass(frozen=True)
class Loaded:
    """The scenario the app works on: its file (variants extend it), seed, and the batch it comes from."""

    spec: Scenario
    path: Path
    seed: int
    runs: int | None = None
    results: browse.Results | None = None


def load_target(places: Places) -> Loaded | None:
    if places.batch is not None:
        res = browse.open_results(places.batch)
        return Loaded(res.scenario, places.scenario, res.meta["seed"], res.meta["runs"], res)
    if places.scenario is None:
        return None
    spec = load(places.scenario)
    return Loaded(spec, places.scenario, spec.meta.seed_or(None))


def _first_load() -> tuple[Loaded | None, str]:
    try:
        return load_target(PLACES), ""
    except Exception as exc:  # of any type: the page opens on its one line
        return None, said(exc)


@solara.component
def Page():
    loaded, problem = solara.use_memo(_first_load, [])
    notice = solara.use_reactive(Notice(problem))
    solara.Title("negsim app")
    with solara.Column(style={"padding": "4px 16px", "max-width": "1366px"}, gap="2px"):
        title = loaded.spec.meta.name if loaded else "no scenario loaded"
        where = f"scenario {escape(shown(PLACES.scenario))} &middot; " if PLACES.scenario else ""
        Html(
            f"{STYLE}<div style='display:flex;gap:14px;align-items:baseline;flex-wrap:wrap'><h3 style='margin:0'>"
            f"{escape(title)}</h3><span style='color:#666;font-size:12px' data-testid='places'>{where}"
            f"results from {escape(shown(PLACES.results))} &middot; variants saved in "
            f"{escape(shown(PLACES.variants))}</span></div>"
        )
        NoticeLine(notice.value)
        with solara.lab.Tabs(lazy=True):
            if loaded is not None:
                with solara.lab.Tab("Step through a run"):
                    RunView(loaded.spec, loaded.seed, loaded.runs, notice)
                with solara.lab.Tab("What-if"):
                    WhatIfView(loaded.spec, loaded.path, loaded.seed, notice, PLACES)
            with solara.lab.Tab("Results"):
                ResultsView(loaded.results if loaded else None, notice, PLACES)
