"""Errors that carry a one-line message for the user.

Every error a user can cause (a typo in a name, a missing file, a corrupt checkpoint) is a
:class:`GanZooError`. The CLI prints its message on one line and exits with code 2; the Python
API raises it. Anything else is a bug in gan-zoo or in a plugin and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GanZooError(Exception):
    """A problem with the user's input; ``str(error)`` is one line that says what to do."""


class UnknownNameError(GanZooError, KeyError):
    """A registry name (or kind, or class, or option) that does not exist."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(GanZooError):
    """Two plugins (or one plugin twice) registered the same name."""


class DataError(GanZooError):
    """A dataset that cannot be found, read or trusted."""


class CheckpointError(GanZooError):
    """A checkpoint or weights file that cannot be found, read or trusted."""


class ConfigError(GanZooError):
    """A configuration value or override that does not fit."""


class ExportError(GanZooError):
    """A generator that cannot be exported, or whose export does not match it."""


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``"; did you mean 'a' or 'b'?"`` (or ``""``) for an unknown ``word``."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=n, cutoff=0.6)
    if not close:
        lowered = word.lower()
        close = [c for c in choices if lowered and (lowered in c or c in lowered)][:n]
    if not close:
        return ""
    quoted = [f"'{c}'" for c in close]
    joined = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"; did you mean {joined}?"


def unknown(what: str, word: str, choices: Iterable[str], hint: str = "") -> UnknownNameError:
    """Build the standard "unknown X 'y'; did you mean ...?" error."""
    choices = sorted(choices)
    message = f"unknown {what} '{word}'{did_you_mean(word, choices)}"
    if not message.endswith("?"):
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        message += f" (choose from: {shown})" if choices else ""
    if hint:
        message += f" {hint}"
    return UnknownNameError(message)
