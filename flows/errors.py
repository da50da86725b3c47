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
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(ShouhuFlowError):
    """Content failed validation; ``problems`` lists every one found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
