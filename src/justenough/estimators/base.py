"""What all four estimators share: their errors (scikit-learn sees them as ``ValueError``), the
checks of their parameters, the seed, the device, and the validation split.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from justenough.errors import ConfigError, DataError
from justenough.vocab import parse_device

__all__ = ["EstimatorInputError", "EstimatorConfigError", "seed_from_random_state", "check_fraction", "check_positive_int", "is_cpu", "resolve_device", "validation_split"]


class EstimatorInputError(DataError, ValueError):
    """Bad ``X`` or ``y`` given to an estimator: a ``DataError`` that scikit-learn sees as ``ValueError``."""


class EstimatorConfigError(ConfigError, ValueError):
    """A bad estimator parameter: a ``ConfigError`` that scikit-learn sees as ``ValueError``."""




def seed_from_random_state(random_state: Any) -> int:
    """An int seed from ``random_state`` (int, None or ``RandomState``/``Generator``).

    ``None`` draws fresh OS entropy (never the global NumPy state); an int is used as is; a
    ``RandomState`` or ``Generator`` gives one draw, so fitting twice with the same instance gives
    different seeds, as in scikit-learn.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0] >> 1)
    if isinstance(random_state, (bool, np.bool_)):
        raise EstimatorConfigError(f"random_state must be an int, None or a RandomState, got {random_state!r}")
    if isinstance(random_state, Integral):
        value = int(random_state)
        if value < 0:
            raise EstimatorConfigError(f"random_state must be non-negative, got {value}")
        return value
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise EstimatorConfigError(
        f"random_state must be an int, None or a numpy RandomState, got {type(random_state).__name__}"
    )


def resolve_device(device: Any) -> str:
    """``cpu``, ``cuda[:k]`` or ``auto`` -> a device string; unknown or unavailable -> ``EstimatorConfigError``."""
    try:
        return str(parse_device(device))
    except ConfigError as exc:
        raise EstimatorConfigError(str(exc)) from None


def is_cpu(device: Any) -> bool:
    """For tags: never raises (tags are read before any parameter is validated)."""
    text = str(device).lower()
    return text == "cpu" or (text == "auto" and not torch.cuda.is_available())


def validation_split(
    n: int, fraction: float, seed: int, y_strat: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """(train rows, validation rows, notice). Stratified when ``y_strat`` allows it.

    Too few rows for a split (fewer than 2 on either side) -> validation on the training rows,
    with a notice saying so.
    """
    idx = np.arange(n)
    n_val = int(math.ceil(fraction * n))
    if n_val < 2 or n - n_val < 2:
        return idx, idx, f"only {n} rows: the validation split is the training data itself"
    if y_strat is not None:
        try:
            tr, va = train_test_split(idx, test_size=n_val, random_state=seed, stratify=y_strat)
            return np.sort(tr), np.sort(va), None
        except ValueError:
            pass  # a class too small to stratify: fall back to a plain shuffled split
    tr, va = train_test_split(idx, test_size=n_val, random_state=seed)
    return np.sort(tr), np.sort(va), None


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or int(value) < minimum:
        raise EstimatorConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not 0.0 < float(value) < 1.0:
        raise EstimatorConfigError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)
