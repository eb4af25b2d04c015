"""Plotly figures embedded in the report: each figure as escaped JSON, drawn by one final script.

Plotly's JavaScript is embedded once; each figure follows as JSON inside a ``<script>`` with
``<``, ``>`` and ``&`` escaped as ``\\u003c`` etc., so no string from the data can close the
script element.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["EmbeddedFigures", "safe_json"]

_PLOT_CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def safe_json(text: str) -> str:
    """JSON text made safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators as ``\\uXXXX``.

    The escapes are still valid JSON (and JavaScript) and decode to the same strings, but the text
    can no longer contain ``</script>`` or ``<!--``.
    """
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class EmbeddedFigures:
    """Collects figures; each gets a div now and a ``Plotly.newPlot`` call in the final script."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def div(self, name: str, fig: go.Figure) -> str:
        div_id = f"fig-{name}"
        payload = safe_json(pio.to_json(fig, validate=False))
        config = json.dumps(_PLOT_CONFIG)
        self.calls.append(
            f'(function(){{var f={payload};Plotly.newPlot("{div_id}",f.data,f.layout,{config});}})();'
        )
        return f'<div class="figure" id="{div_id}"></div>'

    def script(self) -> str:
        # A figure that fails to draw must not stop the others; the error still reaches the console.
        return "\n".join(f"try{{{c}}}catch(err){{console.error(err);}}" for c in self.calls)
