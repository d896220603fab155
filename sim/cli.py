"""The ``negsim`` command line: a thin layer over the ``sim`` API.

Problems with input print one line each (``file:line: field: message``) and exit with code 2.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sim.batch.errors import ResultsError, SchedulerError
from sim.scenario.loader import load
from sim.scenario.problems import ScenarioError
from sim.scenario.schema import MAX_RUNS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Agent-based negotiation simulator: scenarios, Monte Carlo batches, briefings.",
)


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"negsim: {message}" if ":" not in message.split(" ")[0] else message, err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def reported():
    """Turn the project's own errors into one-line messages and exit code 2."""
    try:
        yield
    except ScenarioError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None
    except (ResultsError, SchedulerError) as exc:
        fail(str(exc))


def show_progress(quiet: bool) -> bool:
    return not quiet and not os.environ.get("CI") and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(enabled: bool, label: str):
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    class Rate(TextColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return TextColumn(f"{speed:,.0f} runs/s" if speed else "").render(task)

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), Rate(""), TimeRemainingColumn())
    with Progress(*columns, transient=True, auto_refresh=False) as bar:  # no thread: workers may be forked
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total, refresh=True)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    runs: Annotated[
        int | None, typer.Option(min=1, max=MAX_RUNS, help="number of runs (default: the scenario's meta.runs)")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
    out: Annotated[Path | None, typer.Option(help="results folder (default: results/<scenario name>)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="local worker processes (default: all cores from 50,000 runs, in-process below)"),
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786")] = None,
    trajectories: Annotated[int | None, typer.Option(min=0, help="record per-round state for this many runs")] = None,
    block_size: Annotated[int | None, typer.Option(min=1, help="runs played together in one block")] = None,
    resume: Annotated[bool, typer.Option(help="finish an interrupted batch in --out")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace results already in --out")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    model: Annotated[
        str,
        typer.Option(
            help="abm (the agent-based model), or a point prediction from another model family: compromise, "
            "median, eum or nash (at each distribution's median, or over --runs draws at --seed)"
        ),
    ] = "abm",
):
    """Run a Monte Carlo batch (or another model family), write the results folder and print the summary."""
    from sim.analysis.summary import text
    from sim.batch.runner import default_out, run_batch
    from sim.briefing.outputs import write_outputs

    if model != "abm":
        abm_only = {
            "--workers": workers,
            "--scheduler": scheduler,
            "--trajectories": trajectories,
            "--block-size": block_size,
            "--resume": resume or None,
        }
        point_prediction(scenario, model, runs, seed, out, overwrite, [k for k, v in abm_only.items() if v is not None])
        return
    folder = out or default_out(scenario)
    if resume and (other := point_folder(folder)):
        fail(f"{folder}: holds a point prediction (model {other}), not an agent-based batch to resume")
    with reported():
        spec = load(scenario)
        try:
            with progress_bar(show_progress(quiet), spec.meta.name) as progress:
                run_batch(
                    spec,
                    folder,
                    runs=runs,
                    seed=seed,
                    workers=workers,
                    scheduler=scheduler,
                    block_size=block_size,
                    trajectories=trajectories,
                    resume=resume,
                    overwrite=overwrite,
                    progress=progress,
                )
        except KeyboardInterrupt:
            fail(
                f"{folder}: interrupted; finished chunks are kept. Finish with: negsim run {scenario} "
                f"--out {folder} --resume",
                130,
            )
        try:
            result = write_outputs(folder)
        except KeyboardInterrupt:
            fail(
                f"{folder}: interrupted while writing the summary; the runs are all there. "
                f"Finish with: negsim summary {folder}",
                130,
            )
    typer.echo(text(result) + f"\nresults: {folder}")


def point_prediction(
    scenario: Path,
    model: str,
    runs: int | None,
    seed: int | None,
    out: Path | None,
    overwrite: bool,
    abm_only: list[str],
) -> None:
    """``negsim run --model FAMILY``: a point prediction's results folder, and its summary printed."""
    from sim.analysis import families
    from sim.batch.runner import default_out
    from sim.scenario.loader import read
    from sim.scenario.problems import Problem, did_you_mean

    if model not in families.FAMILIES:
        known = ["abm", *families.FAMILIES]
        fail(f"--model {model!r}: unknown model family{did_you_mean(model, known, '')} (expected {', '.join(known)})")
    if abm_only:
        fail(f"{', '.join(abm_only)}: only for --model abm (a point prediction is computed in one go)")
    folder = out or Path(f"{default_out(scenario)}-{model}")
    with reported():
        spec = load(scenario)
        try:
            prediction = families.predict(spec, model, seed, runs)
        except families.FamilyError as exc:
            file, line = read(scenario)[1].get(exc.path, (str(scenario), 1))
            raise ScenarioError([Problem(file, line, exc.path, exc.message)]) from None
        summary = families.write_folder(prediction, folder, overwrite)
    typer.echo(families.text(summary) + f"\nresults: {folder}")


def point_folder(folder: Path) -> str | None:
    """The model family of a point prediction's results folder, else None (an agent-based batch or no folder)."""
    from sim.analysis.families import model_of
    from sim.batch.folder import read_meta

    if not (folder / "meta.json").is_file():
        return None
    with reported():
        model = model_of(read_meta(folder))
    return None if model == "abm" else model


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="scenario YAML files")]):
    """Check scenario files; print every problem as file:line: field: message."""
    bad = False
    for file in files:
        try:
            load(file)
            typer.echo(f"{file}: ok")
        except ScenarioError as exc:
            bad = True
            for problem in exc.problems:
                typer.echo(str(problem), err=True)
    if bad:
        raise typer.Exit(2)


