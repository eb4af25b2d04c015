"""How the report writes values: escaped for HTML, numbers, scores, durations and sizes as people read them."""

from __future__ import annotations

import html
from typing import Any

from justenough.display_numbers import finite_or_none
from justenough.run.files import layer_widths

__all__ = ["escape", "number_text", "score_text", "seconds_text", "ms_text", "si_text", "note_html", "se_text"]


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
    """A leaderboard's widths cell as the table shows it: ``"128-128"``, ``"64"``; ``"none"`` for
    the linear model's empty cell (``run.files.layer_widths`` reads the cell)."""
    return "-".join(str(w) for w in layer_widths(value)) or "none"


def note_html(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def se_text(se: Any, s: Any, percent: bool) -> str:
    """`` ± 0.50% (SE: validation rows ± 0.45%, restarts ± 0.20%)``: the chosen config's SE and,
    where the run kept per-row evidence, its parts; `` ± 0.50% (SE)`` without them."""
    if finite_or_none(se) is None:
        return ""
    se_rows, se_restarts = finite_or_none(s.val_score_se_rows), finite_or_none(s.val_score_se_restarts)
    if se_rows is None or se_restarts is None:
        return f" ± {score_text(se, percent)} (SE)"
    return (f" ± {score_text(se, percent)} (SE: validation rows ± {score_text(se_rows, percent)}, "
            f"restarts ± {score_text(se_restarts, percent)})")
