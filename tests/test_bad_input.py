"""Bad scenario files: every mutation of a valid scenario is accepted or rejected cleanly.

Each mutated file goes through the real command line (``negsim validate FILE`` and ``negsim run FILE``,
in-process through typer's runner, a handful as real subprocesses). The contract: exit 0, or exit 2
with stderr made only of ``file:line: field: message`` lines, never a traceback, within a generous
time bound, and a rejected ``run`` leaves no results folder behind. Mutations tried, rejected and
accepted are printed per family (``pytest -s``) and carried in the assertion messages.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario.loader import MAX_BYTES

ROOT = Path(__file__).resolve().parents[1]
BASELINE_FILE = ROOT / "scenarios" / "baseline.yaml"
BASELINE = yaml.safe_load(BASELINE_FILE.read_text())
NEGSIM = Path(sys.executable).with_name("negsim")
PROBLEM_LINE = re.compile(r"^[^:]+:\d+: \S.*: .+$")
TIME_LIMIT = 120  # seconds per command: generous, only there to turn a hang into a failure

SMALL = {  # every kind of object once, with distributions; two figures keep accepted runs quick
    "meta": {"name": "small", "start_date": "2025-12-15", "horizon": 8, "runs": 100, "seed": 3},
    "issues": [
        {"id": "land", "label": "Land", "low": "none", "high": "all"},
        {"id": "guns", "label": "Guns", "low": "kept", "high": "handed over"},
    ],
    "actors": [
        {
            "id": "north",
            "role": "principal",
            "position": {"land": 80, "guns": 90},
            "salience": {"land": 0.6, "guns": 0.4},
            "capability": 0.8,
            "reservation": {"dist": "uniform", "low": 0.4, "high": 0.6},
            "concession": {
                "strategy": "boulware",
                "exponent": {"dist": "triangular", "low": 0.2, "mode": 0.4, "high": 0.8},
                "deadline": 12,
            },
        },
        {
            "id": "south",
            "role": "principal",
            "position": {"land": 20, "guns": 10},
            "salience": {"land": 0.5, "guns": 0.5},
            "reservation": {"dist": "beta", "a": 2, "b": 3},
            "noise": {"dist": "normal", "mean": 0.02, "sd": 0.01, "low": 0, "high": 0.1},
            "concession": {"strategy": "responsive", "deadline": {"dist": "uniform", "low": 6, "high": 20}},
        },
        {
            "id": "broker",
            "role": "broker",
            "position": {"land": 50, "guns": 50},
            "salience": {"land": 0.5, "guns": 0.5},
            "capability": {"dist": "choice", "values": [0.5, 1.0]},
            "budget": 10,
            "bridging": "maximin",
        },
        {"id": "militia", "role": "spoiler"},
    ],
    "red_lines": [
        {"id": "keep_guns", "actor": "south", "issue": "guns", "max": 70, "relax": {"to": 80, "audience_cost": 0.05}}
    ],
    "preconditions": [{"id": "calm", "actor": "north", "flag": "quiet", "waivable": True, "waiver_pressure": 0.1}],
    "phases": [
        {"id": "truce", "gate": {"consent": ["north", "south"], "settle": ["land"], "defer": ["guns"]}},
    ],
    "leverage": [
        {
            "id": "push",
            "from": "broker",
            "to": "north",
            "strength": 0.02,
            "cost": 1,
            "credibility": 0.8,
            "erosion": 0.1,
            "follow_through": 0.5,
            "when": {"requires": ["talks"]},
        }
    ],
    "guarantees": [{"id": "pledge", "from": "broker", "to": "south", "issues": ["guns"], "value": 0.05, "cost": 2}],
    "vetoes": [{"by": "north", "of": "broker", "issue": "land"}],
    "veto_players": [
        {"id": "hawks", "principal": "north", "bounds": {"land": {"min": 40}}, "when": {"unless": ["quiet"]}}
    ],
    "world": {"flags": {"quiet": False, "talks": True}},
    "events": [
        {"id": "lull", "hazard": 0.2, "effects": {"set": ["quiet"], "pressure": {"south": 0.05}}},
        {"id": "clash", "rate": 0.3, "collapse": 0.02, "effects": {"reservation": {"north": 0.01}}},
        {
            "id": "summit",
            "convened_by": "broker",
            "cost": 1,
            "when": {"from_round": 2},
            "effects": {"align": {"broker": {"toward": "south", "share": 0.2}}},
        },
        {"id": "bomb", "by": "militia", "rate": 0.05, "after_progress": {"factor": 4, "window": 2}, "collapse": 0.1},
    ],
    "milestones": [{"id": "handover", "issues": ["guns"], "phase": "truce", "hazard": 0.3}],
    "risk": {"hazard": 0.01, "stall_after": 3, "stall_growth": 0.1, "stall_cap": 2, "agreement_factor": 0.8},
    "protocol": {
        "rule": "bridging",
        "tabled_by": ["broker"],
        "pressure_decay": 0.1,
        "opens_when": {"requires": ["talks"]},
    },
    "outputs": {"trajectories": 5, "figures": ["outcomes", "blocking"]},
}
SCENARIOS = {"baseline": BASELINE, "small": SMALL}

# mappings that are schema objects (unknown keys are errors there), by dotted path
OBJECT = re.compile(
    r"^(|meta|world|protocol|outputs|risk|protocol\.opens_when"
    r"|(issues|actors|red_lines|preconditions|phases|leverage|guarantees|vetoes|veto_players|events|milestones)\.\d+"
    r"|actors\.\d+\.concession|red_lines\.\d+\.relax|phases\.\d+\.gate|(leverage|events|veto_players)\.\d+\.when"
    r"|events\.\d+\.(effects|after_progress))$"
)
# schema objects held in a mapping by name (a veto player's bound on an issue, an event's alignment of an actor)
NAMED_OBJECT = re.compile(r"^(veto_players\.\d+\.bounds\.[a-z_]+|events\.\d+\.effects\.align\.[a-z_]+)$")
# string values that name an actor, an issue or a flag
REFERENCE = {
    "actor": re.compile(
        r"^(red_lines|preconditions)\.\d+\.actor$|^(leverage|guarantees)\.\d+\.(from|to)$"
        r"|^protocol\.(at_table|tabled_by)\.\d+$|^phases\.\d+\.gate\.consent\.\d+$|^vetoes\.\d+\.(by|of)$"
        r"|^veto_players\.\d+\.principal$|^events\.\d+\.(convened_by|by)$|^events\.\d+\.effects\.align\.\w+\.toward$"
    ),
    "issue": re.compile(
        r"^(red_lines|vetoes)\.\d+\.issue$|^phases\.\d+\.gate\.(settle|defer)\.\d+$"
        r"|^(milestones|guarantees)\.\d+\.issues\.\d+$"
    ),
    "flag": re.compile(
        r"^preconditions\.\d+\.flag$|^(leverage|events|veto_players)\.\d+\.when\.(requires|unless)\.\d+$"
        r"|^protocol\.opens_when\.(requires|unless)\.\d+$"
    ),
    "phase": re.compile(r"^milestones\.\d+\.phase$|^phases\.\d+\.gate\.after$"),
    "precondition": re.compile(r"^phases\.\d+\.gate\.preconditions\.\d+$"),
}
ODD_VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            "",
            "many",
            [],
            {},
            [1, 2],
            {"x": 1},
            math.nan,
            math.inf,
            -math.inf,
            -1,
            0,
            0.5,
            101,
            1e308,
            -1e308,
            10**30,
            2**63,
            "2025-13-01",
            {"dist": "uniform", "low": 0, "high": 1},
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=12),
)
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80abc"]

runner = CliRunner()


# ------------------------------------------------------------------ data surgery
def nodes(data, path=()):
    """Every (path, value) in nested data, containers included, root excluded."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key), value
        yield from nodes(value, (*path, key))


