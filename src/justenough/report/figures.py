"""The report's plotly figures, one function per figure.

Each function takes the tables of a run directory (pandas DataFrames read from its CSV files)
and returns a ``plotly.graph_objects.Figure``. Strings that come from the user (config labels,
class names) are HTML-escaped before they reach plotly, because plotly renders a small subset of
HTML inside its text; escaped, they show as the literal characters.
"""

from __future__ import annotations

import html
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from justenough.display_numbers import finite_or_none
from justenough.run.files import layer_widths
from justenough.run.growth import GrowthStep
from justenough.select.ensemble_noise import judged_as_ensembles
from justenough.report.figure_style import (
    ACCENT,
    DIVERGED,
    MAIN,
    MUTED,
    RESTART_COLORS,
    apply_layout,
    floor_marks,
    focus_range,
    log_ticks,
    score_label,
)

__all__ = [
    "complexity_figure",
    "paired_figure",
    "heatmap_figure",
    "restarts_figure",
    "curves_figure",
    "diagnostics_figure",
    "diagnostics_by_layer",
    "config_labels",
    "first_width",
    "pareto_front",
]


def config_labels(board: pd.DataFrame) -> dict[str, str]:
    """key -> a short, unique, HTML-escaped label (``label`` column, else built from the config)."""
    raw: dict[str, str] = {}
    for _, row in board.iterrows():
        label = row.get("label", "")  # text, "" when empty (run/table_schema.py)
        if not label:
            parts = [row.get("widths", "?"), row.get("activation", "")]
            lr = row.get("lr")
            if lr is not None and not math.isnan(lr):
                parts.append(f"lr={lr:g}")
            label = " ".join(p for p in parts if p)
        raw[row["key"]] = label
    counts = pd.Series(list(raw.values())).value_counts()
    # Two configs may share a label (e.g. they differ in a setting the label leaves out): add the key.
    return {k: html.escape(v if counts[v] == 1 else f"{v} [{k[:6]}]") for k, v in raw.items()}


def first_width(widths: Any) -> int:
    """The first hidden layer's width of a leaderboard's ``widths`` cell (``"32-16"``, ``32``, a
    list: ``run.files.layer_widths`` reads it); 0 when there is no hidden layer (depth 0)."""
    layers = layer_widths(widths)
    return layers[0] if layers else 0



