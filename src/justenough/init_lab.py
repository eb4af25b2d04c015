"""The init lab: one architecture trained from every initialization scheme, many restarts each.

Why random initial weights? Units of a layer that start identical get identical gradients and
stay identical, so a layer of 64 units is then worth one. And the scale of the random draw
decides whether the signal survives the depth. The lab shows both on real data:

- an outcome table per scheme (validation score over restarts, the fraction of "good" restarts,
  the fraction that diverged, epochs to the best);
- the signal at initialization (activation std and gradient norm, per layer and scheme);
- the symmetry over training (effective width per layer, scheme and epoch);
- how far each layer's weights moved during training (zero init: exactly not at all, for the
  hidden layers of a relu or tanh net);
- plotly figures, and for 2-D data each first-layer unit's activation over the input plane.

``init_lab("digits")`` returns an ``InitLabResult``; ``result.save(DIR)`` writes ``summary.csv``,
the full tables and one self-contained ``init_lab.html``.
"""

from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from justenough import init as init_mod
from justenough.errors import ConfigError

__all__ = [
    "InitLabResult",
    "init_lab",
    "default_schemes",
    "SUMMARY_COLUMNS",
]

log = logging.getLogger("justenough")

# The columns ``summary.csv`` always has (more may follow).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "scheme",
    "score_mean",
    "score_std",
    "score_min",
    "score_max",
    "good_fraction",
    "diverged_fraction",
    "median_best_epoch",
    "min_effective_width",
    "max_effective_width",
    "init_act_std_first",
    "init_act_std_last",
    "init_grad_ratio",
)

# The params the lab uses for the parametrized schemes (the lesson needs both a small and a
# large fixed-scale normal).
_LAB_PARAMS: dict[str, tuple[str, ...]] = {
    "normal": ("normal(std=0.01)", "normal(std=1.0)"),
    "constant": ("constant(value=0.1)",),
    "uniform": ("uniform(a=0.05)",),
}
_MAX_STACK = 32  # members per stack: throughput levels off at 8 to 32 (DESIGN.md)
_MAP_UNITS = 8  # first-layer units drawn per scheme in the 2-D maps
_GRID = 60  # grid points per axis of the 2-D maps
_PLOT_CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def default_schemes() -> list[str]:
    """Every registered scheme as a spec, with the lab's params for the parametrized ones:
    ``normal(std=0.01)`` (small) and ``normal(std=1.0)`` (large), ``constant(value=0.1)``,
    ``uniform(a=0.05)``; symmetric schemes first, then fixed-scale, then the scaled ones."""
    specs: list[str] = []
    for name in init_mod.SCHEMES:
        specs.extend(_LAB_PARAMS.get(name, (name,)))
    order = {"zeros": 0, "constant": 1, "normal": 2, "uniform": 3}
    return sorted(specs, key=lambda s: (order.get(init_mod.parse(s).name, 4), specs.index(s)))


def _is_symmetric(spec: str) -> bool:
    return not init_mod.parse(spec).scheme.random


