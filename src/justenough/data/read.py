"""Reading a source into a DataFrame, before validation: a file path (delimited text, Parquet,
``.npz``), a DataFrame, an ``(X, y)`` pair of arrays, or a bundled dataset by name."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from justenough.data import datasets
from justenough.data.delimited import parse_decimal, parse_delimiter, parse_encoding, read_text
from justenough.data.messages import quote_list
from justenough.errors import DataError

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat", ".data", ""}


@dataclass
class Raw:
    """A source read into a DataFrame, before validation."""

    frame: pd.DataFrame
    source: str
    default_target: str | None  # the target the source itself names (arrays, npz, datasets)
    task_hint: str | None  # a bundled dataset knows its task
    notices: list[str]
    reading: dict[str, str] = field(default_factory=dict)


def read_source(
    source: Any, delimiter: str | None, seed: int, *, decimal: str | None = None, encoding: str | None = None
) -> Raw:
    # The reading options are checked first, whatever the source, so a typo is refused at once.
    if delimiter is not None:
        parse_delimiter(delimiter)
    decimal = parse_decimal(decimal)
    encoding = parse_encoding(encoding)
    if isinstance(source, pd.DataFrame):
        return Raw(source.copy(), "DataFrame", None, None, [])
    if isinstance(source, tuple):
        return _read_arrays(source)
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if isinstance(source, str) and not path.exists() and datasets.is_dataset(source):
            name = source.strip().lower().replace("-", "_").replace(" ", "_")
            frame = datasets.load_dataset(name, seed=seed)
            return Raw(frame, name, "target", datasets.DATASETS[name].task, [])
        notices: list[str] = []
        frame, reading = _read_path(path, source, delimiter, decimal, encoding, notices)
        return Raw(frame, str(source), None, None, notices, reading)
    raise DataError(
        f"cannot load data from a {type(source).__name__}: pass a file path (CSV, TSV, Parquet, .npz), "
        "a pandas DataFrame, a tuple (X, y) of arrays, or a bundled dataset name"
    )


def _read_arrays(pair: tuple[Any, ...]) -> Raw:
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
    return Raw(features, "arrays (X, y)", name, None, [])


def _read_path(
    path: Path, given: str | Path, delimiter: str | None, decimal: str | None, encoding: str | None, notices: list[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    if not path.exists():
        close = datasets.close_names(str(given), cutoff=0.7)  # a path: only a name spelled very nearly alike
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
        return read_text(path, delimiter, decimal, encoding, compressed=compressed, tsv=inner == ".tsv", notices=notices)
    raise DataError(
        f"{path}: unsupported file type {ext!r}; use CSV/TSV (.csv, .tsv, .txt, optionally .gz), Parquet (.parquet) "
        "or NumPy (.npz)"
    )


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
            f"{path} holds arrays {quote_list(arrays)}; expected 'X' and 'y', or a single 2-D array whose last "
            "column is the target"
        )
    if len(frame) == 0:
        raise DataError(f"{path} has no rows: save arrays with at least one row")
    return frame