def pareto_front(params: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of configs that no config with fewer (or equal) parameters beats, by params ascending."""
    order = np.lexsort((-score, params))  # params ascending, then score descending
    front, best = [], -np.inf
    for i in order:
        if np.isfinite(score[i]) and score[i] > best:
            front.append(i)
            best = score[i]
    return np.asarray(front, dtype=int)


def complexity_figure(board: pd.DataFrame, chosen_key: str, *, percent: bool, metric: str,
                      baseline: dict[str, Any] | None = None) -> go.Figure:
    """Every config: params (log x) vs mean validation score, error bars, Pareto front, one-SE band,
    and the no-network baseline's score as a dashed line (``baseline``, when it is in view)."""
    labels = config_labels(board)
    ok = board[np.isfinite(board["val_mean"])].reset_index(drop=True)
    params = ok["params"].to_numpy()  # [configs] int
    mean = ok["val_mean"].to_numpy()  # [configs] float
    zeros = pd.Series(0.0, index=ok.index)  # val_std and val_se: absent from a file of an early version
    std = ok.get("val_std", zeros).fillna(0.0).to_numpy()
    se = ok.get("val_se", zeros).fillna(0.0).to_numpy()
    scale = 100.0 if percent else 1.0
    custom = np.stack(
        [
            [labels[k] for k in ok["key"]],
            [html.escape(k) for k in ok["key"]],
            [f"{p:,}" for p in params],
            [score_label(m, percent) for m in mean],
            [(f"{100 * s:.2f}%" if percent else f"{s:.4f}") for s in std],
            [str(n) for n in ok.get("n_restarts", pd.Series([0] * len(ok)))],
            [(f"{100 * s:.2f}%" if percent else f"{s:.4f}") for s in se],
        ],
        axis=-1,
    )
    # Judged by ensembles (select/ensemble_noise.py): a point is the config's ensemble, its bar that score's SE.
    ensembles = judged_as_ensembles(ok)
    whose = "ensemble " if ensembles else ""
    hover = (
        "<b>%{customdata[0]}</b><br>key %{customdata[1]}<br>%{customdata[2]} params<br>"
        f"{whose}{html.escape(metric)} %{{customdata[3]}} ± %{{customdata[6]}} (SE, validation rows and restarts)<br>"
        "restarts' SD %{customdata[4]} (%{customdata[5]} restarts)<extra></extra>"
    )
    fig = go.Figure()
    if len(ok):
        _one_se_band(fig, mean, se, scale)
    fig.add_trace(
        go.Scatter(
            x=params, y=mean * scale, mode="markers",
            name="config (its ensemble's score ± SE)" if ensembles else "config (mean ± SD of its restarts)",
            error_y={"type": "data", "array": (se if ensembles else std) * scale, "thickness": 1, "width": 3,
                     "color": MUTED},
            marker={"size": 9, "color": MAIN, "line": {"width": 1, "color": "white"}},
            customdata=custom, hovertemplate=hover,
        )
    )
    front = pareto_front(params, mean)
    if len(front):
        fig.add_trace(
            go.Scatter(
                x=params[front], y=mean[front] * scale, mode="lines", name="Pareto front",
                line={"shape": "hv", "color": MUTED, "dash": "dot", "width": 1.5}, hoverinfo="skip",
            )
        )
    sel = (ok["key"] == chosen_key).to_numpy()
    if sel.any():
        fig.add_trace(
            go.Scatter(
                x=params[sel], y=mean[sel] * scale, mode="markers", name="chosen",
                marker={"size": 16, "symbol": "star", "color": ACCENT, "line": {"width": 1, "color": "white"}},
                customdata=custom[sel], hovertemplate=hover,
            )
        )
    rng = focus_range(mean * scale, upper=(mean + std) * scale)
    if rng is not None:
        below = mean * scale < rng[0]
        floor_marks(
            fig, list(params[below]), mean[below] * scale, rng[0] + 0.02 * (rng[1] - rng[0]), "far below (value on hover)",
            [f"{custom[i][0]}: {custom[i][3]}" for i in np.flatnonzero(below)],
        )
        fig.update_yaxes(range=list(rng))
    view = rng
    if view is None and len(ok):
        view = (float(np.min((mean - std) * scale)), float(np.max((mean + std) * scale)))
    _baseline_line(fig, baseline, rng, view, scale)
    apply_layout(fig)
    tickvals, ticktext = log_ticks(params)
    fig.update_xaxes(type="log", title_text="parameters (log scale)", tickvals=tickvals, ticktext=ticktext)
    fig.update_yaxes(title_text=f"validation {html.escape(metric)}{' (%)' if percent else ''}")
    return fig



def _one_se_band(fig: go.Figure, mean: np.ndarray, se: np.ndarray, scale: float) -> None:
    """The band one standard error below the best mean (``mean``, ``se``: [n_configs]; the SE of the
    noise model, over validation rows and restarts, where the run kept per-row evidence)."""
    b = int(np.argmax(mean))
    lo, hi = (mean[b] - se[b]) * scale, mean[b] * scale
    fig.add_hrect(
        y0=lo, y1=hi, fillcolor=ACCENT, opacity=0.12, line_width=0, layer="below",
    )
    # A legend entry for the band (shapes have none).
    fig.add_trace(
        go.Scatter(
            x=[None], y=[None], mode="markers", name="best − 1 SE (rows and restarts)",
            marker={"symbol": "square", "size": 12, "color": ACCENT, "opacity": 0.25},
        )
    )


def _baseline_line(fig: go.Figure, baseline: dict[str, Any] | None, rng: tuple[float, float] | None,
                   view: tuple[float, float] | None, scale: float) -> None:
    """The no-network baseline's score as a dashed line, when it is in ``view`` (the y range shown;
    ``rng``: the focused range, if the configs needed one)."""
    base = None if baseline is None else finite_or_none(baseline.get("val_score"))
    if base is not None and view is not None:
        # Show the baseline when it is near the configs (widening the view a little to hold it);
        # far below, it would squash every config into a line, so it is left to the legend-less
        # answer card then.
        y, height = base * scale, max(view[1] - view[0], 1e-12)
        if view[0] - height <= y < view[0] + 0.06 * height:
            view = (y - 0.06 * height, view[1] + (0.06 * height if rng is None else 0.0))
            fig.update_yaxes(range=list(view))
    if base is not None and view is not None and view[0] <= base * scale <= view[1]:
        fig.add_hline(y=base * scale, line={"dash": "dash", "color": MUTED, "width": 1})
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="lines", name=f"no network ({html.escape(str(baseline['kind']))})",  # type: ignore[index]
                line={"dash": "dash", "color": MUTED, "width": 1},
            )
        )


