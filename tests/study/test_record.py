"""A restart's record: what the task returns is what the study stores and reads back."""

from __future__ import annotations

import math

import optuna
import pandas as pd

from justenough.study.record import RestartRecord, RestartResult, restart_stats
from justenough.space.config import Config
from justenough.study.storage import StudyHandle, restart_attr
from justenough.study.tables import restarts_table


def _record(restart: int, val_score: float, *, diverged: bool = False) -> RestartResult:
    return RestartResult(
        key="abc", restart=restart, seed=11 + restart, val_score=val_score, val_loss=0.5, train_loss=math.inf,
        best_epoch=3, epochs_run=4, diverged=diverged, stopped_by="early", train_time=0.25, pruned_rung=None,
        metrics={"accuracy": val_score, "log_loss": math.nan}, history={"val_score": [0.1, val_score]},
        diagnostics=[{"layer": 1, "epoch": 0}],
    )


def test_the_study_attribute_is_json_ready_and_reads_back() -> None:
    result = _record(1, 0.75)
    attrs = result.to_attrs()
    assert list(attrs) == ["key", "restart", "seed", "val_score", "val_loss", "train_loss", "best_epoch", "epochs_run",
                           "diverged", "stopped_by", "train_time", "pruned_rung", "metrics", "history", "diagnostics"]
    assert attrs["train_loss"] is None and attrs["metrics"] == {"accuracy": 0.75, "log_loss": None}
    back = RestartRecord.from_attrs(attrs)
    assert back.key == "abc" and back.restart == 1 and back.val_score == 0.75 and math.isnan(back.train_loss)
    assert back.history == result.history and back.diagnostics == result.diagnostics


def test_a_trial_holds_one_attribute_per_restart() -> None:
    """The driver stores each restart as an attribute of its own; the restarts table reads them back
    (``study/tables.py``), one row per restart, by restart index."""
    cfg = Config(depth=1, widths=(4,))
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    trial.set_user_attr("config", cfg.to_dict())
    for r in (_record(1, 0.5), _record(0, 0.75)):
        trial.set_user_attr(restart_attr(r.restart), r.to_attrs())
    study.tell(trial, 0.6)
    assert sorted(k for k in study.trials[0].user_attrs if k.startswith("restart_")) == [restart_attr(0), restart_attr(1)]
    table = restarts_table(StudyHandle(study, url=None, created=True), n_in=3, n_out=2)
    assert table["restart"].tolist() == [0, 1] and table["val_score"].tolist() == [0.75, 0.5]


def test_restart_stats_leave_out_diverged_restarts() -> None:
    stats = restart_stats([_record(0, 0.5), _record(1, 0.7), _record(2, 0.1, diverged=True)])
    assert stats["n_restarts"] == 3 and stats["n_diverged"] == 1
    assert math.isclose(stats["val_mean"], 0.6) and stats["val_min"] == 0.5 and stats["val_max"] == 0.7
    assert math.isclose(stats["val_se"], stats["val_std"] / math.sqrt(2))


def test_restart_stats_are_the_leaderboards_numbers_bit_for_bit() -> None:
    """One computation of restart statistics: the driver's (told to the study) and the leaderboard's."""
    from justenough.select import leaderboard

    records = [_record(0, 0.51), _record(1, 0.73), _record(2, 0.1, diverged=True), _record(3, math.nan)]
    stats = restart_stats(records)
    row = leaderboard(pd.DataFrame([{"key": r.key, **r.table_row()} for r in records])).iloc[0]
    for name in ("val_mean", "val_std", "val_se", "val_min", "val_max", "n_restarts", "n_diverged", "train_time"):
        assert stats[name] == row[name], name
    assert restart_stats([])["val_mean"] is None and restart_stats([_record(0, 0.5)])["val_se"] == 0.0


def test_the_restarts_table_row_is_the_records_fields_in_order() -> None:
    row = _record(1, 0.75).table_row()
    assert list(row) == ["restart", "seed", "val_score", "val_loss", "train_loss", "best_epoch", "epochs_run",
                         "diverged", "stopped_by", "train_time"]
    assert RestartRecord.from_attrs(_record(1, 0.75).to_attrs()).table_row()["val_score"] == 0.75
