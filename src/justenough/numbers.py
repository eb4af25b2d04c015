"""Numbers as displays and JSON files want them: finite floats, or None.

Scores, losses and timings can be NaN or infinite (a diverged restart, a config with one
restart); the tables and the report show those as "n/a", and strict JSON has no NaN at all.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PERCENT_METRICS", "finite_or_none", "float_or_nan", "json_ready"]

# The metrics shown as percents (the others, R^2 and the errors, as plain numbers).
PERCENT_METRICS = frozenset({"accuracy", "balanced_accuracy"})


def finite_or_none(value: Any) -> float | None:
    """``value`` as a finite float, or None (None, NaN, infinities, text that is no number)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def float_or_nan(x: Any) -> float:
    """A missing value (None, as strict JSON stores a non-finite one) as NaN, anything else as a float."""
    return float("nan") if x is None else float(x)


def json_ready(obj: Any) -> Any:
    """A strict-JSON-ready copy: NumPy scalars and arrays to Python, non-finite floats to None,
    tuples to lists, dict keys and paths to strings. The one JSON cleaner: every JSON file of a run,
    and the summary a search returns, go through it."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
