"""The fitted target encoding: class labels to indices, or regression targets standardized, saved
as plain JSON (no pickle)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from justenough.data.messages import quote_list
from justenough.data.numeric_scaling import TINY_STD
from justenough.data.validate import TASKS
from justenough.data.values import label_key, plain_scalar
from justenough.errors import ConfigError, DataError
from justenough.vocab import Task

_ENCODER_FORMAT = "justenough.target_encoder/1"


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
        if self.task == Task.CLASSIFICATION:
            self.classes = sorted({plain_scalar(v) for v in values.tolist()}, key=label_key)
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
        return len(self.classes) if self.task == Task.CLASSIFICATION else 1

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
        if self.task == Task.REGRESSION:
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
            k = index.get(plain_scalar(v))
            if k is None:
                raise DataError(
                    f"class {v!r} in {where} is not one of the classes seen in training ({quote_list(self.classes)}); "
                    "remove those rows, or include that class in the training data"
                )
            codes[i] = k
        return codes

    def decode(self, encoded: np.ndarray | torch.Tensor) -> np.ndarray:
        """Class indices -> original labels, or standardized values -> original units (float64)."""
        a = encoded.detach().cpu().numpy() if isinstance(encoded, torch.Tensor) else np.asarray(encoded)
        if self.task == Task.REGRESSION:
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
        if self.task == Task.CLASSIFICATION:
            return f"TargetEncoder(classification, {len(self.classes)} classes)"
        return f"TargetEncoder(regression, mean={self.mean:g}, std={self.std:g})"
