"""Validation and task inference: column names, the target column and its values, the task
(classification or regression) when it is not given, and each feature as numbers or categories."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from justenough.data.delimited import DECIMAL_COMMA_NUMBER
from justenough.data.messages import note, quote_list
from justenough.data.read import Raw
from justenough.data.values import category_text, is_text_like, numbers_in, plain_scalar, is_present, row_label, to_float
from justenough.errors import DataError, option
from justenough.vocab import Task

TASKS: tuple[str, ...] = tuple(Task)

MAX_CLASS_INT_VALUES = 20  # integer targets with at most this many distinct values can be classes
JUNK_FRACTION = 0.9  # a text column where at least this share parses as numbers is "numbers with junk"
ID_MIN_ROWS = 10  # a column unique per row is only called an ID from this many rows on


def check_columns_of(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Column names as strings, unique; at least two columns and one row."""
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = ["_".join(str(p) for p in c) for c in frame.columns]
    names = [c if isinstance(c, str) else str(c) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{source}: column name(s) {quote_list(dupes)} appear more than once; rename them so each column "
            "name is unique"
        )
    frame = frame.set_axis(names, axis=1).reset_index(drop=True)
    if frame.shape[1] < 2:
        raise DataError(
            f"{source} has {frame.shape[1]} column(s) ({quote_list(names)}); a table needs at least one feature "
            "column and a target column"
        )
    if len(frame) == 0:
        raise DataError(f"{source} has no rows: pass a table with data rows")
    return frame


