"""User-facing errors: every one names where (file:line:col) and how to fix it.

The CLI prints them and exits with status 2; nothing is written once one is raised.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input."""

    file: str | None
    line: int | None  # 1-based
    col: int | None  # 1-based
    message: str
    fix: str

    def __str__(self) -> str:
        where = _where(self.file, self.line, self.col)
        text = f"{self.message}; {self.fix}" if self.fix else self.message
        return f"{where}: {text}" if where else text


def _where(file: str | None, line: int | None, col: int | None) -> str:
    if not file:
        return ""
    # Relative to the current directory when that is shorter.
    shown = os.path.relpath(file) if os.path.isabs(file) else file
    if len(shown) > len(file):
        shown = file
    if line is None:
        return shown
    return f"{shown}:{line}:{col or 1}"


class ZgenError(Exception):
    """Bad input: one or more problems, reported together (exit status 2)."""

    exit_status = 2

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, file, line, col, message: str, fix: str) -> "ZgenError":
        return cls(Problem(str(file) if file else None, line, col, message, fix))


class ToolError(Exception):
    """Something outside the user's input failed (a build, a simulator, a missing tool).

    Exit status 1; the message says what to install or run.
    """

    exit_status = 1
