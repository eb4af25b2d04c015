"""The study as tables: one row per restart, per epoch of a restart, and per diagnostics record.

These are the tables a finished search writes to its run directory (``results.csv``,
``history.csv``, ``diagnostics.csv``) and that the leaderboard is computed from. They read the
finished (complete or pruned) trials of a study, each restart from its ``restart_{k}`` attribute.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from optuna.trial import TrialState

from justenough.display_numbers import float_or_nan
from justenough.space.config import Config
from justenough.study.record import RestartRecord
from justenough.study.storage import StudyHandle

__all__ = ["config_columns", "restarts_table", "history_table", "diagnostics_table", "finished_trials", "config_of"]


def config_of(trial: Any) -> Config:
    """The config a trial trained (its ``config`` attribute)."""
    return Config.from_dict(trial.user_attrs["config"])


def finished_trials(handle: StudyHandle) -> list[Any]:
    """Complete or pruned trials that hold a config of their own (not duplicates), in order."""
    trials = handle.trials((TrialState.COMPLETE, TrialState.PRUNED))
    return [
        t for t in sorted(trials, key=lambda t: t.number)
        if "config" in t.user_attrs and t.user_attrs.get("duplicate_of") is None
    ]


def _per_restart(trial: Any, part: str | None = None) -> list[tuple[int, Any]]:
    """(restart, value) for each of the trial's ``restart_{k}`` attributes: the whole record, or
    one ``part`` of it ("history", "diagnostics"). Studies written by earlier versions kept those parts
    in attributes of their own (``history_{k}``, ``diagnostics_{k}``); they are read too."""
    out = []
    for name, record in trial.user_attrs.items():
        if not name.startswith("restart_"):
            continue
        k = int(name[len("restart_"):])
        if part is None:
            out.append((k, record))
        elif part in record:
            if record[part]:
                out.append((k, record[part]))
        elif f"{part}_{k}" in trial.user_attrs:
            out.append((k, trial.user_attrs[f"{part}_{k}"]))
    return out


def config_columns(cfg: Config, n_in: int, n_out: int) -> dict[str, Any]:
    """A config as the tables and the summary show it: its key, label, every setting, its size."""
    return {
        "key": cfg.key,
        "label": cfg.label,
        "depth": cfg.depth,
        "widths": list(cfg.widths),
        "activation": cfg.activation,
        "init": cfg.init,
        "optimizer": cfg.optimizer,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "batch_size": cfg.batch_size,
        "max_epochs": cfg.max_epochs,
        "patience": cfg.patience,
        "monitor": cfg.monitor,
        "schedule": cfg.schedule,
        "embed": cfg.embed,
        "label_smoothing": cfg.label_smoothing,
        "params": int(cfg.params(n_in, n_out)),
        "flops": int(cfg.flops(n_in, n_out)),
    }


def restarts_table(handle: StudyHandle, n_in: int, n_out: int) -> pd.DataFrame:
    """One row per restart of every finished (complete or pruned) trial."""
    rows = []
    for t in finished_trials(handle):
        cfg = config_of(t)
        for _, rec in _per_restart(t):
            rows.append(
                {
                    **config_columns(cfg, n_in, n_out),
                    "widths": "-".join(str(w) for w in cfg.widths),
                    "width": int(cfg.widths[0]) if cfg.widths else 0,  # 0: no hidden layer (depth 0)
                    **RestartRecord.from_attrs(rec).table_row(),
                    "pruned": t.state == TrialState.PRUNED,
                    "pruned_rung": t.user_attrs.get("pruned_rung"),
                    "trial": t.number,
                }
            )
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.sort_values(["depth", "width", "key", "restart"], kind="stable").reset_index(drop=True)
    return df


def history_table(handle: StudyHandle) -> pd.DataFrame:
    """Per-epoch learning curves: key, restart, epoch, train_loss, val_loss, val_score."""
    rows = []
    for t in finished_trials(handle):
        key = t.user_attrs["key"]
        for restart, hist in _per_restart(t, "history"):
            n = len(hist.get("train_loss", []))
            for e in range(n):
                rows.append(
                    {
                        "key": key,
                        "restart": restart,
                        "epoch": e + 1,
                        "train_loss": float_or_nan(hist["train_loss"][e]),
                        "val_loss": float_or_nan(hist.get("val_loss", [None] * n)[e]),
                        "val_score": float_or_nan(hist.get("val_score", [None] * n)[e]),
                    }
                )
    return pd.DataFrame(rows, columns=["key", "restart", "epoch", "train_loss", "val_loss", "val_score"])


def diagnostics_table(handle: StudyHandle) -> pd.DataFrame:
    """Diagnostics records (one per key, restart, epoch and layer) stored by the trainer's hook."""
    rows: list[dict[str, Any]] = []
    for t in finished_trials(handle):
        key = t.user_attrs["key"]
        for restart, recs in _per_restart(t, "diagnostics"):
            rows.extend({"key": key, "restart": restart, **rec} for rec in recs)
    return pd.DataFrame(rows)


def diverged_restarts(restarts: pd.DataFrame) -> set[tuple[str, int]]:
    """(config key, restart) of every restart that diverged, from a restarts table (``restarts_table``)."""
    bad = restarts.loc[restarts["diverged"].astype(bool), ["key", "restart"]]
    return {(str(k), int(r)) for k, r in bad.itertuples(index=False)}
