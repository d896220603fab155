"""The ``negsim`` command line: a thin layer over the ``sim`` API.

Problems with input print one line each (``file:line: field: message``) and exit with code 2.

Longer than 400 lines because it holds one function per command, and most of a command's lines declare its
options and their help; what a command does is the analysis and briefing layers' (the command checks its
flags, calls them, and turns their errors into one line).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from sim.analysis.errors import AnalysisError
from sim.batch.errors import ResultsError, SchedulerError, Stopped, StorageError, WorkersLost, storage_error
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import load
from sim.scenario.schema import MAX_RUNS

LARGEST = 2**63 - 1  # the engine's integers (seeds, run counts, indices) are 64-bit
MAX_WORKERS = 1024  # local processes (the operating system's semaphores count in C ints)


class Bounded(typer.Context):
    """A command's context that refuses an integer beyond what the engine can hold, naming its option."""

    def invoke(self, callback, /, *args, **kwargs):
        for name, value in kwargs.items():
            if isinstance(value, int) and not isinstance(value, bool) and not -LARGEST - 1 <= value <= LARGEST:
                param = next((p for p in self.command.params if p.name == name), None)
                raise typer.BadParameter(f"{value} is out of range (at most {LARGEST:,})", ctx=self, param=param)
        return super().invoke(callback, *args, **kwargs)


