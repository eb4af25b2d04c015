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

The modules, in the order a table goes through them: ``read`` (sources) and ``delimited`` (text
files), ``dates`` (date columns), ``validate`` (columns, target, task) and ``table`` (``Table``, ``load``), ``split`` (train,
validation and test rows), ``preprocess`` (``Preprocessor``) and ``target_encoder``
(``TargetEncoder``), and ``prepared`` (``Prepared``, ``prepare``). ``datasets`` holds the bundled
datasets; ``values`` and ``messages`` are what the others share.
"""

from __future__ import annotations

from justenough.lazy import lazy_attributes
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from justenough.data.delimited import DECIMALS
    from justenough.data.prepared import Prepared, SealedSplit, prepare
    from justenough.data.preprocess import Preprocessor
    from justenough.data.table import Table, load, read_rows
    from justenough.data.target_encoder import TargetEncoder
    from justenough.data.validate import TASKS

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

# The public names, imported on first use: ``justenough.data.datasets`` (the CLI's ``datasets``
# command) and ``load`` stay free of torch, which only the tensors of ``prepare`` need.
_HOMES = {
    "TASKS": "justenough.data.validate",
    "Table": "justenough.data.table",
    "Preprocessor": "justenough.data.preprocess",
    "TargetEncoder": "justenough.data.target_encoder",
    "SealedSplit": "justenough.data.prepared",
    "Prepared": "justenough.data.prepared",
    "load": "justenough.data.table",
    "read_rows": "justenough.data.table",
    "prepare": "justenough.data.prepared",
    "DECIMALS": "justenough.data.delimited",
}


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name from this package

    __getattr__ = lazy_attributes("justenough.data", globals(), _HOMES)
