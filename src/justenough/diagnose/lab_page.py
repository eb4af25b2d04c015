"""The init lab's page: one self-contained HTML file, plotly JS embedded once, all figures and tables."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # plotly loads where a page is rendered
    import plotly.graph_objects as go

__all__ = ["LabFindings", "render"]


class LabFindings(Protocol):
    """What the page shows of the lab's result (``lab.InitLabResult`` is one). A protocol rather
    than the class, because ``lab.py`` imports this module to render its result: the imports go one way."""

    @property
    def summary(self) -> pd.DataFrame: ...

    @property
    def signal(self) -> pd.DataFrame: ...

    @property
    def symmetry(self) -> pd.DataFrame: ...

    @property
    def movement(self) -> pd.DataFrame: ...

    @property
    def figures(self) -> dict[str, go.Figure]: ...

    @property
    def settings(self) -> dict[str, Any]: ...

    @property
    def notices(self) -> list[str]: ...

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#212529}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #dee2e6}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #e9ecef;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f8f9fa}.note{color:#495057}.scroll{overflow-x:auto}.figure{width:100%;min-height:300px}
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return ""
        return f"{v:.4g}"
    return html.escape(str(value), quote=True)


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _pivot(df: pd.DataFrame, value: str, specs: list[str], depth: int | None = None) -> pd.DataFrame:
    d = df if depth is None else df[df["layer"] <= depth]
    p = d.groupby(["scheme", "layer"])[value].median().unstack("layer")
    p = p.reindex([s for s in specs if s in p.index])
    p.columns = [f"layer {int(c)}" for c in p.columns]
    return p.reset_index()


def render(result: LabFindings) -> str:
    """The lab's one self-contained HTML page."""
    import plotly.offline

    from justenough.report.embedding import EmbeddedFigures

    s = result.settings
    specs = list(s["schemes"])
    depth = int(s["depth"])
    # The report's embedding: the same plot config, escaping and one script of guarded calls.
    figures = EmbeddedFigures()
    divs = {name: figures.div(name, fig) for name, fig in result.figures.items()}
    movement = result.movement.groupby(["scheme", "layer", "kind"], as_index=False)[["weight_change", "bias_change"]].max()
    movement = movement.set_index("scheme").loc[[x for x in specs if x in set(movement["scheme"])]].reset_index()
    parts = [
        f"<h1>Init lab: {_cell(s['data'])}</h1>",
        f'<p class="note">{depth} hidden layers of {int(s["width"])} {_cell(s["activation"])} units; '
        f'{int(s["n_init"])} restarts per scheme; {int(s["epochs"])} epochs of {_cell(s["optimizer"])} at lr {_cell(s["lr"])}; '
        f'a restart is good within {_cell(s["tolerance"])} of the best ({_cell(s["best_score"])} {_cell(s["metric"])}).</p>',
        "".join(f'<p class="note">{_cell(n)}</p>' for n in result.notices),
        "<h2>Outcome per scheme</h2>",
        _table(result.summary),
        divs.get("scores", ""),
        "<h2>Signal at initialization</h2>",
        '<p class="note">Activation std per hidden layer (median over restarts).</p>',
        divs.get("signal", ""),
        _table(_pivot(result.signal, "act_std", specs, depth)),
        '<p class="note">Gradient norm per layer (median over restarts; the last column is the output layer).</p>',
        _table(_pivot(result.signal, "grad_norm", specs)),
        "<h2>Symmetry over training</h2>",
        divs.get("symmetry", ""),
        '<p class="note">Effective width per hidden layer at the last epoch (median over restarts).</p>',
        _table(_pivot(result.symmetry[result.symmetry["epoch"] == result.symmetry["epoch"].max()], "effective_width", specs, depth)),
        "<h2>How far the weights moved</h2>",
        '<p class="note">Largest ||W_end - W_init|| and ||b_end - b_init|| over restarts, per layer.</p>',
        _table(movement),
    ]
    if "unit_maps" in divs:
        parts += ["<h2>First-layer units over the input plane</h2>", divs["unit_maps"]]
    body = "\n".join(parts)
    title = html.escape(f"justenough init lab: {s['data']}", quote=True)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>"
        f"<style>{_CSS}</style><script>{plotly.offline.get_plotlyjs()}</script></head>"
        f"<body>{body}<script>{figures.script()}</script></body></html>\n"
    )
