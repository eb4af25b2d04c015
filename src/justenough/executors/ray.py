"""The Ray executor: stack tasks as Ray tasks on a cluster (the ``ray`` extra).

- The training data is shipped once, to the object store (``ray.put``); tasks receive the reference.
- Each stack is a Ray task that declares its resources: one CPU, and a GPU with ``device=cuda``.
- As many stacks are in flight as the cluster has CPUs (or GPUs); results stream back as futures.
- Ray retries a task whose worker dies (``max_retries``). Results are keyed by
  (config key, restart), so a retried task cannot duplicate anything (invariant 5,
  docs/architecture.md).
- With no address, a local Ray instance is started for the search and shut down after it.
- Progress: each task reports its epoch to a small actor (``EpochBoard``, no CPU reserved) at
  most every ``EPOCH_REPORT_S`` seconds, fire and forget; the driver drains it when it polls. A
  task's last report comes back with its results and is recorded before its future resolves
  (``last_epoch.py``), so it reaches the display whatever the load; a drain that does not answer
  at once is kept and collected at the next poll, never dropped.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from justenough.errors import ConfigError, option
from justenough.executors.last_epoch import EpochReport, LastEpochs, tracked
from justenough.study.record import RestartResult
from justenough.executors.task import StackTask, run_stack_task
from justenough.executors.training_data import TrainingData

__all__ = ["RayExecutor"]

MAX_RETRIES = 3
EPOCH_REPORT_S = 0.5  # a task reports its epoch at most this often (a remote call each)


class EpochBoard:
    """Collects (task id, epoch, max epochs) reports from the tasks until the driver drains them.
    Runs as a Ray actor."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, int, int]] = []

    def put(self, report: tuple[str, int, int]) -> None:
        self.reports.append(report)

    def drain(self) -> list[tuple[str, int, int]]:
        out, self.reports = self.reports, []
        return out


def _run_on_ray(task: StackTask, data: TrainingData, board: Any = None) -> tuple[list[RestartResult], EpochReport | None]:
    """The body of one Ray task: one torch thread per task, as in the local executor. Returns the
    results and the task's last epoch report (``last_epoch.tracked``)."""
    import time

    import torch

    torch.set_num_threads(1)
    last = [0.0]

    def report(task_id: str, epoch: int, max_epochs: int) -> None:
        now = time.monotonic()
        if board is not None and now - last[0] >= EPOCH_REPORT_S:
            last[0] = now
            try:
                board.put.remote((task_id, epoch, max_epochs))
            except Exception:  # progress is best effort; training must not fail for it
                pass

    return tracked(lambda on_epoch: run_stack_task(task, data, on_epoch=on_epoch), report)


class RayExecutor:
    """Run stack tasks on a Ray cluster at ``address`` (``auto``, ``HOST:PORT``, or None for a local one)."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise ConfigError("the Ray executor needs the 'ray' extra: pip install 'justenough[ray]'") from exc
        self.address = address
        self.workers = workers
        self.slots = 1
        self._started_here = False
        self._data_ref: Any = None
        self._remote: Any = None
        self._board: Any = None
        self._drain: Any = None  # a drain of the board not collected yet
        self._last_epochs = LastEpochs()

    def start(self, data: TrainingData) -> None:
        import ray

        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error"}
            if self.address:
                try:
                    ray.init(address=self.address, **kwargs)
                except ConnectionError as exc:
                    raise ConfigError(
                        f"cannot reach the Ray cluster at {self.address!r}: {exc}. Start one with "
                        f"'ray start --head', or leave out {option('ray_address')} for a local instance"
                    ) from exc
            else:
                if self.workers is not None:
                    kwargs["num_cpus"] = int(self.workers)
                ray.init(**kwargs)
            self._started_here = True
        resources = ray.cluster_resources()
        self.slots = max(1, int(resources.get("CPU", 1)))
        if self.workers is not None:
            self.slots = min(self.slots, int(self.workers))
        self._data_ref = ray.put(data)
        self._remote = ray.remote(_run_on_ray)
        self._board = ray.remote(EpochBoard).options(num_cpus=0).remote()

    def submit(self, task: StackTask) -> "Future[list[RestartResult]]":
        if self._remote is None:
            raise RuntimeError("RayExecutor.start(data) must be called before submit")
        gpus = 1 if task.device.startswith("cuda") else 0
        ref = self._remote.options(num_cpus=1, num_gpus=gpus, max_retries=MAX_RETRIES, retry_exceptions=False).remote(
            task, self._data_ref, self._board
        )
        return self._last_epochs.relay(ref.future(), task.task_id)

    def poll_epochs(self) -> list[tuple[str, int, int]]:
        """The epoch reports since the last poll: the board's, then the last report of every task
        finished since (always there once the task's future is done)."""
        return self._last_epochs.merge(self._drain_board())

    def _drain_board(self) -> list[EpochReport]:
        """What the board holds; a drain that takes longer than a second is collected next time."""
        if self._board is None:
            return []
        import ray

        try:
            if self._drain is None:
                self._drain = self._board.drain.remote()
            ready, _ = ray.wait([self._drain], timeout=1.0)
            if not ready:
                return []
            drain, self._drain = self._drain, None
            return list(ray.get(drain))
        except Exception:  # the board is gone (closing): progress is best effort
            self._drain = None
            return []

    def close(self) -> None:
        import ray

        self._data_ref = None
        self._drain = None
        if self._board is not None and ray.is_initialized():
            try:
                ray.kill(self._board)
            except Exception:
                pass
        self._board = None
        if self._started_here and ray.is_initialized():
            ray.shutdown()
        self._started_here = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