def resolve_target(frame: pd.DataFrame, target: str | None, raw: Raw, notices: list[str]) -> str:
    columns = list(frame.columns)
    if target is None:
        if raw.default_target is not None and raw.default_target in columns:
            return raw.default_target
        name = columns[-1]
        note(notices, f"no target given: using the last column {name!r} as the target (pass {option('target')} to choose)")
        return name
    target = str(target)
    if target in columns:
        return target
    stripped = [c for c in columns if c.strip().casefold() == target.strip().casefold()]
    if len(stripped) == 1:
        note(notices, f"target {target!r} matched the column {stripped[0]!r} (case and surrounding spaces ignored)")
        return stripped[0]
    close = difflib.get_close_matches(target, columns, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise DataError(
        f"target column {target!r} is not in {raw.source}: {hint}the columns are {quote_list(columns, 20)}; "
        f"pass one of them as {option('target')}"
    )


def _reject_junk(series: pd.Series, column: str, source: str, what: str = "column") -> pd.Series | None:
    """For a text column that is mostly numbers: raise on the junk; all numbers: return them as float64."""
    present = is_present(series)
    values = series[present]
    if len(values) == 0:
        return None
    parsed, ok = numbers_in(values)
    share = float(ok.mean())
    if share == 1.0:
        return parsed
    if share >= JUNK_FRACTION:
        bad_index = ok[~ok].index[0]
        bad = values.loc[bad_index]
        raise DataError(
            f"{what} {column!r} in {source} holds numbers, but {row_label(bad_index)} has {str(bad)[:40]!r} "
            f"({int((~ok).sum())} of {len(values)} values are not numbers): fix or blank these cells "
            "(blank cells are imputed)"
        )
    return None


def _reject_inf(values: np.ndarray, index: pd.Index, column: str, source: str, what: str = "column") -> None:
    inf = np.isinf(values)
    if inf.any():
        where = row_label(index[int(np.argmax(inf))])
        count = int(inf.sum())
        # A blank feature cell is imputed, but a row with a blank target is dropped: say which.
        blanked = (
            f"rows whose target is blank are dropped, so blanking them drops these {count} row(s)"
            if what == "target"
            else f"blank cells are imputed, so blanking them fills these {count} cell(s) with the training median"
        )
        raise DataError(
            f"{what} {column!r} in {source} has {count} infinite value(s) (first at {where}): replace them "
            f"with numbers, or blank them ({blanked})"
        )


def target_values(y: pd.Series, name: str, task: str, raw: Raw, notices: list[str]) -> tuple[pd.Series, str]:
    """Check the target and choose the task; returns the target values to keep and the task."""
    source = raw.source
    if pd.api.types.is_complex_dtype(y) or pd.api.types.is_datetime64_any_dtype(y) or pd.api.types.is_timedelta64_dtype(y):
        raise DataError(f"target {name!r} in {source} has dtype {y.dtype}: use numbers (regression) or labels (classification)")
    numbers: pd.Series | None = None
    bools = pd.api.types.is_bool_dtype(y) or (
        is_text_like(y) and y.map(lambda v: isinstance(v, (bool, np.bool_))).all()
    )
    if bools:
        y = y.astype(bool)
    elif is_text_like(y):
        y = y.astype(object).map(plain_scalar)
        numbers = _reject_junk(y, name, source, what="target")
    else:
        numbers = pd.Series(to_float(y), index=y.index)
        _reject_inf(numbers.to_numpy(), y.index, name, source, what="target")

    if task == "auto":
        task, reason = _infer_task(y, numbers, bools, raw.task_hint)
        note(notices, f"task: {task} ({reason}); pass {option('task')} to override")
    if task == Task.REGRESSION:
        if numbers is None:
            if bools:
                return pd.Series(y.astype(np.float64), index=y.index), task
            example_idx = y.index[0]
            parsed, ok = numbers_in(y)
            if (~ok).any():
                example_idx = ok[~ok].index[0]
            raise DataError(
                f"target {name!r} in {source} holds text ({str(y.loc[example_idx])[:40]!r} at {row_label(example_idx)}), "
                f"so it cannot be a regression target: pass {option('task', 'classification')}, or fix the column"
            )
        _reject_inf(numbers.to_numpy(), numbers.index, name, source, what="target")
        return numbers.astype(np.float64), task
    # classification: original label values; integral floats (a NaN made ints float) become ints
    if not bools and not is_text_like(y):
        vals = numbers.to_numpy() if numbers is not None else to_float(y)
        if np.all(np.floor(vals) == vals) and np.all(np.abs(vals) < 2**53):
            return pd.Series(vals.astype(np.int64), index=y.index), task
        return pd.Series(vals, index=y.index), task
    return y, task


def _infer_task(y: pd.Series, numbers: pd.Series | None, bools: bool, hint: str | None) -> tuple[str, str]:
    if hint in TASKS:
        return hint, "as the bundled dataset defines it"  # type: ignore[return-value]
    if bools:
        return "classification", "the target holds true/false values"
    if is_text_like(y):
        return "classification", "the target holds text labels"
    vals = numbers.to_numpy() if numbers is not None else to_float(y)
    distinct = int(np.unique(vals).size)
    integral = bool(np.all(np.floor(vals) == vals))
    if integral and distinct <= MAX_CLASS_INT_VALUES and distinct < len(vals) / 2:
        return "classification", f"the target holds {distinct} distinct integer values"
    if integral:
        return "regression", f"the target holds {distinct} distinct integers, too many to be classes"
    return "regression", "the target holds non-integer numbers"


def coerce_features(features: pd.DataFrame, source: str, max_categories: int) -> pd.DataFrame:
    """Each feature column as float64/int64 numbers or as text categories (object dtype, None missing)."""
    out: dict[str, pd.Series] = {}
    for name in features.columns:
        out[name] = _coerce_feature(features[name], name, source)
        col = out[name]
        if col.dtype == object:
            present = col[col.notna()]
            n_cats = int(present.nunique())
            id_like = len(present) == len(col) and n_cats == len(col) and len(col) >= ID_MIN_ROWS
            if n_cats > max_categories and not id_like:
                suggestion = max(n_cats, 2 * max_categories)
                fix = _decimal_comma_hint(present) or (
                    f"raise the limit with {option('max_categories', suggestion)}, or drop the column"
                )
                raise DataError(
                    f"column {name!r} in {source} has {n_cats} categories, more than {option('max_categories', max_categories)}: {fix}"
                )
    return pd.DataFrame(out, index=features.index)


def _decimal_comma_hint(values: pd.Series) -> str | None:
    """The fix for a text column that is really numbers with a decimal comma ("39,1"), if it is one."""
    texts = values.astype(str).str.strip()
    if len(texts) and texts.map(lambda v: DECIMAL_COMMA_NUMBER.fullmatch(v) is not None).all():
        return (
            f"its values are numbers with a decimal comma (such as {texts.iloc[0]!r}): "
            f"read them as numbers with {option('decimal', ',')}"
        )
    return None


def _coerce_feature(series: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(to_float(series), index=series.index)
    if pd.api.types.is_complex_dtype(series):
        raise DataError(f"column {name!r} in {source} holds complex numbers: split it into real and imaginary columns")
    if pd.api.types.is_timedelta64_dtype(series):  # dates were refused, dropped or converted before (dates.py)
        raise DataError(
            f"column {name!r} in {source} holds durations: convert it to numbers (for example the duration in days)"
        )
    if pd.api.types.is_numeric_dtype(series):
        if pd.api.types.is_signed_integer_dtype(series) and not series.isna().any():
            return series.astype(np.int64)
        values = to_float(series)
        _reject_inf(values, series.index, name, source)
        return pd.Series(values, index=series.index)
    present = is_present(series)
    if not present.any():
        return pd.Series(np.nan, index=series.index, dtype="float64")
    values = series.astype(object)
    if values[present].map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return pd.Series([float(v) if ok else np.nan for v, ok in zip(values, present)], index=series.index, dtype="float64")
    numbers = _reject_junk(series, name, source)
    if numbers is not None:
        full = pd.Series(np.nan, index=series.index, dtype="float64")
        full[numbers.index] = numbers
        _reject_inf(full.to_numpy(), series.index, name, source)
        return full
    return pd.Series([category_text(v) if ok else None for v, ok in zip(values, present)], index=series.index, dtype=object)
