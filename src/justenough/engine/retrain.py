"""Re-creating restarts' weights from their seeds, when the search did not keep them.

A restart is a pure function of (config, study seed, restart index) on CPU (invariant 3,
docs/architecture.md), so training it again gives the weights the search had. Several restarts
of one config train again at once, as the members of one stack.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from justenough.space.config import Config

__all__ = ["retrain_restarts"]


def retrain_restarts(cfg: Config, restarts: list[int], seed: int, prepared: Any, device: str,
                     precision: str = "float32") -> dict[int, dict[str, np.ndarray]]:
    """The weights of ``cfg``'s ``restarts`` under study seed ``seed``, trained again as one
    stack: restart -> its ``member(0)``-style state dict (NumPy)."""
    from justenough.executors.task import StackTask, run_stack_task
    from justenough.executors.training_data import TrainingData

    task = StackTask(configs=(cfg,), restarts=tuple(restarts), study_seed=seed, device=device, precision=precision)
    return {int(r.restart): r.state for r in run_stack_task(task, TrainingData.from_prepared(prepared))}
