"""The report's part on each config paired with the best, under score vs complexity: the config's
score minus the best's, against its parameters, as the one-SE rule saw it (``select/noise.py``,
docs/selection.md).

``best_config_key`` finds the best config the rule compared the choice with, from the run's files;
``differences_figure`` draws the paired differences from the leaderboard and the run's per-row
evidence (``run.files.read_evidence``: config key -> restart -> per-row shares ``[N]``);
``section`` is the part's HTML (a note instead when the run kept no per-row evidence).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from justenough.display_numbers import finite_or_none
from justenough.report.figure_style import (ACCENT, MAIN, MUTED, apply_layout, floor_marks, focus_range, log_ticks,
                                            score_label)
from justenough.report.embedding import EmbeddedFigures
from justenough.report.figures import config_labels
from justenough.report.formatting import escape, note_html
from justenough.run.files import RunFiles, read_evidence
from justenough.select.explain import paired_over

if TYPE_CHECKING:
    from justenough.select.noise import Noise, RowEvidence

__all__ = ["best_config_key", "differences_figure", "section"]


def best_config_key(board: pd.DataFrame, chosen_key: str, paired: dict[str, Any] | None = None,
                    limits: dict[str, Any] | None = None) -> str:
    """The key of the best config the rule compared the choice with. The summary's pairing names
    it when the choice is not the best (``relation`` "best"); any other pairing means the choice is
    the best. Without a pairing: the highest validation mean among the configs not pruned (nor a
    family's other learning rate) and within the limits (``summary["limits"]``), ties to the simplest (``select.best_first``)."""

    if isinstance(paired, dict) and paired.get("other_key") is not None:
        return str(paired["other_key"]) if paired.get("relation") == "best" else str(chosen_key)
    eligible = board[np.isfinite(board["val_mean"])]
    if "pruned" in eligible.columns:
        eligible = eligible[~eligible["pruned"]]  # booleans (run.files)
    if "lr_kept" in eligible.columns:  # --lr-per-config: a family's other rates are never chosen
        eligible = eligible[eligible["lr_kept"]]
    limits = limits or {}
    if limits.get("max_params") is not None:
        eligible = eligible[eligible["params"] <= limits["max_params"]]
    if limits.get("max_latency_ms") is not None and "latency_ms" in eligible.columns:
        eligible = eligible[eligible["latency_ms"] <= limits["max_latency_ms"]]
    if eligible.empty:
        return str(chosen_key)
    return eligible["key"].iloc[0]  # the leaderboard is best first (select.best_first): so is any part of it


# The name of the trace of thick bars (its legend entry is a separate, empty trace).
ROWS_PART = "the rows' part"


def differences_figure(board: pd.DataFrame, evidence: RowEvidence, chosen_key: str, best_key: str, *,
                       percent: bool, metric: str) -> go.Figure:
    """Each config's paired difference to the best (the config minus the best, y) against its
    parameters (log x), as the one-SE rule sees it (``select/noise.py``): the mean over the same
    validation rows and restarts, a thin bar for its 68% band (one SE of the difference, widened by
    Student's t where a few restarts dominate) and a thick one for the part of the SE that comes
    from which rows happened to validate. A config whose thin bar reaches 0 is as good as the best
    by the rule; the simplest of them is the choice (starred). Judged as ensembles the rule allows
    the rows' band alone (``Noise.room``), so the thick bar is that band and reaching 0 with it is
    what counts. Configs without per-row evidence shared with the best (a run from before the
    evidence was kept) are left out."""
    labels = config_labels(board)
    scale = 100.0 if percent else 1.0
    rows = _pairs(board, evidence, best_key)
    best = board[board["key"] == best_key]
    params = np.array([r["params"] for r, _ in rows], dtype=float)  # [configs]
    diff = np.array([n.mean for _, n in rows]) * scale  # [configs]
    band = np.array([n.band for _, n in rows]) * scale
    ensembles = any(n.ensembles for _, n in rows)
    # The thick bar: the rows' part of the SE; judged as ensembles, the rows' band the rule allows.
    rows_part = np.array([n.band_rows if n.ensembles else n.se_rows for _, n in rows]) * scale  # [configs]
    keys = [r["key"] for r, _ in rows]
    # The rule's test (select.rules.OneSERule): the best's lead at most its room, up to rounding.
    close = np.array([-n.mean <= n.room + 1e-12 for _, n in rows], dtype=bool)  # [configs]
    unit = " points" if percent else ""
    hover = [_hover(labels[r["key"]], r, n, c, metric, percent) for (r, n), c in zip(rows, close)]
    fig = go.Figure()
    fig.add_hline(y=0.0, line={"dash": "dash", "color": MUTED, "width": 1})
    if rows:
        _bars(fig, params, diff, band, rows_part, close, hover, ensembles)
    if len(best):
        b = best.iloc[0]
        fig.add_trace(
            go.Scatter(
                x=[b["params"]], y=[0.0], mode="markers", name="the best (mean)",
                marker={"size": 12, "symbol": "diamond", "color": MAIN, "line": {"width": 1, "color": "white"}},
                text=[f"<b>{labels[b['key']]}</b>, the best<br>{b['params']:,} params<br>"
                      f"{html.escape(metric)} {_own_score(b, percent)}"],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    chosen = [i for i, k in enumerate(keys) if k == chosen_key]
    if chosen or chosen_key == best_key:
        x = params[chosen[0]] if chosen else best.iloc[0]["params"] if len(best) else None
        y = diff[chosen[0]] if chosen else 0.0
        if x is not None:
            fig.add_trace(
                go.Scatter(
                    x=[x], y=[y], mode="markers", name="chosen",
                    marker={"size": 16, "symbol": "star", "color": ACCENT, "line": {"width": 1, "color": "white"}},
                    text=[hover[chosen[0]] if chosen else "the chosen config is the best"],
                    hovertemplate="%{text}<extra>chosen</extra>",
                )
            )
    rng = focus_range(np.append(diff, 0.0), upper=np.append(diff + band, 0.0))
    if rng is not None:
        below = diff < rng[0]
        floor_marks(fig, list(params[below]), diff[below], rng[0] + 0.02 * (rng[1] - rng[0]), "far behind (value on hover)",
                    [f"{labels[keys[i]]}: {diff[i]:+.2f}{unit}" for i in np.flatnonzero(below)])
        fig.update_yaxes(range=list(rng))
    apply_layout(fig, height=420)
    all_params = np.append(params, best["params"].to_numpy())
    tickvals, ticktext = log_ticks(all_params)
    fig.update_xaxes(type="log", title_text="parameters (log scale)", tickvals=tickvals, ticktext=ticktext)
    fig.update_yaxes(title_text=f"{html.escape(metric)} minus the best's{' (points)' if percent else ''}",
                     zeroline=False)
    return fig


def _bars(fig: go.Figure, params: np.ndarray, diff: np.ndarray, band: np.ndarray, rows_part: np.ndarray,
          close: np.ndarray, hover: list[str], ensembles: bool) -> None:
    """The configs' paired differences (all ``[configs]``, in the figure's units): a thin bar for the
    band, blue where the rule counts it as good as the best (``close``), grey where not; a thick one
    for the rows' part (judged as ensembles: the rows' band, the room the rule allows)."""
    rows_name = ("± the rows' 68% band, the room the rule allows (thick bar)" if ensembles else
                 "± SE from the validation rows (thick bar)")
    # The rows' part, drawn thick behind the thin band (no markers of its own).
    rows_color = "rgba(28,126,214,0.35)"
    fig.add_trace(
        go.Scatter(
            x=params, y=diff, mode="markers", name=ROWS_PART, showlegend=False,
            marker={"size": 1, "color": MAIN, "opacity": 0},
            error_y={"type": "data", "array": rows_part, "thickness": 8, "width": 0, "color": rows_color},
            hoverinfo="skip",
        )
    )
    # Its legend entry: a thick vertical stroke like the bars (error bars have none of their own).
    fig.add_trace(
        go.Scatter(
            x=[None], y=[None], mode="markers", name=rows_name,
            marker={"symbol": "line-ns-open", "size": 14, "color": rows_color, "line": {"width": 7, "color": rows_color}},
        )
    )
    within = "within the rows' band (thick bar)" if ensembles else "within the 68% band (thin bar)"
    for inside, name, color in ((True, f"as good as the best: {within}", MAIN),
                                (False, "behind the best by more than " + ("the rows' band" if ensembles else "the band"), MUTED)):
        sel = close == inside
        if sel.any():
            fig.add_trace(
                go.Scatter(
                    x=params[sel], y=diff[sel], mode="markers", name=name,
                    error_y={"type": "data", "array": band[sel], "thickness": 1.5, "width": 4, "color": color},
                    marker={"size": 9, "color": color, "line": {"width": 1, "color": "white"}},
                    text=[h for h, s in zip(hover, sel) if s], hovertemplate="%{text}<extra></extra>",
                )
            )


def _pairs(board: pd.DataFrame, evidence: RowEvidence, best_key: str) -> list[tuple[pd.Series, Noise]]:
    """Every config but the best that shares per-row evidence with it: its leaderboard row and the
    noise model's paired difference, the config minus the best."""
    from justenough.select import paired_noise

    pairs = []
    for _, row in board.iterrows():
        if row["key"] != best_key:
            noise = paired_noise(evidence, row["key"], best_key)
            if noise is not None:
                pairs.append((row, noise))
    return pairs


def _own_score(row: pd.Series, percent: bool) -> str:
    """A config's own validation score ± its SE, with the parts where the leaderboard has them."""
    text = score_label(row["val_mean"], percent)
    se = finite_or_none(row.get("val_se"))
    if se is not None:
        text += f" ± {score_label(se, percent)} SE"
        se_rows, se_restarts = (finite_or_none(row.get(c)) for c in ("val_se_rows", "val_se_restarts"))
        if se_rows is not None and se_restarts is not None:
            text += f" (rows {score_label(se_rows, percent)}, restarts {score_label(se_restarts, percent)})"
    return text


def _hover(label: str, row: pd.Series, noise: Noise, close: bool, metric: str, percent: bool) -> str:
    """One config's hover text: its score, and its difference to the best with the SE's parts."""
    scale, places, unit = (100.0, 2, " points") if percent else (1.0, 3, "")
    return (
        f"<b>{label}</b><br>{row['params']:,} params<br>{html.escape(metric)} {_own_score(row, percent)}<br>"
        f"minus the best: {noise.mean * scale:+.{places}f} ± {noise.se * scale:.{places}f}{unit} SE "
        f"(rows {noise.se_rows * scale:.{places}f}, restarts {noise.se_restarts * scale:.{places}f}); "
        f"68% band ± {noise.band * scale:.{places}f}"
        + (f"; the rows' band ± {noise.band_rows * scale:.{places}f}" if noise.ensembles else "") + "<br>"
        + paired_over(noise.n_rows, noise.n_restarts, noise.ensembles)
        + ("<br>within the " + ("rows' band" if noise.ensembles else "band") + ": as good as the best" if close else "")
    )


def section(run: RunFiles, figs: EmbeddedFigures, percent: bool, metric: str) -> str:
    """The part's HTML: a heading, what the figure shows, and the figure (collected in ``figs``);
    a note instead when the run kept no per-row evidence (a run from an earlier version)."""
    s = run.summary_fields
    evidence = {} if run.results is None else read_evidence(run.run_dir, run.results, s)
    chosen_key = str(s.chosen["key"])
    best_key = best_config_key(run.leaderboard, chosen_key, s.paired, s.limits)
    head = "<h3>Paired with the best</h3>"
    if best_key not in evidence:
        return head + note_html("The run kept no per-row validation evidence (evidence/), so the configs cannot be "
                                "paired with the best row by row; a search with this version keeps it.")
    fig = differences_figure(run.leaderboard, evidence, chosen_key, best_key, percent=percent, metric=metric)
    judged = ("Each config's ensemble (the mean of its restarts, the model the search returns) scored minus the "
              "best's, paired over the same validation rows, and its restarts' part by leaving out one restart at a "
              "time" if s.judged_by == "ensembles" else
              "Each config's score minus the best's, paired over the same validation rows and restarts")
    band = ("the 68% band of that difference (one standard error, counting both which rows happened to validate and "
            "which seeds trained; a little wider where a few restarts dominate)")
    if s.judged_by == "ensembles":
        text = (f"{judged}. The thin bar is {band}; the thick bar is the 68% band of the rows' part alone. Configs "
                "whose thick bar reaches the dashed line at 0 are as good as the best, and the simplest of them is "
                "chosen: judged as ensembles, the rule allows the rows' band only, since room for the seeds' part "
                "would favour the configs whose restarts land far apart.")
    else:
        text = (f"{judged}. The thin bar is {band}; the thick bar is the part that comes from the rows alone. "
                "Configs whose thin bar reaches the dashed line at 0 are as good as the best, and the simplest of "
                "them is chosen.")
    return head + f'<p class="lead">{escape(text)}</p>' + figs.div("differences", fig)