class Commands(TyperGroup):
    """negsim's commands: a bad value for an option or argument is one line (``negsim run: Invalid value for
    '--seed': ...``) and exit code 2, not the usage text; no integer goes beyond the engine's (:class:`Bounded`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            command.context_class = Bounded

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            with contextlib.suppress(OSError):
                typer.echo(f"negsim {ctx.invoked_subcommand}: {exc.format_message()}", err=True)
            raise typer.Exit(2) from None
        except ModuleNotFoundError as exc:
            extra = EXTRAS.get((exc.name or "").partition(".")[0])
            if extra is None:
                raise
            with contextlib.suppress(OSError):
                typer.echo(f"negsim {ctx.invoked_subcommand}: needs the '{extra}' extra: pip install -e "
                           f"'.[{extra}]' ({exc.name} is missing)", err=True)  # fmt: skip
            raise typer.Exit(2) from None


# The optional dependencies (pyproject.toml's extras) by the module they install: a command that needs one says so.
EXTRAS = dict.fromkeys(("SALib", "scoringrules", "dask", "distributed", "pyabc", "ema_workbench"), "validation")


app = typer.Typer(
    cls=Commands,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Agent-based negotiation simulator: scenarios, Monte Carlo batches, briefings.",
)


def fail(message: str, code: int = 2) -> None:
    with contextlib.suppress(OSError):  # after a hang-up the terminal may be gone
        typer.echo(f"negsim: {message}" if ":" not in message.split(" ")[0] else message, err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def reported():
    """Turn the project's own errors into one-line messages and exit code 2; errors of the machine
    (a full or read-only disk, a lost scheduler) exit with code 1."""
    try:
        yield
    except ScenarioError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None
    except (StorageError, WorkersLost) as exc:
        fail(str(exc), 1)
    except (ResultsError, SchedulerError, AnalysisError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(str(storage_error(exc, "negsim")), 1)


def stopped(exc: KeyboardInterrupt) -> str:
    return f"stopped by {exc.signal}" if isinstance(exc, Stopped) else "interrupted"


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
        typer.Option(
            min=1,
            max=MAX_WORKERS,
            help="local worker processes (default: all cores from 50,000 runs, in-process below)",
        ),
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786")] = None,
    trajectories: Annotated[int | None, typer.Option(min=0, help="record per-round state for this many runs")] = None,
    block_size: Annotated[int | None, typer.Option(min=1, help="runs played together in one block")] = None,
    resume: Annotated[bool, typer.Option(help="finish an interrupted batch in --out")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace results already in --out")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    precision: Annotated[
        float | None,
        typer.Option(
            min=0.0001,
            max=0.25,
            help="grow the batch in stages until the 95% intervals of P(declared / collapse / stalemate) are within "
            "± this (e.g. 0.005); --runs is then the cap (default 1,000,000)",
        ),
    ] = None,
    family: Annotated[
        str,
        typer.Option(
            "--model",
            help="abm (the agent-based model), or a point prediction from another model family: compromise, "
            "median, eum or nash (at each distribution's median, or over --runs draws at --seed)",
        ),
    ] = "abm",
    forecast_log: Annotated[
        Path | None, typer.Option(help="append the forecast (probabilities, scenario hash, seed, runs) to this log")
    ] = None,
    question: Annotated[
        str | None, typer.Option(help="the question the forecast answers, in the log (default: the scenario's name)")
    ] = None,
):
    """Run a Monte Carlo batch; write the results and print them.

    With --model, another model family's point prediction instead of the batch."""
    from sim.analysis.precision import run_to_precision
    from sim.analysis.prediction_folder import agent_based
    from sim.analysis.summary_text import summary_text
    from sim.batch.runner import Execution, default_out, run_batch
    from sim.batch.signals import stop_on_signals
    from sim.briefing.outputs import write_outputs

    if family != "abm":
        abm_only = {
            "--workers": workers,
            "--scheduler": scheduler,
            "--trajectories": trajectories,
            "--block-size": block_size,
            "--resume": resume or None,
            "--precision": precision,
            "--forecast-log": forecast_log,
            "--question": question,
        }
        point_prediction(
            scenario, family, runs, seed, out, overwrite, [k for k, v in abm_only.items() if v is not None]
        )
        return
    if precision is not None and block_size is not None:
        fail("--block-size: not with --precision (the first stage sets the block size)")
    folder = out or default_out(scenario)
    if resume:
        with reported():
            agent_based(folder, ", not an agent-based batch to resume")
    finish = f"Finish with: negsim run {scenario} --out {folder} --resume" + (
        f" --precision {precision:g}" if precision else ""
    )
    with reported(), stop_on_signals():
        spec = load(scenario)
        if forecast_log:
            from sim.analysis import forecast_log as log

            log.check(forecast_log)  # before the batch, not after it
        try:
            with progress_bar(show_progress(quiet), spec.meta.name) as progress:
                how = Execution(seed, workers, scheduler, block_size, trajectories, resume, overwrite, progress)
                if precision is None:
                    run_batch(spec, folder, runs=runs, execution=how)
                else:
                    run_to_precision(spec, folder, precision, max_runs=runs, execution=how)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP
            fail(f"{folder}: {stopped(exc)}; finished chunks are kept. {finish}", getattr(exc, "exit_code", 130))
        except (StorageError, WorkersLost) as exc:
            fail(f"{exc}" + (f"; finished chunks are kept. {finish}" if exc.resumable else ""), 1)
        summarise = f"Finish with: negsim summary {folder}"
        try:
            result = write_outputs(folder)
        except KeyboardInterrupt as exc:
            fail(
                f"{folder}: {stopped(exc)} while writing the summary; the runs are all there. {summarise}",
                getattr(exc, "exit_code", 130),
            )
        except OSError as exc:
            fail(f"{storage_error(exc, folder)}; the runs are all there. {summarise}", 1)
        if forecast_log:
            log.append(forecast_log, log.entry(folder, question))
    typer.echo(
        summary_text(result) + f"\nresults: {folder}" + (f"\nforecast filed in {forecast_log}" if forecast_log else "")
    )


