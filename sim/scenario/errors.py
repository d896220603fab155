"""How problems with input are reported: one line each, ``file:line: field.path: message``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

# a problem prints on one line even when a key or value in the file holds a line break
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(file)'}: {self.message}".translate(_LINE_BREAKS)


class ScenarioError(Exception):
    """One or more problems with a scenario file; ``str()`` is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def did_you_mean(word: str, options: list[str], otherwise: str = "") -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``word``, else ``otherwise``."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else otherwise