@app.command()
def schema():
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from sim.scenario.schema import Scenario

    schema = _partial(Scenario.model_json_schema(by_alias=True))
    schema["properties"]["extends"] = {"type": "string", "description": "scenario file this one deep-merges onto"}
    typer.echo(json.dumps(schema, indent=2))


def _partial(node):
    """The schema as an editor should apply it to one file: a variant (``extends:``) sets only what it
    overrides, so only ids and distribution kinds stay required; ``negsim validate`` checks the merged whole."""
    if isinstance(node, dict):
        out = {k: _partial(v) for k, v in node.items() if k != "minItems"}
        if "required" in node:
            kept = [k for k in node["required"] if k in ("id", "dist")]
            out.pop("required")
            if kept:
                out["required"] = kept
        return out
    return [_partial(v) for v in node] if isinstance(node, list) else node


@app.command()
def summary(folder: Annotated[Path, typer.Argument(help="results folder")]):
    """Recompute and print the summary of a results folder."""
    from sim.analysis.summary import text
    from sim.briefing.outputs import write_outputs

    if point_folder(folder):
        from sim.analysis import families

        with reported():
            typer.echo(families.text(families.rewrite_summary(folder)))
        return
    with reported():
        typer.echo(text(write_outputs(folder)))


@app.command()
def report(folder: Annotated[Path, typer.Argument(help="results folder")]):
    """Write report.html and report.pdf, a self-contained briefing, into a results folder."""
    from sim.briefing.report import write_report

    if model := point_folder(folder):
        fail(
            f"{folder}: holds a point prediction (model {model}); the report briefs an agent-based batch "
            f"(put the two side by side with: negsim compare ABM_FOLDER {folder})"
        )
    with reported():
        for path in write_report(folder):
            typer.echo(str(path))


VARY = re.compile(r"^(?P<field>\w+(?:\.\w+)*)=(?P<lo>[^:=]+):(?P<hi>[^:=]+):(?P<steps>\d+)$")


def parse_vary(text: str) -> tuple[str, list[float]]:
    """``FIELD=LO:HI:STEPS`` as (field, STEPS evenly spaced values from LO to HI); anything else fails."""
    match = VARY.match(text)
    try:
        lo, hi, steps = float(match["lo"]), float(match["hi"]), int(match["steps"])
    except (TypeError, ValueError):
        fail(f"--vary {text!r}: expected FIELD=LO:HI:STEPS, e.g. actors.israel.reservation=0.5:0.9:5")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi or steps < 2:
        fail(f"--vary {text!r}: LO and HI must be two different numbers and STEPS at least 2")
    import numpy as np

    return match["field"], [round(float(v), 12) for v in np.linspace(lo, hi, steps)]


OVERWRITE = typer.Option(help="replace what the output folder already holds")


