"""The columns of ``leaderboard.csv`` and ``results.csv`` and their types, declared once.

``LEADERBOARD_SCHEMA`` and ``RESULTS_SCHEMA`` map each column a search writes to its kind:

- ``"str"``: text; an empty cell reads as ``""`` (the linear model's ``widths``, no ``training_flag``);
  a key of digits stays text (``"0123"``, never the number 123);
- ``"int"``: an integer in every row (int64);
- ``"Int64"``: an integer or empty (pandas' nullable ``Int64``; ``restarts_for_95`` when ``p_good`` is 0);
- ``"float"``: a number, NaN where there is none (float64);
- ``"bool"``: yes/no (bool); older or hand-edited files spell it ``True``/``1``/``yes`` (any case),
  and anything else, an empty cell included, is no.

``typed`` applies a schema to a table read from its file (``run/files.py``'s readers), so that a
reader gets these dtypes and converts no column itself; ``check`` refuses, before writing, a table
whose column holds a value of another kind, so that what is written reads back as the same
types. A column the schema does not name (a newer version's) is read as pandas reads it; a
column it names that a file lacks (an older version's) is simply absent.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd

__all__ = ["Kind", "LEADERBOARD_SCHEMA", "RESULTS_SCHEMA", "flags", "typed", "check", "SchemaError"]

Kind = Literal["str", "int", "Int64", "float", "bool"]

# A config's columns, as study/tables.config_columns writes them (both tables start with these).
_CONFIG: dict[str, Kind] = {
    "key": "str", "label": "str", "depth": "int", "widths": "str", "width": "int", "activation": "str",
    "init": "str", "optimizer": "str", "lr": "float", "weight_decay": "float", "batch_size": "int",
    "max_epochs": "int", "patience": "Int64",  # empty: no early stopping (Config.patience None)
    "monitor": "str", "schedule": "str", "embed": "str", "label_smoothing": "float",  # empty in files from before it existed: 0
    "params": "int", "flops": "int",
}

# leaderboard.csv: one row per config, best first (select.leaderboard, select.with_noise, engine/finalize.py).
LEADERBOARD_SCHEMA: dict[str, Kind] = {
    **_CONFIG,
    "val_mean": "float", "val_std": "float", "val_se": "float", "val_min": "float", "val_max": "float",
    "n_restarts": "int", "n_diverged": "int", "p_good": "float", "restarts_for_95": "Int64",
    "train_time": "float", "pruned": "bool",
    "lr_kept": "bool",  # only with lr_per_config (select/lr_choice.py)
    "epochs_run": "float", "best_epoch": "float",  # means over the config's restarts
    "stopped_by": "str", "training_flag": "str",
    "latency_ms": "float",
    "val_se_rows": "float", "val_se_restarts": "float", "val_rows": "Int64",  # empty without per-row evidence
    # Judged by ensembles (select/ensemble_noise.py): val_mean is the ensemble's, this the restarts' own mean.
    "val_mean_restarts": "float",
    # search(ensemble=True) only (engine/ensemble.py): the model's cost were the config chosen
    "ensemble_members": "Int64", "ensemble_params": "Int64", "ensemble_latency_ms": "float",
    "chosen": "bool",
}

# results.csv: one row per restart (study/tables.restarts_table).
RESULTS_SCHEMA: dict[str, Kind] = {
    **_CONFIG,
    "restart": "int", "seed": "int", "val_score": "float", "val_loss": "float", "train_loss": "float",
    "best_epoch": "Int64",  # empty in older files for a restart that diverged before its first epoch
    "epochs_run": "int", "diverged": "bool", "stopped_by": "str", "train_time": "float",
    "pruned": "bool", "pruned_rung": "Int64", "trial": "int",
}

_TRUE_TEXT = frozenset({"true", "1", "yes"})


class SchemaError(ValueError):
    """A column holds a value its declared kind does not allow (the message names the column)."""


def flags(column: pd.Series) -> pd.Series:
    """A yes/no column as booleans: text ``"True"``/``"1"``/``"yes"`` (any case) and true values are
    yes; anything else, a missing cell included, is no."""
    def flag(value: Any) -> bool:
        if isinstance(value, str):
            return value.strip().lower() in _TRUE_TEXT
        return False if pd.isna(value) else bool(value)

    return pd.Series([flag(v) for v in column], index=column.index, dtype=bool, name=column.name)


def text_columns(schema: Mapping[str, Kind]) -> dict[str, type]:
    """``read_csv``'s ``dtype`` for the schema's text columns: read as text, never guessed as numbers."""
    return {name: str for name, kind in schema.items() if kind == "str"}


def _typed_column(column: pd.Series, kind: Kind) -> pd.Series:
    if kind == "bool":
        return flags(column)
    if kind == "str":
        return column.astype(object).where(column.notna(), "").astype(str)
    numbers = pd.to_numeric(column, errors="raise")  # text in a number column: the file is damaged
    if kind == "float":
        return numbers.astype("float64")
    present = numbers.dropna()
    if not np.all(np.asarray(present, dtype=float) == np.round(np.asarray(present, dtype=float))):
        raise SchemaError(f"column {column.name!r} should hold integers")
    if kind == "int":
        if len(present) < len(numbers):
            raise SchemaError(f"column {column.name!r} has an empty cell where an integer belongs")
        return numbers.astype("int64")
    return numbers.astype("Int64")


def typed(table: pd.DataFrame, schema: Mapping[str, Kind]) -> pd.DataFrame:
    """``table`` (as read from its file) with each column of ``schema`` it has in its declared kind;
    raises ``SchemaError`` naming the first column that cannot be."""
    out = table.copy()
    for name, kind in schema.items():
        if name in out.columns:
            try:
                out[name] = _typed_column(out[name], kind)
            except (TypeError, ValueError) as exc:
                raise SchemaError(f"column {name!r} is not {kind} ({exc})") from exc
    return out


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _is(value: Any, kind: Kind) -> bool:
    """Whether one cell of a table about to be written holds ``kind`` (missing where allowed)."""
    if isinstance(value, (bool, np.bool_)):
        return kind == "bool"
    if kind == "bool":
        return False
    if kind in ("str", "float", "Int64") and _missing(value):
        return True
    if kind == "str":
        return isinstance(value, str)
    if kind == "float":
        return isinstance(value, (int, float, np.integer, np.floating))
    return isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer())


def check(table: pd.DataFrame, schema: Mapping[str, Kind]) -> None:
    """Raise ``SchemaError`` when a column of ``schema`` in ``table`` holds a value of another kind
    (the first such column, row and value named): what is written must read back as declared."""
    for name, kind in schema.items():
        if name not in table.columns:
            continue
        for row, value in zip(table.index, table[name]):
            if not _is(value, kind):
                raise SchemaError(f"column {name!r} should hold {kind}, row {row} holds {value!r}")
