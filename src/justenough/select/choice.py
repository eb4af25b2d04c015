"""Choosing the just-enough config from a leaderboard, and the evidence for the choice.

A *rule* (``justenough.select.rules``) picks the simplest config that is good enough. Simplest
means fewest parameters, then fewest FLOPs, then lowest measured latency. Limits
(``max_params``, ``max_latency_ms`` per sample) remove configs before the rule is applied, so
"best" means the best config within the limits. A config whose every restart diverged is never
chosen. Scores are "higher is better" (accuracy, R^2). When the choice is the simplest config
within the limits, the explanation says so rather than comparing it with simpler configs that do
not exist. When the model is an ensemble of restarts (``engine/ensemble.py``), the limits count
the ensemble's cost (``ensemble_params``, ``ensemble_latency_ms``), the ordering the network's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from justenough.errors import ConfigError, option
from justenough.select.explain import Fmt, latency_note, limits_text
from justenough.select.order import best_row, numeric_column, is_simplest, num, simplest_first
from justenough.select.noise import RowEvidence, paired_noise
from justenough.select.rules import Rule, parse_rule
from justenough.select.stats import paired_difference

__all__ = ["Choice", "choose", "paired_evidence"]


@dataclass(frozen=True)
class Choice:
    """The chosen config: its ``key``, its leaderboard ``row``, the ``rule``, why, and the best."""

    key: str
    row: dict[str, Any]
    rule: Rule
    explanation: str
    best_key: str
    qualified: tuple[str, ...] = field(default_factory=tuple)


def _cost(board: pd.DataFrame, name: str, one_network: bool = False) -> pd.Series:
    """The model's cost ``name`` ("params" or "latency_ms") per config: an ensemble's
    (``ensemble_<name>``) when the board has it, else (or with ``one_network``) the network's."""
    ensemble = f"ensemble_{name}"
    return numeric_column(board, ensemble if ensemble in board.columns and not one_network else name)


def _within_limits(board: pd.DataFrame, max_params: int | None, max_latency_ms: float | None,
                   one_network: bool = False) -> pd.DataFrame:
    """The rows of ``board`` whose model meets the limits; with ``one_network``, whose single
    network would (an ensemble's rows judged as if it predicted with one of its restarts)."""
    if max_params is not None:
        board = board[_cost(board, "params", one_network) <= max_params]
    if max_latency_ms is not None:
        # unknown latency cannot be shown to meet the limit
        board = board[_cost(board, "latency_ms", one_network) <= max_latency_ms]
    return board


