"""The arguments the commands share: help texts, where a run goes by default, and the checks of
DATA, RUN, a choice and a device made before anything is read or created.
"""

from __future__ import annotations

from pathlib import Path

from justenough.errors import ArtifactError, ConfigError, DataError

__all__ = ["DELIMITER_HELP", "DECIMAL_HELP", "DATES_HELP", "ENCODING_HELP", "delimiter_help", "encoding_help",
           "default_out", "is_dataset", "dataset_hint", "check_data_arg", "checked_run_dir", "validate_choice"]


# Each help text names its default once: a command whose default differs (predict reads rows as the
# run's table was read) passes its own default instead of appending a second one.
def delimiter_help(default: str = "sniffed") -> str:
    return f"The text file's delimiter (default: {default}): ',' ';' tab or '|'. Example: --delimiter ';'"


def encoding_help(default: str = "UTF-8 with or without BOM, else cp1252") -> str:
    return f"The text file's encoding (default: {default}). Example: --encoding latin-1"


DELIMITER_HELP = delimiter_help()
DECIMAL_HELP = (
    "The decimal mark, '.' or ',' (default: a decimal comma is detected when the delimiter is not a comma). "
    "Example: --decimal ,"
)
DATES_HELP = (
    "What to do with date columns, refused by default: drop them, or ordinal (days since 1970-01-01). "
    "Example: --dates ordinal"
)
ENCODING_HELP = encoding_help()


def default_out(data: str) -> Path:
    """``runs/<stem>``: ``iris`` -> ``runs/iris``, ``data/train.csv`` -> ``runs/train``."""
    stem = Path(str(data)).stem or "run"
    return Path("runs") / stem


def is_dataset(name: str) -> bool:
    try:
        from justenough.data.datasets import is_dataset as is_bundled
    except ImportError:  # no bundled datasets in this build: only paths are data
        return False
    return bool(is_bundled(name))


def dataset_hint(name: str) -> str:
    """"did you mean digits? " for a name spelled nearly like a bundled dataset (the nearest), else ""."""
    try:
        from justenough.data.datasets import close_names
    except ImportError:  # no bundled datasets in this build: nothing to suggest
        return ""
    close = close_names(name, n=1)
    return f"did you mean {close[0]}? " if close else ""


def check_data_arg(data: str, option: str = "DATA") -> None:
    """A path that exists or a bundled dataset name; anything else is a usage error now, not later."""
    if Path(data).exists() or is_dataset(data):
        return
    raise DataError(
        f"{option} {data!r}: no such file, and not a bundled dataset name: {dataset_hint(data)}"
        "see `justenough datasets` for the names"
    )


def checked_run_dir(run: str | Path) -> Path:
    path = Path(run)
    if not path.is_dir():
        raise ArtifactError(f"no run directory at {path}: give the folder a search wrote (e.g. runs/iris)")
    return path


def validate_choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` in lower case when it is one of ``choices``; else ``ConfigError`` listing them."""
    v = str(value).strip().lower()
    if v not in choices:
        raise ConfigError(f"{option} {value!r} is not one of {', '.join(choices)}")
    return v


