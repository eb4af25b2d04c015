"""Data in: load a table, validate it, split it, and fit the preprocessing on the training rows only.

``load(source, target=None, task="auto")`` reads a CSV/TSV, Parquet or ``.npz`` file, a DataFrame,
an ``(X, y)`` pair of arrays, or a bundled dataset by name, checks it, and returns a ``Table``.
``prepare(table, split=(0.6, 0.2, 0.2), seed=0)`` splits it (stratified for classification, seeded),
fits a ``Preprocessor`` and a ``TargetEncoder`` on the training rows, and returns ``Prepared``:
float32 tensors for train and validation, and a ``SealedSplit`` for the test rows.

Every problem with the data raises ``DataError`` whose message names the problem, the file or
column, and what to do; invalid options raise ``ConfigError``. Nothing else is meant to escape.
Notices (for example "dropped 3 rows with a missing target") are collected in ``notices`` lists and
logged to the ``justenough`` logger at INFO; they are never warnings.

The fitted preprocessing is plain numbers and strings: ``Preprocessor.to_json()`` and
``Preprocessor.from_json()`` round-trip it through JSON (no pickle), and the transform is written
with NumPy and pandas from those parameters, so a loaded preprocessor gives identical output.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import hashlib
import io
import json
import logging
import math
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

import numpy as np
import pandas as pd
import torch

from justenough import datasets
from justenough.errors import ConfigError, DataError, option

__all__ = [
    "TASKS",
    "Table",
    "Preprocessor",
    "TargetEncoder",
    "SealedSplit",
    "Prepared",
    "load",
    "read_rows",
    "prepare",
    "DECIMALS",
]

log = logging.getLogger("justenough")

Task = Literal["classification", "regression"]
TASKS: tuple[str, ...] = ("classification", "regression")

MAX_CLASS_INT_VALUES = 20  # integer targets with at most this many distinct values can be classes
JUNK_FRACTION = 0.9  # a text column where at least this share parses as numbers is "numbers with junk"
ID_MIN_ROWS = 10  # a column unique per row is only called an ID from this many rows on
# A classification target with distinct values in at least this share of its rows is an ID or
# free text: most of its "classes" would have one row. Floats and integers with that many values
# are inferred as regression before this applies; it catches text and task="classification".
ID_TARGET_UNIQUE_SHARE = 0.9
TINY_STD = 1e-300  # a standard deviation at or below this is numerically zero: scale by 1 instead
MIN_TABLE_ROWS = 2  # rows with a target that a table must keep
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
DECIMALS: tuple[str, ...] = (".", ",")  # the decimal marks a text table may use
_DECIMAL_WORDS = {"point": ".", "dot": ".", "period": ".", "comma": ","}
# A number written with a decimal comma: "39,1", "-0,5", ",5", "3.750,0", "1 234 567,25", "1e-3".
# Thousands groups are exactly three digits after a leading group of 1-3 digits (not starting
# with 0), one separator throughout, so a date ("01.02.2024") or a version ("1.2") never matches.
_DECIMAL_COMMA_NUMBER = re.compile(
    r"[+-]?(?:(?:[1-9]\d{0,2}(?P<sep>[.\u00a0\u202f ])\d{3}(?:(?P=sep)\d{3})*|\d+)(?:,\d+)?|,\d+)(?:[eE][+-]?\d+)?"
)
_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat", ".data", ""}
_PREPROCESSOR_FORMAT = "justenough.preprocessor/1"
_ENCODER_FORMAT = "justenough.target_encoder/1"


def _note(notices: list[str], message: str) -> None:
    """Record a notice for the caller and log it (notices are not warnings)."""
    notices.append(message)
    log.info(message)


def _quote_list(names: Iterable[Any], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


def _show_delimiter(d: str) -> str:
    return {"\t": "tab ('\\t')", " ": "space (' ')"}.get(d, repr(d))


# ==============================================================================================
# Table and load()
# ==============================================================================================


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
    task: Task
    source: str
    notices: list[str] = field(default_factory=list)
    # How to read new rows like this table (predict does): the decimal comma when the file used
    # one, and the delimiter and encoding when they were given ({} when there is nothing to reuse:
    # a sniffed delimiter is sniffed again, so new rows may come in another layout).
    reading: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.target)


@dataclass
class _Raw:
    """A source read into a DataFrame, before validation."""

    frame: pd.DataFrame
    source: str
    default_target: str | None  # the target the source itself names (arrays, npz, datasets)
    task_hint: str | None  # a bundled dataset knows its task
    notices: list[str]
    reading: dict[str, str] = field(default_factory=dict)


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
) -> Table:
    """Load and validate a table.

    ``source``: a path (CSV/TSV with the delimiter sniffed unless given, Parquet, ``.npz`` holding
    ``X`` and ``y`` or one array whose last column is the target), a pandas DataFrame, an ``(X, y)``
    tuple of arrays, or a bundled dataset name (``justenough.datasets.available()``; ``seed`` picks
    the sample of a synthetic one). ``target`` names the target column; without it a file's last
    column is used, with a notice. ``task`` is ``"auto"`` (inferred), ``"classification"`` or
    ``"regression"``. A text column with more than ``max_categories`` distinct values is refused.

    Text files: ``decimal`` is the decimal mark, ``"."`` or ``","``. By default (``None``) a file
    whose delimiter is not a comma is read with the decimal comma (``39,1``, ``3.750,0``) when a
    column parses fully with it; columns that are text stay text. ``encoding`` names the file's
    encoding (default: UTF-8 with or without a BOM, else Windows-1252). ``Table.reading`` records
    what to reuse to read new rows alike.
    """
    task = _check_task(task)
    if isinstance(max_categories, bool) or not isinstance(max_categories, (int, np.integer)) or max_categories < 2:
        raise ConfigError(f"max_categories must be an integer of at least 2, got {max_categories!r}")
    raw = _read_source(source, delimiter, seed, decimal=decimal, encoding=encoding)
    notices = raw.notices
    frame = _check_columns_of(raw.frame, raw.source)
    target_name = _resolve_target(frame, target, raw, notices)

    y_raw = frame[target_name]
    features = frame.drop(columns=[target_name])
    if features.shape[1] == 0:
        raise DataError(
            f"{raw.source} has only the target column {target_name!r}: add feature columns, "
            f"or pass {option('target')} to name another column as the target"
        )
    keep = _present(y_raw)
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
        _note(notices, f"dropped {n_missing} row(s) with a missing target {target_name!r} ({remaining} remain)")
        y_raw = y_raw[keep]
        features = features[keep]

    y, task_used = _target_values(y_raw, target_name, task, raw, notices)
    features = _coerce_features(features, raw.source, max_categories)
    return Table(
        features=features.reset_index(drop=True),
        target=y.reset_index(drop=True).rename(target_name),
        target_name=target_name,
        task=task_used,  # type: ignore[arg-type]
        source=raw.source,
        notices=notices,
        reading=dict(raw.reading),
    )


def read_rows(
    source: Any, *, delimiter: str | None = None, decimal: str | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """Rows to predict, read like ``load`` reads a table (delimiter, decimal mark, encoding) but
    without a target or any validation: the model's preprocessing checks the columns."""
    return _read_source(source, delimiter, 0, decimal=decimal, encoding=encoding).frame


def _check_task(task: str) -> str:
    if not isinstance(task, str) or task.strip().lower() not in ("auto", *TASKS):
        raise ConfigError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    return task.strip().lower()


# --- reading sources --------------------------------------------------------------------------


