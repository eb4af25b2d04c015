"""The chosen network drawn as layers x units: an inline SVG string, generated here.

Columns are layers (input, hidden layers, output); each column shows up to ``max_units``
circles and a "…+N" note for the units not drawn. Edges join the drawn units of neighbouring
layers, faintly, to say "fully connected" without turning into a grey smear.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["network_svg", "drawn_units"]

_ROW = 22.0  # vertical distance between unit centres (SVG user units)
_COL = 130.0  # horizontal distance between layer columns
_R = 7.0  # unit radius
_TOP = 20.0
_LEFT = 60.0

_FILL = {"input": "#e7f5ff", "hidden": "#1c7ed6", "output": "#d6336c"}
_STROKE = {"input": "#1c7ed6", "hidden": "#1864ab", "output": "#a61e4d"}


def drawn_units(n: int, max_units: int = 16) -> tuple[int, int]:
    """How many of ``n`` units to draw and how many to leave to the "…+N" note.

    All of them when they fit; otherwise one row is given to the note, so ``max_units - 1`` are drawn.
    """
    if n < 0:
        raise ValueError(f"a layer cannot have {n} units")
    if n <= max_units:
        return n, 0
    shown = max(max_units - 1, 1)
    return shown, n - shown


def network_svg(
    n_in: int | None,
    widths: Sequence[int],
    n_out: int | None,
    *,
    activation: str = "",
    max_units: int = 16,
    title: str = "the chosen network",
) -> str:
    """An ``<svg>`` element (a string) drawing input, hidden layers with their widths, and output.

    ``n_in`` or ``n_out`` may be None when the run directory does not say; the column is then drawn
    with a "?" and no units. All text is HTML-escaped.
    """
    layers: list[tuple[str, int | None, str, str]] = [("input", n_in, "input", "features")]
    for i, w in enumerate(widths):
        layers.append(("hidden", int(w), f"hidden {i + 1}", activation))
    layers.append(("output", n_out, "output", "outputs"))

    tallest = max(drawn_units(n or 0, max_units)[0] + (1 if drawn_units(n or 0, max_units)[1] else 0) for _, n, _, _ in layers)
    height = _TOP * 2 + max(tallest, 1) * _ROW + 44.0  # room for two label lines under the columns
    width = _LEFT * 2 + _COL * (len(layers) - 1)
    centre = _TOP + max(tallest, 1) * _ROW / 2.0

    # Unit centres per column: [(x, y), ...], vertically centred.
    columns: list[list[tuple[float, float]]] = []
    notes: list[tuple[float, float, int]] = []
    for c, (_, n, _, _) in enumerate(layers):
        shown, hidden = drawn_units(n or 0, max_units)
        rows = shown + (1 if hidden else 0)
        y0 = centre - (rows - 1) * _ROW / 2.0
        x = _LEFT + c * _COL
        columns.append([(x, y0 + k * _ROW) for k in range(shown)])
        if hidden:
            notes.append((x, y0 + shown * _ROW, hidden))

    parts: list[str] = [
        f'<svg class="network" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{html.escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{html.escape(title)}</title>",
        '<g class="edges" stroke="#adb5bd" stroke-width="0.6" stroke-opacity="0.45">',
    ]
    for left, right in zip(columns[:-1], columns[1:]):
        for x1, y1 in left:
            for x2, y2 in right:
                parts.append(f'<line x1="{x1 + _R:.1f}" y1="{y1:.1f}" x2="{x2 - _R:.1f}" y2="{y2:.1f}"/>')
    parts.append("</g>")
    parts.append('<g class="units" stroke-width="1.2">')
    for (kind, _, _, _), col in zip(layers, columns):
        for x, y in col:
            parts.append(
                f'<circle class="unit unit-{kind}" cx="{x:.1f}" cy="{y:.1f}" r="{_R:.0f}" '
                f'fill="{_FILL[kind]}" stroke="{_STROKE[kind]}"/>'
            )
    parts.append("</g>")
    text = 'font-family="system-ui, sans-serif" text-anchor="middle"'
    for x, y, hidden in notes:
        parts.append(f'<text class="more" x="{x:.1f}" y="{y + 4:.1f}" {text} font-size="11" fill="#495057">…+{hidden}</text>')
    base = height - 30.0
    for c, (kind, n, name, unit_word) in enumerate(layers):
        x = _LEFT + c * _COL
        count = "?" if n is None else f"{n:,}"
        second = f"{count} {unit_word}".strip() if kind != "hidden" else f"{count} · {unit_word}".strip(" ·")
        if n is None:
            parts.append(f'<text x="{x:.1f}" y="{centre + 4:.1f}" {text} font-size="14" fill="#868e96">?</text>')
        parts.append(
            f'<text class="layer-name" x="{x:.1f}" y="{base:.1f}" {text} font-size="12" font-weight="600" '
            f'fill="#212529">{html.escape(name)}</text>'
        )
        parts.append(
            f'<text class="layer-size" x="{x:.1f}" y="{base + 16:.1f}" {text} font-size="11" '
            f'fill="#495057">{html.escape(second)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
