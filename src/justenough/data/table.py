"""The ``Table`` and ``load()``: a source read, validated, and given its target and task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from justenough.data.dates import apply_dates, parse_dates
from justenough.data.messages import note
from justenough.data.read import read_source
from justenough.data.validate import (
    TASKS,
    check_columns_of,
    coerce_features,
    resolve_target,
    target_values,
)
from justenough.data.values import is_present
from justenough.errors import ConfigError, DataError, option

MIN_TABLE_ROWS = 2  # rows with a target that a table must keep


@dataclass(frozen=True, eq=False)
class Table:
    """A loaded, validated table: features, the target, the task and where it came from.

    ``features`` has one column per input feature (numbers as numeric dtypes, categories as text);
    ``target`` holds the original target values (class labels keep their values, strings included).
    Rows with a missing target are already dropped; both share a 0..N-1 index.
    """

    features: pd.DataFrame
    target: pd.Series
    target_name: str
    task: str  # a Task's text: "classification" or "regression"
    source: str
    notices: list[str] = field(default_factory=list)
    # How to read new rows like this table (predict does): the decimal comma when the file used
    # one, and the delimiter and encoding when they were given ({} when there is nothing to reuse:
    # a sniffed delimiter is sniffed again, so new rows may come in another layout).
    reading: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.target)


# 84 lines: one pass from the file to the typed table (target, dates, features), the checks in the order users meet them.
def load(
    source: Any,
    target: str | None = None,
    task: str = "auto",
    *,
    delimiter: str | None = None,
    max_categories: int = 50,
    seed: int = 0,
    decimal: str | None = None,
    encoding: str | None = None,
    dates: str | None = None,
) -> Table:
    """Load and validate a table.

    ``source``: a path (CSV/TSV with the delimiter sniffed unless given, Parquet, ``.npz`` holding
    ``X`` and ``y`` or one array whose last column is the target), a pandas DataFrame, an ``(X, y)``
    tuple of arrays, or a bundled dataset name (``justenough.data.datasets.available()``; ``seed`` picks
    the sample of a synthetic one). ``target`` names the target column; without it a file's last
    column is used, with a notice. ``task`` is ``"auto"`` (inferred), ``"classification"`` or
    ``"regression"``. A text column with more than ``max_categories`` distinct values is refused.

    Text files: ``decimal`` is the decimal mark, ``"."`` or ``","``. By default (``None``) a file
    whose delimiter is not a comma is read with the decimal comma (``39,1``, ``3.750,0``) when a
    column parses fully with it; columns that are text stay text. ``encoding`` names the file's
    encoding (default: UTF-8 with or without a BOM, else Windows-1252). ``Table.reading`` records
    what to reuse to read new rows alike.

    ``dates``: a feature column of dates (text that reads as dates, or a datetime column) is
    refused by default; ``"drop"`` drops it, ``"ordinal"`` reads it as days since 1970-01-01.
    """
    task = _check_task(task)
    dates = parse_dates(dates)
    if isinstance(max_categories, bool) or not isinstance(max_categories, (int, np.integer)) or max_categories < 2:
        raise ConfigError(f"max_categories must be an integer of at least 2, got {max_categories!r}")
    raw = read_source(source, delimiter, seed, decimal=decimal, encoding=encoding)
    notices = raw.notices
    frame = check_columns_of(raw.frame, raw.source)
    target_name = resolve_target(frame, target, raw, notices)

    y_raw = frame[target_name]
    features = frame.drop(columns=[target_name])
    if features.shape[1] == 0:
        raise DataError(
            f"{raw.source} has only the target column {target_name!r}: add feature columns, "
            f"or pass {option('target')} to name another column as the target"
        )
    keep = is_present(y_raw)
    n_missing = int((~keep).sum())
    if n_missing == len(y_raw):
        raise DataError(
            f"the target column {target_name!r} in {raw.source} is empty: all {len(y_raw)} values are missing; "
            f"fill it in, or pass {option('target')} to use another column"
        )
    if n_missing:
        remaining = len(y_raw) - n_missing
        if remaining < MIN_TABLE_ROWS:
            raise DataError(
                f"the target column {target_name!r} in {raw.source} is missing in {n_missing} of {len(y_raw)} rows; "
                f"only {remaining} row(s) would remain, too few to learn from: fill in the target values"
            )
        note(notices, f"dropped {n_missing} row(s) with a missing target {target_name!r} ({remaining} remain)")
        y_raw = y_raw[keep]
        features = features[keep]

    y, task_used = target_values(y_raw, target_name, task, raw, notices)
    features = apply_dates(features, dates, raw.source, notices)
    if features.shape[1] == 0:
        raise DataError(
            f"{raw.source} has no feature columns left once its date columns are dropped: pass "
            f"{option('dates', 'ordinal')} to use them as numbers, or add feature columns"
        )
    features = coerce_features(features, raw.source, max_categories)
    reading = dict(raw.reading)
    if dates is not None:
        reading["dates"] = dates  # predict reads new rows' dates the same way
    return Table(
        features=features.reset_index(drop=True),
        target=y.reset_index(drop=True).rename(target_name),
        target_name=target_name,
        task=task_used,  # type: ignore[arg-type]
        source=raw.source,
        notices=notices,
        reading=reading,
    )


def read_rows(
    source: Any,
    *,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    dates: str | None = None,
    notices: list[str] | None = None,
) -> pd.DataFrame:
    """Rows to predict, read like ``load`` reads a table (delimiter, decimal mark, encoding) but
    without a target or any validation: the model's preprocessing checks the columns. What the
    reading noticed (an encoding fallen back to, short rows) is appended to ``notices`` when given.
    ``dates="ordinal"`` reads date columns as days since 1970-01-01, as ``load`` did for the model."""
    dates = parse_dates(dates)
    raw = read_source(source, delimiter, 0, decimal=decimal, encoding=encoding)
    if notices is not None:
        notices.extend(raw.notices)
    return apply_dates(raw.frame, dates, raw.source, [], refuse=False)


def _check_task(task: str) -> str:
    if not isinstance(task, str) or task.strip().lower() not in ("auto", *TASKS):
        raise ConfigError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    return task.strip().lower()