# ----------------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitLabResult:
    """What the init lab found.

    summary: one row per scheme (``SUMMARY_COLUMNS``). restarts: one row per (scheme, restart):
    ``scheme, restart, seed, val_score, val_loss, best_epoch, epochs_run, diverged, good``.
    signal: the diagnostics at initialization, one row per (scheme, restart, layer) (see
    ``justenough.diagnose.COLUMNS``; layer ``depth + 1`` is the output layer). symmetry: the
    diagnostics recorded during training, one row per (scheme, restart, epoch, layer).
    movement: ``||W_end - W_init||`` and ``||b_end - b_init||`` per (scheme, restart, layer),
    with the last epoch's weights. figures: plotly figures by name. settings: the lab's
    arguments. notices: things worth knowing (e.g. restarts that diverged).
    """

    summary: pd.DataFrame
    restarts: pd.DataFrame
    signal: pd.DataFrame
    symmetry: pd.DataFrame
    movement: pd.DataFrame
    figures: dict[str, go.Figure]
    settings: dict[str, Any]
    notices: list[str] = field(default_factory=list)

    def html(self) -> str:
        """One self-contained HTML page: plotly JS embedded once, all figures and tables."""
        return _render(self)

    def save(self, directory: str | Path) -> Path:
        """Write ``summary.csv``, ``restarts.csv``, ``signal.csv``, ``symmetry.csv``,
        ``movement.csv``, ``settings.json`` and ``init_lab.html`` into ``directory``; returns it."""
        from justenough.atomic import write_csv, write_json, write_text

        out = Path(directory)
        if out.exists() and not out.is_dir():
            raise ConfigError(f"cannot save the init lab into {out}: it is a file; pass a directory")
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "summary.csv", self.summary)
        write_csv(out / "restarts.csv", self.restarts)
        write_csv(out / "signal.csv", self.signal)
        write_csv(out / "symmetry.csv", self.symmetry)
        write_csv(out / "movement.csv", self.movement)
        write_json(out / "settings.json", self.settings)
        write_text(out / "init_lab.html", self.html())
        log.info("init lab written to %s", out)
        return out


# ----------------------------------------------------------------------------------------------
# The lab
# ----------------------------------------------------------------------------------------------