def _alive(leaderboard: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The leaderboard (index reset) and its configs with a finite mean and a restart that did not diverge."""
    if leaderboard is None or len(leaderboard) == 0:
        raise ConfigError("the leaderboard is empty: no config finished, so there is nothing to choose from")
    board = leaderboard.reset_index(drop=True)
    missing = [c for c in ("key", "val_mean") if c not in board.columns]
    if missing:
        raise ConfigError(f"the leaderboard lacks the column(s) {', '.join(missing)}: build it with select.leaderboard")
    means = numeric_column(board, "val_mean")
    n_restarts = numeric_column(board, "n_restarts")
    n_ok = n_restarts.fillna(1.0) - numeric_column(board, "n_diverged").fillna(0.0)
    alive = board[np.isfinite(means.to_numpy()) & (n_ok.to_numpy() > 0)]
    if alive.empty:
        raise ConfigError(
            "every restart of every config diverged (or scored nothing): there is no config to choose; "
            f"lower the learning rate (e.g. {option('lr', '1e-4')}) or use an optimizer such as adam"
        )
    return board, alive


def _json_row(chosen: pd.Series) -> dict[str, Any]:
    """The chosen leaderboard row as a dict, missing values as None."""
    row = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in chosen.to_dict().items()}
    return {k: (None if v is pd.NA else v) for k, v in row.items()}


def choose(
    leaderboard: pd.DataFrame,
    rule: Rule | str = "one-se",
    max_params: int | None = None,
    max_latency_ms: float | None = None,
    *,
    metric_name: str = "accuracy",
    percent: bool | None = None,
    restarts: pd.DataFrame | None = None,
    evidence: RowEvidence | None = None,
) -> Choice:
    """Pick the just-enough config from a leaderboard with ``rule`` within the limits.

    ``one-se`` compares every config with the best on ``evidence`` (per-row shares by config and
    restart, ``select/noise.py``): a config qualifies when the best's advantage over it, paired by
    row and restart, is at most one SE of that difference. A config without evidence qualifies when
    its mean is within the best's ``val_se`` of the best mean.

    ``leaderboard`` needs ``key, val_mean, val_se, n_restarts, n_diverged`` and, for "simplest",
    ``params``, ``flops`` and ``latency_ms`` (NaN latency sorts last). ``percent`` prints scores as
    percentages (default: for accuracy-like metrics). Raises ``ConfigError`` when no config
    qualifies, saying what the best available is and how to relax the rule or the limits.
    """
    rule = parse_rule(rule)
    if percent is None:
        percent = "accuracy" in metric_name
    fmt = Fmt(metric_name, percent)
    board, alive = _alive(leaderboard)

    # Limits first: "best" then means the best config the user would accept.
    within = _within_limits(alive, max_params, max_latency_ms)
    overall_best = best_row(alive)
    if within.empty:
        smallest = simplest_first(alive).iloc[0]
        as_ensemble = (f" (the model, an ensemble of its {int(smallest['ensemble_members'])} restarts, would have "
                       f"{int(smallest['ensemble_params']):,} parameters)" if "ensemble_params" in alive.columns else "")
        # An ensemble costs k networks: say so when one network of some config would meet the limits.
        networks_fit = "ensemble_params" in alive.columns and not _within_limits(
            alive, max_params, max_latency_ms, one_network=True).empty
        single = f", predict with one network ({option('ensemble', False)})" if networks_fit else ""
        raise ConfigError(
            f"no config meets the limits ({limits_text(max_params, max_latency_ms)}): the smallest is "
            f"{fmt.entry(smallest)}{latency_note(smallest)}{as_ensemble} and the best is {fmt.entry(overall_best)}; "
            f"relax the limits{single} or add smaller widths to the space"
        )
    best = best_row(within)
    candidates = rule.qualified(within, best, restarts, evidence)
    limited = len(within) < len(alive)
    if candidates.rows.empty:
        # Only a target can leave nothing: one-se and tolerance always keep the best itself.
        where = f" within the limits ({limits_text(max_params, max_latency_ms)})" if limited else ""
        best_mean = num(best, "val_mean")
        raise ConfigError(
            f"no config reaches the target {metric_name} {fmt.score(candidates.threshold)}{where}: the best is "
            f"{fmt.entry(best)}; lower the target (e.g. {option('rule', f'target={math.floor(best_mean * 1000 + 1e-9) / 1000:g}')}), "
            f"widen the space (more depth or width, more epochs) or use {option('rule', 'one-se')}"
        )
    chosen = simplest_first(candidates.rows).iloc[0]
    # Every config within the limits counts, diverged ones too: a simpler config that scored
    # nothing still exists, so the explanation must not say the choice has no simpler rival.
    in_limits = _within_limits(board, max_params, max_latency_ms)

    explanation = rule.explain(chosen, best, fmt, candidates.threshold, candidates.paired.get(str(chosen["key"])),
                               simplest=is_simplest(chosen, in_limits))
    if limited and str(overall_best["key"]) != str(best["key"]):
        explanation += (
            f". The limits ({limits_text(max_params, max_latency_ms)}) exclude the overall best, "
            f"{fmt.entry(overall_best)}"
        )
    return Choice(
        key=str(chosen["key"]),
        row=_json_row(chosen),
        rule=rule,
        explanation=explanation,
        best_key=str(best["key"]),
        qualified=tuple(str(k) for k in simplest_first(candidates.rows)["key"]),
    )


def paired_evidence(board: pd.DataFrame, restarts: pd.DataFrame, choice: Choice,
                    evidence: RowEvidence | None = None) -> dict[str, Any] | None:
    """The chosen config compared pairwise with its closest rival, restart k against restart k.

    The rival is the best config when the choice is not the best (how much does the simpler
    choice give up?), else the best of the simpler configs (how much better is the choice than
    what it beat?). Returns ``{"other_key", "other_label", "relation", "mean_diff", "se_diff",
    "n"}`` with ``mean_diff = score(chosen) - score(other)``, or None when there is no rival or
    no restart pairs. With per-row ``evidence`` of both, the difference is the noise model's,
    paired by row and restart, and ``se_rows``, ``se_restarts``, ``band`` and ``n_rows`` say so.
    """
    mine = board[board["key"].astype(str) == choice.key]
    if mine.empty:
        return None
    if choice.best_key != choice.key:
        others, relation = board[board["key"].astype(str) == choice.best_key], "best"
    else:
        params = num(mine.iloc[0], "params")
        simpler = board[(numeric_column(board, "params") < params) & np.isfinite(numeric_column(board, "val_mean").to_numpy())]
        if "pruned" in simpler.columns:
            simpler = simpler[~simpler["pruned"].astype(bool)]
        if simpler.empty:
            return None
        others, relation = simpler.loc[[numeric_column(simpler, "val_mean").idxmax()]], "best simpler"
    if others.empty:
        return None
    other = others.iloc[0]
    noise = paired_noise(evidence, choice.key, str(other["key"]))
    if noise is not None:
        diff: dict[str, Any] = {"mean_diff": noise.mean, "se_diff": noise.se, "n": noise.n_restarts,
                                "n_rows": noise.n_rows, "se_rows": noise.se_rows, "se_restarts": noise.se_restarts,
                                "band": noise.band, "ensembles": noise.ensembles}
    else:
        diff = paired_difference(restarts, choice.key, str(other["key"]))
    if not diff["n"]:
        return None
    label = other.get("label")
    return {
        "other_key": str(other["key"]),
        "other_label": str(label) if label is not None else str(other["key"]),
        "relation": relation,
        **diff,
    }
