"""``prepare()``: split a table, fit the preprocessing and target encoding on the training rows,
and return ``Prepared``: float32 tensors for train and validation, and the test rows sealed."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from justenough.data.messages import note
from justenough.data.numeric_scaling import read_numeric_scaling
from justenough.data.preprocess import Preprocessor
from justenough.data.split import split_fractions, split_positions, check_enough_rows
from justenough.data.table import Table
from justenough.data.target_encoder import TargetEncoder
from justenough.data.validate import ID_MIN_ROWS
from justenough.data.values import is_text_like, plain_scalar, to_float
from justenough.errors import ConfigError, DataError, option
from justenough.vocab import NumericScaling, Task, parse_device

# A classification target with distinct values in at least this share of its rows is an ID or
# free text: most of its "classes" would have one row. Floats and integers with that many values
# are inferred as regression before this applies; it catches text and task="classification".
ID_TARGET_UNIQUE_SHARE = 0.9


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
    task: str  # a Task's text: "classification" or "regression"
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
            "classes": [plain_scalar(c) for c in self.classes],
            "class_balance": dict(self.class_balance),
            "target_scale": None
            if self.task == Task.CLASSIFICATION
            else {"mean": self.target_encoder.mean, "std": self.target_encoder.std},
            "split_sizes": dict(self.split_sizes),
            "seed": self.seed,
            "preprocessing": self.preprocessor.summary(),
            "notices": list(self.notices),
            "fingerprint": self.fingerprint(),
        }


def _refuse_id_like_target(table: Table) -> None:
    """A classification target with (nearly) one value per row is an ID or free text, not classes:
    most classes would have one row, which no split can stratify and no model can learn."""
    n = len(table)
    distinct = int(table.target.map(plain_scalar).nunique(dropna=True))
    if n < ID_MIN_ROWS or distinct < ID_TARGET_UNIQUE_SHARE * n:
        return
    numeric = not is_text_like(table.target)
    quantity = f" or, if it is a quantity, pass {option('task', 'regression')}" if numeric else ""
    raise DataError(
        f"target {table.target_name!r} in {table.source} looks like an ID or free text: {distinct} distinct values "
        f"in {n} rows, so nearly every class has a single row and there is nothing to learn about it; pass the "
        f"column to predict as {option('target')}{quantity}"
    )


def _refuse_constant_target(table: Table) -> None:
    """A regression target with one value has nothing to predict (R^2 is undefined on it)."""
    values = np.unique(to_float(table.target))
    if values.size == 1:
        raise DataError(
            f"target {table.target_name!r} in {table.source} is constant ({values[0]:g} in all {len(table)} rows): "
            f"there is nothing to predict; pass the column to predict as {option('target')}, or use rows "
            "where the target varies"
        )


def _check_arguments(table: Table, seed: int, *, test: Table | None, val: Table | None) -> None:
    if not isinstance(table, Table):
        raise ConfigError(f"prepare takes a Table from justenough.data.load, got {type(table).__name__}")
    for name, extra in (("test", test), ("val", val)):
        if extra is not None and not isinstance(extra, Table):
            raise ConfigError(f"{name}= takes a Table from justenough.data.load, got {type(extra).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")


def _refuse_unlearnable_target(table: Table) -> None:
    """A target the task cannot learn: one class, an ID-like classification target, a constant regression target."""
    if table.task == Task.CLASSIFICATION:
        classes = {plain_scalar(v) for v in table.target.tolist()}
        if len(classes) < 2:
            only = next(iter(classes))
            # No regression hint: one value in every row is a constant target for regression too.
            raise DataError(
                f"target {table.target_name!r} in {table.source} has a single class ({only!r} in all {len(table)} rows), "
                "so there is nothing to learn: a classifier needs at least two classes; check the target column, "
                f"or pass the column to predict as {option('target')}"
            )
        _refuse_id_like_target(table)
    else:
        _refuse_constant_target(table)


@dataclass
class _Encoding:
    """The preprocessing and target encoding fitted on the training rows, applied to each split."""

    pre: Preprocessor
    enc: TargetEncoder
    device: torch.device
    notices: list[str]  # prepare's notices: a separate table's notices join them

    @classmethod
    def fit(cls, table: Table, train_rows: np.ndarray, device: torch.device, notices: list[str],
            numeric: NumericScaling = NumericScaling.STANDARD) -> "_Encoding":
        try:
            pre = Preprocessor(numeric=numeric).fit(table.features.iloc[train_rows])
        except DataError as exc:
            raise DataError(f"{table.source} (training rows): {exc}") from exc
        notices.extend(pre.notices)
        # Missing cells of every split of this table, per column, with the value that fills them.
        notices.extend(pre.imputation_notices(table.features))
        try:
            enc = TargetEncoder(table.task).fit(table.target.iloc[train_rows])
        except DataError as exc:
            raise DataError(f"target {table.target_name!r} in {table.source}: {exc}") from exc
        return cls(pre, enc, device, notices)

    def encoded(self, source: Table, rows: np.ndarray | None, label: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``source``'s ``rows`` (all of it, a separate table, when None) as tensors ``(X [N, F], y [N])``."""
        feats = source.features if rows is None else source.features.iloc[rows]
        target = source.target if rows is None else source.target.iloc[rows]
        if rows is None:  # a separate table: check its columns like a predict-time frame
            self.notices.extend(f"{label} ({source.source}): {m}" for m in self.pre.check_columns(feats))
            self.notices.extend(f"{label} ({source.source}): {m}" for m in source.notices)
        where = f"the {label} rows" if rows is not None else f"the {label} table {source.source}"
        try:
            X = self.pre.transform(feats)
        except DataError as exc:
            raise DataError(f"{where}: {exc}") from exc
        y = self.enc.encode(target, where=where)
        X_t = torch.from_numpy(X).to(self.device)  # [N, F] float32
        y_t = torch.from_numpy(y).to(self.device)  # [N] int64 or float32
        return X_t, y_t


