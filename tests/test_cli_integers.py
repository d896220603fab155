"""Every integer option of every command: a value out of its range (``--seed 18446744073709551616``, a negative
count, a number beyond the engine's 64-bit integers) is one line naming the option, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import LARGEST, app

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
COMMANDS = typer.main.get_command(app).commands
INTEGERS = sorted(
    (name, p.opts[0], p.min, p.max)
    for name, command in COMMANDS.items()
    for p in command.params
    if getattr(p, "type_descriptor", None) is not None and p.type_descriptor.annotation is int
)


def needed(name: str) -> list[str]:
    """What the command needs besides the option (its arguments and required options), any valid-looking value."""
    out = []
    for p in COMMANDS[name].params:
        if p.required:
            value = "actors.israel.reservation=0.5:0.9:3" if p.name == "vary" else BASELINE
            out += [value] if type(p).__name__ == "TyperArgument" else [p.opts[0], value]
    return out


def test_every_integer_option_is_listed():
    options = {(name, opt) for name, opt, _, _ in INTEGERS}
    assert {("run", "--seed"), ("run", "--runs"), ("run", "--workers"), ("app", "--port")} <= options
    assert len(options) >= 12


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_an_integer_out_of_range_is_one_line_exit_2_and_no_traceback(data):
    name, option, low, high = data.draw(st.sampled_from(INTEGERS))
    low = -LARGEST - 1 if low is None else low
    high = LARGEST if high is None else high
    value = data.draw(
        st.integers(max_value=low - 1) | st.integers(min_value=high + 1) | st.sampled_from([2**64, 2**63, -(2**63) - 1])
    )
    if low <= value <= high:
        return
    result = CliRunner().invoke(app, [name, *needed(name), option, str(value)])
    assert result.exit_code == 2, (name, option, value, result.output)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"negsim {name}: Invalid value for '{option}'"), result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OverflowError)


def test_the_seed_of_the_issue_is_one_line_from_the_shell_and_the_largest_seed_runs(tmp_path):
    negsim = str(Path(sys.executable).with_name("negsim"))
    done = subprocess.run(
        [negsim, "run", BASELINE, "--seed", "18446744073709551616", "--runs", "10"], capture_output=True, text=True
    )
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip() == (
        "negsim run: Invalid value for '--seed': 18446744073709551616 is out of range "
        "(at most 9,223,372,036,854,775,807)"
    )
    done = subprocess.run(
        [negsim, "run", BASELINE, "--seed", str(LARGEST), "--runs", "20", "--out", str(tmp_path / "r"), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "meta.json").read_text().count(str(LARGEST)) == 1