def heatmap_figure(board: pd.DataFrame, chosen_key: str, *, percent: bool, metric: str,
                   untried: Sequence[tuple[int, int]] = ()) -> go.Figure:
    """Mean validation score by depth (rows) x first-layer width (columns); best over other settings.

    ``untried``: (depth, width) cells the grow strategy never trained, drawn grey ("not needed")."""
    df = board.copy()
    df["width"] = [first_width(w) for w in df["widths"]]
    grid = df.pivot_table(index="depth", columns="width", values="val_mean", aggfunc="max")
    grid = grid.sort_index().sort_index(axis=1)
    scale = 100.0 if percent else 1.0
    z = grid.to_numpy(dtype=float) * scale
    text = [[("" if not math.isfinite(v) else (f"{v:.1f}" if percent else f"{v:.3f}")) for v in row] for row in z]
    columns = ["none" if c == 0 else str(c) for c in grid.columns]  # width 0: depth 0, no hidden layer
    fig = go.Figure(
        go.Heatmap(
            z=z, x=columns, y=[str(i) for i in grid.index], text=text,
            texttemplate="%{text}", colorscale="Viridis", hoverongaps=False,
            colorbar={"title": {"text": f"{html.escape(metric)}{' %' if percent else ''}", "side": "right"}, "thickness": 12},
            hovertemplate="depth %{y}, width %{x}<br>" + html.escape(metric) + " %{z:.3f}<extra></extra>",
        )
    )
    chosen = df[df["key"] == chosen_key]
    if len(chosen):
        c = chosen.iloc[0]
        fig.add_trace(
            go.Scatter(
                x=["none" if int(c["width"]) == 0 else str(int(c["width"]))], y=[str(c["depth"])], mode="markers", name="chosen",
                marker={"symbol": "square-open", "size": 44, "color": ACCENT, "line": {"width": 3}},
                hoverinfo="skip", showlegend=False,
            )
        )
    trained = {(int(d), int(w)) for d, w in zip(df["depth"], df["width"])}
    grey = sorted({(int(d), int(w)) for d, w in untried} - trained)
    if grey:
        fig.add_trace(
            go.Scatter(
                x=["none" if w == 0 else str(w) for _, w in grey], y=[str(d) for d, _ in grey], mode="markers+text",
                name="not needed", text=["not needed"] * len(grey), textfont={"color": MUTED, "size": 10},
                marker={"symbol": "square", "size": 44, "color": "#e9ecef", "line": {"width": 1, "color": MUTED}},
                hovertemplate="depth %{y}, width %{x}: not needed (growth stopped before it)<extra></extra>", showlegend=False,
            )
        )
        # The category axes in numeric order, untried cells included.
        depths = sorted({int(i) for i in grid.index} | {d for d, _ in grey})
        widths_all = sorted({int(c) for c in grid.columns} | {w for _, w in grey})
        fig.update_xaxes(categoryorder="array", categoryarray=["none" if w == 0 else str(w) for w in widths_all])
        fig.update_yaxes(categoryorder="array", categoryarray=[str(d) for d in depths])
    apply_layout(fig, height=max(260, 90 + 70 * (len(grid.index) + len({d for d, _ in grey} - {int(i) for i in grid.index}))))
    fig.update_xaxes(type="category", title_text="width (first hidden layer)")
    fig.update_yaxes(type="category", title_text="depth (hidden layers)")
    return fig