def dotted(path) -> str:
    return ".".join(str(p) for p in path)


def named(data, path) -> str:
    """The path as errors print it: list items by their id where they have one."""
    parts, node = [], data
    for p in path:
        node = node[p] if isinstance(node, (dict, list)) and (isinstance(node, list) or p in node) else None
        ident = node.get("id") if isinstance(p, int) and isinstance(node, dict) else None
        parts.append(ident if isinstance(ident, str) and re.fullmatch(r"[a-z][a-z0-9_]*", ident) else str(p))
    return ".".join(parts)


def get(data, path):
    for key in path:
        data = data[key]
    return data


def parent_of(data, path):
    return get(data, path[:-1])


def put(data, path, value):
    out = copy.deepcopy(data)
    parent_of(out, path)[path[-1]] = value
    return out


def misspell(word: str, at: int) -> str:
    """A near miss: one letter doubled (close enough that the right name is always suggested)."""
    i = at % len(word)
    return word[:i] + word[i] + word[i:]


def render(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# ------------------------------------------------------------------ the contract
@contextlib.contextmanager
def time_limit(seconds: int):
    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(args: list[str]):
    with time_limit(TIME_LIMIT):
        result = runner.invoke(app, args)
    return result.exit_code, result.stdout, result.stderr, result.exception


def subprocess_invoke(args: list[str]):
    done = subprocess.run([str(NEGSIM), *args], capture_output=True, text=True, timeout=TIME_LIMIT)
    return done.returncode, done.stdout, done.stderr, None


def judge(file: Path, tally: Counter, call=invoke) -> tuple[str, str]:
    """Validate and run ``file``; check the contract; return ('accepted' | 'rejected', stderr of validate)."""
    out = file.parent / "results"
    seen = {}
    for command in (["validate", str(file)], ["run", str(file), "--runs", "50", "--out", str(out), "--quiet"]):
        code, stdout, stderr, exc = call(command)
        where = f"negsim {command[0]} {file.name} (so far {dict(tally)})"
        assert exc is None or isinstance(exc, SystemExit), f"{where}: raised {exc!r}"
        assert "Traceback" not in stdout + stderr, f"{where}: traceback\n{stderr}"
        assert code in (0, 2), f"{where}: exit code {code}\n{stderr}"
        if code == 2:
            lines = stderr.splitlines()
            assert lines, f"{where}: exit 2 with nothing said"
            bad = [line for line in lines if not PROBLEM_LINE.match(line)]
            assert not bad, f"{where}: not file:line: field: message: {bad[:3]}"
        seen[command[0]] = (code, stderr)
    (v_code, v_err), (r_code, _) = seen["validate"], seen["run"]
    assert v_code == r_code, f"{file.name}: validate says {v_code}, run says {r_code} (so far {dict(tally)})"
    if r_code == 2:
        assert not out.exists() or not any(out.iterdir()), f"{file.name}: a rejected run left {out}"
        tally["rejected"] += 1
        return "rejected", v_err
    shares = json.loads((out / "summary.json").read_text())["probabilities"]
    assert math.isclose(sum(p["p"] for p in shares.values()), 1), f"{file.name}: {shares}"
    tally["accepted"] += 1
    return "accepted", v_err


def write(folder: Path, content: str | bytes, name: str = "scenario.yaml") -> Path:
    path = Path(tempfile.mkdtemp(dir=folder)) / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def report(family: str, tally: Counter) -> str:
    tried = tally["accepted"] + tally["rejected"]
    line = f"{family}: tried {tried}, rejected {tally['rejected']}, accepted {tally['accepted']}"
    print(f"\n{line}")
    return line


def fuzz(max_examples: int, *strategies, examples=()):
    """Run the decorated check over ``max_examples`` draws plus the explicit ``examples`` (no per-example deadline)."""

    def wrap(check):
        for args in examples:
            check = example(*args)(check)
        return settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )(given(*strategies)(check))

    return wrap


