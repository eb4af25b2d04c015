"""The recipe table names every setting a config trains with (``run/recipe_table.py``): each field of
``Config`` but the architecture, plus the run's scaling, restarts and model; and it lists the
values tried only where the configs differed."""

from __future__ import annotations

from dataclasses import fields

import pandas as pd

from justenough.run.recipe_table import recipe_rows
from justenough.space.config import Config

# A Config's fields that are its architecture, not its training (they are the config's label).
_ARCHITECTURE = {"depth", "widths"}


def _board_and_summary(task: str = "classification", **model: object) -> tuple[pd.DataFrame, dict[str, object]]:
    configs = [Config.create(depth=1, width=8, lr=lr, weight_decay=1e-4) for lr in (1e-3, 3e-3)]
    configs.append(Config.create(depth=0, width=0, lr=1e-3, weight_decay=1e-4))
    board = pd.DataFrame([{**c.to_dict(), "key": c.key} for c in configs])
    chosen = {**configs[1].to_dict(), "key": configs[1].key}
    summary = {"chosen": chosen, "task": task, "n_init": 5, "numeric": "robust",
               "model": model or {"fit_on": "train+validation", "rows": 100, "restart": 0, "epochs": 20}}
    return board, summary


def test_every_training_field_of_a_config_has_a_row() -> None:
    board, summary = _board_and_summary()
    rows = {r.setting: r for r in recipe_rows(board, summary)}
    config_fields = {f.name for f in fields(Config)} - _ARCHITECTURE
    assert len(config_fields) == 12  # a new Config field needs a row in recipe_table._CONFIG_SETTINGS
    names = {"activation", "initialization", "numeric embedding", "optimizer", "learning rate", "lr schedule",
             "weight decay", "batch size", "epochs at most", "early stopping patience", "early stopping follows",
             "label smoothing"}
    assert names <= set(rows)
    assert rows["learning rate"].chosen == "0.003" and rows["learning rate"].tried == "0.001, 0.003"
    assert rows["weight decay"].chosen == "0.0001" and rows["weight decay"].tried == ""  # the same everywhere
    assert rows["early stopping patience"].chosen == "10 epochs"
    # The linear config's activation (identity) is not a value the space tried.
    assert rows["activation"].chosen == "relu" and rows["activation"].tried == ""
    assert rows["numeric scaling"].chosen == "robust"
    assert rows["restarts per config"].chosen == "5"
    assert rows["model that predicts"].chosen == "the best restart (refit on train+validation)"


def test_regression_has_no_label_smoothing_and_an_ensemble_is_named() -> None:
    board, summary = _board_and_summary("regression", fit_on="train", rows=100, members=5, params=500)
    rows = {r.setting: r for r in recipe_rows(board, summary)}
    assert "label smoothing" not in rows
    assert rows["model that predicts"].chosen == "the mean of 5 restarts (an ensemble)"


def test_a_record_from_before_a_setting_existed_reads_at_its_old_value() -> None:
    board, summary = _board_and_summary()
    chosen = dict(summary["chosen"])  # type: ignore[call-overload]
    for later in ("embed", "schedule", "label_smoothing", "monitor"):
        chosen.pop(later, None)  # Config.to_dict leaves them out at these values, as a record from before them
    summary = {**summary, "chosen": chosen, "numeric": None}
    old_board = board.drop(columns=[c for c in ("embed", "schedule", "label_smoothing", "monitor") if c in board])
    rows = {r.setting: r.chosen for r in recipe_rows(old_board, summary)}
    assert rows["numeric embedding"] == "none" and rows["lr schedule"] == "constant"
    assert rows["label smoothing"] == "0" and rows["early stopping follows"] == "val_loss"
    assert rows["numeric scaling"] == "standard"