def _read_source(
    source: Any, delimiter: str | None, seed: int, *, decimal: str | None = None, encoding: str | None = None
) -> _Raw:
    # The reading options are checked first, whatever the source, so a typo is refused at once.
    if delimiter is not None:
        _parse_delimiter(delimiter)
    decimal = _parse_decimal(decimal)
    encoding = _parse_encoding(encoding)
    if isinstance(source, pd.DataFrame):
        return _Raw(source.copy(), "DataFrame", None, None, [])
    if isinstance(source, tuple):
        return _read_arrays(source)
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if isinstance(source, str) and not path.exists() and datasets.is_dataset(source):
            name = source.strip().lower().replace("-", "_").replace(" ", "_")
            frame = datasets.load_dataset(name, seed=seed)
            return _Raw(frame, name, "target", datasets.DATASETS[name].task, [])
        frame, reading = _read_path(path, source, delimiter, decimal, encoding)
        return _Raw(frame, str(source), None, None, [], reading)
    raise DataError(
        f"cannot load data from a {type(source).__name__}: pass a file path (CSV, TSV, Parquet, .npz), "
        "a pandas DataFrame, a tuple (X, y) of arrays, or a bundled dataset name"
    )


def _read_arrays(pair: tuple[Any, ...]) -> _Raw:
    if len(pair) != 2:
        raise DataError(f"a tuple source must be (X, y), got a tuple of {len(pair)} items")
    X, y = pair
    try:
        if isinstance(X, pd.DataFrame):
            features = X.reset_index(drop=True).copy()
        else:
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise DataError(
                    f"X must be 2-D [rows, features], got shape {arr.shape}; for one feature use X.reshape(-1, 1)"
                )
            features = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
        y_arr = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise DataError(f"X and y could not be read as arrays ({exc}); pass numeric NumPy arrays") from exc
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr[:, 0]
    if y_arr.ndim != 1:
        raise DataError(f"y must be 1-D [rows], got shape {y_arr.shape}; pass one target column")
    if len(y_arr) != len(features):
        raise DataError(f"X has {len(features)} rows but y has {len(y_arr)}: they must have the same number of rows")
    name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "target"
    while name in [str(c) for c in features.columns]:
        name += "_"
    features[name] = y_arr
    return _Raw(features, "arrays (X, y)", name, None, [])


def _read_path(
    path: Path, given: str | Path, delimiter: str | None, decimal: str | None, encoding: str | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    if not path.exists():
        close = difflib.get_close_matches(str(given), list(datasets.DATASETS), n=2, cutoff=0.7)
        hint = f" (did you mean the bundled dataset {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise DataError(
            f"file not found: {path}{hint}; check the path (relative paths start at {Path.cwd()}), "
            f"or use a bundled dataset: {', '.join(datasets.DATASETS)}"
        )
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a file: pass the data file inside it (CSV, TSV, Parquet or .npz)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; check the file's permissions") from exc
    if size == 0:
        raise DataError(f"{path} is empty (0 bytes): pass a file with a header row and data rows")
    suffixes = [s.lower() for s in path.suffixes]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".parquet", ".pq"):
        return _read_parquet(path), {}
    if ext == ".npz":
        return _read_npz(path), {}
    compressed = ext == ".gz"
    inner = suffixes[-2] if compressed and len(suffixes) > 1 else ext
    if inner in _TEXT_SUFFIXES:
        return _read_text(path, delimiter, decimal, encoding, compressed=compressed, tsv=inner == ".tsv")
    raise DataError(
        f"{path}: unsupported file type {ext!r}; use CSV/TSV (.csv, .tsv, .txt, optionally .gz), Parquet (.parquet) "
        "or NumPy (.npz)"
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; check the file's permissions") from exc


def _read_text(
    path: Path, delimiter: str | None, decimal: str | None, encoding: str | None, *, compressed: bool, tsv: bool
) -> tuple[pd.DataFrame, dict[str, str]]:
    raw = _read_bytes(path)
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path} is named .gz but is not valid gzip data ({exc}); check the file") from exc
    text = _decode(raw, path, encoding)
    if not text.strip():
        raise DataError(f"{path} is empty (only blank lines): pass a file with a header row and data rows")
    sep = _parse_delimiter(delimiter) if delimiter is not None else ("\t" if tsv else _sniff_delimiter(text))
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True))
    except (csv.Error, StopIteration) as exc:
        raise DataError(f"{path}: the header row cannot be read ({exc}); check the file and its delimiter") from exc
    names = [h.strip() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{path}: column name(s) {_quote_list(dupes)} appear more than once in the header; rename them so each "
            "column name is unique"
        )
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} has no columns: pass a file with a header row and data rows") from exc
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{path} cannot be parsed as a table with delimiter {_show_delimiter(sep)}: {detail}; check that every row "
            "has as many fields as the header, quote fields that contain the delimiter, or pass "
            f"{option('delimiter')}"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] == 1:
        col = frame.columns[0]
        hits = [d for d in (*_DELIMITERS, " ", ":") if d != sep and d in col]
        if hits:
            d = hits[0]
            shown = "'\\t'" if d == "\t" else repr(d)
            raise DataError(
                f"{path}: everything landed in one column ({col[:60]!r}) with delimiter {_show_delimiter(sep)}; the file "
                f"seems to use {_show_delimiter(d)} as its delimiter: pass {option('delimiter', d)}"
            )
    if len(frame) == 0:
        raise DataError(
            f"{path} has a header ({_quote_list(frame.columns, 6)}) but no data rows: add rows below the header"
        )
    used = _decimal_comma_columns(text, sep, frame, decimal)
    reading = {"decimal": ","} if used is not None else {}
    if delimiter is not None:
        reading["delimiter"] = sep
    if encoding is not None:
        reading["encoding"] = encoding
    if used:
        frame = frame.assign(**used)
    return frame, reading


def _decimal_comma_columns(text: str, sep: str, frame: pd.DataFrame, decimal: str | None) -> dict[str, pd.Series] | None:
    """The columns to read as decimal-comma numbers (float64), or None when the file does not use one.

    ``decimal=","`` forces the decimal comma; ``"."`` rules it out; ``None`` detects it, only when the
    delimiter is not a comma (else a decimal comma would have split the field), from a column whose
    every present value parses with it and at least one holds a comma. Every column that parses
    fully is then converted; one with a value that does not (real text, "1.5") keeps what the
    ordinary reader made of it.
    """
    if decimal == "." or (decimal is None and sep == ","):
        return None
    if decimal is None and all(_is_numeric_column(frame[name]) for name in frame.columns):
        return None  # a value with a decimal comma would have made its column text: none to detect
    cells = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, dtype=str, low_memory=False)
    cells.columns = list(frame.columns)
    converted: dict[str, pd.Series] = {}
    uses_comma = False
    for name in frame.columns:
        values = cells[name].str.strip()
        present = values.notna() & (values != "")
        shown = values[present]
        if len(shown) == 0 or not shown.map(lambda v: _DECIMAL_COMMA_NUMBER.fullmatch(v) is not None).all():
            continue
        comma = bool(shown.str.contains(",", regex=False).any())
        grouped = bool(shown.str.contains(r"\d[.\u00a0\u202f ]\d", regex=True).any())
        uses_comma |= comma
        if comma or grouped:  # plain integers are read right already
            numbers = pd.Series(np.nan, index=frame.index, dtype="float64")
            numbers[present] = [float(re.sub(r"[.\u00a0\u202f ]", "", v).replace(",", ".")) for v in shown]
            converted[name] = numbers
    if decimal is None and not uses_comma:
        return None
    return converted