def places(keep) -> list[tuple]:
    """(scenario name, path, value) of every node of both scenarios that ``keep(path, value)`` accepts."""
    return [(name, path, value) for name, data in SCENARIOS.items() for path, value in nodes(data) if keep(path, value)]


# ------------------------------------------------------------------ families of mutations
@pytest.mark.slow
def test_odd_values_anywhere(tmp_path):
    """Wrong types, missing numbers, NaN, infinities, out-of-range and huge numbers at any place."""
    tally = Counter()

    @fuzz(
        40,
        st.sampled_from(places(lambda p, v: True)),
        ODD_VALUES,
        examples=[(("small", ("meta", "horizon"), 8), "many"), (("small", ("meta", "name"), "small"), "other")],
    )
    def check(place, value):
        name, path, _ = place
        judge(write(tmp_path, render(put(SCENARIOS[name], path, value))), tally)

    check()
    line = report("odd values", tally)
    assert tally["rejected"] > 0 and tally["accepted"] > 0, line


@pytest.mark.slow
def test_missing_fields(tmp_path):
    """Any key removed: required ones are reported, optional ones fall back to their defaults."""
    tally = Counter()

    @fuzz(
        20,
        st.sampled_from(places(lambda p, v: isinstance(p[-1], str))),
        examples=[(("small", ("meta",), None),), (("small", ("meta", "seed"), 3),)],
    )
    def check(place):
        name, path, _ = place
        mutated = copy.deepcopy(SCENARIOS[name])
        del parent_of(mutated, path)[path[-1]]
        verdict, stderr = judge(write(tmp_path, render(mutated)), tally)
        if path[-1] in ("id", "role", "meta", "issues", "actors") and len(path) <= 3:
            expected = f"{named(mutated, path)}: Field required"
            assert verdict == "rejected" and expected in stderr, f"{dict(tally)}: {stderr}"

    check()
    line = report("missing fields", tally)
    assert tally["rejected"] > 0 and tally["accepted"] > 0, line


