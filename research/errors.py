"""Errors a person can act on.

Every error raised for bad input derives from :class:`UserError`. The command
line prints its message (no traceback) and exits with its ``exit_code``; the
library lets it propagate so that notebooks and tests see the same message.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or configuration: the message says what and where."""

    exit_code = 2


class InputFileError(UserError):
    """A file is missing, unreadable, or not in a format we read."""

    exit_code = 3


class SchemaError(UserError):
    """A table lacks required columns or holds values of the wrong type."""

    exit_code = 4


class ConfigError(UserError):
    """An unknown method, preset or parameter name, or an invalid value."""

    exit_code = 5


class BudgetError(UserError):
    """A projection would materialise more account pairs than allowed."""

    exit_code = 6


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...]) -> ConfigError:
    """Build the error for a name missing from a registry, listing the valid ones."""
    return ConfigError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(known))}")
