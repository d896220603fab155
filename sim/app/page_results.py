"""The page's results view: a results folder's headline numbers, its runs sliced, its summary and figures."""

from __future__ import annotations

from html import escape

import solara

from sim.analysis.summary_text import summary_text
from sim.app import browse, views
from sim.app.notice import Fresh, Html, Notice, Typed, attempt
from sim.app.places import Places, shown, whole

SUMMARY_STYLE = "font-size:12px;white-space:pre;overflow-x:auto;background:#fafafa;padding:6px;margin:0"
MAX_BINS = 20


@solara.component
def ResultsView(start: browse.Results | None, notice: solara.Reactive[Notice], places: Places):
    opened = solara.use_reactive(start)
    name = solara.use_reactive(str(start.folder.path.relative_to(places.results.resolve())) if start else "")
    revision = solara.use_reactive(0)  # bumped to put refused inputs back
    column = solara.use_reactive(None)
    bins = solara.use_reactive(4)
    listed = solara.use_memo(lambda: browse.results_folders(places.results), [])

    def named(results: browse.Results | None) -> str:
        return str(results.folder.path.relative_to(places.results.resolve())) if results else ""

    def put_back():
        name.value = named(opened.value)
        revision.value += 1

    def read(typed: str) -> browse.Results:
        return browse.open_results(places.results_folder(typed))

    def open_folder(typed: str | None = None):
        typed = name.value if typed is None else typed
        found = attempt(notice, read, typed, put_back=put_back)
        if found is not None:
            opened.value, column.value, name.value = found, None, named(found)

    def set_bins(text):
        value = attempt(notice, whole, text, "bins", 1, MAX_BINS + 1, put_back=put_back)
        if value is not None:
            bins.value = value

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
        if listed:
            label = f"results folders in {shown(places.results)}"
            Fresh(revision.value, lambda: solara.Select(label, values=listed, value=None, on_value=open_folder))
        Typed(f"or type one (in {shown(places.results)})", name.value, name.set, revision.value)
        solara.Button("open", on_click=lambda: open_folder(), color="primary")
    r = opened.value
    if r is None:
        Html(
            f"<p style='color:#666'>No results folder open: {len(listed)} found in {escape(shown(places.results))}.</p>"
        )
        return
    with solara.Columns([2, 3]):
        with solara.Column(gap="4px"):
            Html(views.results_html(r.summary), "headline")
            params = r.parameters()
            chosen = column.value or next(iter(params), None)
            if chosen:
                labels = {v: k for k, v in params.items()}
                solara.Select(
                    "slice runs by", values=list(labels), value=params[chosen], on_value=lambda v: column.set(labels[v])
                )
                Typed("bins", str(bins.value), set_bins, revision.value)
                Html(views.sliced_html(browse.sliced(r.runs, chosen, bins.value), params[chosen]), "sliced")
            Html(
                "<details><summary>the whole summary, as negsim summary prints it</summary>"
                f"<pre style='{SUMMARY_STYLE}'>{escape(summary_text(r.summary))}</pre></details>",
                "summary",
            )
        with solara.Column():
            for stem, png in r.figures:
                Html(f"<div style='font-size:12px;color:#555'>{escape(stem)}</div>")
                solara.Image(png, width="100%")
