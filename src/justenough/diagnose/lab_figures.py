"""The init lab's figures: the scores, the signal at initialization, the symmetry over training,
and for 2-D data each first-layer unit's activation over the input plane."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from justenough.nets import init as init_mod
from justenough.diagnose.lab_schemes import default_schemes

__all__: list[str] = ["lab_figures"]

_MAP_UNITS = 8  # first-layer units drawn per scheme in the 2-D maps
_GRID = 60  # grid points per axis of the 2-D maps


def _is_symmetric(spec: str) -> bool:
    return not init_mod.parse(spec).scheme.random


_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_COLORS = (
    "#868e96", "#495057", "#e8590c", "#f08c00", "#fab005", "#1c7ed6", "#4dabf7", "#2f9e44",
    "#69db7c", "#ae3ec9", "#da77f2", "#0c8599", "#d6336c", "#5c940d", "#e03131", "#3b5bdb",
)


def _color(specs: list[str], spec: str) -> str:
    """The same color for a scheme in every lab: by its place among the default schemes."""
    defaults = default_schemes()
    if spec in defaults:
        return _COLORS[defaults.index(spec) % len(_COLORS)]
    return _COLORS[(len(defaults) + specs.index(spec)) % len(_COLORS)]


def _layout(fig: go.Figure, **kwargs: Any) -> go.Figure:
    settings: dict[str, Any] = {
        "template": "plotly_white",
        "autosize": True,
        "height": 420,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "font": {"family": _FONT, "size": 12, "color": "#212529"},
    }
    settings.update(kwargs)
    fig.update_layout(**settings)
    return fig


def _esc(text: str) -> str:
    """User strings (scheme specs) reach plotly, which renders a subset of HTML: escape them."""
    return html.escape(str(text), quote=True)


def _scores_figure(restarts: pd.DataFrame, specs: list[str], metric: str) -> go.Figure:
    """The validation score of every restart, one box (with all points) per scheme."""
    fig = go.Figure()
    for spec in specs:
        r = restarts[restarts["scheme"] == spec]
        fig.add_trace(
            go.Box(
                y=r["val_score"], x=[_esc(spec)] * len(r), name=_esc(spec), boxpoints="all", jitter=0.4, pointpos=0,
                marker={"color": _color(specs, spec), "size": 6}, line={"width": 1}, showlegend=False,
                customdata=np.stack([r["restart"], r["diverged"].astype(int)], axis=1),
                hovertemplate="%{x}<br>restart %{customdata[0]}<br>" + metric + " %{y:.4f}<extra></extra>",
            )
        )
    _layout(fig, title={"text": f"Validation {metric} of every restart, by init scheme", "x": 0.01})
    fig.update_yaxes(title_text=f"validation {metric}")
    fig.update_xaxes(tickangle=-30)
    return fig


def _signal_figure(signal: pd.DataFrame, specs: list[str], depth: int) -> go.Figure:
    """Activation std by hidden layer at initialization (median over restarts), log scale."""
    fig = go.Figure()
    hidden = signal[signal["layer"] <= depth]
    zero_schemes = []
    for spec in specs:
        s = hidden[hidden["scheme"] == spec].groupby("layer")["act_std"].median()
        y = [float(v) if v is not None and math.isfinite(float(v)) and float(v) > 0 else None for v in s.values]
        if all(v is None for v in y):
            zero_schemes.append(spec)
        fig.add_trace(
            go.Scatter(
                x=list(s.index), y=y, mode="lines+markers", name=_esc(spec),
                line={"color": _color(specs, spec)}, marker={"color": _color(specs, spec)},
                hovertemplate=_esc(spec) + "<br>layer %{x}<br>act std %{y:.3g}<extra></extra>",
            )
        )
    title = "Activation std by layer at initialization (median over restarts)"
    if zero_schemes:
        title += f"; exactly 0, not drawn on a log scale: {', '.join(_esc(s) for s in zero_schemes)}"
    _layout(fig, title={"text": title, "x": 0.01, "font": {"size": 13}}, height=460)
    fig.update_yaxes(type="log", title_text="activation std (log)", exponentformat="power")
    fig.update_xaxes(title_text="hidden layer", dtick=1)
    return fig


def _symmetry_figure(symmetry: pd.DataFrame, specs: list[str], depth: int, width: int) -> go.Figure:
    """Effective width over epochs: the narrowest hidden layer, mean over restarts, log scale."""
    fig = go.Figure()
    hidden = symmetry[symmetry["layer"] <= depth].copy()
    hidden["effective_width"] = hidden["effective_width"].astype(float)
    for spec in specs:
        s = hidden[hidden["scheme"] == spec]
        narrowest = s.groupby(["restart", "epoch"])["effective_width"].min().groupby("epoch").mean()
        fig.add_trace(
            go.Scatter(
                x=list(narrowest.index), y=list(narrowest.values), mode="lines+markers", name=_esc(spec),
                line={"color": _color(specs, spec)}, marker={"color": _color(specs, spec), "size": 5},
                hovertemplate=_esc(spec) + "<br>epoch %{x}<br>effective width %{y:.3g}<extra></extra>",
            )
        )
    _layout(fig, title={"text": f"Effective width of the narrowest hidden layer (of {width} units), mean over restarts", "x": 0.01})
    ticks = sorted({1, width} | {2**k for k in range(1, 16) if 2**k < width})
    fig.update_yaxes(type="log", title_text="distinct units (log)", range=[-0.1, math.log10(max(width, 2)) + 0.1],
                     tickvals=ticks, ticktext=[str(t) for t in ticks], minor={"showgrid": False})
    fig.update_xaxes(title_text="epoch")
    return fig


def _maps_figure(states: dict[str, dict[str, torch.Tensor]], specs: list[str], prepared: Any, activation: str) -> go.Figure | None:
    """Each first-layer unit's activation over the input plane: a symmetric and a random scheme."""
    from justenough.nets.activations import ACTIVATION_FUNCTIONS, AUTO_INIT

    symmetric = [s for s in specs if _is_symmetric(s) and s in states]
    random = [s for s in specs if not _is_symmetric(s) and s in states]
    if not symmetric or not random:
        return None
    # Prefer constant (its maps are not all zero) and the activation's usual scheme.
    sym = next((s for s in symmetric if init_mod.parse(s).name == "constant"), symmetric[0])
    preferred = AUTO_INIT.get(activation, "glorot_uniform")
    rnd = next((s for s in random if init_mod.parse(s).name == preferred), random[0])
    X = torch.cat([prepared.X_train, prepared.X_val]).detach().cpu()  # [N, 2], standardized
    lo, hi = X.min(0).values - 0.5, X.max(0).values + 0.5
    g1 = torch.linspace(float(lo[0]), float(hi[0]), _GRID)
    g2 = torch.linspace(float(lo[1]), float(hi[1]), _GRID)
    plane = torch.stack(torch.meshgrid(g1, g2, indexing="xy"), dim=-1).reshape(-1, 2)  # [G*G, 2]
    act = ACTIVATION_FUNCTIONS[activation]
    units = min(_MAP_UNITS, int(states[rnd]["0.weight"].shape[0]))
    fig = make_subplots(
        rows=2, cols=units, horizontal_spacing=0.01, vertical_spacing=0.08, subplot_titles=[f"unit {u + 1}" for u in range(units)] + [""] * units,
    )
    for row, spec in enumerate((sym, rnd), start=1):
        W, b = states[spec]["0.weight"].float(), states[spec]["0.bias"].float()  # [width, 2], [width]
        A = act(plane @ W[:units].T + b[:units])  # [G*G, units]
        for u in range(units):
            fig.add_trace(
                go.Heatmap(
                    x=g1.numpy(), y=g2.numpy(), z=A[:, u].reshape(_GRID, _GRID).numpy(), coloraxis="coloraxis",
                    hovertemplate=_esc(spec) + f", unit {u + 1}<br>x1 %{{x:.2f}}, x2 %{{y:.2f}}<br>activation %{{z:.3f}}<extra></extra>",
                ),
                row=row, col=u + 1,
            )
    for row, spec in enumerate((sym, rnd), start=1):
        fig.update_yaxes(title_text=_esc(spec), title_font={"size": 11}, row=row, col=1)
    _layout(
        fig, height=360, margin={"l": 50, "r": 60, "t": 70, "b": 30},
        title={"text": "First-layer units over the input plane after training: identical (top) vs distinct (bottom)", "x": 0.01, "font": {"size": 13}},
        coloraxis={"colorscale": "Viridis", "colorbar": {"title": {"text": "activation"}, "thickness": 12}},
    )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig


def lab_figures(
    restarts: pd.DataFrame, signal: pd.DataFrame, symmetry: pd.DataFrame, specs: list[str], metric: str, *,
    depth: int, width: int, maps_state: dict[str, dict[str, torch.Tensor]], prepared: Any, activation: str,
) -> dict[str, go.Figure]:
    """The lab's figures by name: scores, signal, symmetry and, for 2-D data, unit_maps."""
    figures = {
        "scores": _scores_figure(restarts, specs, metric),
        "signal": _signal_figure(signal, specs, depth),
        "symmetry": _symmetry_figure(symmetry, specs, depth, width),
    }
    if prepared.n_features == 2 and maps_state:
        fig = _maps_figure(maps_state, specs, prepared, activation)
        if fig is not None:
            figures["unit_maps"] = fig
    return figures
