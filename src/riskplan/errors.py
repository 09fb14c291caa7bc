"""Errors a user can cause. The CLI prints them (what, where, why) and exits with code 2."""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a user: a file, an argument, a record. Stored data is left untouched."""


class NotFoundError(UserInputError):
    """Something named by the user does not exist (a plan, a version, a case)."""