def growth_figure(path: Sequence[GrowthStep], board: pd.DataFrame, chosen_key: str, *, percent: bool,
                  metric: str) -> go.Figure:
    """The grow strategy's path: the configs in the order tried (x), each with its mean validation
    score and SE (y, error bars); steps that beat the best so far in blue, the others grey, the
    steps that stopped a direction marked with a cross, the chosen config outlined."""
    scale = 100.0 if percent else 1.0
    stats = board.set_index("key")
    xs = [f"{i + 1}. {p.config}" for i, p in enumerate(path)]
    mean = np.array([stats.loc[p.key, "val_mean"] if p.key in stats.index else math.nan for p in path], dtype=float) * scale
    se = np.array([stats.loc[p.key, "val_se"] if p.key in stats.index else math.nan for p in path], dtype=float) * scale
    beat = [p.beat for p in path]
    hover = [
        f"{p.config} ({p.direction}, round {p.round})"
        + ("" if p.compared_to is None or p.mean_diff is None else
           f"<br>vs {p.compared_to}: {p.mean_diff * scale:+.2f} ± {(p.se_diff or 0.0) * scale:.2f} paired")
        for p in path
    ]
    fig = go.Figure(
        go.Scatter(
            x=xs, y=mean, mode="lines+markers", name="mean ± SE", line={"color": MUTED, "width": 1, "dash": "dot"},
            marker={"size": 11, "color": [MAIN if b else MUTED for b in beat]},
            error_y={"type": "data", "array": se, "thickness": 1.5, "width": 4, "color": MUTED},
            text=hover, hovertemplate="%{text}<br>" + html.escape(metric) + " %{y:.3f}<extra></extra>",
        )
    )
    # A direction stops at its last failed step before the next success (or the end of the path).
    stopped = [i for i, p in enumerate(path) if not p.beat and not any(q.beat for q in path[i + 1:])]
    if stopped:
        fig.add_trace(go.Scatter(x=[xs[i] for i in stopped], y=[mean[i] for i in stopped], mode="markers", name="did not beat the best: stopped",
                                 marker={"symbol": "x", "size": 14, "color": DIVERGED}, hoverinfo="skip"))
    chosen = [i for i, p in enumerate(path) if p.key == chosen_key]
    if chosen:
        fig.add_trace(go.Scatter(x=[xs[chosen[0]]], y=[mean[chosen[0]]], mode="markers", name="chosen",
                                 marker={"symbol": "circle-open", "size": 22, "color": ACCENT, "line": {"width": 3}}, hoverinfo="skip"))
    apply_layout(fig, height=360)
    fig.update_xaxes(type="category", title_text="configs in the order tried")
    fig.update_yaxes(title_text=f"{html.escape(metric)}{' %' if percent else ''} (validation)")
    return fig


def restarts_figure(results: pd.DataFrame, board: pd.DataFrame, chosen_key: str, *, percent: bool, metric: str) -> go.Figure:
    """Each config's restarts as points over a box, configs by size; diverged restarts marked."""
    labels = config_labels(board)
    order = board.sort_values(["params", "key"])["key"].tolist()  # by size, the x axis's order (not a ranking)
    scale = 100.0 if percent else 1.0
    res = results[results["key"].isin(order)]
    diverged = res["diverged"] if "diverged" in res else pd.Series(False, index=res.index)  # booleans (run.files)
    score = res["val_score"]
    diverged = diverged | ~np.isfinite(score)
    ok = res[~diverged]
    bad = res[diverged]
    x_ok = [labels[k] for k in ok["key"]]
    fig = go.Figure()
    fig.add_trace(
        go.Box(
            x=x_ok, y=ok["val_score"] * scale, name="restarts", boxpoints="all", jitter=0.35,
            pointpos=0, marker={"size": 6, "color": MAIN, "opacity": 0.8}, line={"width": 1, "color": MUTED},
            fillcolor="rgba(0,0,0,0)", customdata=ok[["restart"]].to_numpy(),
            hovertemplate="%{x}<br>restart %{customdata[0]}: %{y:.3f}<extra></extra>",
        )
    )
    values = ok["val_score"].to_numpy() * scale
    rng = focus_range(values)
    if rng is not None:
        below = values < rng[0]
        floor_marks(
            fig, [x_ok[i] for i in np.flatnonzero(below)], values[below], rng[0] + 0.07 * (rng[1] - rng[0]),
            "far below (value on hover)",
            [f"{x_ok[i]}, restart {int(ok['restart'].iloc[i])}: {values[i]:.3f}" for i in np.flatnonzero(below)],
        )
        fig.update_yaxes(range=list(rng))
    if len(bad):
        # A diverged restart has no score: draw it on the floor of the axis so it is still counted.
        floor = (rng[0] + 0.02 * (rng[1] - rng[0])) if rng is not None else (float(np.nanmin(values)) if len(ok) else 0.0)
        fig.add_trace(
            go.Scatter(
                x=[labels[k] for k in bad["key"]], y=[floor] * len(bad), mode="markers", name="diverged",
                marker={"symbol": "x", "size": 10, "color": DIVERGED, "line": {"width": 1}},
                customdata=bad[["restart"]].to_numpy(),
                hovertemplate="%{x}<br>restart %{customdata[0]}: diverged<extra></extra>",
            )
        )
    mine = ok[ok["key"] == chosen_key]
    if len(mine):
        fig.add_trace(
            go.Scatter(
                x=[labels[str(chosen_key)]] * len(mine), y=mine["val_score"] * scale, mode="markers",
                name="chosen config", marker={"size": 9, "color": ACCENT, "symbol": "diamond"},
                hovertemplate="%{x}<br>%{y:.3f}<extra>chosen</extra>",
            )
        )
    apply_layout(fig, height=420, margin={"l": 60, "r": 20, "t": 30, "b": 110})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=[labels[k] for k in order], tickangle=-40,
                     title_text="config (by size)")
    fig.update_yaxes(title_text=f"validation {html.escape(metric)}{' (%)' if percent else ''}")
    return fig