def point_prediction(
    scenario: Path,
    family: str,
    runs: int | None,
    seed: int | None,
    out: Path | None,
    overwrite: bool,
    abm_only: list[str],
) -> None:
    """``negsim run --model FAMILY``: a point prediction's results folder, and its summary printed."""
    from sim.analysis.families import MODEL_FAMILIES
    from sim.analysis.predict import predict_file
    from sim.analysis.prediction_folder import prediction_text, write_folder
    from sim.batch.runner import default_out
    from sim.scenario.errors import did_you_mean

    if family not in MODEL_FAMILIES:
        known = ["abm", *MODEL_FAMILIES]
        fail(f"--model {family!r}: unknown model family{did_you_mean(family, known, '')} (expected {', '.join(known)})")
    if abm_only:
        fail(f"{', '.join(abm_only)}: only for --model abm (a point prediction is computed in one go)")
    folder = out or Path(f"{default_out(scenario)}-{family}")
    with reported():
        summary = write_folder(predict_file(scenario, family, seed, runs), folder, overwrite)
    typer.echo(prediction_text(summary) + f"\nresults: {folder}")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario YAML files")],
    observed: Annotated[bool, typer.Option(help="the files are observed-outcomes files, not scenarios")] = False,
    strict: Annotated[
        bool, typer.Option(help="also require a basis for every number a scenario file sets (not meta or outputs)")
    ] = False,
):
    """Check scenario or observed-outcomes files.

    Prints every problem as file:line: field: message. A case file (a scenario that an observed-outcomes file
    scores) is also checked for hindsight: its events and expiries may take nothing from after its start."""
    from sim.scenario.loader import load_case
    from sim.scenario.observed import load_observed
    from sim.scenario.sources import load_sourced

    bad = False
    for file in files:
        try:
            (load_observed if observed else load_sourced if strict else load_case)(file)
            typer.echo(f"{file}: ok")
        except ScenarioError as exc:
            bad = True
            for problem in exc.problems:
                typer.echo(str(problem), err=True)
    if bad:
        raise typer.Exit(2)


@app.command()
def schema():
    """Print the JSON Schema of scenario files (for editors).

    A full file must give what a scenario needs; a variant (``extends:``) only what it overrides."""
    from sim.scenario.json_schema import scenario_schema

    typer.echo(json.dumps(scenario_schema(), indent=2))


@app.command()
def summary(folder: Annotated[Path, typer.Argument(help="results folder")]):
    """Recompute and print the summary of a results folder."""
    from sim.analysis.prediction_folder import point_family, prediction_text, rewrite_summary
    from sim.analysis.summary_text import summary_text
    from sim.briefing.outputs import write_outputs

    with reported():
        if point_family(folder):
            typer.echo(prediction_text(rewrite_summary(folder)))
        else:
            typer.echo(summary_text(write_outputs(folder)))


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="results folder")],
    seeds: Annotated[
        Path | None,
        typer.Option(
            help="folder of the seed digests the scenario cites (default: seeds/ beside the results or "
            "the repository's; a case's own folder, cases/<case>, holds its digest)"
        ),
    ] = None,
):
    """Write a briefing of a results folder (HTML and PDF).

    Writes report.html, self-contained, and report.pdf into the folder."""
    from sim.briefing.report import write_report

    with reported():
        for path in write_report(folder, seeds):
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


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    vary: Annotated[
        list[str],
        typer.Option(help="FIELD=LO:HI:STEPS, e.g. actors.israel.reservation=0.5:0.9:5; repeat for a tornado"),
    ],
    runs: Annotated[int | None, typer.Option(min=1, help="runs per value (default: the scenario's meta.runs)")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: results/<scenario>-sweep-<fields swept>)")
    ] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """P(outcome) as one field at a time moves across a range.

    With several fields, a tornado of their swings too."""
    from sim.analysis import sensitivity
    from sim.batch.runner import default_out
    from sim.briefing.analysis_outputs import output_folder, write_sweep

    grid = dict(parse_vary(v) for v in vary)
    if len(grid) < len(vary):
        fail("--vary names the same field twice")
    with reported():
        folder = output_folder(out or sweep_out(default_out(scenario), grid), overwrite)
        table = sensitivity.sweeps(scenario, grid, runs, seed)
    swings = sensitivity.swings(table) if len(grid) > 1 else None
    write_sweep(folder, table, swings)
    report = sensitivity.sweep_text(table) + ("\n" + sensitivity.swings_text(swings) if swings is not None else "")
    typer.echo(report + f"\nresults: {folder}")


