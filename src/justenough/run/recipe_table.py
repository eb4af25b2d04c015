"""The recipe table: every setting the chosen config was trained with, and what the space tried.

A leaderboard's labels name only the settings that differ between its configs, so a reader of
``show`` or the report could not tell the weight decay, the patience or the scaling a model was
trained with. The recipe table names every one (issue 26, "the per-config recipe table names
every setting"), one row per setting:

- ``setting``: its name in words (``learning rate``, ``numeric scaling``),
- ``chosen``: the chosen config's value,
- ``tried``: the values the search's configs had, where they differed (``0.001, 0.003``); empty
  where every config had the chosen value, and for the settings of the whole run (the scaling,
  the restarts, which model predicts), which no config varies.

``show`` prints it as a rich table (``cli/display.py``), the report as HTML (``report/sections.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd

from justenough.display_numbers import finite_or_none
from justenough.run.summary import Summary
from justenough.vocab import NumericScaling, Task

__all__ = ["RecipeRow", "recipe_rows"]


@dataclass(frozen=True)
class RecipeRow:
    setting: str
    chosen: str
    tried: str = ""


def _number(value: Any) -> str:
    f = finite_or_none(value)
    return "n/a" if f is None else f"{f:g}"


def _whole(value: Any) -> str:
    f = finite_or_none(value)
    return "n/a" if f is None else f"{int(f)}"


def _patience(value: Any) -> str:
    f = finite_or_none(value)
    return "none (no early stopping)" if f is None else f"{int(f)} epochs"


def _text(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


# Each config setting: its leaderboard column, its name in words, how a value is written.
_CONFIG_SETTINGS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("activation", "activation", _text),
    ("init", "initialization", _text),
    ("embed", "numeric embedding", _text),
    ("optimizer", "optimizer", _text),
    ("lr", "learning rate", _number),
    ("schedule", "lr schedule", _text),
    ("weight_decay", "weight decay", _number),
    ("batch_size", "batch size", _whole),
    ("max_epochs", "epochs at most", _whole),
    ("patience", "early stopping patience", _patience),
    ("monitor", "early stopping follows", _text),
    ("label_smoothing", "label smoothing", _number),
)
# A setting a record from before it existed lacks trained at this value (space/config.py's defaults);
# any other missing setting is unknown ("n/a"), not assumed.
_ABSENT_MEANS: dict[str, Any] = {"embed": "none", "schedule": "constant", "label_smoothing": 0.0, "monitor": "val_loss"}


def _tried(board: pd.DataFrame, column: str, write: Callable[[Any], str], chosen: str) -> str:
    """The values ``column`` took over the board's configs (linear ones' activation left out),
    written, in first-seen order; empty where there was only the chosen one."""
    if column not in board.columns:
        return ""
    values = board[column]
    if column == "activation" and "depth" in board.columns:
        values = values[pd.to_numeric(board["depth"], errors="coerce") != 0]
    written = list(dict.fromkeys(write(v) for v in values))
    return "" if written in ([], [chosen]) else ", ".join(sorted(written, key=_order))


def _order(text: str) -> tuple[int, float, str]:
    """Numbers by value (``0.001`` before ``0.01``), then words alphabetically."""
    try:
        return (0, float(text.split()[0]), text)
    except (ValueError, IndexError):
        return (1, 0.0, text)


def _model_text(summary: Summary) -> str:
    """Which model predicts: the best restart or the ensemble of restarts, refit or not."""
    fit = summary.model if isinstance(summary.model, Mapping) else {}
    refit = " (refit on train+validation)" if fit.get("fit_on") == "train+validation" else ""
    if fit.get("members"):
        return f"the mean of {int(fit['members'])} restarts (an ensemble){refit}"
    return f"the best restart{refit}"


def recipe_rows(board: pd.DataFrame, summary: Summary | Mapping[str, Any]) -> list[RecipeRow]:
    """One ``RecipeRow`` per setting of the chosen config (``summary.chosen``) and of the run; see
    the module docstring. ``board``: the run's leaderboard, for the values tried."""
    if not isinstance(summary, Summary):
        summary = Summary.from_json(summary)
    chosen = dict(summary.chosen or {})
    if "key" in board.columns and chosen.get("key") is not None:  # what summary.chosen lacks, its leaderboard row has
        mine = board[board["key"].astype(str) == str(chosen["key"])]
        chosen = {**(mine.iloc[0].to_dict() if len(mine) else {}), **chosen}
    linear = finite_or_none(chosen.get("depth")) == 0
    rows = []
    for column, name, write in _CONFIG_SETTINGS:
        if column == "label_smoothing" and summary.task == Task.REGRESSION:
            continue  # a classification setting (refused for regression)
        value = chosen.get(column, _ABSENT_MEANS.get(column))
        text = "none (a linear model)" if column == "activation" and linear else write(value)
        rows.append(RecipeRow(name, text, _tried(board, column, write, text)))
    numeric = summary.numeric or NumericScaling.STANDARD  # runs from before the choice scaled this way
    rows.append(RecipeRow("numeric scaling", str(numeric)))
    if summary.n_init is not None:
        rows.append(RecipeRow("restarts per config", f"{int(summary.n_init)}"))
    rows.append(RecipeRow("model that predicts", _model_text(summary)))
    return rows