def _is_numeric_column(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _decode(raw: bytes, path: Path, encoding: str | None = None) -> str:
    if encoding is not None:  # as the user says; utf-8 also drops a BOM
        codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
        try:
            return raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} cannot be decoded as {encoding}: byte {raw[exc.start:exc.start + 1]!r} at position {exc.start} "
                f"is not valid there; pass the file's encoding as {option('encoding', 'cp1252')} (or utf-8, latin-1, ...)"
            ) from None
    head = raw[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path} starts like UTF-16 text but cannot be decoded; re-save it as UTF-8") from exc
    kinds = {b"\x1f\x8b": "gzip-compressed data", b"PK\x03\x04": "a zip archive", b"PAR1": "a Parquet file"}
    for magic, kind in kinds.items():
        if head.startswith(magic):
            fix = {
                "gzip-compressed data": "decompress it (gunzip) or name it .csv.gz",
                "a zip archive": "extract the CSV from it",
                "a Parquet file": "rename it with the .parquet extension",
            }[kind]
            raise DataError(f"{path} is {kind}, not a text table: {fix}")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32 or b == 127)
    if b"\x00" in head or controls > 0.05 * max(len(head), 1):
        raise DataError(
            f"{path} holds binary data, not a text table: pass a CSV/TSV text file, a Parquet file (.parquet) or .npz"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _parse_delimiter(delimiter: str) -> str:
    if not isinstance(delimiter, str) or not delimiter:
        raise ConfigError(f"delimiter must be one character such as ',' ';' '\\t' '|', got {delimiter!r}")
    d = _DELIMITER_WORDS.get(delimiter.lower(), delimiter)
    if len(d) != 1:
        raise ConfigError(f"delimiter must be one character such as ',' ';' '\\t' '|' (or 'tab'), got {delimiter!r}")
    return d


def _parse_decimal(decimal: str | None) -> str | None:
    """``None``/``"auto"`` (detect), ``"."`` or ``","`` (also ``"point"``, ``"comma"``)."""
    if decimal is None:
        return None
    if isinstance(decimal, str):
        d = _DECIMAL_WORDS.get(decimal.strip().lower(), decimal.strip())
        if d.lower() == "auto":
            return None
        if d in DECIMALS:
            return d
    raise ConfigError(f"decimal must be '.' or ',' (or 'auto' to detect it), got {decimal!r}: pass {option('decimal', ',')} for 39,1")


def _parse_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        if not isinstance(encoding, str):
            raise LookupError(encoding)
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"unknown encoding {encoding!r}: use a Python codec name such as {option('encoding', 'utf-8')}, cp1252 or latin-1"
        ) from None
    return encoding


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the first lines into the most, equally long, rows."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_cols = ",", 1
    for d in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        if consistent >= 0.9 and counts[0] > best_cols:
            best, best_cols = d, counts[0]
    return best


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds (ArrowInvalid, OSError, ...): all mean "unreadable"
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(f"{path} is not a readable Parquet file ({detail}); check the file or re-export it") from exc
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(f"{path} has no data rows or no columns: pass a Parquet file with a table in it")
    return frame