def sweep_out(base: Path, grid: dict) -> Path:
    """A sweep's default folder, named by the fields it sweeps (a digest of them if their names are long), so that a
    sweep over other fields does not meet the folder of the first."""
    fields = "+".join(grid)
    return Path(f"{base}-sweep-{fields if len(fields) <= 80 else hashlib.sha256(fields.encode()).hexdigest()[:12]}")


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
    measure: Annotated[
        str,
        typer.Option(
            "--outcome", help="what to explain: declared, collapse, agreed:<issue> or implemented:<milestone>"
        ),
    ] = "declared",
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/<scenario>-<method>)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """Which uncertain parameters move the outcome most.

    Global indices (Sobol or Morris) of P(declared), or another outcome, over the scenario's distributions."""
    from sim.analysis import sensitivity
    from sim.batch.runner import default_out
    from sim.briefing.analysis_outputs import output_folder, write_indices

    with reported():
        folder = output_folder(out or Path(f"{default_out(scenario)}-{method.value}"), overwrite)
        spec = load(scenario)
        if method is Method.sobol:
            indices = sensitivity.sobol(spec, runs_per_point, points or 256, seed, measure=measure)
        else:
            indices = sensitivity.morris(spec, runs_per_point, points or 20, seed, measure=measure)
    write_indices(folder, indices, method.value)
    typer.echo(sensitivity.indices_text(indices) + f"\nresults: {folder}")


@app.command()
def compare(
    items: Annotated[
        list[Path] | None, typer.Argument(help="scenario files or results folders; the first is the reference")
    ] = None,
    runs: Annotated[int | None, typer.Option(min=1, help="runs per scenario file (default: its meta.runs)")] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="root seed for scenario files (default: their meta.seed)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/compare-<items>)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
    by_parameter: Annotated[
        bool,
        typer.Option(help="two results folders or scenario files: which changed values moved the numbers, how much"),
    ] = False,
    forecast_log: Annotated[
        Path | None, typer.Option(help="compare two forecasts of one question from this log, change by change")
    ] = None,
    question: Annotated[
        str | None, typer.Option(help="with --forecast-log: the question (default: that of the log's last entry)")
    ] = None,
    entry: Annotated[
        list[int] | None,
        typer.Option(
            min=1, help="with --forecast-log: a forecast by its line in the log; twice (default: the last two)"
        ),
    ] = None,
):
    """Scenarios or results side by side, with each one's change.

    P(outcome) side by side, and each item's change in P(declared) and P(collapse) from the first; with
    --by-parameter or --forecast-log, what moved the numbers between two forecasts, change by change."""
    items = items or []
    if forecast_log is not None or by_parameter:
        what_moved(items, forecast_log, question, entry or [], runs, seed, out, overwrite)
        return
    from sim.analysis.compare import compare as compared
    from sim.analysis.compare import comparison_text
    from sim.briefing.analysis_outputs import output_folder, write_comparison

    if len(items) < 2:
        fail("compare needs at least two scenario files or results folders")
    with reported():
        folder = output_folder(
            out or Path("results") / "-".join(["compare", *(Path(i).stem for i in items)]), overwrite
        )
        table = compared(items, runs, seed)
    write_comparison(folder, table)
    typer.echo(comparison_text(table) + f"\nresults: {folder}")


def what_moved(
    items: list[Path],
    forecast_log: Path | None,
    question: str | None,
    lines: list[int],
    runs: int | None,
    seed: int | None,
    out: Path | None,
    overwrite: bool,
) -> None:
    """``negsim compare --forecast-log`` or ``--by-parameter``: the earlier forecast's scenario changed one value
    at a time towards the later one, each played with the same runs and seed."""
    from sim.analysis import attribution
    from sim.analysis import forecast_log as log
    from sim.briefing.analysis_outputs import output_folder, write_table

    if forecast_log is not None and items:
        fail("--forecast-log compares two forecasts from the log: give no scenario files or results folders")
    if forecast_log is None and len(items) != 2:
        fail("--by-parameter compares two results folders or scenario files: the earlier forecast first")
    default = Path("results") / ("compare-forecasts" if forecast_log else "-".join(["moved", *(i.stem for i in items)]))
    with reported():
        if forecast_log is not None:
            entries, skipped = log.read(forecast_log)
            for note in skipped:
                typer.echo(note, err=True)
            earlier, later = (log.version(forecast_log, e) for e in log.pair(forecast_log, entries, lines, question))
        else:
            earlier, later = (attribution.version_of(i) for i in items)
        folder = output_folder(out or default, overwrite)
        table = attribution.what_moved(earlier, later, runs, seed)
    write_table(folder, "moved", table)
    typer.echo(attribution.attribution_text(table, earlier.label, later.label) + f"\nresults: {folder}")


