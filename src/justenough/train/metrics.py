"""Metrics: for one model (``score``) and the loss vectorized over a stack (``stack_loss``).

Classification: accuracy, balanced accuracy and log-loss, from logits ``[N, K]`` (the stack's
outputs; softmax gives the probabilities). Regression: R^2, RMSE and MAE; with several outputs
each is averaged uniformly over the outputs, as scikit-learn does. The validation score (higher
is better) is accuracy for classification and R^2 for regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from justenough.errors import ConfigError, DataError
from justenough.vocab import Task

__all__ = ["score", "stack_loss"]


def _check_task(task: str) -> None:
    if task not in tuple(Task):
        raise ConfigError(f"unknown task {task!r}: use 'classification' or 'regression'")


def _np(a: Any) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def score(task: str, y_true: Any, output: Any) -> dict[str, float]:
    """Metrics of one model on one split.

    Classification: ``y_true`` class indices ``[N]``; ``output`` logits ``[N, K]`` (all metrics)
    or predicted class indices ``[N]`` (accuracy and balanced accuracy only).
    Regression: ``y_true`` ``[N]`` or ``[N, T]``; ``output`` of the same shape (``[N, 1]`` for ``[N]``).
    """
    _check_task(task)
    y = _np(y_true)
    out = _np(output).astype(np.float64)
    if len(y) == 0 or len(y) != len(out):
        raise DataError(f"metrics need as many outputs as targets (and at least one), got {len(out)} and {len(y)}")
    if task == Task.CLASSIFICATION:
        y = y.astype(np.int64).reshape(-1)
        if out.ndim == 2:
            logp = torch.log_softmax(torch.from_numpy(out), dim=1).numpy()  # [N, K]
            if y.min() < 0 or y.max() >= out.shape[1]:
                raise DataError(f"class indices must lie in 0..{out.shape[1] - 1}, got {y.min()}..{y.max()}")
            pred = out.argmax(1)
            log_loss: float | None = float(-logp[np.arange(len(y)), y].mean())
        else:
            pred = out.reshape(-1).astype(np.int64)
            log_loss = None
        correct = pred == y
        recalls = [correct[y == c].mean() for c in np.unique(y)]
        result = {"accuracy": float(correct.mean()), "balanced_accuracy": float(np.mean(recalls))}
        if log_loss is not None:
            result["log_loss"] = log_loss
        return result
    y = y.astype(np.float64)
    y2 = y.reshape(len(y), -1)  # [N, T]
    p2 = out.reshape(len(out), -1)
    if y2.shape != p2.shape:
        raise DataError(f"regression outputs {list(out.shape)} do not match targets {list(y.shape)}")
    ss_res = ((y2 - p2) ** 2).sum(0)  # [T]
    ss_tot = ((y2 - y2.mean(0)) ** 2).sum(0)  # [T]
    # A constant target: R^2 is 1 for a perfect fit, else 0 (scikit-learn's force_finite).
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res == 0, 1.0, 0.0))
    return {
        "r2": float(r2.mean()),
        "rmse": float(np.sqrt(ss_res / len(y2)).mean()),
        "mae": float(np.abs(y2 - p2).mean(0).mean()),
    }


def _targets(task: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Targets broadcast to the outputs ``[M, B, C]``.

    Classification: shared ``[B]`` or per member ``[M, B]`` -> ``[M, B]``.
    Regression: shared ``[B, C]`` or per member ``[M, B, C]`` -> ``[M, B, C]``.
    """
    M, B, C = out.shape
    if task == Task.CLASSIFICATION:
        return y.expand(M, B) if y.ndim == 1 else y
    if y.ndim == 2:
        return y.unsqueeze(0).expand(M, B, C)
    return y


def stack_loss(task: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-member mean loss ``[M]``: cross-entropy on logits, or mean squared error.

    ``out``: ``[M, B, C]``. ``y``: classification ``[B]`` or ``[M, B]``; regression ``[B, C]`` or ``[M, B, C]``.
    Summing the result gives each member the gradient of its own mean loss.
    """
    M, B, C = out.shape
    t = _targets(task, out, y)
    if task == Task.CLASSIFICATION:
        if out.device.type == "cpu" and C < 16:
            # The same numbers over a [M, C, B] view: on the CPU, torch's (log-)softmax over a
            # last dimension shorter than 16 is up to 10x slower than over a strided one.
            logp = torch.log_softmax(out.transpose(1, 2), dim=1)  # [M, C, B]
            return logp.gather(1, t.unsqueeze(1)).squeeze(1).mean(1).neg()  # [M]
        ce = F.cross_entropy(out.reshape(M * B, C), t.reshape(M * B), reduction="none")  # [M*B]
        return ce.view(M, B).mean(1)  # [M]
    return ((out - t) ** 2).mean((1, 2))  # [M]