def paired_figure(results: pd.DataFrame, board: pd.DataFrame, chosen_key: str, other_key: str, *,
                  percent: bool, metric: str) -> go.Figure:
    """The chosen config and its rival side by side, restart k joined to restart k: the lines'
    slopes are the paired differences (shared seeds, so shared luck cancels)."""
    from justenough.select import paired_scores

    labels = config_labels(board)
    scale = 100.0 if percent else 1.0
    pairs = paired_scores(results, other_key, chosen_key) * scale  # [pairs, (a: the rival, b: the choice)]
    x = [labels.get(other_key, html.escape(other_key)), labels.get(chosen_key, html.escape(chosen_key))]
    fig = go.Figure()
    for k, (other, chosen) in zip(pairs.index, pairs.itertuples(index=False)):
        fig.add_trace(
            go.Scatter(
                x=x, y=[other, chosen], mode="lines+markers", name=f"restart {k}", showlegend=False,
                line={"color": ACCENT if chosen >= other else MAIN, "width": 1.5}, marker={"size": 7},
                hovertemplate=f"restart {k}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            )
        )
    apply_layout(fig, height=360, margin={"l": 60, "r": 20, "t": 30, "b": 60})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x, range=[-0.6, 1.6])
    fig.update_yaxes(title_text=f"validation {html.escape(metric)}{' (%)' if percent else ''}")
    return fig


def curves_figure(history: pd.DataFrame, chosen_key: str, *, percent: bool, metric: str,
                  diverged: set[int] | None = None) -> go.Figure:
    """The chosen config's restarts: train (dashed) and validation (solid) loss, and validation score."""
    diverged = diverged or set()
    mine = history[history["key"].astype(str) == str(chosen_key)].sort_values(["restart", "epoch"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", f"validation {html.escape(metric)}"),
                        horizontal_spacing=0.1)
    scale = 100.0 if percent else 1.0
    for i, (restart, run) in enumerate(mine.groupby("restart", sort=True)):
        color = RESTART_COLORS[i % len(RESTART_COLORS)]
        name = f"restart {int(restart)}" + (" (diverged)" if int(restart) in diverged else "")
        group = f"r{int(restart)}"
        epoch = run["epoch"].astype(int)
        fig.add_trace(go.Scatter(x=epoch, y=run["train_loss"].astype(float), mode="lines", name=name, legendgroup=group,
                                 line={"color": color, "dash": "dash", "width": 1.5},
                                 hovertemplate=f"{name}, epoch %{{x}}<br>train loss %{{y:.4f}}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=epoch, y=run["val_loss"].astype(float), mode="lines", name=name, legendgroup=group,
                                 showlegend=False, line={"color": color, "width": 2},
                                 hovertemplate=f"{name}, epoch %{{x}}<br>val loss %{{y:.4f}}<extra></extra>"), row=1, col=1)
        if "val_score" in run:
            fig.add_trace(go.Scatter(x=epoch, y=run["val_score"].astype(float) * scale, mode="lines+markers", name=name,
                                     legendgroup=group, showlegend=False, line={"color": color, "width": 2},
                                     marker={"size": 4},
                                     hovertemplate=f"{name}, epoch %{{x}}<br>val score %{{y:.3f}}<extra></extra>"),
                          row=1, col=2)
    # Legend-only hints for the line styles.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="train (dashed)",
                             line={"color": MUTED, "dash": "dash"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="validation (solid)",
                             line={"color": MUTED}), row=1, col=1)
    apply_layout(fig, height=380, margin={"l": 60, "r": 20, "t": 60, "b": 50})
    fig.update_layout(legend={"y": 1.12})
    fig.update_xaxes(title_text="epoch")
    return fig


