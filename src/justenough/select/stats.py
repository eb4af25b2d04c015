"""Restart statistics: the leaderboard (one row per config) built from the restarts table (one
row per restart), and the paired comparison of two configs restart by restart.

Restart statistics answer "how many restarts do I need?": ``p_good`` is the fraction of a config's
restarts that land within a tolerance of its best restart, and ``restarts_for_95(p_good)`` is the
number of restarts after which at least one good one is 95% likely: the smallest n with
``1 - (1 - p)^n >= 0.95``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np
import pandas as pd

from justenough.errors import ConfigError
from justenough.training_recipe import training_columns

__all__ = [
    "DEFAULT_GOOD_TOLERANCE",
    "p_good",
    "restarts_for_95",
    "leaderboard",
    "score_stats",
    "paired_scores",
    "paired_difference",
    "EPS",
]

# A restart is "good" when its validation score is within this of the config's best restart
# (1 point of accuracy, or 0.01 of R^2).
DEFAULT_GOOD_TOLERANCE = 0.01
# Scores that differ by less than this are equal: the SE comparison must not hinge on rounding.
EPS = 1e-12
# Columns copied from the restarts table to the leaderboard: constant within a config.
_CONFIG_COLUMNS = (
    "label", "depth", "widths", "width", "activation", "init", "optimizer", "lr", "weight_decay",
    "batch_size", "max_epochs", "patience", "monitor", "schedule", "embed", "label_smoothing", "params", "flops", "latency_ms",
)


def p_good(scores: Iterable[float], diverged: Iterable[bool] | None = None, tolerance: float = DEFAULT_GOOD_TOLERANCE) -> float:
    """Fraction of restarts whose score is within ``tolerance`` of the best restart.

    Diverged restarts (and non-finite scores) count as not good but stay in the denominator:
    they are restarts that were paid for. ``nan`` when there are no restarts.
    """
    s = np.asarray(list(scores), dtype=float)
    d = np.zeros(len(s), dtype=bool) if diverged is None else np.asarray(list(diverged), dtype=bool)
    if len(s) == 0:
        return float("nan")
    ok = ~d & np.isfinite(s)
    if not ok.any():
        return 0.0
    best = s[ok].max()
    good = ok & (s >= best - tolerance - EPS)
    return float(good.sum() / len(s))


def restarts_for_95(p: float | None) -> int | None:
    """Restarts needed so that at least one is good with probability 0.95.

    ``ceil(log 0.05 / log(1 - p))``; 1 when every restart is good, ``None`` when none is
    (no number of restarts is enough).
    """
    if p is None or not math.isfinite(p) or p <= 0:
        return None
    if p >= 1:
        return 1
    # The tiny slack keeps an exact integer ratio from rounding up one too many.
    return max(1, math.ceil(math.log(0.05) / math.log1p(-p) - 1e-9))


def _diverged(group: pd.DataFrame) -> np.ndarray:
    """The ``diverged`` flags (booleans: the search's, or results.csv's as ``run.files`` reads
    them); a missing column or value is not diverged."""
    if "diverged" not in group.columns:
        return np.zeros(len(group), dtype=bool)
    return np.array([False if pd.isna(x) else bool(x) for x in group["diverged"]], dtype=bool)


def _val_scores(group: pd.DataFrame) -> np.ndarray:
    """All validation scores as floats (missing: NaN)."""
    return pd.to_numeric(group["val_score"], errors="coerce").to_numpy(dtype=float)


def _scores(group: pd.DataFrame) -> np.ndarray:
    """Validation scores of the non-diverged restarts with a finite score."""
    s = _val_scores(group)
    return s[~_diverged(group) & np.isfinite(s)]


def score_stats(scores: np.ndarray) -> dict[str, float]:
    """Mean, std (ddof=1; 0 for one score), standard error (std/sqrt(n)), min and max of one config's
    restart scores (``scores [n]``: the finite scores of its non-diverged restarts); NaN when n is 0.
    The one place restart statistics are computed: the leaderboard and ``search.restart_stats``."""
    n = len(scores)
    std = float(scores.std(ddof=1)) if n > 1 else (0.0 if n == 1 else float("nan"))
    return {
        "val_mean": float(scores.mean()) if n else float("nan"),
        "val_std": std,
        "val_se": std / math.sqrt(n) if n else float("nan"),
        "val_min": float(scores.min()) if n else float("nan"),
        "val_max": float(scores.max()) if n else float("nan"),
    }


def leaderboard(restarts: pd.DataFrame, *, tolerance: float = DEFAULT_GOOD_TOLERANCE) -> pd.DataFrame:
    """One row per config from a restarts table (one row per restart).

    ``restarts`` needs ``key, restart, val_score, diverged``; config columns (``label, depth,
    widths, params, flops, ...``) are carried over when present. Statistics over the non-diverged
    restarts: ``val_mean``, ``val_std`` (ddof=1; 0 for one restart), ``val_se`` (std/sqrt(n)),
    ``val_min``, ``val_max``; and ``n_restarts``, ``n_diverged``, ``p_good``, ``restarts_for_95``
    (nullable integer), ``train_time`` (sum) and ``pruned`` (any) when present; how the config
    was trained (``recipe.training_columns``: ``epochs_run``, ``best_epoch``, ``stopped_by``,
    ``training_flag``) when the restarts say. Rows keep the order in which configs first appear.
    """
    missing = [c for c in ("key", "val_score") if c not in restarts.columns]
    if missing:
        raise ConfigError(f"the restarts table lacks the column(s) {', '.join(missing)}: it needs key, restart, val_score, diverged")
    rows: list[dict[str, Any]] = []
    for key, group in restarts.groupby("key", sort=False):
        div = _diverged(group)
        pg = p_good(_val_scores(group), div, tolerance)
        row: dict[str, Any] = {"key": key}
        for col in _CONFIG_COLUMNS:
            if col in group.columns:
                row[col] = group[col].iloc[0]
        row.update(
            {
                **score_stats(_scores(group)),
                "n_restarts": int(len(group)),
                "n_diverged": int(div.sum()),
                "p_good": pg,
                "restarts_for_95": restarts_for_95(pg),
            }
        )
        if "train_time" in group.columns:
            row["train_time"] = float(pd.to_numeric(group["train_time"], errors="coerce").sum())
        if "pruned" in group.columns:
            row["pruned"] = bool(any(False if pd.isna(x) else bool(x) for x in group["pruned"]))
        row.update(training_columns(group))  # how it was trained: epochs, why it stopped, a flag
        rows.append(row)
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    board["restarts_for_95"] = board["restarts_for_95"].astype("Int64")
    return board


def paired_scores(restarts: pd.DataFrame, key_a: str, key_b: str, *, pairs_only: bool = True) -> pd.DataFrame:
    """Validation scores of two configs side by side, by restart: columns ``a`` and ``b``, indexed
    by restart, NaN where a restart diverged or is missing. ``pairs_only`` keeps the restarts
    where both have a score (the pairs); otherwise every restart either has, in order."""
    keys = restarts["key"].astype(str)
    for key in (key_a, key_b):
        if key not in set(keys):
            raise ConfigError(f"no restarts of config {key!r} in the table: check the key (see leaderboard.csv)")

    def side(key: str) -> pd.Series:
        g = restarts[keys == key]
        s = np.where(_diverged(g), np.nan, _val_scores(g))
        return pd.Series(s, index=g["restart"].astype(int).to_numpy())

    joined = pd.concat([side(key_a).rename("a"), side(key_b).rename("b")], axis=1, join="outer").sort_index()
    return joined.dropna() if pairs_only else joined


def paired_difference(restarts: pd.DataFrame, key_a: str, key_b: str) -> dict[str, float]:
    """Mean and standard error of ``score(a) - score(b)``, pairing restart k of a with restart k of b.

    Restart k of every config shares seed stream k (common random numbers), so the paired
    difference cancels the luck of the draw that both share. Pairs where either restart
    diverged are left out. Returns ``{"mean_diff", "se_diff", "n"}`` (``nan`` when n is too small).
    """
    joined = paired_scores(restarts, key_a, key_b)
    d = (joined["a"] - joined["b"]).to_numpy(dtype=float)
    n = len(d)
    mean = float(d.mean()) if n else float("nan")
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {"mean_diff": mean, "se_diff": se, "n": n}
