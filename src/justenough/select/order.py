"""The orders of the leaderboard: which config is simpler, which is best, and ``best_first``.

Simplest means fewest parameters, then fewest FLOPs, then lowest measured latency (unknown
latency sorts last). ``best_first`` is the one row order of every leaderboard shown or written.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from justenough.select.stats import EPS

__all__ = ["best_first", "best_row", "numeric_column", "is_simplest", "num", "simplest_first"]


def num(row: pd.Series | dict[str, Any], col: str) -> float:
    v = row.get(col) if isinstance(row, dict) else row.get(col, float("nan"))
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return f


def numeric_column(board: pd.DataFrame, col: str) -> pd.Series:
    """A numeric column (float), all NaN when the board lacks it."""
    if col not in board.columns:
        return pd.Series(np.nan, index=board.index, dtype=float)
    return pd.to_numeric(board[col], errors="coerce").astype(float)


def simplest_first(board: pd.DataFrame) -> pd.DataFrame:
    """Fewest parameters, then fewest FLOPs, then lowest latency (unknown last), then best mean, then key."""
    b = board.assign(
        _params=numeric_column(board, "params").fillna(np.inf),
        _flops=numeric_column(board, "flops").fillna(np.inf),
        _lat=numeric_column(board, "latency_ms").fillna(np.inf),
        _neg_mean=-numeric_column(board, "val_mean"),
        _key=board["key"].astype(str),
    )
    b = b.sort_values(["_params", "_flops", "_lat", "_neg_mean", "_key"], kind="stable")
    return b.drop(columns=["_params", "_flops", "_lat", "_neg_mean", "_key"])


def best_first(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's rows in the order every table shows them: the highest validation mean
    first (configs without one last); equal means: the simplest first (fewest parameters, then
    FLOPs, then lowest latency, unknown last), then by key. The index is reset."""
    b = board.assign(
        _neg_mean=-numeric_column(board, "val_mean"),
        _params=numeric_column(board, "params").fillna(np.inf),
        _flops=numeric_column(board, "flops").fillna(np.inf),
        _lat=numeric_column(board, "latency_ms").fillna(np.inf),
        _key=board["key"].astype(str) if "key" in board.columns else "",  # a table without keys keeps its order
    )
    b = b.sort_values(["_neg_mean", "_params", "_flops", "_lat", "_key"], kind="stable", na_position="last")
    return b.drop(columns=["_neg_mean", "_params", "_flops", "_lat", "_key"]).reset_index(drop=True)


def best_row(board: pd.DataFrame) -> pd.Series:
    """The highest mean; among equal means, the simplest."""
    means = numeric_column(board, "val_mean")
    top = board[means >= means.max() - EPS]
    return simplest_first(top).iloc[0]


def _complexity(board: pd.DataFrame) -> pd.DataFrame:
    """What "simpler" compares, in order: params, FLOPs, latency (unknown: infinitely complex)."""
    return pd.DataFrame({
        "params": numeric_column(board, "params").fillna(np.inf),
        "flops": numeric_column(board, "flops").fillna(np.inf),
        "latency": numeric_column(board, "latency_ms").fillna(np.inf),
    }, index=board.index)


def is_simplest(chosen: pd.Series, candidates: pd.DataFrame) -> bool:
    """True when no config of ``candidates`` is simpler than ``chosen`` (params, then FLOPs, then
    latency, compared as a tuple; a config exactly as simple does not make the choice less simple)."""
    mine = tuple(_complexity(pd.DataFrame([chosen])).iloc[0])
    return not any(tuple(row) < mine for row in _complexity(candidates).itertuples(index=False))
