"""Typed errors raised by the core; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class GraderError(Exception):
    """Base class: a problem the user can fix, shown without a traceback (exit code 2)."""


class ConfigError(GraderError):
    """A course or exercise file is invalid. Renders as `file:line: key: message`."""

    def __init__(self, path: Path | str, line: int | None, key: str, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.key = key
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class UsageError(GraderError):
    """The command line names something that does not exist."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def require_extra(what: str, modules: Iterable[str], extra: str) -> None:
    """A usage error that names the pip extra, where an optional dependency is not installed
    (instead of an ImportError in the middle of the work)."""
    import importlib

    missing = []
    for module in modules:
        try:
            importlib.import_module(module)  # imported next anyway
        except ImportError:
            missing.append(module)
    if missing:
        raise UsageError(f"{what} needs {' and '.join(missing)}, not installed here: "
                         f"pip install 'course-grader[{extra}]'")