def _note_split(
    notices: list[str], table: Table, sizes: dict[str, int], seed: int, *, test: Table | None, val: Table | None
) -> None:
    """Say how the rows were split, and when the validation rows also serve as the test rows."""
    origin = []
    if val is not None:
        origin.append(f"validation from {val.source}")
    if test is not None:
        origin.append(f"test from {test.source}")
    stratified = ", stratified by class" if table.task == Task.CLASSIFICATION else ""
    note(
        notices,
        f"split {len(table)} rows of {table.source} (seed {seed}{stratified}"
        f"{'; ' + ', '.join(origin) if origin else ''}): train {sizes['train']}, validation {sizes['val']}, test {sizes['test']}",
    )
    if test is not None and test is val:
        note(notices, f"the validation rows also serve as the test rows (the same table was passed as {option('val')} "
                       f"and {option('test')}): "
                       "the test score will be the chosen model's validation score, not an independent estimate")


def _note_constant_split_targets(notices: list[str], label: str, targets: Any, *, separate: str) -> None:
    """Warn when a regression split's targets are all equal (a tiny split, or one value repeated):
    R^2 divides by their spread, which is zero, so it is undefined there; the metrics score it 0
    (1 for an exact fit), as scikit-learn does, and every model then looks the same by it."""
    values = np.unique(to_float(targets))
    if values.size != 1:
        return
    n, value = len(targets), float(values[0])
    what = f"has a single row (target {value:g})" if n == 1 else f"has {n} rows whose targets are all {value:g}"
    instead = (
        "so the validation R² cannot rank the models: judge them by the error instead, the validation loss "
        "(mean squared error) and the test RMSE"
        if label == "validation"
        else "so the test R² says nothing about the model: read the test RMSE (and MAE) instead"
    )
    note(
        notices,
        f"the {label} split {what}: R² is undefined there and is scored as 0 (1 for an exact fit), {instead}. "
        f"Add rows, or pass a separate {label} table ({separate})",
    )


def prepare(
    table: Table,
    split: tuple[float, ...] = (0.6, 0.2, 0.2),
    seed: int = 0,
    *,
    test: Table | None = None,
    val: Table | None = None,
    device: str | torch.device = "cpu",
    describe_split: bool = True,
    numeric: NumericScaling | str = NumericScaling.STANDARD,
) -> Prepared:
    """Split ``table`` (train/val/test by ``split``, stratified for classification, seeded by ``seed``),
    fit the preprocessing and target encoding on the training rows, and return float32 tensors on
    ``device`` (``"cpu"``, ``"cuda"`` or ``"auto"``). With ``test`` (a separate Table), the main table is
    split into train/val only; with ``val`` as well, all of it is training data. The same Table as
    ``val`` and ``test`` means there is no independent test split (``Prepared.test_is_val``).
    ``describe_split=False``: no notice says how the rows were split, for a caller that made the
    split from its own parameters and says so in their words (the search estimators). ``numeric``:
    how numeric columns are scaled (a ``NumericScaling`` or its text; ``data/numeric_scaling.py``)."""
    _check_arguments(table, seed, test=test, val=val)
    dev = parse_device(device)
    scaling = read_numeric_scaling(numeric)
    fractions = split_fractions(split, has_test=test is not None, has_val=val is not None)
    notices = list(table.notices)
    task = table.task
    check_enough_rows(table, fractions)  # before the target's checks: one row is "too few", not "constant"
    _refuse_unlearnable_target(table)

    positions = split_positions(table, fractions, int(seed))
    train_rows = positions["train"]
    fitted = _Encoding.fit(table, train_rows, dev, notices, scaling)
    pre, enc = fitted.pre, fitted.enc

    X_train, y_train = fitted.encoded(table, train_rows, "training")
    X_val, y_val = (
        fitted.encoded(val, None, "validation") if val is not None else fitted.encoded(table, positions["val"], "validation")
    )
    X_test, y_test = fitted.encoded(test, None, "test") if test is not None else fitted.encoded(table, positions["test"], "test")
    sizes = {"train": int(X_train.shape[0]), "val": int(X_val.shape[0]), "test": int(X_test.shape[0])}
    if describe_split:
        _note_split(notices, table, sizes, seed, test=test, val=val)
    test_is_val = test is not None and test is val
    if task == Task.REGRESSION:
        val_targets = val.target if val is not None else table.target.iloc[positions["val"]]
        test_targets = test.target if test is not None else table.target.iloc[positions["test"]]
        _note_constant_split_targets(notices, "validation", val_targets, separate=option("val"))
        if not test_is_val:
            _note_constant_split_targets(notices, "test", test_targets, separate=option("test"))
    balance: dict[str, int] = {}
    if task == Task.CLASSIFICATION:
        counts = Counter(plain_scalar(v) for v in table.target.tolist())
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
