"""Numbers as displays and JSON files want them: finite floats, or None.

Scores, losses and timings can be NaN or infinite (a diverged restart, a config with one
restart); the tables and the report show those as "n/a", and strict JSON has no NaN at all.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np

__all__ = ["PERCENT_METRICS", "counted", "decimals_to_show", "finite_or_none", "float_or_nan", "json_ready",
           "plain_number", "format_seconds"]

# The metrics shown as percents (the others, R^2 and the errors, as plain numbers).
PERCENT_METRICS = frozenset({"accuracy", "balanced_accuracy"})


def counted(n: int, noun: str) -> str:
    """A count with its noun in the right number: ``1 config``, ``0 configs``, ``21 configs``.

    Every count the CLI and the report print goes through it, so none reads "1 configs". The
    nouns counted (config, restart, epoch, row, column, trial, worker) all take an "s".
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def decimals_to_show(differences: Iterable[float], at_least: int, at_most: int = 6) -> int:
    """The decimal places at which every nonzero difference shows with two significant digits.

    A difference printed to a fixed 2 places reads ``+0.00`` when two scores differ in the third;
    and two scores printed to fewer places than their difference needs look equal. Both are
    printed to this many places: ``at_least`` when that already shows every difference, more
    (up to ``at_most``) when it does not. Zero and non-finite differences ask for nothing.
    """
    sizes = [abs(float(x)) for x in differences if math.isfinite(float(x)) and float(x) != 0.0]
    if not sizes:
        return at_least
    needed = 1 - math.floor(math.log10(min(sizes)))  # 0.0035 -> 4 places: 0.0035; 0.035 -> 3
    return min(at_most, max(at_least, needed))


def plain_number(value: float, significant: int = 4) -> str:
    """A number as people read it: ``436,614``, ``151.6``, ``0.02345``; never ``4.366e+05``.

    Large values are whole numbers with thousands separators (all their digits: a price of
    436,614 is not "436,600"); smaller ones keep ``significant`` significant digits, trailing
    zeros dropped. Only values below 1e-4 use an exponent, where zeros would hide the digits.
    """
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= significant - 1:
        return f"{value:,.0f}"
    if magnitude < -4:
        return f"{value:.{significant - 1}e}"
    text = f"{value:,.{significant - 1 - magnitude}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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


def format_seconds(seconds: float | None) -> str:
    """``4.2`` -> ``"4.2s"``, ``95`` -> ``"1m35s"``, ``4000`` -> ``"1h06m"``; None or inf -> ``"?"``."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m}m{s:02d}s"
    h, rest = divmod(int(round(seconds)), 3600)
    return f"{h}h{rest // 60:02d}m"
