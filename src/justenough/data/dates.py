"""Date and time columns: found (a datetime column, or text whose every value is a date), then
refused, dropped or turned into numbers, as the ``dates`` option says.

A network needs numbers, and a date read as text would become one category per day (or be
dropped as ID-like, a different value in every row), silently. So a feature column of dates is
refused unless ``dates`` says what to do with it: ``"drop"`` drops it, ``"ordinal"`` reads it as
days since 1970-01-01 (UTC; a time of day is the fraction of the day), which the preprocessing
then standardizes like any number. The same rule holds for every source: a CSV's text dates, a
Parquet file's or a DataFrame's datetime columns.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from justenough.data.messages import note, quote_list
from justenough.data.values import is_present
from justenough.errors import ConfigError, DataError, option

DATES: tuple[str, ...] = ("drop", "ordinal")  # what the ``dates`` option may ask (None: refuse date columns)

_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")

# A date, optionally with a time of day and a zone: 2024-01-05, 2024/1/5, 05.01.2024, 1/5/24,
# 2024-01-05T10:30:00Z. Only the shapes of a date: the formats below decide whether it is one.
# One separator throughout; with dots the year has four digits, so a version ("1.2.10") is no date.
_DATE_TEXT = re.compile(
    r"(?:\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/])\d{1,2}\2(?:\d{4}|\d{2})|\d{1,2}\.\d{1,2}\.\d{4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)

# The formats tried, in order; the first that reads every value of a column wins. Year-first is
# ISO 8601 (with or without a time and zone). Day and month: with dots, day first (05.01.2024);
# with slashes, month first (01/05/2024 is January 5) unless a value only fits day first; with
# dashes, day first.
_DAY_MONTH = ("%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%d-%m-%Y", "%m-%d-%Y")
_FORMATS: tuple[str, ...] = (
    "ISO8601",
    "%Y/%m/%d",
    "%Y.%m.%d",
    *(day + time for day in _DAY_MONTH for time in ("", " %H:%M", " %H:%M:%S")),
)


def parse_dates(dates: str | None) -> str | None:
    """``None`` (date columns are refused), ``"drop"`` or ``"ordinal"``; anything else is a ``ConfigError``."""
    if dates is None:
        return None
    if isinstance(dates, str) and dates.strip().lower() in DATES:
        return dates.strip().lower()
    raise ConfigError(
        f"dates must be 'drop' or 'ordinal', got {dates!r}: {option('dates', 'ordinal')} reads date columns as days "
        f"since 1970-01-01, {option('dates', 'drop')} drops them"
    )


def date_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The columns of ``frame`` that hold dates, each as UTC timestamps (NaT where missing)."""
    found: dict[str, pd.Series] = {}
    for name in frame.columns:
        stamps = _as_dates(frame[name])
        if stamps is not None:
            found[str(name)] = stamps
    return found


def apply_dates(features: pd.DataFrame, dates: str | None, source: str, notices: list[str], *, refuse: bool = True) -> pd.DataFrame:
    """``features`` with its date columns refused (``dates=None`` and ``refuse``), dropped or read as
    days since 1970-01-01. Reading rows to predict passes ``refuse=False``: the model's own
    preprocessing judges their columns, so only ``"ordinal"`` changes anything there."""
    found = date_columns(features)
    if not found:
        return features
    names = list(found)
    if dates is None:
        if not refuse:
            return features
        example = str(features[names[0]][is_present(features[names[0]])].iloc[0])
        raise DataError(
            f"{'column' if len(names) == 1 else 'columns'} {quote_list(names)} in {source} "
            f"{'holds' if len(names) == 1 else 'hold'} dates or times (such as {example[:40]!r}); a network needs "
            f"numbers: pass {option('dates', 'ordinal')} to read them as days since 1970-01-01, or "
            f"{option('dates', 'drop')} to drop them (or convert them yourself, for example to the month or the weekday)"
        )
    if dates == "drop":
        if not refuse:
            return features
        note(notices, f"dropped {len(names)} date column(s) ({quote_list(names)}), as {option('dates', 'drop')} asks")
        return features.drop(columns=names)
    days = {name: (stamps - _EPOCH) / pd.Timedelta(days=1) for name, stamps in found.items()}
    if refuse:
        note(notices, f"read {len(names)} date column(s) ({quote_list(names)}) as days since 1970-01-01, as "
                       f"{option('dates', 'ordinal')} asks")
    return features.assign(**{name: values.astype(np.float64).to_numpy() for name, values in days.items()})


def _as_dates(series: pd.Series) -> pd.Series | None:
    """A datetime column, or a text column whose every present value reads as a date with one of
    ``_FORMATS``, as UTC timestamps; else None."""
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pd.Series(pd.to_datetime(series), index=series.index)
        return stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    present = is_present(series)
    values = series[present]
    if len(values) == 0 or not values.map(lambda v: isinstance(v, str)).all():
        return None
    texts = values.str.strip()
    if not texts.str.fullmatch(_DATE_TEXT).all():
        return None
    for fmt in _FORMATS:
        try:
            parsed = pd.to_datetime(texts, format=fmt, utc=True)
        except (ValueError, TypeError, OverflowError):
            continue
        stamps = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
        stamps[present] = parsed
        return stamps
    return None