def output_folder(folder: Path, overwrite: bool) -> Path:
    """The folder an analysis writes into; one that already holds files is kept unless --overwrite."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())) and not overwrite:
        fail(f"{folder}: already holds files (use --overwrite to replace them, or choose another --out)")
    return folder


def write_csv_json(folder: Path, name: str, table, index: bool = False) -> None:
    """``name.csv`` and ``name.json`` (the table's attrs plus its rows) in ``folder``."""
    from sim.batch.folder import atomic_write

    rows = (table.reset_index() if index else table).astype(object)
    atomic_write(folder / f"{name}.csv", rows.to_csv(index=False))
    records = rows.where(rows.notna(), None).to_dict(orient="records")
    atomic_write(folder / f"{name}.json", json.dumps({**table.attrs, "rows": records}, indent=2, default=float))


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    vary: Annotated[
        list[str],
        typer.Option(help="FIELD=LO:HI:STEPS, e.g. actors.israel.reservation=0.5:0.9:5; repeat for a tornado"),
    ],
    runs: Annotated[int | None, typer.Option(min=1, help="runs per value (default: the scenario's meta.runs)")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/<scenario>-sweep)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """P(outcome) as one field at a time moves across a range; with several fields, a tornado of their swings."""
    from sim.analysis import sensitivity
    from sim.batch.runner import default_out
    from sim.briefing import plots

    grid = dict(parse_vary(v) for v in vary)
    if len(grid) < len(vary):
        fail("--vary names the same field twice")
    folder = output_folder(out or Path(f"{default_out(scenario)}-sweep"), overwrite)
    with reported():
        table = sensitivity.sweeps(scenario, grid, runs, seed)
    write_csv_json(folder, "sweep", table)
    plots.save(plots.sweep_figure(table, table.attrs), folder / "figures", "sweep")
    report = sensitivity.sweep_text(table)
    if len(grid) > 1:
        swings = sensitivity.swings(table)
        write_csv_json(folder, "tornado", swings)
        plots.save(plots.tornado_figure(swings, swings.attrs), folder / "figures", "tornado")
        report += "\n" + sensitivity.swings_text(swings)
    typer.echo(report + f"\nresults: {folder}")


class Method(StrEnum):
    sobol = "sobol"
    morris = "morris"


@app.command()
def sensitivity(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    method: Annotated[Method, typer.Option(help="Sobol indices or Morris elementary effects")] = Method.sobol,
    points: Annotated[
        int | None,
        typer.Option(min=1, help="Sobol: base points N, a power of 2 (default 256); Morris: trajectories (default 20)"),
    ] = None,
    runs_per_point: Annotated[int, typer.Option(min=1, help="runs played at each design point")] = 50,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
    outcome: Annotated[
        str, typer.Option(help="what to explain: declared, collapse, agreed:<issue> or implemented:<milestone>")
    ] = "declared",
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/<scenario>-<method>)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """Which uncertain parameters move P(declared), or another outcome, most: global indices over the distributions."""
    from sim.analysis import sensitivity as design
    from sim.batch.runner import default_out
    from sim.briefing import plots

    folder = output_folder(out or Path(f"{default_out(scenario)}-{method.value}"), overwrite)
    with reported():
        spec = load(scenario)
        try:
            if method is Method.sobol:
                indices = design.sobol(spec, runs_per_point, points or 256, seed, outcome=outcome)
            else:
                indices = design.morris(spec, runs_per_point, points or 20, seed, outcome=outcome)
        except design.DesignError as exc:
            fail(str(exc))
    write_csv_json(folder, "indices", indices, index=True)
    plots.save(plots.indices_figure(indices, indices.attrs), folder / "figures", method.value)
    typer.echo(design.indices_text(indices) + f"\nresults: {folder}")


@app.command()
def compare(
    items: Annotated[list[Path], typer.Argument(help="scenario files or results folders; the first is the reference")],
    runs: Annotated[int | None, typer.Option(min=1, help="runs per scenario file (default: its meta.runs)")] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="root seed for scenario files (default: their meta.seed)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/compare-<items>)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """P(outcome) side by side, and each item's change in P(declared) and P(collapse) from the first."""
    from sim.analysis.compare import abm_rows, text
    from sim.analysis.compare import compare as compared
    from sim.briefing import plots

    if len(items) < 2:
        fail("compare needs at least two scenario files or results folders")
    folder = output_folder(out or Path("results") / "-".join(["compare", *(Path(i).stem for i in items)]), overwrite)
    with reported():
        table = compared(items, runs, seed)
    write_csv_json(folder, "compare", table)
    abm = abm_rows(table)  # the figure shows probabilities: those of the agent-based items
    if len(abm):
        plots.save(plots.comparison_figure(abm.reset_index(drop=True), table.attrs), folder / "figures", "compare")
    typer.echo(text(table) + f"\nresults: {folder}")


@app.command(name="app")
def app_command(
    target: Annotated[
        Path | None, typer.Argument(help="scenario YAML file or results folder (default: none, browse results)")
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="results folder to browse (default: results/, or the given folder's parent)")
    ] = None,
    host: Annotated[str, typer.Option(help="address to listen on (loopback unless told otherwise)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port")] = 8765,
):
    """Start the web app: step through one run, ask what-if live, browse results (needs the 'app' extra)."""
    try:
        from sim.app.places import AppError
        from sim.app.server import serve
    except ImportError as exc:
        fail(f"the app needs its extra: pip install -e '.[app]' ({exc.name} is missing)")
    try:
        serve(target, results, host, port, echo=typer.echo)
    except AppError as exc:
        fail(str(exc))