def _prepared(data: Any, seed: int, device: str) -> Any:
    from justenough.data import Prepared, load, prepare

    if isinstance(data, Prepared):
        return data
    return prepare(load(data, seed=seed), seed=seed, device=device)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"init_lab: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def init_lab(
    data: Any,
    depth: int = 6,
    width: int = 64,
    activation: str = "relu",
    schemes: Sequence[str] | None = None,
    n_init: int = 10,
    epochs: int = 30,
    seed: int = 0,
    *,
    optimizer: str = "adam",
    lr: float = 1e-3,
    batch_size: int = 64,
    tolerance: float = 0.02,
    diagnose_every: int = 1,
    device: str = "cpu",
    out: str | Path | None = None,
) -> InitLabResult:
    """Train ``depth`` hidden layers of ``width`` units from every scheme, ``n_init`` restarts each.

    data: anything ``justenough.data.load`` takes (a bundled dataset name such as ``"digits"``,
    a path, a DataFrame, ``(X, y)``) or a ``Prepared``. schemes: scheme specs (default:
    ``default_schemes()``). Restart k of every scheme uses seed stream k (common random numbers).
    A restart is "good" when its validation score is within ``tolerance`` of the best restart
    overall. Diagnostics are recorded at epoch 0 and every ``diagnose_every`` epochs. With
    ``out``, the result is also saved there. No early stopping: every restart runs ``epochs``.
    """
    from justenough.diagnose import DiagnosticsRecorder, diagnose
    from justenough.stack import MemberSpec, MLPStack
    from justenough.search.task import restart_seed
    from justenough.train import TrainSettings, train

    depth = _check_int("depth", depth, 1)
    width = _check_int("width", width, 1)
    n_init = _check_int("n_init", n_init, 1)
    epochs = _check_int("epochs", epochs, 1)
    seed = _check_int("seed", seed, 0)
    diagnose_every = _check_int("diagnose_every", diagnose_every, 1)
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance >= 0):
        raise ConfigError(f"init_lab: tolerance must be a number >= 0 (in score units), got {tolerance!r}")
    specs = [str(init_mod.parse(s)) for s in (default_schemes() if schemes is None else list(schemes))]
    if not specs:
        raise ConfigError("init_lab: schemes is empty; pass scheme specs such as ['zeros', 'he_normal'] or None for all")
    if len(set(specs)) != len(specs):
        raise ConfigError(f"init_lab: schemes lists a scheme twice: {specs}")

    prepared = _prepared(data, seed, device)
    task = str(prepared.task)
    dev = prepared.X_train.device
    X_val, y_val = prepared.X_val, prepared.y_val
    seeds = [restart_seed(seed, k) for k in range(n_init)]
    # Scheme-major: member = s * n_init + k.
    all_members = [(spec, k) for spec in specs for k in range(n_init)]
    settings = TrainSettings(
        optimizer=optimizer, batch_size=batch_size, max_epochs=epochs, patience=None, callback_every=1
    )
    notices: list[str] = []

    restarts, signal, symmetry, movement = [], [], [], []
    maps_state: dict[str, dict[str, torch.Tensor]] = {}
    for start in range(0, len(all_members), _MAX_STACK):
        chunk = all_members[start : start + _MAX_STACK]
        members = [MemberSpec(widths=(width,) * depth, init=spec, seed=seeds[k], lr=lr) for spec, k in chunk]
        stack = MLPStack(
            prepared.n_features, prepared.n_outputs, members, activation=activation, device=dev,
            init_data=prepared.X_train[:512],
        )
        initial = [(w.detach().clone(), b.detach().clone()) for w, b in zip(stack.weights, stack.biases)]
        at_init = diagnose(stack, X_val[:512], y_val[:512], task=task)
        recorder = DiagnosticsRecorder(X_val, every=diagnose_every, y=y_val, task=task, include_output=True)
        last: list[tuple[torch.Tensor, torch.Tensor]] = []

        def callback(epoch: int, stk: Any, state: Any, recorder: Any = recorder, last: list = last) -> list[int]:
            recorder(epoch, stk, state)
            if epoch == epochs:  # the last epoch's weights, before the trainer restores the best
                last.extend((w.detach().clone(), b.detach().clone()) for w, b in zip(stk.weights, stk.biases))
            return []

        trained = train(stack, prepared, settings, callback=callback)
        notices.extend(trained.notices)
        table = recorder.table()
        for i, ((spec, k), member) in enumerate(zip(chunk, trained.members)):
            restarts.append(
                {
                    "scheme": spec,
                    "restart": k,
                    "seed": seeds[k],
                    "val_score": float(member.val_score),
                    "val_loss": float(member.val_loss),
                    "best_epoch": int(member.best_epoch),
                    "epochs_run": int(member.epochs_run),
                    "diverged": bool(member.diverged),
                }
            )
            mine = at_init[at_init["member"] == i].drop(columns=["member"])
            signal.append(mine.assign(scheme=spec, restart=k))
            symmetry.append(table[table["member"] == i].drop(columns=["member"]).assign(scheme=spec, restart=k))
            for l, ((w0, b0), (w1, b1)) in enumerate(zip(initial, last or initial)):
                movement.append(
                    {
                        "scheme": spec,
                        "restart": k,
                        "layer": l + 1,
                        "kind": "output" if l == depth else "hidden",
                        "weight_change": float((w1[i] - w0[i]).double().norm()),
                        "bias_change": float((b1[i] - b0[i]).double().norm()),
                        "weight_norm_init": float(w0[i].double().norm()),
                    }
                )
            if k == 0 and prepared.n_features == 2:
                maps_state[spec] = {key: v.detach().cpu() for key, v in member.state.items()}

    restarts_df = pd.DataFrame(restarts)
    finite = restarts_df["val_score"].replace([np.inf, -np.inf], np.nan)
    best = float(finite.max()) if finite.notna().any() else math.nan
    restarts_df["good"] = finite >= best - tolerance
    n_div = int(restarts_df["diverged"].sum())
    if n_div:
        notices.append(f"{n_div} of {len(restarts_df)} restarts diverged (non-finite loss) and were frozen")
    front = ["scheme", "restart"]
    signal_df = _front(pd.concat(signal, ignore_index=True), front)
    symmetry_df = _front(pd.concat(symmetry, ignore_index=True), front)
    movement_df = pd.DataFrame(movement)
    summary = _summary(specs, restarts_df, signal_df, symmetry_df, depth)

    lab_settings: dict[str, Any] = {
        "data": str(getattr(prepared, "source", data if isinstance(data, str) else type(data).__name__)),
        "task": task,
        "depth": depth,
        "width": width,
        "activation": activation,
        "schemes": specs,
        "n_init": n_init,
        "epochs": epochs,
        "seed": seed,
        "optimizer": optimizer,
        "lr": lr,
        "batch_size": batch_size,
        "tolerance": tolerance,
        "diagnose_every": diagnose_every,
        "best_score": best,
        "metric": "accuracy" if task == "classification" else "r2",
    }
    figures = {
        "scores": _scores_figure(restarts_df, specs, lab_settings["metric"]),
        "signal": _signal_figure(signal_df, specs, depth),
        "symmetry": _symmetry_figure(symmetry_df, specs, depth, width),
    }
    if prepared.n_features == 2 and maps_state:
        fig = _maps_figure(maps_state, specs, prepared, activation)
        if fig is not None:
            figures["unit_maps"] = fig
    for note in notices:
        log.info(note)
    result = InitLabResult(
        summary=summary,
        restarts=restarts_df,
        signal=signal_df,
        symmetry=symmetry_df,
        movement=movement_df,
        figures=figures,
        settings=lab_settings,
        notices=notices,
    )
    if out is not None:
        result.save(out)
    return result