def is_object(path, value) -> bool:
    return isinstance(value, dict) and bool(OBJECT.match(dotted(path)) or "dist" in value)


KEYS = [(name, (), key) for name, data in SCENARIOS.items() for key in data] + [
    (name, path, key) for name, path, value in places(is_object) for key in value if key != "dist"
]


def test_misspelt_keys_are_named_with_the_right_suggestion(tmp_path):
    tally = Counter()

    @fuzz(30, st.sampled_from(KEYS), st.integers(0, 20), examples=[(("small", ("vetoes", 0), "of"), 1)])
    def check(place, at):
        name, path, key = place
        typo = misspell(key, at)
        mutated = copy.deepcopy(SCENARIOS[name])
        target = get(mutated, path)
        target[typo] = target.pop(key)
        file = write(tmp_path, render(mutated))
        verdict, stderr = judge(file, tally)
        where = re.escape(".".join([named(mutated, path), typo] if path else [typo]))
        found = re.search(rf"^[^:]+:(\d+): {where}: unknown key \(did you mean '{key}'\?\)$", stderr, re.M)
        assert verdict == "rejected" and found, f"{typo} for {key} (so far {dict(tally)}): {stderr}"
        lines = file.read_text().splitlines()
        at_line = int(found.group(1))
        key_on = re.compile(rf"""(^|\s|-\s)['"]?{re.escape(typo)}['"]?:""")  # YAML quotes a key such as 'off'
        assert key_on.search(lines[at_line - 1]) or key_on.search(lines[at_line - 2]), f"line {at_line}: {stderr}"

    check()
    line = report("misspelt keys", tally)
    assert tally["accepted"] == 0 < tally["rejected"], line


def test_salience_that_does_not_sum_to_one(tmp_path):
    tally = Counter()

    @fuzz(15, st.sampled_from(places(lambda p, v: len(p) == 4 and p[2] == "salience")), st.floats(0, 1))
    def check(place, weight):
        name, path, old = place
        assume(abs(weight - old) > 1e-3)
        verdict, stderr = judge(write(tmp_path, render(put(SCENARIOS[name], path, weight))), tally)
        expected = f"{named(SCENARIOS[name], path[:3])}: must sum to 1"
        assert verdict == "rejected" and expected in stderr, f"{dict(tally)}: {stderr}"

    check()
    line = report("salience not summing to one", tally)
    assert tally["accepted"] == 0 < tally["rejected"], line


def reference_kind(path) -> str | None:
    return next((kind for kind, rx in REFERENCE.items() if rx.match(dotted(path))), None)


def test_references_to_unknown_actors_issues_and_flags(tmp_path):
    tally = Counter()

    @fuzz(25, st.sampled_from(places(lambda p, v: reference_kind(p) is not None)), st.integers(0, 20))
    def check(place, at):
        name, path, value = place
        wrong = misspell(value, at)
        verdict, stderr = judge(write(tmp_path, render(put(SCENARIOS[name], path, wrong))), tally)
        expected = f"{named(SCENARIOS[name], path)}: unknown {reference_kind(path)} '{wrong}' (did you mean '{value}'?)"
        assert verdict == "rejected" and expected in stderr, f"{expected} (so far {dict(tally)})\n{stderr}"

    check()
    line = report("unknown references", tally)
    assert tally["accepted"] == 0 < tally["rejected"], line


