"""The one family of errors justenough raises on bad input.

Every message says what is wrong, where (file, column, option), and how to fix it.
The CLI prints the message and exits with status 2 (usage and input errors) or 1
(runtime failures), without a traceback unless ``--debug``.

Messages speak the reader's language. A message that names an option writes it with
``option(name, value)``, in Python syntax between backticks (`` `task="regression"` ``), which is
what the Python API shows. The command line translates every such reference to its flag
(`` `--task regression` ``) in one place, ``cli.language.to_cli``, from the CLI's real options.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "option",
    "JustEnoughError",
    "DataError",
    "ConfigError",
    "StorageError",
    "DiskFullError",
    "TrainingError",
    "ArtifactError",
]


_NO_VALUE: Any = object()


def option(name: str, value: Any = _NO_VALUE) -> str:
    """A reference to an option in a message: `` `name=value` `` in Python syntax.

    ``option("task", "regression")`` -> `` `task="regression"` ``; ``option("target")`` ->
    `` `target=...` ``; lists and numbers as Python writes them. The CLI shows it as
    `` `--task regression` `` (``cli.language.to_cli``).
    """
    if value is _NO_VALUE:
        shown = "..."
    elif isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
    else:
        shown = repr(value)
    return f"`{name}={shown}`"


class JustEnoughError(Exception):
    """Base class: an answer for the user, not a bug.

    ``exit_code`` is what the CLI exits with: 2 for bad input or usage, 1 for a failure at run time.
    """

    exit_code: int = 2


class DataError(JustEnoughError):
    """The data cannot be loaded, validated, split or preprocessed as asked."""


class ConfigError(JustEnoughError):
    """A search space, rule, option or config file is invalid."""


class StorageError(JustEnoughError):
    """The study storage cannot be used: wrong URL, refused resume, locked database."""

    exit_code = 1


class DiskFullError(StorageError):
    """The disk filled up during a search: nothing finished is lost, and the user must free space.

    Exit status 2, as for bad input: the fix is the user's (free space, or another run directory),
    and the same command then resumes.
    """

    exit_code = 2


class TrainingError(JustEnoughError):
    """Training could not run at all (not a diverged restart: divergence is a result)."""

    exit_code = 1


class ArtifactError(JustEnoughError):
    """A run directory or model file is missing, truncated, tampered with or of the wrong version."""
