"""Executors: the only part that knows where training runs.

An executor receives the training data once (``start``), then stack tasks (``submit``), and
returns futures of their restart results. Executors are stateless trainers: the driver owns the
study and is its single writer.

- ``LocalExecutor`` (``local.py``): in this process, or in worker processes.
- ``RayExecutor`` (``ray.py``): on a Ray cluster (the ``ray`` extra).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from justenough.errors import ConfigError
from justenough.executors.local import LocalExecutor
from justenough.study.record import RestartResult
from justenough.executors.task import StackTask
from justenough.executors.training_data import TrainingData
from justenough.vocab import ExecutorKind

__all__ = ["Executor", "make_executor"]


class Executor(Protocol):
    """Where stack tasks run. ``slots`` is how many tasks are worth keeping in flight."""

    slots: int

    def start(self, data: TrainingData) -> None: ...

    def submit(self, task: StackTask) -> "Future[list[RestartResult]]": ...

    def close(self) -> None: ...

    def poll_epochs(self) -> list[tuple[str, int, int]]:
        """(task id, epoch, max epochs) reports since the last poll, for the progress display."""
        ...


def make_executor(kind: str = "local", *, workers: int | None = None, address: str | None = None, device: str = "cpu") -> Executor:
    """Build an executor by name: ``local`` or ``ray``."""
    if kind == ExecutorKind.LOCAL:
        return LocalExecutor(workers=workers, device=device)
    if kind == ExecutorKind.RAY:
        try:
            from justenough.executors.ray import RayExecutor
        except ImportError as exc:  # ray is an optional extra
            raise ConfigError(
                "the Ray executor needs the 'ray' extra: pip install 'justenough[ray]'"
            ) from exc
        return RayExecutor(address=address, workers=workers)
    raise ConfigError(f"unknown executor {kind!r}: use 'local' or 'ray'")
