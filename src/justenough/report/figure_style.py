"""The look every figure of the report shares: fonts, colors, layout, and the y range and log
ticks that keep a figure readable."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "FONT_FAMILY",
    "ACCENT",
    "MAIN",
    "MUTED",
    "DIVERGED",
    "RESTART_COLORS",
    "apply_layout",
    "score_label",
    "focus_range",
    "floor_marks",
    "count_text",
    "log_ticks",
]

# System fonts only: the report makes no network requests, so no web fonts.
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
ACCENT = "#d6336c"  # the chosen config, everywhere
MAIN = "#1c7ed6"
MUTED = "#868e96"
DIVERGED = "#e8590c"
RESTART_COLORS = ("#1c7ed6", "#2f9e44", "#f08c00", "#ae3ec9", "#0c8599", "#e03131", "#5c940d", "#495057")


def apply_layout(fig: go.Figure, *, height: int = 400, **kwargs: Any) -> go.Figure:
    """A compact, quiet common style; ``autosize`` so the figure follows its container's width."""
    settings: dict[str, Any] = {
        "template": "plotly_white",
        "autosize": True,
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#212529"},
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    }
    settings.update(kwargs)
    fig.update_layout(**settings)
    return fig


def score_label(value: float, percent: bool) -> str:
    """A score as hover text: a percentage for percent metrics, else four decimals."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{100 * value:.2f}%" if percent else f"{value:.4f}"


def focus_range(values: np.ndarray, upper: np.ndarray | None = None, pad: float = 0.06) -> tuple[float, float] | None:
    """A y range that keeps the competitive configs readable when a few are far behind.

    Returns None when every value fits comfortably. Otherwise the range spans the values above
    ``median - 10 * (best - median)`` (and ``upper``, e.g. the tops of error bars); values below
    it are drawn on the floor, marked, with the real value on hover.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 3:
        return None
    best, med, low = float(v.max()), float(np.median(v)), float(v.min())
    spread = max(best - med, 1e-12)
    floor = med - 10.0 * spread
    if low >= floor:
        return None
    lo = float(v[v >= floor].min())
    hi = best
    if upper is not None:
        u = np.asarray(upper, dtype=float)
        u = u[np.isfinite(u)]
        hi = max(hi, float(u.max())) if len(u) else hi
    margin = pad * (hi - lo)
    return lo - 2 * margin, hi + margin


def floor_marks(fig: go.Figure, x: list[Any], values: np.ndarray, lo: float, name: str, hover: list[str]) -> None:
    """Values below the shown range, as downward triangles on the axis floor (hover gives the value)."""
    fig.add_trace(
        go.Scatter(
            x=x, y=[lo] * len(x), mode="markers", name=name, cliponaxis=False,
            marker={"symbol": "triangle-down", "size": 10, "color": MUTED},
            text=hover, hovertemplate="%{text}<extra>below the axis</extra>",
        )
    )



def count_text(value: float) -> str:
    """A tick label for a count: ``100``, ``2k``, ``10k``, ``1.5M``."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def log_ticks(values: np.ndarray) -> tuple[list[float], list[str]]:
    """Tick positions and labels for a log axis over ``values`` (positive counts): the powers of
    ten around them (``100, 1k, 10k``), and 2x and 5x between them when the values span less than
    a decade, so a narrow axis still has labelled ticks. Plotly's own log ticks label the minor
    2 and 5 marks as bare digits, which read as counts of 2 and 5."""
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if positive.size == 0:
        return [], []
    low, high = math.floor(math.log10(positive.min())), math.ceil(math.log10(positive.max()))
    high = max(high, low + 1)
    steps = (1.0,) if positive.max() / positive.min() >= 10 else (1.0, 2.0, 5.0)
    ticks = [m * 10.0**e for e in range(low, high + 1) for m in steps if m * 10.0**e <= 10.0**high]
    return ticks, [count_text(t) for t in ticks]
