"""One way to name a config, for every line that names one: the progress line, the printed
leaderboard (``search``, ``show``) and the chosen line.

A label is the architecture (``2x32``, ``3x[64,32,16]``, ``linear``) followed by settings, always
in the order of ``SETTINGS`` and always written the same way (``relu``, ``he_normal``,
``lr=0.001``). The progress line shows ``PROGRESS_SETTINGS`` (it runs before every config is
known) plus any other setting the caller asks for; a table shows the settings that differ between
its configs (``varying_settings``). So a table's label is the progress line's label with settings
left out, never a different word for the same config.

A linear model (depth 0) has no hidden activation: its recorded activation (``identity``) is never
shown, so it reads ``linear he_normal`` in both places.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from justenough.display_numbers import finite_or_none

__all__ = ["SETTINGS", "PROGRESS_SETTINGS", "config_label", "varying_settings", "table_labels"]


def _patience(value: Any) -> str:
    f = finite_or_none(value)
    return "patience=none" if f is None else f"patience={int(f)}"


# Each setting and how a label writes it, in the order labels list them.
SETTINGS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("activation", str),
    ("init", str),
    ("optimizer", str),
    ("lr", lambda v: f"lr={float(v):g}"),
    ("weight_decay", lambda v: f"wd={float(v):g}"),
    ("batch_size", lambda v: f"batch={int(v)}"),
    ("max_epochs", lambda v: f"epochs={int(v)}"),
    ("patience", _patience),
    ("monitor", str),
    ("schedule", str),
)
_SETTING_NAMES = tuple(name for name, _ in SETTINGS)
# What the progress line always shows: it prints each config as it finishes, before the search
# knows every config, so it cannot know which settings will differ.
PROGRESS_SETTINGS: tuple[str, ...] = ("activation", "init", "optimizer", "lr")


def _architecture(config: Mapping[str, Any]) -> str:
    label = config.get("label")
    if label is not None and not (isinstance(label, float) and math.isnan(label)) and str(label):
        return str(label)
    depth = finite_or_none(config.get("depth"))
    if depth == 0:
        return "linear"
    return f"{int(depth) if depth is not None else '?'}x{config.get('widths', '?')}"


def _is_linear(config: Mapping[str, Any]) -> bool:
    return finite_or_none(config.get("depth")) == 0 or str(config.get("label")) == "linear"


def config_label(config: Mapping[str, Any], settings: Iterable[str]) -> str:
    """``"2x32 relu he_normal adam lr=0.001"``: the architecture, then each of ``settings`` that
    ``config`` has, in ``SETTINGS`` order (a mapping: ``Config.to_dict()`` plus ``label``, or a
    leaderboard row). A setting the label already says is not repeated."""
    wanted = set(settings)
    unknown = wanted - set(_SETTING_NAMES)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}: a label shows {', '.join(_SETTING_NAMES)}")
    label = _architecture(config)
    words = label.split()
    for name, fmt in SETTINGS:
        if name not in wanted or name not in config:
            continue
        if name == "activation" and _is_linear(config):
            continue  # no hidden layer, so no activation to name
        text = fmt(config[name])
        if text not in words:
            words.append(text)
    return " ".join(words)


def varying_settings(board: pd.DataFrame) -> list[str]:
    """The settings whose value differs between the rows of ``board`` (missing values count as a
    value). Linear rows' activations are left out of the comparison: they are never shown."""
    varying = []
    for name in _SETTING_NAMES:
        if name not in board.columns:
            continue
        column = board[name]
        if name == "activation" and "depth" in board.columns:
            column = column[pd.to_numeric(board["depth"], errors="coerce") != 0]
        if column.nunique(dropna=False) > 1:
            varying.append(name)
    return varying


def table_labels(board: pd.DataFrame) -> list[str]:
    """One label per row of ``board``: the architecture plus every setting that differs between rows."""
    shown = varying_settings(board)
    return [config_label(row, shown) for row in board.to_dict("records")]