def _read_npz(path: Path) -> pd.DataFrame:
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a readable .npz archive (not a zip file); save it with numpy.savez")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except ValueError as exc:
        raise DataError(
            f"{path} holds object arrays, which would need pickle to load: save numeric arrays "
            "(np.savez(path, X=X.astype(float), y=y))"
        ) from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"{path} is not a readable .npz archive ({exc}); save it with numpy.savez") from exc
    keys = {k.lower(): k for k in arrays}
    if "x" in keys and "y" in keys:
        X, y = arrays[keys["x"]], arrays[keys["y"]]
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.ndim != 2:
            raise DataError(f"{path}: array X must be 2-D [rows, features], got shape {X.shape}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(f"{path}: y must be 1-D with one value per row of X; got X {X.shape} and y {y.shape}")
        names = [f"x{j}" for j in range(X.shape[1])]
        if "feature_names" in arrays and arrays["feature_names"].shape == (X.shape[1],):
            names = [str(n) for n in arrays["feature_names"]]
        frame = pd.DataFrame(X, columns=names)
        frame["target" if "target" not in names else "target_"] = y
    elif len(arrays) == 1:
        (arr,) = arrays.values()
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise DataError(
                f"{path}: its single array has shape {arr.shape}; expected 2-D [rows, features + 1] whose last column "
                "is the target, or save two arrays: np.savez(path, X=X, y=y)"
            )
        frame = pd.DataFrame(arr[:, :-1], columns=[f"x{j}" for j in range(arr.shape[1] - 1)])
        frame["target"] = arr[:, -1]
    else:
        raise DataError(
            f"{path} holds arrays {_quote_list(arrays)}; expected 'X' and 'y', or a single 2-D array whose last "
            "column is the target"
        )
    if len(frame) == 0:
        raise DataError(f"{path} has no rows: save arrays with at least one row")
    return frame


# --- validation -------------------------------------------------------------------------------


def _check_columns_of(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Column names as strings, unique; at least two columns and one row."""
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = ["_".join(str(p) for p in c) for c in frame.columns]
    names = [c if isinstance(c, str) else str(c) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{source}: column name(s) {_quote_list(dupes)} appear more than once; rename them so each column "
            "name is unique"
        )
    frame = frame.set_axis(names, axis=1).reset_index(drop=True)
    if frame.shape[1] < 2:
        raise DataError(
            f"{source} has {frame.shape[1]} column(s) ({_quote_list(names)}); a table needs at least one feature "
            "column and a target column"
        )
    if len(frame) == 0:
        raise DataError(f"{source} has no rows: pass a table with data rows")
    return frame


def _resolve_target(frame: pd.DataFrame, target: str | None, raw: _Raw, notices: list[str]) -> str:
    columns = list(frame.columns)
    if target is None:
        if raw.default_target is not None and raw.default_target in columns:
            return raw.default_target
        name = columns[-1]
        _note(notices, f"no target given: using the last column {name!r} as the target (pass {option('target')} to choose)")
        return name
    target = str(target)
    if target in columns:
        return target
    stripped = [c for c in columns if c.strip().casefold() == target.strip().casefold()]
    if len(stripped) == 1:
        _note(notices, f"target {target!r} matched the column {stripped[0]!r} (case and surrounding spaces ignored)")
        return stripped[0]
    close = difflib.get_close_matches(target, columns, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise DataError(
        f"target column {target!r} is not in {raw.source}: {hint}the columns are {_quote_list(columns, 20)}; "
        f"pass one of them as {option('target')}"
    )


def _present(series: pd.Series) -> pd.Series:
    """True where a value is present (not NaN/None/NA, and not a blank string)."""
    present = series.notna()
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        blank = series.map(lambda v: isinstance(v, str) and not v.strip())
        present &= ~blank.astype(bool)
    return present


def _is_text_like(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
        or pd.api.types.is_timedelta64_dtype(series)
    )


def _plain(value: Any) -> Any:
    """A JSON-able plain Python scalar for a label (NumPy scalars unwrapped)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _numbers_in(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse present values of a text column as numbers: (parsed float64, parsed ok mask)."""
    as_obj = values.astype(object)
    cleaned = as_obj.map(lambda v: v if isinstance(v, (str, int, float, np.number)) and not isinstance(v, bool) else "\x00")
    try:
        parsed = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    except (TypeError, ValueError):
        parsed = pd.Series(np.nan, index=values.index, dtype="float64")
    ok = parsed.notna() | cleaned.map(lambda v: isinstance(v, str) and v.strip().lower() in ("nan", "+nan", "-nan"))
    return parsed, ok


def _row_label(index: Any) -> str:
    return f"row {int(index) + 1}" if isinstance(index, (int, np.integer)) else f"row {index!r}"


def _reject_junk(series: pd.Series, column: str, source: str, what: str = "column") -> pd.Series | None:
    """For a text column that is mostly numbers: raise on the junk; all numbers: return them as float64."""
    present = _present(series)
    values = series[present]
    if len(values) == 0:
        return None
    parsed, ok = _numbers_in(values)
    share = float(ok.mean())
    if share == 1.0:
        return parsed
    if share >= JUNK_FRACTION:
        bad_index = ok[~ok].index[0]
        bad = values.loc[bad_index]
        raise DataError(
            f"{what} {column!r} in {source} holds numbers, but {_row_label(bad_index)} has {str(bad)[:40]!r} "
            f"({int((~ok).sum())} of {len(values)} values are not numbers): fix or blank these cells "
            "(blank cells are imputed)"
        )
    return None


def _reject_inf(values: np.ndarray, index: pd.Index, column: str, source: str, what: str = "column") -> None:
    inf = np.isinf(values)
    if inf.any():
        where = _row_label(index[int(np.argmax(inf))])
        raise DataError(
            f"{what} {column!r} in {source} has {int(inf.sum())} infinite value(s) (first at {where}): replace them "
            "with numbers, or blank them (blank cells are imputed)"
        )


def _to_float(series: pd.Series) -> np.ndarray:
    """A numeric or boolean series as float64 with NaN for missing values."""
    return np.asarray(series.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)


def _target_values(y: pd.Series, name: str, task: str, raw: _Raw, notices: list[str]) -> tuple[pd.Series, str]:
    """Check the target and choose the task; returns the target values to keep and the task."""
    source = raw.source
    if pd.api.types.is_complex_dtype(y) or pd.api.types.is_datetime64_any_dtype(y) or pd.api.types.is_timedelta64_dtype(y):
        raise DataError(f"target {name!r} in {source} has dtype {y.dtype}: use numbers (regression) or labels (classification)")
    numbers: pd.Series | None = None
    bools = pd.api.types.is_bool_dtype(y) or (
        _is_text_like(y) and y.map(lambda v: isinstance(v, (bool, np.bool_))).all()
    )
    if bools:
        y = y.astype(bool)
    elif _is_text_like(y):
        y = y.astype(object).map(_plain)
        numbers = _reject_junk(y, name, source, what="target")
    else:
        numbers = pd.Series(_to_float(y), index=y.index)
        _reject_inf(numbers.to_numpy(), y.index, name, source, what="target")

    if task == "auto":
        task, reason = _infer_task(y, numbers, bools, raw.task_hint)
        _note(notices, f"task: {task} ({reason}); pass {option('task')} to override")
    if task == "regression":
        if numbers is None:
            if bools:
                return pd.Series(y.astype(np.float64), index=y.index), task
            example_idx = y.index[0]
            parsed, ok = _numbers_in(y)
            if (~ok).any():
                example_idx = ok[~ok].index[0]
            raise DataError(
                f"target {name!r} in {source} holds text ({str(y.loc[example_idx])[:40]!r} at {_row_label(example_idx)}), "
                f"so it cannot be a regression target: pass {option('task', 'classification')}, or fix the column"
            )
        _reject_inf(numbers.to_numpy(), numbers.index, name, source, what="target")
        return numbers.astype(np.float64), task
    # classification: original label values; integral floats (a NaN made ints float) become ints
    if not bools and not _is_text_like(y):
        vals = numbers.to_numpy() if numbers is not None else _to_float(y)
        if np.all(np.floor(vals) == vals) and np.all(np.abs(vals) < 2**53):
            return pd.Series(vals.astype(np.int64), index=y.index), task
        return pd.Series(vals, index=y.index), task
    return y, task


def _infer_task(y: pd.Series, numbers: pd.Series | None, bools: bool, hint: str | None) -> tuple[str, str]:
    if hint in TASKS:
        return hint, "as the bundled dataset defines it"  # type: ignore[return-value]
    if bools:
        return "classification", "the target holds true/false values"
    if _is_text_like(y):
        return "classification", "the target holds text labels"
    vals = numbers.to_numpy() if numbers is not None else _to_float(y)
    distinct = int(np.unique(vals).size)
    integral = bool(np.all(np.floor(vals) == vals))
    if integral and distinct <= MAX_CLASS_INT_VALUES and distinct < len(vals) / 2:
        return "classification", f"the target holds {distinct} distinct integer values"
    if integral:
        return "regression", f"the target holds {distinct} distinct integers, too many to be classes"
    return "regression", "the target holds non-integer numbers"


def _coerce_features(features: pd.DataFrame, source: str, max_categories: int) -> pd.DataFrame:
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
    if len(texts) and texts.map(lambda v: _DECIMAL_COMMA_NUMBER.fullmatch(v) is not None).all():
        return (
            f"its values are numbers with a decimal comma (such as {texts.iloc[0]!r}): "
            f"read them as numbers with {option('decimal', ',')}"
        )
    return None


def _coerce_feature(series: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(_to_float(series), index=series.index)
    if pd.api.types.is_complex_dtype(series):
        raise DataError(f"column {name!r} in {source} holds complex numbers: split it into real and imaginary columns")
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        raise DataError(
            f"column {name!r} in {source} holds dates or times: convert it to numbers (for example days since a start "
            "date, or the month) or to text categories"
        )
    if pd.api.types.is_numeric_dtype(series):
        if pd.api.types.is_signed_integer_dtype(series) and not series.isna().any():
            return series.astype(np.int64)
        values = _to_float(series)
        _reject_inf(values, series.index, name, source)
        return pd.Series(values, index=series.index)
    present = _present(series)
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
    return pd.Series([_category(v) if ok else None for v, ok in zip(values, present)], index=series.index, dtype=object)


def _category(value: Any) -> str:
    """The text of one category value; integral floats print as integers so 1.0 and 1 agree."""
    value = _plain(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return str(value)


# ==============================================================================================
# Preprocessor
# ==============================================================================================


_ID_NAME = re.compile(r"(.*[\W_])?(id|idx|index|key|uuid|guid|row|rownum|row_number)", re.IGNORECASE)


def _looks_like_id_name(name: str) -> bool:
    return bool(_ID_NAME.fullmatch(name.strip())) or name.lower().startswith("unnamed") or name.endswith(("Id", "ID"))


class Preprocessor:
    """Impute, standardize and one-hot encode, with parameters fitted on the training rows only.

    Numeric columns: missing values -> the train median, then ``(x - mean) / std`` with the train mean
    and (population) standard deviation. Text columns: missing values -> the most frequent train
    category, then one-hot over the train categories; a category unseen in training maps to all zeros.
    Constant columns, columns missing in every training row and ID-like columns (unique per row:
    text, or integers that look like row numbers or are named like an ID) are dropped with a notice.
    ``max_categories`` (None: no limit) refuses text columns with more categories.
    """

    def __init__(self, max_categories: int | None = None) -> None:
        self.max_categories = max_categories
        self.feature_names_in: list[str] = []
        self.columns: list[dict[str, Any]] = []  # used columns in input order, each with its parameters
        self.dropped: dict[str, str] = {}
        self.feature_names_out: list[str] = []
        self.notices: list[str] = []
        self.fitted = False

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, features: pd.DataFrame) -> "Preprocessor":
        """Learn the parameters from the training rows; returns ``self``."""
        if not isinstance(features, pd.DataFrame):
            raise DataError(f"Preprocessor.fit takes a pandas DataFrame, got {type(features).__name__}")
        if len(features) == 0:
            raise DataError("cannot fit the preprocessing on zero training rows: pass more rows")
        names = [str(c) for c in features.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(f"column name(s) {_quote_list(dupes)} appear more than once; rename them")
        self.feature_names_in, self.columns, self.dropped, self.notices = names, [], {}, []
        for name, col in zip(names, (features.iloc[:, j] for j in range(features.shape[1]))):
            spec = self._fit_column(name, col)
            if spec is not None:
                self.columns.append(spec)
        if self.dropped:
            reasons = "; ".join(f"{n!r} ({why})" for n, why in self.dropped.items())
            _note(self.notices, f"dropped {len(self.dropped)} feature column(s): {reasons}")
        if not self.columns:
            raise DataError(
                "no usable feature columns remain: every column was dropped "
                f"({'; '.join(f'{n!r}: {w}' for n, w in self.dropped.items())}); add informative feature columns"
            )
        self.feature_names_out = [n for spec in self.columns for n in _names_out(spec)]
        self.fitted = True
        return self

    def _fit_column(self, name: str, col: pd.Series) -> dict[str, Any] | None:
        n = len(col)
        if not _is_text_like(col):
            values = _numeric(col, name, "the training rows")
            present = values[~np.isnan(values)]
            if present.size == 0:
                self.dropped[name] = "missing in every training row"
                return None
            if np.unique(present).size == 1:
                self.dropped[name] = f"constant: always {present[0]:g}"
                return None
            is_int = pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col)
            if is_int and present.size == n >= ID_MIN_ROWS and np.unique(present).size == n:
                span = float(present.max() - present.min())
                if _looks_like_id_name(name) or span < 2 * n:
                    self.dropped[name] = "ID-like: a different integer in every row"
                    return None
            with np.errstate(all="ignore"):
                median = float(np.median(present))
                filled = np.where(np.isnan(values), median, values)
                mean = float(filled.mean())
                std = float(filled.std())
            if not (math.isfinite(mean) and math.isfinite(std) and math.isfinite(median)):
                raise DataError(
                    f"column {name!r} has values too large to standardize (beyond about 1e300): rescale the column"
                )
            return {"name": name, "kind": "numeric", "median": median, "mean": mean, "std": std if std > TINY_STD else 1.0}
        cats = _categories(col)
        present = cats[pd.notna(cats)]
        if present.size == 0:
            self.dropped[name] = "missing in every training row"
            return None
        counts = Counter(present.tolist())
        if len(counts) == 1:
            self.dropped[name] = f"constant: always {present[0]!r}"
            return None
        if present.size == n >= ID_MIN_ROWS and len(counts) == n:
            self.dropped[name] = "ID-like: a different value in every row"
            return None
        if self.max_categories is not None and len(counts) > self.max_categories:
            raise DataError(
                f"column {name!r} has {len(counts)} categories, more than {option('max_categories', self.max_categories)}: "
                f"raise the limit ({option('max_categories')}) or drop the column"
            )
        categories = sorted(counts)
        mode = max(categories, key=lambda c: (counts[c], -categories.index(c)))  # ties: first in sorted order
        return {"name": name, "kind": "categorical", "categories": categories, "mode": mode}

    # --- predict-time checks and the transform --------------------------------------------------

    def _lookup(self, features: pd.DataFrame) -> dict[str, Any]:
        """Map the names the model needs to the frame's columns; raise on missing or ambiguous ones."""
        if not self.fitted:
            raise DataError("this Preprocessor is not fitted: call fit(features) first, or load a fitted one")
        if not isinstance(features, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame of features, got {type(features).__name__}")
        by_name: dict[str, Any] = {}
        dupes = []
        for c in features.columns:
            key = c if isinstance(c, str) else str(c)
            if key in by_name:
                dupes.append(key)
            by_name[key] = c
        needed = [spec["name"] for spec in self.columns]
        clash = sorted(set(dupes) & set(needed))
        if clash:
            raise DataError(f"column name(s) {_quote_list(clash)} appear more than once in the data; keep one of each")
        missing = [n for n in needed if n not in by_name]
        if missing:
            hints = []
            for m in missing[:5]:
                # Names that differ only in case are the likeliest mistake; difflib misses them
                # when the name is short ("AGE" vs "age" scores 0).
                same_but_case = [c for c in by_name if c.lower() == m.lower()]
                if same_but_case:
                    hints.append(f"{m!r} (did you mean {same_but_case[0]!r}? the names differ only in case)")
                    continue
                close = difflib.get_close_matches(m, list(by_name), n=1, cutoff=0.6)
                if close:
                    hints.append(f"{m!r} (is it {close[0]!r}?)")
            hint = f" Close names: {', '.join(hints)}." if hints else ""
            raise DataError(
                f"missing column(s) the model needs: {_quote_list(missing)}.{hint} Add them to the data "
                "(names are matched exactly; column order does not matter)"
            )
        return by_name

    def check_columns(self, features: pd.DataFrame) -> list[str]:
        """Check a frame at predict time: missing columns raise ``DataError`` naming them, extra
        columns are ignored (returned as a notice and logged), column order does not matter.
        Categories training never saw are counted and named, one notice per column: they are
        encoded as all zeros, so those rows are predicted as if the column were absent."""
        by_name = self._lookup(features)
        known = set(self.feature_names_in)
        extra = [n for n in by_name if n not in known]
        notices: list[str] = []
        if extra:
            _note(notices, f"ignored {len(extra)} column(s) the model does not use: {_quote_list(extra)}")
        for spec in self.columns:
            if spec["kind"] != "categorical":
                continue
            col = features[by_name[spec["name"]]]
            if isinstance(col, pd.DataFrame):  # duplicated non-needed names resolve to frames; take the first
                col = col.iloc[:, 0]
            cats = pd.Series(_categories(col))
            unseen = cats.notna() & ~cats.isin(spec["categories"])
            if unseen.any():
                values = sorted(cats[unseen].unique().tolist())
                _note(
                    notices,
                    f"column {spec['name']!r}: {int(unseen.sum())} of {len(cats)} row(s) hold {len(values)} "
                    f"categor{'y' if len(values) == 1 else 'ies'} not seen in training ({_quote_list(values, 5)}); "
                    "they are encoded as all zeros (no known category)",
                )
        return notices

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """Raw feature rows -> float32 ``[N, n_features_out]`` (columns found by name)."""
        by_name = self._lookup(features)
        n = len(features)
        out = np.zeros((n, len(self.feature_names_out)), dtype=np.float64)  # [N, F]
        j = 0
        for spec in self.columns:
            col = features[by_name[spec["name"]]]
            if isinstance(col, pd.DataFrame):  # duplicated non-needed names resolve to frames; take the first
                col = col.iloc[:, 0]
            if spec["kind"] == "numeric":
                values = _numeric(col, spec["name"], "the data")
                with np.errstate(all="ignore"):
                    values = np.where(np.isnan(values), spec["median"], values)
                    out[:, j] = (values - spec["mean"]) / spec["std"]
                j += 1
            else:
                cats = _categories(col)
                cats = np.where(pd.isna(cats), spec["mode"], cats)
                codes = pd.Index(spec["categories"]).get_indexer(cats.astype(object))  # -1: unseen -> all zeros
                rows = np.nonzero(codes >= 0)[0]
                out[rows, j + codes[rows]] = 1.0
                j += len(spec["categories"])
        with np.errstate(all="ignore"):
            result = out.astype(np.float32)
        if not np.isfinite(result).all():
            bad_col = int(np.nonzero(~np.isfinite(result).all(axis=0))[0][0])
            raise DataError(
                f"feature {self.feature_names_out[bad_col]!r} has values too large for float32 after standardizing: "
                "check that column for extreme values"
            )
        return result

    # --- JSON ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The fitted parameters as JSON-able data (floats round-trip exactly through ``json``)."""
        if not self.fitted:
            raise DataError("this Preprocessor is not fitted: call fit(features) first")
        return {
            "format": _PREPROCESSOR_FORMAT,
            "feature_names_in": list(self.feature_names_in),
            "columns": [dict(spec) for spec in self.columns],
            "dropped": dict(self.dropped),
            "feature_names_out": list(self.feature_names_out),
            "max_categories": self.max_categories,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Preprocessor":
        """Rebuild a fitted preprocessor from ``to_json()`` output; malformed data raises ``DataError``."""
        try:
            if data.get("format") != _PREPROCESSOR_FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}, expected {_PREPROCESSOR_FORMAT!r}")
            pre = cls(max_categories=data.get("max_categories"))
            pre.feature_names_in = [str(n) for n in data["feature_names_in"]]
            pre.dropped = {str(k): str(v) for k, v in dict(data["dropped"]).items()}
            for spec in data["columns"]:
                if spec["kind"] == "numeric":
                    clean = {k: float(spec[k]) for k in ("median", "mean", "std")}
                    if not all(math.isfinite(v) for v in clean.values()) or clean["std"] <= 0:
                        raise ValueError(f"column {spec['name']!r} has invalid numbers {clean}")
                    pre.columns.append({"name": str(spec["name"]), "kind": "numeric", **clean})
                elif spec["kind"] == "categorical":
                    categories = [str(c) for c in spec["categories"]]
                    pre.columns.append(
                        {"name": str(spec["name"]), "kind": "categorical", "categories": categories, "mode": str(spec["mode"])}
                    )
                else:
                    raise ValueError(f"unknown column kind {spec['kind']!r}")
            pre.feature_names_out = [n for spec in pre.columns for n in _names_out(spec)]
            if pre.feature_names_out != [str(n) for n in data["feature_names_out"]]:
                raise ValueError("feature_names_out does not match the columns")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"the saved preprocessing is malformed ({exc}); re-create it with Preprocessor.fit") from exc
        pre.fitted = True
        return pre

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description of what the preprocessing does."""
        numeric = [s["name"] for s in self.columns if s["kind"] == "numeric"]
        categorical = {s["name"]: len(s["categories"]) for s in self.columns if s["kind"] == "categorical"}
        return {
            "numeric": {"columns": len(numeric), "imputation": "median", "scaling": "standardize (mean, std of train)"},
            "categorical": {
                "columns": len(categorical),
                "categories": categorical,
                "imputation": "most frequent",
                "encoding": "one-hot (unseen category -> all zeros)",
            },
            "dropped": dict(self.dropped),
            "features_out": len(self.feature_names_out),
        }

    def __repr__(self) -> str:
        state = f"{len(self.columns)} columns -> {len(self.feature_names_out)} features" if self.fitted else "not fitted"
        return f"Preprocessor({state})"


def _names_out(spec: dict[str, Any]) -> list[str]:
    if spec["kind"] == "numeric":
        return [spec["name"]]
    return [f"{spec['name']}={c}" for c in spec["categories"]]


def _numeric(col: pd.Series, name: str, where: str) -> np.ndarray:
    """A column the model treats as numbers, as float64 with NaN for missing; text that parses is
    accepted (a numeric column that arrives as strings), anything else raises ``DataError``."""
    if pd.api.types.is_bool_dtype(col) or (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_complex_dtype(col)):
        values = _to_float(col)
    else:
        present = _present(col)
        parsed, ok = _numbers_in(col[present])
        if not ok.all():
            bad_index = ok[~ok].index[0]
            raise DataError(
                f"column {name!r} should hold numbers, but in {where} {_row_label(bad_index)} has "
                f"{str(col.loc[bad_index])[:40]!r}: pass numbers (or blank cells, which are imputed)"
            )
        values = np.full(len(col), np.nan)
        values[np.asarray(present)] = parsed.to_numpy()
    if np.isinf(values).any():
        where_row = _row_label(col.index[int(np.argmax(np.isinf(values)))])
        raise DataError(f"column {name!r} has an infinite value in {where} ({where_row}): pass finite numbers or blanks")
    return values


def _categories(col: pd.Series) -> np.ndarray:
    """A column the model treats as categories: object array of category text, None for missing."""
    present = np.asarray(_present(col))
    return np.array([_category(v) if ok else None for v, ok in zip(col.astype(object), present)], dtype=object)


# ==============================================================================================
# TargetEncoder
# ==============================================================================================


def _label_key(label: Any) -> tuple[str, Any]:
    """Sort key for labels of mixed types: by type name, then value."""
    if isinstance(label, bool):
        return ("bool", label)
    if isinstance(label, (int, float)):
        return ("number", label)
    return (type(label).__name__, str(label))


class TargetEncoder:
    """Classification: labels (any hashable, original values kept) <-> ``0..K-1`` in ``classes`` order.
    Regression: ``(y - mean) / std`` with the training mean and standard deviation (std 0 -> 1)."""

    def __init__(self, task: str, classes: list[Any] | None = None, mean: float = 0.0, std: float = 1.0) -> None:
        if task not in TASKS:
            raise ConfigError(f"task must be 'classification' or 'regression', got {task!r}")
        self.task = task
        self.classes: list[Any] = list(classes or [])
        self.mean = float(mean)
        self.std = float(std)

    def fit(self, y: pd.Series | np.ndarray) -> "TargetEncoder":
        """Learn the classes (sorted) or the mean and std from the training targets; returns ``self``."""
        values = pd.Series(y)
        if self.task == "classification":
            self.classes = sorted({_plain(v) for v in values.tolist()}, key=_label_key)
        else:
            numbers = self._numbers(values, "the training targets")
            with np.errstate(all="ignore"):
                mean, std = float(numbers.mean()), float(numbers.std())
            if not (math.isfinite(mean) and math.isfinite(std)):
                raise DataError("the target values are too large to standardize (beyond about 1e300): rescale the target")
            self.mean, self.std = mean, std if std > TINY_STD else 1.0
        return self

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" else 1

    def _numbers(self, values: pd.Series, where: str) -> np.ndarray:
        try:
            numbers = pd.to_numeric(values.astype(object), errors="raise").astype("float64").to_numpy()
        except (ValueError, TypeError) as exc:
            raise DataError(f"the regression target in {where} holds values that are not numbers ({exc})") from exc
        if not np.isfinite(numbers).all():
            raise DataError(f"the regression target in {where} has missing or infinite values: drop or fix those rows")
        return numbers

    def encode(self, y: pd.Series | np.ndarray, where: str = "the data") -> np.ndarray:
        """Labels -> int64 class indices ``[N]``, or numbers -> standardized float32 ``[N]``."""
        values = pd.Series(y)
        if self.task == "regression":
            with np.errstate(all="ignore"):
                z = ((self._numbers(values, where) - self.mean) / self.std).astype(np.float32)
            if not np.isfinite(z).all():
                raise DataError(
                    f"the regression target in {where} is too extreme to standardize with the training mean "
                    f"{self.mean:g} and std {self.std:g}: rescale the target (for example to other units)"
                )
            return z
        index = {label: k for k, label in enumerate(self.classes)}
        codes = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values.tolist()):
            k = index.get(_plain(v))
            if k is None:
                raise DataError(
                    f"class {v!r} in {where} is not one of the classes seen in training ({_quote_list(self.classes)}); "
                    "remove those rows, or include that class in the training data"
                )
            codes[i] = k
        return codes

    def decode(self, encoded: np.ndarray | torch.Tensor) -> np.ndarray:
        """Class indices -> original labels, or standardized values -> original units (float64)."""
        a = encoded.detach().cpu().numpy() if isinstance(encoded, torch.Tensor) else np.asarray(encoded)
        if self.task == "regression":
            return a.astype(np.float64) * self.std + self.mean
        kinds = {type(c) for c in self.classes}
        table = np.asarray(self.classes) if len(kinds) == 1 else np.array(self.classes, dtype=object)
        return table[a.astype(np.int64)]

    def to_json(self) -> dict[str, Any]:
        return {"format": _ENCODER_FORMAT, "task": self.task, "classes": list(self.classes), "mean": self.mean, "std": self.std}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TargetEncoder":
        try:
            if data.get("format") != _ENCODER_FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}, expected {_ENCODER_FORMAT!r}")
            enc = cls(str(data["task"]), list(data["classes"]), float(data["mean"]), float(data["std"]))
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
            raise DataError(f"the saved target encoding is malformed ({exc})") from exc
        return enc

    def __repr__(self) -> str:
        if self.task == "classification":
            return f"TargetEncoder(classification, {len(self.classes)} classes)"
        return f"TargetEncoder(regression, mean={self.mean:g}, std={self.std:g})"


# ==============================================================================================
# Splits and prepare()
# ==============================================================================================


class SealedSplit:
    """The test rows, kept apart: ``open()`` returns ``(X [N, F], y [N])`` and counts itself.

    Only the final test scoring (after selection, for the chosen model) may call ``open()``.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self._X = X
        self._y = y
        self.times_opened = 0

    def open(self) -> tuple[torch.Tensor, torch.Tensor]:
        self.times_opened += 1
        return self._X, self._y

    def __len__(self) -> int:
        return int(self._X.shape[0])

    def __repr__(self) -> str:
        return f"SealedSplit(rows={len(self)}, times_opened={self.times_opened})"


@dataclass(eq=False)
class Prepared:
    """Split, preprocessed data as float32 tensors, with everything needed to undo the encoding."""

    X_train: torch.Tensor  # [N_train, F] float32
    y_train: torch.Tensor  # [N_train] int64 (class index) or float32 (standardized)
    X_val: torch.Tensor  # [N_val, F]
    y_val: torch.Tensor  # [N_val]
    test: SealedSplit
    task: Task
    classes: list[Any]
    n_features: int
    n_outputs: int
    feature_names: list[str]
    preprocessor: Preprocessor
    target_encoder: TargetEncoder
    target_name: str
    split_sizes: dict[str, int]
    source: str
    notices: list[str]
    seed: int = 0
    rows: int = 0
    class_balance: dict[str, int] = field(default_factory=dict)
    # True when the same table was passed as ``val`` and ``test``: the "test" score is then the
    # chosen model's validation score, not an independent estimate (summaries and reports say so).
    test_is_val: bool = False
    reading: dict[str, str] = field(default_factory=dict)  # Table.reading of the main table

    def fingerprint(self) -> str:
        """sha256 over the encoded train and validation arrays, the split sizes and the seed."""
        h = hashlib.sha256()
        for t in (self.X_train, self.y_train, self.X_val, self.y_val):
            a = np.ascontiguousarray(t.detach().cpu().numpy())
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        h.update(json.dumps(self.split_sizes, sort_keys=True).encode())
        h.update(str(int(self.seed)).encode())
        return h.hexdigest()

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: source, rows, features, task, class balance, splits, preprocessing."""
        return {
            "source": self.source,
            "target": self.target_name,
            "rows": self.rows,
            "features": len(self.preprocessor.feature_names_in),
            "features_out": self.n_features,
            "feature_names": list(self.feature_names),
            "task": self.task,
            "classes": [_plain(c) for c in self.classes],
            "class_balance": dict(self.class_balance),
            "target_scale": None
            if self.task == "classification"
            else {"mean": self.target_encoder.mean, "std": self.target_encoder.std},
            "split_sizes": dict(self.split_sizes),
            "seed": self.seed,
            "preprocessing": self.preprocessor.summary(),
            "notices": list(self.notices),
            "fingerprint": self.fingerprint(),
        }


def _device(device: str | torch.device) -> torch.device:
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:N' or 'auto'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} was asked for but CUDA is not available here: use {option('device', 'cpu')} or {option('device', 'auto')}")
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r} is not supported: use 'cpu', 'cuda', 'cuda:N' or 'auto'")
    return dev


def _fractions(split: Any, *, has_test: bool, has_val: bool) -> dict[str, float]:
    """The shares of the main table that go to each split made from it (normalized to sum 1)."""
    try:
        parts = [float(f) for f in split]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"split must be three fractions (train, val, test) such as (0.6, 0.2, 0.2), got {split!r}") from exc
    if len(parts) == 2:
        parts.append(0.0 if has_test else -1.0)
    if len(parts) != 3 or any(not math.isfinite(p) or p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
        raise ConfigError(
            f"split must be three non-negative fractions (train, val, test) that sum to 1, such as (0.6, 0.2, 0.2); got {split!r}"
        )
    train, val, test = parts
    wanted = {"train": train}
    if not has_val:
        wanted["val"] = val
    if not has_test:
        wanted["test"] = test
    for name, share in wanted.items():
        if share <= 0:
            label = {"train": "train", "val": "validation", "test": "test"}[name]
            raise ConfigError(
                f"the {label} fraction of split={tuple(parts)} is 0; give it a positive share"
                + ("" if name == "train" else f", or pass a separate {label} table ({name}=...)")
            )
    total = sum(wanted.values())
    return {k: v / total for k, v in wanted.items()}


def _refuse_id_like_target(table: Table) -> None:
    """A classification target with (nearly) one value per row is an ID or free text, not classes:
    most classes would have one row, which no split can stratify and no model can learn."""
    n = len(table)
    distinct = int(table.target.map(_plain).nunique(dropna=True))
    if n < ID_MIN_ROWS or distinct < ID_TARGET_UNIQUE_SHARE * n:
        return
    numeric = not _is_text_like(table.target)
    quantity = f" or, if it is a quantity, pass {option('task', 'regression')}" if numeric else ""
    raise DataError(
        f"target {table.target_name!r} in {table.source} looks like an ID or free text: {distinct} distinct values "
        f"in {n} rows, so nearly every class has a single row and there is nothing to learn about it; pass the "
        f"column to predict as {option('target')}{quantity}"
    )


def _refuse_constant_target(table: Table) -> None:
    """A regression target with one value has nothing to predict (R^2 is undefined on it)."""
    values = np.unique(_to_float(table.target))
    if values.size == 1:
        raise DataError(
            f"target {table.target_name!r} in {table.source} is constant ({values[0]:g} in all {len(table)} rows): "
            f"there is nothing to predict; pass the column to predict as {option('target')}, or use rows "
            "where the target varies"
        )


def _split_positions(table: Table, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Row positions for each split: stratified by class for classification, seeded."""
    n = len(table)
    names = list(fractions)
    others = [s for s in names if s != "train"]
    needed = 2 + len(others)  # train keeps at least 2 rows, every other split 1
    if n < needed:
        raise DataError(
            f"{table.source} has {n} row(s), fewer than the split into {'/'.join(names)} needs (at least {needed}): "
            "add rows, or pass separate validation/test tables"
        )
    rng = np.random.default_rng(seed)
    if len(names) == 1:
        return {"train": np.arange(n)}
    if table.task == "classification":
        labels = table.target.tolist()
        classes = sorted({_plain(v) for v in labels}, key=_label_key)
        groups: dict[Any, list[int]] = {c: [] for c in classes}
        for i, v in enumerate(labels):
            groups[_plain(v)].append(i)
        for c in classes:
            if len(groups[c]) < len(names):
                raise DataError(
                    f"class {c!r} of target {table.target_name!r} has only {len(groups[c])} row(s); a stratified split "
                    f"into {'/'.join(names)} needs at least {len(names)} per class: add rows of that class, remove it, "
                    "or pass separate validation/test tables"
                )
        allocation = _allocate([len(groups[c]) for c in classes], [fractions[s] for s in names])
        parts: dict[str, list[int]] = {s: [] for s in names}
        for c, counts in zip(classes, allocation):
            order = rng.permutation(np.asarray(groups[c]))
            start = 0
            for s, k in zip(names, counts):
                parts[s].extend(order[start : start + k].tolist())
                start += k
        return {s: np.sort(np.asarray(parts[s], dtype=np.int64)) for s in names}
    sizes = _allocate([n], [fractions[s] for s in names], min_train=2)[0]
    order = rng.permutation(n)
    out, start = {}, 0
    for s, k in zip(names, sizes):
        out[s] = np.sort(order[start : start + k])
        start += k
    return out


def _allocate(counts: list[int], fractions: list[float], min_train: int = 1) -> list[list[int]]:
    """Split each group's count over the splits (train first) by cumulative rounding, so the totals
    follow the fractions closely, with at least one row per split and ``min_train`` in train."""
    cum_n = 0
    cum_given = [0] * len(fractions)
    result = []
    for c in counts:
        cum_n += c
        row = [0] * len(fractions)
        for s in range(1, len(fractions)):
            target = int(round(fractions[s] * cum_n))
            row[s] = max(1, target - cum_given[s])
        row[0] = c - sum(row[1:])
        while row[0] < min_train:  # give rows back to train from the largest other split
            s = max(range(1, len(row)), key=lambda j: row[j])
            if row[s] <= 1:
                break
            row[s] -= 1
            row[0] += 1
        for s in range(1, len(fractions)):
            cum_given[s] += row[s]
        result.append(row)
    return result


def prepare(
    table: Table,
    split: tuple[float, ...] = (0.6, 0.2, 0.2),
    seed: int = 0,
    *,
    test: Table | None = None,
    val: Table | None = None,
    device: str | torch.device = "cpu",
) -> Prepared:
    """Split ``table`` (train/val/test by ``split``, stratified for classification, seeded by ``seed``),
    fit the preprocessing and target encoding on the training rows, and return float32 tensors on
    ``device`` (``"cpu"``, ``"cuda"`` or ``"auto"``). With ``test`` (a separate Table), the main table is
    split into train/val only; with ``val`` as well, all of it is training data. The same Table as
    ``val`` and ``test`` means there is no independent test split (``Prepared.test_is_val``)."""
    if not isinstance(table, Table):
        raise ConfigError(f"prepare takes a Table from justenough.data.load, got {type(table).__name__}")
    for name, extra in (("test", test), ("val", val)):
        if extra is not None and not isinstance(extra, Table):
            raise ConfigError(f"{name}= takes a Table from justenough.data.load, got {type(extra).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    dev = _device(device)
    fractions = _fractions(split, has_test=test is not None, has_val=val is not None)
    notices = list(table.notices)
    task = table.task
    if task == "classification":
        classes = {_plain(v) for v in table.target.tolist()}
        if len(classes) < 2:
            only = next(iter(classes))
            raise DataError(
                f"target {table.target_name!r} in {table.source} has a single class ({only!r} in all {len(table)} rows): "
                f"a classifier needs at least two classes; check the target column, or pass {option('task', 'regression')}"
            )
        _refuse_id_like_target(table)
    else:
        _refuse_constant_target(table)

    positions = _split_positions(table, fractions, int(seed))
    train_rows = positions["train"]
    try:
        pre = Preprocessor().fit(table.features.iloc[train_rows])
    except DataError as exc:
        raise DataError(f"{table.source} (training rows): {exc}") from exc
    notices.extend(pre.notices)
    try:
        enc = TargetEncoder(task).fit(table.target.iloc[train_rows])
    except DataError as exc:
        raise DataError(f"target {table.target_name!r} in {table.source}: {exc}") from exc

    def encoded(source: Table, rows: np.ndarray | None, label: str) -> tuple[torch.Tensor, torch.Tensor]:
        feats = source.features if rows is None else source.features.iloc[rows]
        target = source.target if rows is None else source.target.iloc[rows]
        if rows is None:  # a separate table: check its columns like a predict-time frame
            notices.extend(f"{label} ({source.source}): {m}" for m in pre.check_columns(feats))
            notices.extend(f"{label} ({source.source}): {m}" for m in source.notices)
        where = f"the {label} rows" if rows is not None else f"the {label} table {source.source}"
        try:
            X = pre.transform(feats)
        except DataError as exc:
            raise DataError(f"{where}: {exc}") from exc
        y = enc.encode(target, where=where)
        X_t = torch.from_numpy(X).to(dev)  # [N, F] float32
        y_t = torch.from_numpy(y).to(dev)  # [N] int64 or float32
        return X_t, y_t

    X_train, y_train = encoded(table, train_rows, "training")
    X_val, y_val = encoded(val, None, "validation") if val is not None else encoded(table, positions["val"], "validation")
    X_test, y_test = encoded(test, None, "test") if test is not None else encoded(table, positions["test"], "test")
    sizes = {"train": int(X_train.shape[0]), "val": int(X_val.shape[0]), "test": int(X_test.shape[0])}
    origin = []
    if val is not None:
        origin.append(f"validation from {val.source}")
    if test is not None:
        origin.append(f"test from {test.source}")
    _note(
        notices,
        f"split {len(table)} rows of {table.source} (seed {seed}{', stratified by class' if task == 'classification' else ''}"
        f"{'; ' + ', '.join(origin) if origin else ''}): train {sizes['train']}, validation {sizes['val']}, test {sizes['test']}",
    )
    test_is_val = test is not None and test is val
    if test_is_val:
        _note(notices, "the validation rows also serve as the test rows (the same table was passed as val and test): "
                       "the test score will be the chosen model's validation score, not an independent estimate")
    balance: dict[str, int] = {}
    if task == "classification":
        counts = Counter(_plain(v) for v in table.target.tolist())
        balance = {str(c): int(counts[c]) for c in enc.classes}
    return Prepared(
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        test=SealedSplit(X_test, y_test),
        task=task,
        classes=list(enc.classes),
        n_features=len(pre.feature_names_out),
        n_outputs=enc.n_outputs,
        feature_names=list(pre.feature_names_out),
        preprocessor=pre,
        target_encoder=enc,
        target_name=table.target_name,
        split_sizes=sizes,
        source=table.source,
        notices=notices,
        seed=int(seed),
        rows=len(table) + (len(test) if test is not None and not test_is_val else 0) + (len(val) if val is not None else 0),
        class_balance=balance,
        test_is_val=test_is_val,
        reading=dict(table.reading),
    )