def distributions():
    names = st.sampled_from(["uniform", "normal", "beta", "triangular", "choice", "gamma", "", 3])
    keys = st.sampled_from(["low", "high", "mean", "sd", "a", "b", "mode", "values", "weights", "df"])
    values = st.floats(-2, 150) | st.sampled_from([math.nan, math.inf, 0, 1, [], [0.2, 0.5], "x"])
    params = st.dictionaries(keys, values, max_size=5)
    return st.builds(lambda name, p: {"dist": name, **p}, names, params) | st.sampled_from(
        [
            {"dist": "uniform", "low": 0.1, "high": 0.3},
            {"dist": "beta", "a": 2, "b": 2},
            {"dist": "triangular", "low": 0, "mode": 0.2, "high": 0.5},
            {"dist": "choice", "values": [0.1, 0.4], "weights": [1, 3]},
            {"dist": "normal", "mean": 0.3, "sd": 0.1, "low": 0, "high": 1},
            {"dist": "normal", "mean": 0.3, "sd": 0.1},
        ]
    )


@pytest.mark.slow
def test_distributions_in_place_of_numbers(tmp_path):
    """Valid distributions run where a number may vary; invalid or misplaced ones are reported."""
    tally = Counter()
    numbers = [p for p, v in nodes(SMALL) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    uniform = {"dist": "uniform", "low": 0.1, "high": 0.3}

    @fuzz(
        30,
        st.sampled_from(numbers),
        distributions(),
        examples=[(("actors", 0, "capability"), uniform), (("meta", "horizon"), uniform)],
    )
    def check(path, dist):
        judge(write(tmp_path, render(put(SMALL, path, dist))), tally)

    check()
    line = report("distributions", tally)
    assert tally["rejected"] > 0 and tally["accepted"] > 0, line


@pytest.mark.slow
def test_truncated_files(tmp_path):
    """A file cut at any byte (a partial save or copy) is either still a scenario or reported."""
    tally = Counter()
    texts = {"baseline": BASELINE_FILE.read_bytes(), "small": render(SMALL).encode()}

    @fuzz(30, st.sampled_from(sorted(texts)), st.floats(0, 1, exclude_max=True), examples=[("small", 0.5)])
    def check(name, where):
        raw = texts[name]
        judge(write(tmp_path, raw[: int(where * len(raw))]), tally)

    check()
    line = report("truncated files", tally)
    assert tally["rejected"] > 0, line


def test_bytes_that_are_not_utf8_are_reported_on_their_line(tmp_path):
    tally = Counter()
    raw = BASELINE_FILE.read_bytes()

    @fuzz(12, st.integers(0, len(raw)), st.sampled_from(INVALID_UTF8))
    def check(at, junk):
        verdict, stderr = judge(write(tmp_path, raw[:at] + junk + raw[at:]), tally)
        line = raw[:at].count(b"\n") + 1
        found = re.search(rf":{line}: \(file\): not valid UTF-8", stderr)
        assert verdict == "rejected" and found, (line, stderr, tally)

    check()
    line = report("non-UTF-8 bytes", tally)
    assert tally["accepted"] == 0 < tally["rejected"], line


# ------------------------------------------------------------------ hostile files, one by one
def chain(*links: str) -> dict[str, str]:
    """Files whose ``extends:`` form the given chain (the last extends the first: a cycle)."""
    return {name: f"extends: {links[(i + 1) % len(links)]}\nmeta: {{name: {name}}}\n" for i, name in enumerate(links)}


def nested(depth: int) -> str:
    return "meta: " + "[" * depth + "]" * depth + "\n"


def alias_bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


HOSTILE = {  # name -> (files, the message expected)
    "extends itself": (chain("scenario.yaml"), "extends cycle"),
    "extends cycle of two": (chain("scenario.yaml", "other.yaml"), "extends cycle"),
    "extends cycle of three": (chain("scenario.yaml", "b.yaml", "c.yaml"), "extends cycle"),
    "extends a missing file": ({"scenario.yaml": "extends: nowhere.yaml\n"}, "extends: file not found"),
    "extends a folder": ({"scenario.yaml": "extends: .\n"}, "extends: cannot read"),
    "extends a list": ({"scenario.yaml": "extends: [baseline.yaml]\n"}, "extends: must be a file name"),
    "extends a device": ({"scenario.yaml": "extends: /dev/zero\n"}, "larger than"),
    "billion laughs": ({"scenario.yaml": alias_bomb()}, "alias expansion"),
    "huge file": ({"scenario.yaml": "# " + "x" * MAX_BYTES + "\n" + render(SMALL)}, "larger than"),
    "deep nesting": ({"scenario.yaml": nested(3000)}, "nested too deeply"),
    "unknown tag": (
        {"scenario.yaml": render(SMALL).replace("name: small", "name: !shout small")},
        "meta.name: invalid value",
    ),
    "python tag": ({"scenario.yaml": "meta: !!python/name:os.system ls\n"}, "meta: invalid value"),
    "impossible date": (
        {"scenario.yaml": render(SMALL).replace("start_date: '2025-12-15'", "start_date: 2025-02-30")},
        "meta.start_date: invalid value",
    ),
    "over-long integer": (
        {"scenario.yaml": render(SMALL).replace("horizon: 8", "horizon: 1" + "0" * 5000)},
        "meta.horizon: invalid value",
    ),
    "line break in a name": (
        {"scenario.yaml": render(put(SMALL, ("red_lines", 0, "actor"), "so\nuth"))},
        r"unknown actor 'so\nuth'",
    ),
    "empty file": ({"scenario.yaml": ""}, "must be a YAML mapping"),
    "a list": ({"scenario.yaml": "- meta\n- issues\n"}, "must be a YAML mapping"),
    "tabs": ({"scenario.yaml": "meta:\n\tname: x\n"}, "invalid YAML"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=str)
def test_hostile_files_are_rejected_by_name(tmp_path, case):
    files, expected = HOSTILE[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    verdict, stderr = judge(tmp_path / "scenario.yaml", Counter())
    assert verdict == "rejected" and expected in stderr, stderr
    assert all(Path(line.split(":")[0]).exists() for line in stderr.splitlines()), f"a problem names no file: {stderr}"


def test_a_large_file_under_the_limit_is_read(tmp_path):
    padded = render(put(SMALL, ("meta", "description"), "x" * (MAX_BYTES - 10_000)))
    assert judge(write(tmp_path, padded), Counter())[0] == "accepted"


SUBPROCESS_CASES = {
    "accepted": render(put(SMALL, ("meta", "horizon"), 5)).encode(),
    "truncated": BASELINE_FILE.read_bytes()[:1234],
    "non-UTF-8": BASELINE_FILE.read_bytes()[:800] + b"\xff" + BASELINE_FILE.read_bytes()[800:],
    "billion laughs": alias_bomb().encode(),
    "extends cycle": chain("scenario.yaml")["scenario.yaml"].encode(),
    "unknown key": render(put(SMALL, ("meta", "horizn"), 5)).encode(),
}


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=str)
def test_the_installed_command_keeps_the_contract(tmp_path, case):
    tally = Counter()
    verdict, _ = judge(write(tmp_path, SUBPROCESS_CASES[case]), tally, call=subprocess_invoke)
    assert verdict == ("accepted" if case == "accepted" else "rejected"), dict(tally)


# ------------------------------------------------------------------ the second version's fields, one by one
def _edit(change):
    data = copy.deepcopy(SMALL)
    change(data)
    return data


def _cycle(data):
    gate = {"consent": ["north", "south"], "settle": ["guns"]}
    data["phases"] += [{"id": "a", "gate": {**gate, "after": "b"}}, {"id": "b", "gate": {**gate, "after": "a"}}]


NEW_FIELDS = {  # name -> (the edit, the path reported, the message, how the line it points at starts)
    "unknown phase": (
        lambda d: d["milestones"][0].update(phase="truse"),
        "milestones.handover.phase",
        "unknown phase 'truse' (did you mean 'truce'?)",
        "phase: truse",
    ),
    "an issue both settled and deferred": (
        lambda d: d["phases"][0]["gate"].update(defer=["guns", "land"]),
        "phases.truce.gate.defer.1",
        "issue 'land' is both settled and deferred",
        "- land",
    ),
    "a veto by a non-principal": (
        lambda d: d["vetoes"][0].update(by="broker"),
        "vetoes.0.by",
        "'broker' is not a principal: only a principal can veto a role",
        "- by: broker",
    ),
    "a budget below zero": (
        lambda d: d["actors"][2].update(budget=-1),
        "actors.broker.budget",
        "must lie in [0, 1e+06] (got -1)",
        "budget: -1",
    ),
    "a cycle in phase gates": (_cycle, "phases", "phase gates form a cycle: a -> b -> a", "- id: truce"),
    "a timed strategy with no deadline": (
        lambda d: d["actors"][0]["concession"].pop("deadline"),
        "actors.north.concession.deadline",
        "a boulware principal needs an explicit deadline (rounds of talks)",
        "strategy: boulware",  # the first line of the concession
    ),
    "a responsive strategy with no deadline": (
        lambda d: d["actors"][1]["concession"].pop("deadline"),
        "actors.south.concession.deadline",
        "a responsive principal needs an explicit deadline (rounds of talks)",
        "strategy: responsive",
    ),
    "a third party that concedes": (
        lambda d: d["actors"][2].update(concession={"strategy": "linear", "deadline": 5}),
        "actors.broker.concession",
        "only principals concede; a third party's position moves by events",
        "strategy: linear",
    ),
    "a spoiler in a gate's consent": (
        lambda d: d["phases"][0]["gate"].update(consent=["north", "south", "militia"]),
        "phases.truce.gate.consent.2",
        "'militia' is a spoiler: it has no say at the table",
        "- militia",
    ),
    "an announcement with nobody to announce it": (
        lambda d: d["phases"][0]["gate"].update(rule="non_objection"),
        "phases.truce.gate.declared_by",
        "a phase declared by non-objection needs who announces it",
        "consent:",  # the gate's first line: the field is missing
    ),
    "a principal announcing a phase": (
        lambda d: d["phases"][0]["gate"].update(rule="non_objection", declared_by=["north"]),
        "phases.truce.gate.declared_by.0",
        "phases are announced by third parties (broker, mediator, stakeholder)",
        "- north",
    ),
    "defiance by an actor that is not a party": (
        lambda d: d["phases"][0]["gate"].update(defiance={"broker": 0.1}),
        "phases.truce.gate.defiance.broker",
        "'broker' is not among the gate's parties",
        "broker: 0.1",
    ),
    "a concession at the start by a third party": (
        lambda d: d.update(start={"conceded": {"broker": 0.2}}),
        "start.conceded.broker",
        "only principals concede",
        "broker: 0.2",
    ),
    "a signed text without its terms": (
        lambda d: d.update(start={"signed": True}),
        "start.signed",
        "a signed text needs its terms (start.text)",
        "signed: true",
    ),
    "a guarantee to a third party": (
        lambda d: d["guarantees"][0].update(to="broker"),
        "guarantees.pledge.to",
        "guarantees are given to principals",
        "to: broker",
    ),
    "a red line relaxed on both sides": (
        lambda d: d["red_lines"][0].update(min=10),
        "red_lines.keep_guns",
        "only a one-sided red line (min or max) can be relaxed",
        "- id: keep_guns",
    ),
}


@pytest.mark.parametrize("case", NEW_FIELDS, ids=str)
def test_each_new_field_is_checked_in_one_line_at_its_place(tmp_path, case):
    change, path, message, key = NEW_FIELDS[case]
    file = write(tmp_path, render(_edit(change)))
    verdict, stderr = judge(file, Counter())  # through validate and run: exit 2, no results folder
    assert verdict == "rejected"
    assert stderr == f"{file}:{stderr.split(':')[1]}: {path}: {message}\n", stderr
    line = file.read_text().splitlines()[int(stderr.split(":")[1]) - 1]
    assert line.strip().startswith(key), f"line {line!r} for {path}"


@pytest.mark.parametrize(
    "path, key",
    [(("veto_players", 0, "bounds", "land"), "min"), (("events", 2, "effects", "align", "broker"), "share")],
    ids=str,
)
def test_a_misspelt_key_in_a_named_object_gets_a_suggestion(tmp_path, path, key):
    data = copy.deepcopy(SMALL)
    assert NAMED_OBJECT.match(dotted(path))
    target = get(data, path)
    target[key + key[-1]] = target.pop(key)
    verdict, stderr = judge(write(tmp_path, render(data)), Counter())
    assert verdict == "rejected" and f"unknown key (did you mean '{key}'?)" in stderr, stderr