@app.command()
def score(
    folders: Annotated[
        list[Path] | None, typer.Argument(help="results folders, one per --observed file, in the same order")
    ] = None,
    observed: Annotated[
        list[Path] | None, typer.Option(help="observed-outcomes file (YAML); repeat, one per results folder")
    ] = None,
    forecast_log: Annotated[
        Path | None, typer.Option(help="also score the log's forecasts of each observed file's question")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write score.csv and score.json into this folder")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """Score forecasts against what happened (Brier, log score).

    Per event the model's probability and the outcome, then Brier and log scores beside 50% on everything and
    the reference class's base rate; pooled over every forecast given."""
    import pandas as pd

    from sim.analysis import forecast_log as log
    from sim.analysis import score as scoring
    from sim.briefing.analysis_outputs import output_folder, write_table
    from sim.scenario.observed import load_observed

    folders, observed = folders or [], observed or []
    if not observed:
        fail("score needs at least one --observed file")
    if not folders and forecast_log is None:
        fail("score needs results folders (one per --observed file) or a --forecast-log")
    if folders and len(folders) != len(observed):
        fail(
            f"{len(folders)} results folder(s) but {len(observed)} observed file(s): "
            "give one --observed file per results folder, in the same order"
        )
    tables = []
    with reported():
        folder_out = output_folder(out, overwrite) if out else None
        files = [load_observed(path) for path in observed]
        tables += [scoring.score(scoring.from_folder(f), o) for f, o in zip(folders, files, strict=False)]
        if forecast_log is not None:
            entries, skipped = log.read(forecast_log)
            for note in skipped:
                typer.echo(note, err=True)
            for path, o in zip(observed, files, strict=True):
                found = log.forecasts_of(entries, o.question)
                if not found:
                    asked = ", ".join(repr(q) for q in dict.fromkeys(e["question"] for e in entries)) or "none"
                    fail(
                        f"{forecast_log}: no forecast of {o.question!r}, the question of {path} (the log has: {asked})"
                    )
                tables += [scoring.score(log.forecast(forecast_log, e), o) for e in found]
    table = pd.concat(tables, ignore_index=True)
    if folder_out:
        write_table(folder_out, "score", table)
    typer.echo(scoring.scores_text(table) + (f"\nresults: {folder_out}" if folder_out else ""))


@app.command()
def calibrate(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file whose uncertain parameters to fit")],
    targets: Annotated[Path, typer.Option(help="targets YAML: a reference class's cases and frequencies")],
    out: Annotated[Path, typer.Option(help="the calibrated scenario to write (it extends SCENARIO)")],
    param: Annotated[
        list[str] | None, typer.Option(help="a parameter path to fit (repeat; default: every uncertain parameter)")
    ] = None,
    population: Annotated[int, typer.Option(min=10, help="particles per ABC-SMC population")] = 100,
    generations: Annotated[int, typer.Option(min=1, help="most populations")] = 6,
    min_epsilon: Annotated[float, typer.Option(min=0, help="stop at this tolerance, in the targets' sds")] = 1.0,
    runs_per_point: Annotated[int, typer.Option(min=1, help="runs played for each particle")] = 200,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
    folder: Annotated[
        Path | None, typer.Option(help="calibration folder (default: results/calibrate-<OUT name>)")
    ] = None,
    resume: Annotated[bool, typer.Option(help="finish an interrupted calibration in --folder")] = False,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """Fit uncertain parameters to a reference class (ABC-SMC).

    Fits them to the reference class's frequencies and writes a scenario with the posterior."""
    from sim.analysis import calibrate as cal
    from sim.analysis.calibrated_scenario import calibrated_file, write_scenario
    from sim.briefing.analysis_outputs import write_calibration
    from sim.scenario.targets import load_targets

    folder = folder or Path("results") / f"calibrate-{out.stem}"
    if out.exists() and not (overwrite or resume):
        fail(f"{out}: already exists (use --overwrite to replace it, or choose another --out)")
    settings = cal.Settings(population, generations, min_epsilon, runs_per_point, seed)
    with reported():
        spec = load(scenario)
        goals, where = load_targets(targets)
        cal.check_targets(spec, scenario, goals, targets, where)
        params = cal.chosen(spec, param)
        try:
            result = cal.calibrate(spec, goals, params, folder, settings, resume, overwrite)
        except KeyboardInterrupt:
            fail(
                f"{folder}: interrupted; every finished population is kept and {out} was not written. Finish with: "
                f"negsim calibrate {scenario} --targets {targets} --out {out} --folder {folder} --resume",
                130,
            )
        write_calibration(folder, result, cal.prior_draws(spec, params))
        write_scenario(calibrated_file(spec, scenario, goals, targets, result, folder, out), out)
    typer.echo(cal.calibration_text(result) + f"\nscenario: {out}\ncalibration: {folder}")


@app.command()
def transfer(
    library: Annotated[
        Path, typer.Argument(help="case library index (YAML): cases, observed files, shared parameters")
    ],
    out: Annotated[
        Path | None, typer.Option(help="folder for the tables (default: results/transfer-<LIBRARY name>)")
    ] = None,
    population: Annotated[int, typer.Option(min=10, help="particles per ABC-SMC population")] = 30,
    generations: Annotated[int, typer.Option(min=1, help="most populations")] = 3,
    min_epsilon: Annotated[float, typer.Option(min=0, help="stop at this tolerance, in the targets' sds")] = 1.0,
    runs_per_point: Annotated[int, typer.Option(min=1, help="runs played for each particle")] = 100,
    runs: Annotated[int, typer.Option(min=1, help="runs of each case's calibrated and prior forecasts")] = 2000,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: each case's meta.seed)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """Calibrate each library case on the others, score it (LOCO).

    For each case of the library, fits its shared parameters to the other cases' observed frequencies (ABC-SMC)
    and scores its observed events: calibrated, uncalibrated, 50% and the other cases' base rate."""
    from sim.analysis import calibrate as cal
    from sim.analysis import transfer as loco
    from sim.briefing.analysis_outputs import output_folder, write_table
    from sim.scenario.library import load_library

    out = out or Path("results") / f"transfer-{library.stem}"
    settings = cal.Settings(population, generations, min_epsilon, runs_per_point, seed, loco.SMALL.predictive_draws)
    with reported():
        folder = output_folder(out, overwrite)
        index, cases = load_library(library)
        table, means, calibrations = loco.leave_one_out(index, cases, folder, settings, runs, overwrite)
        write_table(folder, "transfer", table)
        write_table(folder, "transfer_means", means)
    typer.echo(loco.transfer_text(table, means, calibrations) + f"\nresults: {folder}")


@app.command()
def discover(
    folder: Annotated[Path, typer.Argument(help="results folder of a batch (its runs hold the sampled parameters)")],
    measure: Annotated[
        str,
        typer.Option("--outcome", help="what to find: declared, collapse, agreed:<issue> or implemented:<milestone>"),
    ] = "declared",
    min_coverage: Annotated[
        float, typer.Option(min=0, max=1, help="the chosen box is the densest with at least this coverage")
    ] = 0.5,
    mass_min: Annotated[float, typer.Option(min=0.001, max=0.5, help="smallest share of runs in a box or leaf")] = 0.05,
    peel_alpha: Annotated[float, typer.Option(min=0.001, max=0.5, help="share of runs PRIM peels per step")] = 0.05,
    max_qp: Annotated[
        float, typer.Option(min=0, max=1, help="drop the chosen box's restrictions with a quasi-p value above this")
    ] = 0.05,
    out: Annotated[Path | None, typer.Option(help="output folder (default: results/<folder>-discover-<what>)")] = None,
    overwrite: Annotated[bool, OVERWRITE] = False,
):
    """Where in the parameters an outcome is likeliest (PRIM, CART).

    Scenario discovery: the regions of the sampled parameters where an outcome is likeliest."""
    from sim.analysis.discover import discover, discovery_text
    from sim.briefing.analysis_outputs import output_folder, write_discovery

    name = measure.replace(":", "-")
    with reported():
        target = output_folder(out or Path("results") / f"{folder.name}-discover-{name}", overwrite)
        found = discover(folder, measure, min_coverage, mass_min, peel_alpha, max_qp)
    write_discovery(target, found)
    typer.echo(discovery_text(found) + f"\nresults: {target}")


@app.command(name="app")
def app_command(
    target: Annotated[
        Path | None, typer.Argument(help="scenario YAML file or results folder (default: none, browse results)")
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="results folder to browse (default: results/, or the given folder's parent)")
    ] = None,
    variants: Annotated[
        Path | None,
        typer.Option(help="folder the what-if saves variants in (default: the scenario's; for a results folder, here)"),
    ] = None,
    host: Annotated[str, typer.Option(help="address to listen on (loopback unless --remote)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port (0: any free one)")] = 8765,
    remote: Annotated[
        bool, typer.Option(help="allow a --host beyond loopback: other machines that have the address may drive it")
    ] = False,
):
    """Start the web app (needs the 'app' extra).

    Step through one run, ask what-if live, browse results.

    It prints the address to open, with a secret token: only a tab that opened it may drive the app."""
    try:
        from sim.app.places import AppError
        from sim.app.server import serve
    except ImportError as exc:
        fail(f"the app needs its extra: pip install -e '.[app]' ({exc.name} is missing)")
    try:
        serve(target, results, host, port, remote, variants, echo=typer.echo)
    except AppError as exc:
        fail(str(exc))


@app.command()
def explain(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    runs: Annotated[int, typer.Option(min=1, max=100_000, help="runs in the small batch it reads")] = 300,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the scenario's meta.seed)")] = None,
):
    """What never happens in a scenario, and why.

    Bounds that cannot overlap, preconditions never resolved, issues never agreed, actors that cannot block,
    mechanisms that cannot change the answer."""
    from sim.analysis.explain import explained, explanation_text

    with reported():
        spec = load(scenario)
        table, findings = explained(spec, runs, seed)
    typer.echo(explanation_text(spec, table, findings))


@app.command()
def new(
    out: Annotated[Path, typer.Argument(help="the scenario YAML file to write")],
    actor: Annotated[
        list[str],
        typer.Option(help="an actor, NAME or NAME:ROLE (repeat; the first two are principals, others mediators)"),
    ],
    issue: Annotated[list[str], typer.Option(help="an issue, by its label (repeat)")],
    phase: Annotated[
        list[str] | None, typer.Option(help="a phase, by its label, in declaration order (repeat; default: one)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the scenario's name (default: from the file name)")] = None,
    start_date: Annotated[
        str | None, typer.Option(help="the date of round 0, e.g. 27 Nov 2024 (default: today)")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the start date as YYYYMMDD)")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace the file if it exists")] = False,
):
    """Write a commented starter scenario that validates as written.

    The actors, issues and phases named here, and neutral placeholder numbers to replace with sourced ones."""
    from sim.scenario.fields import written_date
    from sim.scenario.starter import starter

    if out.exists() and not overwrite:
        fail(f"{out}: exists (give --overwrite to replace it)")
    try:
        day = written_date(start_date) if start_date else None
        text = starter(name or out.stem.replace("_", " "), actor, issue, phase, day, seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc) if str(exc).startswith("--") else f"--start-date: {exc}") from None
    with reported():
        out.write_text(text, encoding="utf-8")
        load(out)
    typer.echo(f"{out}: written; edit it, then: negsim validate {out} && negsim explain {out}")
