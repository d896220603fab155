"""A commented starter scenario (``negsim new``): actors, issues and phases named on the command line, every
other number at a neutral value with a comment saying what it means, its unit and where to find it.

The file validates and runs as written; its numbers are placeholders whose ``basis`` says so, for the author to
replace with the claims of a seed digest.
"""

from __future__ import annotations

import datetime as dt
import re

ROLE_WORDS = ("principal", "broker", "mediator", "stakeholder", "spoiler")


def ident(name: str) -> str:
    """An id from a name: ``United States`` -> ``united_states`` (a leading digit gets an ``x``)."""
    out = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return out if re.match(r"^[a-z]", out or "") else f"x{out}"


def _actor(text: str, index: int) -> tuple[str, str, str]:
    """(id, name, role) of ``NAME`` or ``NAME:ROLE``; the first two are principals, the others mediators."""
    name, _, role = text.partition(":")
    role = role.strip() or ("principal" if index < 2 else "mediator")
    if role not in ROLE_WORDS:
        raise ValueError(f"--actor: {text}: unknown role '{role}' (use {', '.join(ROLE_WORDS)})")
    return ident(name), name.strip(), role


def _even(ids: list[str]) -> str:
    """Equal weights that sum to exactly 1 in three decimals (the last takes the rounding)."""
    share = round(1 / len(ids), 3)
    weights = [share] * (len(ids) - 1) + [round(1 - share * (len(ids) - 1), 3)]
    return "{" + ", ".join(f"{i}: {w:g}" for i, w in zip(ids, weights, strict=True)) + "}"


def _chunks(items: list[str], parts: int) -> list[list[str]]:
    """``items`` cut into ``parts`` consecutive non-empty runs, as even as can be."""
    size, extra = divmod(len(items), parts)
    out, at = [], 0
    for k in range(parts):
        step = size + (k < extra)
        out.append(items[at : at + step])
        at += step
    return out


def _unique(ids: list[str], what: str) -> None:
    seen = {i for i in ids if ids.count(i) > 1}
    if seen:
        raise ValueError(f"--{what}: {', '.join(sorted(seen))}: named twice")


def starter(
    name: str,
    actors: list[str],
    issues: list[str],
    phases: list[str] | None = None,
    start_date: dt.date | None = None,
    seed: int | None = None,
) -> str:
    """The YAML text of a starter scenario (see the module); raise ValueError naming the option for unusable
    names."""
    people = [_actor(a, k) for k, a in enumerate(actors)]
    principals = [i for i, _, role in people if role == "principal"]
    if len(principals) != 2:
        raise ValueError(
            f"--actor: needs exactly two principals (got {len(principals)}; the first two actors are "
            "principals unless given another role, as NAME:ROLE)"
        )
    issue_ids = [ident(i) for i in issues]
    phase_names = phases or []
    _unique([i for i, _, _ in people], "actor")
    _unique(issue_ids, "issue")
    _unique([ident(p) for p in phase_names], "phase")
    if not issue_ids:
        raise ValueError("--issue: name at least one issue")
    if len(phase_names) > len(issue_ids):
        raise ValueError("--phase: more phases than issues (each phase settles at least one)")
    start = start_date or dt.date.today()
    lines = [
        f"# {name}: a starter scenario written by `negsim new`. It validates and runs as it stands; every number",
        "# is a neutral placeholder. Replace each with what your sources say, and cite them in the object's `basis:`",
        "# (seed claim ids, or 'assumption: why'). `negsim validate --strict` lists the numbers still unsourced;",
        "# `negsim explain` says what can never happen and why.",
        "meta:",
        f"  name: {name}",
        "  description: >",
        "    What is negotiated, between whom, from when. (Replace.)",
        f"  start_date: {start.isoformat()}  # the date of round 0 (also as 27 Nov 2024 or November 27, 2024)",
        "  horizon: 26  # rounds observed",
        "  round_days: 7  # calendar days per round",
        f"  seed: {int(start.strftime('%Y%m%d')) if seed is None else seed}  # root seed of the runs' random streams",
        "  runs: 1000  # runs in a batch",
        "  # what the outputs call a collapse (a ceasefire collapses, a trade deal falls through)",
        "  outcome_words: {collapse: the talks break down, collapsed: the talks broke down}",
        "",
        "# Each issue is an axis from 0 to 100: say what its two ends mean.",
        "issues:",
    ]
    for raw, i in zip(issues, issue_ids, strict=True):
        lines += [
            f"  - id: {i}",
            f"    label: {raw.strip()}",
            "    low: what 0 means (replace)",
            "    high: what 100 means (replace)",
        ]
    lines += [
        "",
        "# Principals negotiate and must accept a package; third parties (broker, mediator, stakeholder) press and",
        "# guarantee; spoilers act through events. position: where each stands on each issue (0-100); salience: the",
        "# weight of each issue to it (summing to 1); capability: its clout in a compromise (0-1); reservation: the",
        "# utility of no deal (0-1: a package it values below this it rejects).",
        "actors:",
    ]
    for k, (i, actor_name, role) in enumerate(people):
        ideal = {0: 20, 1: 80}.get(principals.index(i), 50) if i in principals else 50
        lines += [
            f"  - id: {i}",
            f"    name: {actor_name}",
            f"    role: {role}",
        ]
        if role != "spoiler":
            lines += [
                "    position: {" + ", ".join(f"{x}: {ideal}" for x in issue_ids) + "}",
                f"    salience: {_even(issue_ids)}",
                "    capability: 0.5",
            ]
        if role == "principal":
            lines += [
                "    reservation: 0.5",
                "    concession:  # how it concedes toward its reservation",
                "      strategy: linear  # boulware (late), conceder (early), linear, responsive, hardline",
                "      deadline: 20  # rounds of talks by which it reaches its reservation",
            ]
        lines.append(f"    basis: {{position: 'assumption: placeholder for actor {k + 1} (replace)'}}")
    lines += [
        "",
        "# A red line: the least (min) or most (max) a principal accepts on an issue. For example:",
        "# red_lines:",
        f"#   - {{id: {principals[0]}_{issue_ids[0]}, actor: {principals[0]}, issue: {issue_ids[0]}, max: 60,",
        "#      label: what it refuses, basis: {max: 'claim id'}}",
    ]
    if phase_names:
        lines += [
            "",
            "# Phases are declared in order; each settles its issues once every party in `consent` accepts.",
            "phases:",
        ]
        previous = None
        for phase, settled in zip(phase_names, _chunks(issue_ids, len(phase_names)), strict=True):
            lines += [
                f"  - id: {ident(phase)}",
                f"    label: {phase.strip()}",
                "    gate:",
                f"      consent: [{', '.join(principals)}]",
                f"      settle: [{', '.join(settled)}]",
            ]
            if previous:
                lines.append(f"      after: {previous}")
            previous = ident(phase)
    lines += [
        "",
        "# The risk that the talks collapse: a chance a round (0-1), before the factors of the state of the talks.",
        "risk:",
        "  hazard: 0.01",
        "  basis: {hazard: 'assumption: placeholder (replace)'}",
        "",
    ]
    return "\n".join(lines)
