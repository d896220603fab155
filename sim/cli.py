"""The ``negsim`` command line: a thin layer over the ``sim`` API.

Problems with input print one line each (``file:line: field: message``) and exit with code 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from sim.loader import ScenarioError, load
from sim.results import ResultsError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Agent-based negotiation simulator: scenarios, Monte Carlo batches, briefings.")


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
    except ResultsError as exc:
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
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    runs: Annotated[Optional[int], typer.Option(min=1, help="number of runs (default: the scenario's meta.runs)")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="results folder (default: results/<scenario name>)")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="local worker processes (default: all cores)")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address, e.g. tcp://host:8786")] = None,
    trajectories: Annotated[Optional[int], typer.Option(min=0, help="record per-round state for this many runs")] = None,
    block_size: Annotated[Optional[int], typer.Option(min=1, help="runs played together in one block")] = None,
    resume: Annotated[bool, typer.Option(help="finish an interrupted batch in --out")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace results already in --out")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
):
    """Run a Monte Carlo batch, write the results folder and print the summary."""
    from sim.batch import default_out, run_batch
    from sim.outputs import write_outputs
    from sim.summary import text

    folder = out or default_out(scenario)
    with reported():
        spec = load(scenario)
        try:
            with progress_bar(show_progress(quiet), spec.meta.name) as progress:
                run_batch(spec, folder, runs=runs, seed=seed, workers=workers, scheduler=scheduler,
                          block_size=block_size, trajectories=trajectories, resume=resume, overwrite=overwrite,
                          progress=progress)
        except KeyboardInterrupt:
            fail(f"{folder}: interrupted; finished chunks are kept. Finish with: negsim run {scenario} "
                 f"--out {folder} --resume", 130)
        result = write_outputs(folder)
    typer.echo(text(result) + f"\nresults: {folder}")


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
    from sim.scenario import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


@app.command()
def summary(folder: Annotated[Path, typer.Argument(help="results folder")]):
    """Recompute and print the summary of a results folder."""
    from sim.outputs import write_outputs
    from sim.summary import text

    with reported():
        typer.echo(text(write_outputs(folder)))


def main():  # pragma: no cover - console entry point
    app()
