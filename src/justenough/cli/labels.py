"""The labels of a printed leaderboard (``search``, ``show``): the architecture plus every setting
that differs between its configs, written as ``space/labels.py`` writes each (so a table's label
is the progress line's label with settings left out, never a different word for the same config).
"""

from __future__ import annotations

import pandas as pd

from justenough.space.labels import SETTING_NAMES, config_label

__all__ = ["varying_settings", "table_labels"]


def varying_settings(board: pd.DataFrame) -> list[str]:
    """The settings whose value differs between the rows of ``board`` (missing values count as a
    value). Linear rows' activations are left out of the comparison: they are never shown."""
    varying = []
    for name in SETTING_NAMES:
        if name not in board.columns:
            continue
        column = board[name]
        if name == "activation" and "depth" in board.columns:
            column = column[board["depth"] != 0]
        if column.nunique(dropna=False) > 1:
            varying.append(name)
    return varying


def table_labels(board: pd.DataFrame) -> list[str]:
    """One label per row of ``board``: the architecture plus every setting that differs between rows."""
    shown = varying_settings(board)
    return [config_label(row, shown) for row in board.to_dict("records")]
