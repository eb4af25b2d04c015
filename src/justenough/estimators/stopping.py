"""scikit-learn's stopping rule (no improvement by ``tol`` for ``n_iter_no_change`` epochs), per
restart, as a callback of the stack's trainer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from justenough.nets.stack import MLPStack
    from justenough.train import TrainState

__all__ = ["no_improvement_stopper"]


def no_improvement_stopper(key: str, tol: float, n_iter_no_change: int, M: int) -> Callable[..., list[int]]:
    """scikit-learn's stopping rule, per restart, as a trainer callback (called every epoch).

    ``key="train_loss"`` (no validation split): the epoch counts as no improvement when
    ``loss > best - tol``. ``key="val_score"`` (early stopping): when ``score < best + tol``.
    A counter of such epochs in a row stops the restart once it exceeds ``n_iter_no_change``
    (sklearn ``_update_no_improvement_count``).
    """
    maximize = key == "val_score"
    best = [-math.inf if maximize else math.inf] * M
    count = [0] * M
    seen = [0] * M
    stopped: set[int] = set()

    def callback(epoch: int, stack: "MLPStack", state: "TrainState") -> list[int]:
        stop: list[int] = []
        for i in range(M):
            if i in stopped:
                continue
            values = _member_history(state, i).get(key, [])
            for value in values[seen[i] :]:
                value = float(value)
                if maximize:
                    count[i] = count[i] + 1 if value < best[i] + tol else 0
                    best[i] = max(best[i], value)
                else:
                    count[i] = count[i] + 1 if value > best[i] - tol else 0
                    best[i] = min(best[i], value)
            seen[i] = len(values)
            if count[i] > n_iter_no_change:
                stopped.add(i)
                stop.append(i)
        return stop

    return callback


def _member_history(state: "TrainState", i: int) -> dict[str, list[float]]:
    """Member i's per-epoch history from the trainer's ``TrainState``."""
    history = state.history
    return history[i] if isinstance(history, (list, tuple)) else {k: v[i] for k, v in history.items()}
