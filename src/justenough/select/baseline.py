"""The no-network baseline: what a prediction that ignores the features scores on validation.

Is the chosen network better than no network at all? The baseline answers it on the same rows
the configs were compared on (the validation split; the test split stays sealed for the chosen
model alone, invariant 4 of docs/architecture.md):

- classification: always the most frequent training class, with the training class frequencies
  as its probabilities (so its log loss is that of the prior);
- regression: always the training mean.

When the chosen config's mean validation score is not above the baseline's by more than one
standard error, ``weak_signal_notice`` says so: the features may carry little information about
the target, or the network did not find it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from justenough.display_numbers import plain_number
from justenough.vocab import Task

__all__ = ["no_network_baseline", "describe", "weak_signal_notice"]


def no_network_baseline(prepared: Any) -> dict[str, Any]:
    """``{"kind", "prediction", "metric", "val_score", "val_metrics"}`` for ``prepared`` (a
    ``data.Prepared``); ``prediction`` is the class label or the mean, in the target's units."""
    from justenough.train.metrics import score  # torch: imported here so that ``describe`` stays light for the CLI

    y_train = prepared.y_train.detach().cpu().numpy()
    y_val = prepared.y_val.detach().cpu().numpy()
    if prepared.task == Task.CLASSIFICATION:
        k = int(prepared.n_outputs)
        counts = np.bincount(y_train.astype(np.int64), minlength=k).astype(np.float64)  # [K]
        prior = np.maximum(counts / counts.sum(), 1e-12)
        logits = np.broadcast_to(np.log(prior), (len(y_val), k))  # [N_val, K]: the same for every row
        metrics = score(Task.CLASSIFICATION, y_val, logits)
        majority = int(counts.argmax())  # ties: the first class in sorted order
        label = prepared.classes[majority]
        kind, prediction, metric = "majority class", label.item() if isinstance(label, np.generic) else label, "accuracy"
    else:
        enc = prepared.target_encoder
        y_true = np.asarray(enc.decode(y_val), dtype=np.float64)  # [N_val], the target's units
        constant = np.full(y_true.shape, float(enc.mean))  # the encoder's mean is the training mean
        metrics = score("regression", y_true, constant.reshape(len(constant), -1))
        kind, prediction, metric = "training mean", float(enc.mean), "r2"
    return {
        "kind": kind,
        "prediction": prediction,
        "metric": metric,
        "val_score": float(metrics[metric]),
        "val_metrics": {name: float(v) for name, v in metrics.items()},
    }


def describe(baseline: dict[str, Any], percent: bool) -> str:
    """``"always 'no' (majority class): 76.9%"`` or ``"always 152.1 (training mean): r2 -0.01"``."""
    shown = _score_text(baseline["val_score"], baseline["metric"], percent)
    prediction = baseline["prediction"]
    # plain_number: a mean of house prices reads 436,614, not 4.366e+05.
    what = repr(prediction) if isinstance(prediction, str) else plain_number(prediction) if isinstance(prediction, float) else str(prediction)
    return f"always {what} ({baseline['kind']}): {shown}"


def weak_signal_notice(baseline: dict[str, Any], val_mean: float, val_se: float | None, label: str, percent: bool) -> str | None:
    """A notice when the chosen config (``label``) does not beat the baseline by more than 1 SE."""
    se = val_se if val_se is not None and math.isfinite(val_se) else 0.0
    if not math.isfinite(val_mean) or val_mean - baseline["val_score"] > se:
        return None
    mine = _score_text(val_mean, baseline["metric"], percent)
    return (
        f"the chosen {label} ({mine}) does not beat predicting {describe(baseline, percent)} by more than 1 SE "
        "on validation: the features may carry little information about the target"
    )


def _score_text(value: float, metric: str, percent: bool) -> str:
    """``76.9%``, or ``r2 0.512``; ``-0.0004`` shows as ``0.000``, not ``-0.000`` (the mean's r2 is
    about 0 either side)."""
    if percent:
        return f"{100 * value:.1f}%"
    text = f"{value:.3f}"
    return f"{metric} {'0.000' if text == '-0.000' else text}"
