"""One cell's value, as validation and preprocessing both read it: present or missing, text or a
number, a number parsed from text, a category's text, a label and its sort order."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def is_present(series: pd.Series) -> pd.Series:
    """True where a value is present (not NaN/None/NA, and not a blank string)."""
    present = series.notna()
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        blank = series.map(lambda v: isinstance(v, str) and not v.strip())
        present &= ~blank.astype(bool)
    return present


def is_text_like(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
        or pd.api.types.is_timedelta64_dtype(series)
    )


def plain_scalar(value: Any) -> Any:
    """A JSON-able plain Python scalar for a label (NumPy scalars unwrapped)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def numbers_in(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse present values of a text column as numbers: (parsed float64, parsed ok mask)."""
    as_obj = values.astype(object)
    cleaned = as_obj.map(lambda v: v if isinstance(v, (str, int, float, np.number)) and not isinstance(v, bool) else "\x00")
    try:
        parsed = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    except (TypeError, ValueError):
        parsed = pd.Series(np.nan, index=values.index, dtype="float64")
    ok = parsed.notna() | cleaned.map(lambda v: isinstance(v, str) and v.strip().lower() in ("nan", "+nan", "-nan"))
    return parsed, ok


def row_label(index: Any) -> str:
    return f"row {int(index) + 1}" if isinstance(index, (int, np.integer)) else f"row {index!r}"


def to_float(series: pd.Series) -> np.ndarray:
    """A numeric or boolean series as float64 with NaN for missing values."""
    return np.asarray(series.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)


def category_text(value: Any) -> str:
    """The text of one category value; integral floats print as integers so 1.0 and 1 agree."""
    value = plain_scalar(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return str(value)


def label_key(label: Any) -> tuple[str, Any]:
    """Sort key for labels of mixed types: by type name, then value."""
    if isinstance(label, bool):
        return ("bool", label)
    if isinstance(label, (int, float)):
        return ("number", label)
    return (type(label).__name__, str(label))