def _front(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    return df[first + [c for c in df.columns if c not in first]].reset_index(drop=True)


def _summary(
    specs: list[str], restarts: pd.DataFrame, signal: pd.DataFrame, symmetry: pd.DataFrame, depth: int
) -> pd.DataFrame:
    rows = []
    for spec in specs:
        r = restarts[restarts["scheme"] == spec]
        scores = r["val_score"].astype(float)
        hidden = symmetry[(symmetry["scheme"] == spec) & (symmetry["layer"] <= depth)]
        widths = hidden["effective_width"].dropna().astype(float)
        sig = signal[(signal["scheme"] == spec)]
        first = sig[sig["layer"] == 1]["act_std"].astype(float)
        last_ = sig[sig["layer"] == depth]["act_std"].astype(float)
        ratio = sig[sig["layer"] == 1]["grad_ratio"].astype(float)
        rows.append(
            {
                "scheme": spec,
                "score_mean": float(scores.mean()),
                "score_std": float(scores.std(ddof=1)) if len(scores) > 1 else 0.0,
                "score_min": float(scores.min()),
                "score_max": float(scores.max()),
                "good_fraction": float(r["good"].mean()),
                "diverged_fraction": float(r["diverged"].mean()),
                "median_best_epoch": float(r["best_epoch"].median()),
                "min_effective_width": int(widths.min()) if len(widths) else None,
                "max_effective_width": int(widths.max()) if len(widths) else None,
                "init_act_std_first": float(first.median()) if len(first) else math.nan,
                "init_act_std_last": float(last_.median()) if len(last_) else math.nan,
                "init_grad_ratio": float(ratio.median()) if ratio.notna().any() else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------

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
    from justenough.stack import ACTIVATION_FUNCTIONS

    symmetric = [s for s in specs if _is_symmetric(s) and s in states]
    random = [s for s in specs if not _is_symmetric(s) and s in states]
    if not symmetric or not random:
        return None
    # Prefer constant (its maps are not all zero) and the activation's usual scheme.
    sym = next((s for s in symmetric if init_mod.parse(s).name == "constant"), symmetric[0])
    preferred = {"relu": "he_normal", "leaky_relu": "he_normal", "gelu": "he_normal", "selu": "lecun_normal"}.get(activation, "glorot_uniform")
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


# ----------------------------------------------------------------------------------------------
# The HTML page
# ----------------------------------------------------------------------------------------------

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


def _render(result: InitLabResult) -> str:
    import plotly.io as pio
    import plotly.offline

    from justenough.report.build import safe_json

    s = result.settings
    specs = list(s["schemes"])
    depth = int(s["depth"])
    calls, divs = [], {}
    for name, fig in result.figures.items():
        payload = safe_json(pio.to_json(fig, validate=False))
        calls.append(
            f'try{{(function(){{var f={payload};Plotly.newPlot("fig-{name}",f.data,f.layout,{json.dumps(_PLOT_CONFIG)});}})();}}'
            "catch(err){console.error(err);}"
        )
        divs[name] = f'<div class="figure" id="fig-{name}"></div>'
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
        f"<body>{body}<script>{''.join(calls)}</script></body></html>\n"
    )
