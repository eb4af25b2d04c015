"""How each config was trained: its learning rate, the epochs its restarts ran, why they stopped.

A config that lost may have lost for being small, or for being trained badly. These per-config
facts, and two flags, let a reader tell which (issue 14, "show the recipe"):

- ``under-trained?``: every restart ran out of epochs (``max_epochs``) while still improving,
  its best epoch within the last ``patience`` epochs (without early stopping: the last tenth).
  More epochs, or a higher learning rate, would likely have scored higher.
- ``stopped at once?``: every restart stopped early with its best weights from the first
  ``FEW_EPOCHS`` epochs: the validation signal got worse almost from the start (too high a
  learning rate, or a monitor that rose through overconfidence while the score still climbed).

Restarts that halving pruned or that diverged say nothing about the recipe and are left out of
the flags (they are still counted in ``stopped_by``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from justenough.display_numbers import finite_or_none
from justenough.vocab import StopReason

__all__ = ["FEW_EPOCHS", "UNDER_TRAINED", "STOPPED_AT_ONCE", "training_columns", "lr_text", "epochs_text"]

FEW_EPOCHS = 3  # best weights from epoch <= this, then stopped: "stopped at once?"
UNDER_TRAINED = "under-trained?"
STOPPED_AT_ONCE = "stopped at once?"
_STOP_ORDER: tuple[str, ...] = tuple(StopReason)


def _int_or_none(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def _stopped_text(reasons: list[str]) -> str:
    """``["early", "early", "budget"]`` -> ``"early 2, budget 1"`` (known reasons first)."""
    counts: dict[str, int] = {}
    for r in reasons:
        counts[r] = counts.get(r, 0) + 1
    order = [r for r in _STOP_ORDER if r in counts] + sorted(r for r in counts if r not in _STOP_ORDER)
    return ", ".join(f"{r} {counts[r]}" for r in order)


def _flag(group: pd.DataFrame) -> str:
    """The flag of one config's restarts (``""`` when none applies); see the module docstring."""
    rows = []
    for _, r in group.iterrows():
        stop = str(r.get("stopped_by"))
        if stop in (StopReason.PRUNED, StopReason.DIVERGED) or bool(r.get("diverged")) is True:
            continue
        run, best = _int_or_none(r.get("epochs_run")), _int_or_none(r.get("best_epoch"))
        if run is None or best is None:
            return ""
        rows.append((stop, run, best, _int_or_none(r.get("patience"))))
    if not rows:
        return ""
    if all(stop == StopReason.BUDGET and best > run - (patience or max(1, run // 10)) for stop, run, best, patience in rows):
        return UNDER_TRAINED
    if all(stop == StopReason.EARLY and best <= FEW_EPOCHS for stop, run, best, _ in rows):
        return STOPPED_AT_ONCE
    return ""


def training_columns(group: pd.DataFrame) -> dict[str, Any]:
    """Per-config columns from its restarts (rows of ``results.csv``): ``epochs_run`` (mean),
    ``best_epoch`` (mean), ``stopped_by`` (counts, e.g. ``"early 4, budget 1"``) and
    ``training_flag`` (``UNDER_TRAINED``, ``STOPPED_AT_ONCE`` or ``""``). Columns the restarts
    lack (tables written before they existed) are left out."""
    out: dict[str, Any] = {}
    for col in ("epochs_run", "best_epoch"):
        if col in group.columns:
            values = pd.to_numeric(group[col], errors="coerce").dropna()
            out[col] = float(values.mean()) if len(values) else float("nan")
    if "stopped_by" in group.columns:
        out["stopped_by"] = _stopped_text([str(s) for s in group["stopped_by"] if isinstance(s, str)])
        if "epochs_run" in group.columns and "best_epoch" in group.columns:
            out["training_flag"] = _flag(group)
    return out


def lr_text(lr: Any, schedule: Any = None, label_smoothing: Any = None) -> str:
    """``0.01``, ``0.01 cosine`` or ``0.01 warmup_cosine smoothing=0.1``: a schedule other than
    constant is named, and label smoothing other than 0 (the recipe the lr was trained with)."""
    try:
        text = f"{float(lr):g}"
    except (TypeError, ValueError):
        return "?"
    if isinstance(schedule, str) and schedule not in ("", "constant"):
        text += f" {schedule}"
    smoothing = finite_or_none(label_smoothing)
    if smoothing:
        text += f" smoothing={smoothing:g}"
    return text


def epochs_text(epochs_run: Any, stopped_by: Any) -> str:
    """``42 (early 5)``: the mean epochs run, then why the restarts stopped."""
    try:
        mean = float(epochs_run)
    except (TypeError, ValueError):
        return "?"
    if not math.isfinite(mean):
        return "?"
    why = f" ({stopped_by})" if isinstance(stopped_by, str) and stopped_by else ""
    return f"{mean:.0f}{why}"
