"""How one numeric column is scaled, by the search option ``numeric`` (``vocab.NumericScaling``):
fitted on the training rows, kept as plain JSON numbers in the column's spec, applied to
imputed values.

- ``standard``: ``(x - mean) / std`` with the mean and population std of the imputed training
  values (spec keys ``mean``, ``std``); the default, as the preprocessing always did.
- ``robust``: ``(x - median) / IQR``, then a smooth clip into (-3, 3) (``robust_scaling.py``;
  spec keys ``center``, ``scale``), fitted on the present training values.
- ``quantile``: the training quantiles mapped to a standard normal (``quantile_scaling.py``; spec
  key ``quantiles``), fitted on the present training values.

Every spec also holds ``median`` (what a missing value is imputed with, before the scaling).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from justenough.data.quantile_scaling import fit_quantiles, quantile_transform
from justenough.data.robust_scaling import fit_robust_scale, robust_transform
from justenough.errors import ConfigError
from justenough.vocab import NumericScaling, parse_choice

__all__ = ["TINY_STD", "read_numeric_scaling", "fit_numeric_scaling", "scale_numeric", "read_scaling_params",
           "describe_scaling"]

TINY_STD = 1e-300  # a standard deviation at or below this is numerically zero: scale by 1 instead


def read_numeric_scaling(value: Any) -> NumericScaling:
    """``numeric`` as a ``NumericScaling`` (its text in any case is read); anything else is a ``ConfigError``."""
    if not isinstance(value, str):
        raise ConfigError(f"numeric must be one of {', '.join(NumericScaling)} (text), got {value!r}")
    return parse_choice(NumericScaling, value, "numeric")


def fit_numeric_scaling(kind: NumericScaling, present: np.ndarray, filled: np.ndarray) -> dict[str, Any]:
    """The parameters of one column: ``present`` ``[n_present]`` its training values (no NaN, not
    all equal), ``filled`` ``[n_rows]`` them with the missing ones imputed. Non-finite parameters
    (values beyond about 1e300) come back as they are, for the caller to refuse."""
    if kind == NumericScaling.STANDARD:
        with np.errstate(all="ignore"):
            mean = float(filled.mean())
            std = float(filled.std())
        return {"mean": mean, "std": std if std > TINY_STD or not math.isfinite(std) else 1.0}
    with np.errstate(all="ignore"):
        if kind == NumericScaling.ROBUST:
            center, scale = fit_robust_scale(present)
            return {"center": center, "scale": scale}
        return {"quantiles": fit_quantiles(present, filled.size)}


def scale_numeric(kind: NumericScaling, spec: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """Imputed values ``[N]`` (float64) -> the column's scaled values ``[N]`` (float64)."""
    with np.errstate(all="ignore"):
        if kind == NumericScaling.STANDARD:
            return (values - spec["mean"]) / spec["std"]
        if kind == NumericScaling.ROBUST:
            return robust_transform(values, spec["center"], spec["scale"])
        return quantile_transform(values, spec["quantiles"])


def read_scaling_params(kind: NumericScaling, spec: dict[str, Any]) -> dict[str, Any]:
    """The scaling parameters of a saved column spec, checked; ``ValueError`` names what is wrong."""
    if kind == NumericScaling.QUANTILE:
        quantiles = [float(v) for v in spec["quantiles"]]
        if not quantiles or not all(math.isfinite(v) for v in quantiles):
            raise ValueError(f"column {spec['name']!r} has invalid quantiles")
        return {"quantiles": quantiles}
    keys = ("mean", "std") if kind == NumericScaling.STANDARD else ("center", "scale")
    clean = {k: float(spec[k]) for k in keys}
    if not all(math.isfinite(v) for v in clean.values()) or clean[keys[1]] <= 0:
        raise ValueError(f"column {spec['name']!r} has invalid numbers {clean}")
    return clean


def describe_scaling(kind: NumericScaling) -> str:
    """The scaling in words, for the preprocessing's summary (``show``, the report)."""
    return {
        NumericScaling.STANDARD: "standardize (mean, std of train)",
        NumericScaling.ROBUST: "robust: (x - median) / IQR of train, smooth-clipped to (-3, 3)",
        NumericScaling.QUANTILE: "quantile: train quantiles (up to 1000) mapped to a standard normal",
    }[kind]