def diagnostics_figure(diag: pd.DataFrame, chosen_key: str, widths: list[int]) -> go.Figure:
    """Per hidden layer of the chosen config, at epoch 0 and at the last epoch (mean over restarts):
    effective width (against the real width), fraction of dead units, activation std."""
    table = diagnostics_by_layer(diag, chosen_key)
    layers = sorted(table["layer"].unique())
    # Layers are 1-based hidden layers (diagnostics.csv).
    x = [f"layer {int(layer)}" for layer in layers]
    fig = make_subplots(rows=1, cols=3, subplot_titles=("effective width", "dead units (fraction)", "activation std"),
                        horizontal_spacing=0.08)
    stages = [("start", "epoch 0", "#adb5bd"), ("end", "last epoch", MAIN)]
    for stage, name, color in stages:
        part = table[table["stage"] == stage].set_index("layer").reindex(layers)
        if part["effective_width"].isna().all():
            continue
        for col, column in ((1, "effective_width"), (2, "dead_fraction"), (3, "act_std")):
            if column not in part:
                continue
            err = part.get(column + "_std")
            fig.add_trace(go.Bar(x=x, y=part[column], name=name, legendgroup=stage, showlegend=col == 1,
                                 marker_color=color,
                                 error_y=None if err is None else {"type": "data", "array": err.fillna(0.0), "thickness": 1,
                                                                   "color": MUTED},
                                 hovertemplate=f"{name}, %{{x}}<br>{column} %{{y:.3f}}<extra></extra>"), row=1, col=col)
    if widths and all(1 <= int(layer) <= len(widths) for layer in layers):
        fig.add_trace(go.Scatter(x=x, y=[widths[int(layer) - 1] for layer in layers], mode="markers", name="real width",
                                 marker={"symbol": "line-ew-open", "size": 28, "color": ACCENT, "line": {"width": 2}},
                                 hovertemplate="%{x}: %{y} units<extra>real width</extra>"), row=1, col=1)
    apply_layout(fig, height=340, margin={"l": 50, "r": 20, "t": 60, "b": 40}, barmode="group")
    fig.update_layout(legend={"y": 1.14})
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    return fig


def diagnostics_by_layer(diag: pd.DataFrame, chosen_key: str) -> pd.DataFrame:
    """Rows of the chosen key at epoch 0 ("start") and at each restart's last epoch ("end"),
    averaged over restarts per layer (columns ``<name>`` and ``<name>_std``)."""
    mine = diag[diag["key"].astype(str) == str(chosen_key)].copy()
    if mine.empty:
        return pd.DataFrame(columns=["stage", "layer"])
    mine["epoch"] = mine["epoch"].astype(int)
    last = mine.groupby("restart")["epoch"].transform("max")
    parts = []
    if (mine["epoch"] == 0).any():
        parts.append(mine[mine["epoch"] == 0].assign(stage="start"))
    end = mine[(mine["epoch"] == last) & (last > 0)] if (mine["epoch"] > 0).any() else mine[mine["epoch"] == last]
    parts.append(end.assign(stage="end"))
    both = pd.concat(parts, ignore_index=True)
    numeric = [c for c in ("effective_width", "dead_fraction", "act_mean", "act_std", "grad_norm", "update_ratio", "max_cosine")
               if c in both]
    for c in numeric:
        both[c] = pd.to_numeric(both[c], errors="coerce")
    g = both.groupby(["stage", "layer"])[numeric]
    out = g.mean().join(g.std(ddof=0).add_suffix("_std")).reset_index()
    return out
