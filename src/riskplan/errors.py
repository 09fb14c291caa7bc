"""Errors a user can cause. The CLI prints them (what, where, why) and exits with code 2."""

from __future__ import annotations

from pydantic import ValidationError


class UserInputError(ValueError):
    """Bad input from a user: a file, an argument, a record. Stored data is left untouched."""


class NotFoundError(UserInputError):
    """Something named by the user does not exist (a plan, a version, a case)."""


class StepFailedError(Exception):
    """A step of a command failed on good input (e.g. a section of a periodic report): the CLI prints what
    failed and why and exits with code 3; nothing is written."""


EXIT_STEP_FAILED = 3


def validation_problems(exc: ValidationError, where: str, subject: str) -> str:
    """A pydantic validation error as a user reads it: where, how many problems, each field path and why."""
    lines = [f"{where}: {exc.error_count()} problem(s) with the {subject}:"]
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  - {path}: {err['msg']}")
    return "\n".join(lines)
