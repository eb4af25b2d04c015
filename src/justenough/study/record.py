"""One restart of one config: its record, as the task returns it and as the study stores it.

A ``RestartRecord`` holds the fields a restart produces: what training produced, defined once
as ``train.TrainedOutcome`` (which the trainer's ``MemberResult`` is too), and which restart of
which config it was. The task builds it from the ``MemberResult`` (``task.py``), the driver
stores it as the trial attribute ``restart_{k}`` (``to_attrs``), ``from_attrs`` reads it back,
and ``table_row`` gives its columns in the restarts table (``results.csv``). ``restart_stats``
summarizes the records of one config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from justenough.display_numbers import finite_or_none, float_or_nan
from justenough.train.outcome import TrainedOutcome

__all__ = ["RestartRecord", "RestartResult", "restart_stats"]


@dataclass(frozen=True, kw_only=True)
class RestartRecord(TrainedOutcome):
    """What one restart of one config produced: what training produced (``TrainedOutcome``'s
    fields), and which restart of which config it was. Keyed by (config key, restart): idempotent."""

    key: str
    restart: int
    seed: int
    pruned_rung: int | None  # the rung at which successive halving pruned the config, or None

    def to_attrs(self) -> dict[str, Any]:
        """The study's ``restart_{k}`` attribute: the record JSON-ready (non-finite scores and
        losses as None), then its learning curves (``history``) and diagnostics records."""
        return {
            "key": self.key,
            "restart": self.restart,
            "seed": self.seed,
            "val_score": finite_or_none(self.val_score),
            "val_loss": finite_or_none(self.val_loss),
            "train_loss": finite_or_none(self.train_loss),
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "diverged": self.diverged,
            "stopped_by": self.stopped_by,
            "train_time": self.train_time,
            "pruned_rung": self.pruned_rung,
            "metrics": {k: finite_or_none(v) for k, v in self.metrics.items()},
            "history": self.history,
            "diagnostics": self.diagnostics,
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> "RestartRecord":
        """A record from its ``restart_{k}`` attribute (None scores read as NaN). Studies from
        earlier versions kept curves and diagnostics in attributes of their own: they read as empty."""
        return cls(
            key=str(attrs["key"]),
            restart=int(attrs["restart"]),
            seed=int(attrs["seed"]),
            val_score=float_or_nan(attrs.get("val_score")),
            val_loss=float_or_nan(attrs.get("val_loss")),
            train_loss=float_or_nan(attrs.get("train_loss")),
            best_epoch=int(attrs["best_epoch"]),
            epochs_run=int(attrs["epochs_run"]),
            diverged=bool(attrs.get("diverged")),
            stopped_by=str(attrs["stopped_by"]),
            train_time=float(attrs["train_time"]),
            pruned_rung=attrs.get("pruned_rung"),
            metrics={k: float_or_nan(v) for k, v in (attrs.get("metrics") or {}).items()},
            history=dict(attrs.get("history") or {}),
            diagnostics=list(attrs.get("diagnostics") or []),
        )

    def table_row(self) -> dict[str, Any]:
        """The record's columns in the restarts table: ``restart``, ``seed``, then the training's
        scalars in ``TrainedOutcome``'s order; not the key (the config's columns carry it) nor
        ``pruned_rung`` (the table takes the trial's)."""
        scalars = {k: v for k, v in self.outcome_fields().items() if k not in _NOT_IN_TABLE}
        return {"restart": self.restart, "seed": self.seed, **scalars}


# Training's fields that are no column of their own in the restarts table (see ``RestartRecord.table_row``).
_NOT_IN_TABLE = frozenset({"metrics", "history", "diagnostics"})


@dataclass(frozen=True, kw_only=True)
class RestartResult(RestartRecord):
    """A restart's record plus its best weights and per-row evidence: what a stack task returns to
    the driver."""

    # The best weights as a ``member(i)`` state dict of NumPy arrays: {"0.weight": [out, in], ...}.
    state: dict[str, np.ndarray] = field(default_factory=dict)
    # Each validation row's share of the score and its loss, with those weights: {"share": [N],
    # "loss": [N]} float32 (``train.row_evidence``; the noise model's evidence, select/noise.py).
    rows: dict[str, np.ndarray] = field(default_factory=dict)


def restart_stats(results: Sequence[RestartRecord]) -> dict[str, Any]:
    """Mean, std, standard error, min and max of the validation score over non-diverged restarts
    (``select.score_stats``, as the leaderboard computes them; None where no restart has a score)."""
    # Imported here: the workers that import this module (through task.py) need neither pandas nor select.
    from justenough.select.stats import score_stats

    scores = np.array([r.val_score for r in results if not r.diverged and math.isfinite(r.val_score)], dtype=float)
    stats: dict[str, float | None] = {k: (v if len(scores) else None) for k, v in score_stats(scores).items()}
    return {
        "n_restarts": len(results),
        "n_diverged": int(sum(r.diverged for r in results)),
        "val_mean": stats["val_mean"],
        "val_std": stats["val_std"],
        "val_min": stats["val_min"],
        "val_max": stats["val_max"],
        "train_time": float(sum(r.train_time for r in results)),
        "val_se": stats["val_se"],
    }
