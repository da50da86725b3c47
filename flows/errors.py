"""Errors of the conversation layer.

ShouhuFlowError
 └── ContentError        content/ is broken: each problem names file, line and what was expected
"""

from __future__ import annotations

from dataclasses import dataclass


class ShouhuFlowError(Exception):
    """Base of the errors raised by flows/."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in content, where an editor can jump to it: ``file:line:column: message``.

    ``column`` is 1-based (0: unknown, then it is left out); ``hint`` says how to fix it or where
    the rule is written; a ``warning`` does not stop the bot (``check --strict`` fails on it)."""

    file: str
    line: int
    message: str
    column: int = 0
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        at = f"{self.file}:{int(self.line)}:{self.column}" if self.column else f"{self.file}:{int(self.line)}"
        return f"{at}: {'warning: ' if self.warning else ''}{self.message}"


class ContentError(ShouhuFlowError):
    """Content failed validation; ``problems`` lists every one found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
