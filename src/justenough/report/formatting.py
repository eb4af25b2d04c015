"""How the report writes values: escaped for HTML, numbers, scores, durations and sizes as people read them."""

from __future__ import annotations

import html
from typing import Any

from justenough.numbers import finite_or_none

__all__ = ["escape", "number_text", "score_text", "seconds_text", "ms_text", "si_text", "note_html"]


def escape(value: Any) -> str:
    """Any value as text safe inside HTML, attribute values included."""
    return html.escape(str(value), quote=True)


def number_text(value: Any, digits: int = 3) -> str:
    f = finite_or_none(value)
    if f is None:
        return "n/a"
    if f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}"
    return f"{f:,.{digits}g}" if abs(f) < 1e-3 or abs(f) >= 1e4 else f"{f:.{digits}f}".rstrip("0").rstrip(".")


def score_text(value: Any, percent: bool) -> str:
    f = finite_or_none(value)
    if f is None:
        return "n/a"
    return f"{100 * f:.2f}%" if percent else f"{f:.4f}"


def seconds_text(value: Any) -> str:
    f = finite_or_none(value)
    if f is None:
        return "n/a"
    if f < 1:
        return f"{f * 1000:.0f} ms"
    if f < 120:
        return f"{f:.1f} s"
    return f"{f / 60:.1f} min"


def ms_text(value: Any) -> str:
    f = finite_or_none(value)
    if f is None:
        return "n/a"
    if f < 1:
        return f"{f * 1000:.1f} µs"
    return f"{f:.2f} ms"


def si_text(value: Any) -> str:
    f = finite_or_none(value)
    if f is None:
        return "n/a"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(f) >= size:
            return f"{f / size:.3g}{unit}"
    return f"{f:.3g}"


def widths_text(value: Any) -> str:
    """A leaderboard's widths cell: ``"128-128"``; a one-layer grid's column, which pandas reads as
    numbers (``64``, or ``64.0`` beside a linear model); ``"none"`` for the linear model's empty cell."""
    if isinstance(value, str):
        return value
    width = finite_or_none(value)
    return "none" if width is None else str(int(width))


def note_html(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'
