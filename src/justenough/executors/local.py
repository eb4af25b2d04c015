"""The local executor: stacks train on this machine, inline or in worker processes.

``LocalExecutor`` trains in this process (``workers=1``), or in worker processes with one torch
thread each (``workers>1``; the default is one per core). Two processes with one thread each
beat one process with two threads on small networks (docs/architecture.md, measured). On Linux,
for CPU training, the workers are forked from the driver: they start in milliseconds with
torch already imported and the data already in memory, where spawned workers each take about a
second to import torch (and, started one after the other, two seconds for two).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Callable

from justenough.errors import ConfigError
from justenough.executors.last_epoch import EpochReport, LastEpochs, tracked
from justenough.study.record import RestartResult
from justenough.executors.task import StackTask, run_stack_task
from justenough.executors.training_data import TrainingData

__all__ = ["LocalExecutor", "default_workers", "start_method"]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# Worker-process state: the data, shipped once by the pool initializer, and the epoch queue.
_WORKER_DATA: TrainingData | None = None
_WORKER_EPOCHS: Any = None


def _init_worker(data: TrainingData, epochs: Any = None) -> None:
    import torch

    global _WORKER_DATA, _WORKER_EPOCHS
    _WORKER_DATA = data
    _WORKER_EPOCHS = epochs
    torch.set_num_threads(1)
    # Ctrl-C goes to the whole process group; the driver decides what to do, the workers finish
    # the stack in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_method(device: str = "cpu") -> str:
    """How worker processes start: ``fork`` on Linux for CPU training, else ``spawn``.

    A forked worker inherits the imported torch and the training data, so it is ready at once.
    Fork is unsafe once CUDA is initialized (and on macOS), hence spawn there. The environment
    variable ``JUSTENOUGH_START_METHOD`` overrides the choice.
    """
    forced = os.environ.get("JUSTENOUGH_START_METHOD")
    if forced:
        if forced not in multiprocessing.get_all_start_methods():
            raise ConfigError(f"JUSTENOUGH_START_METHOD={forced!r} is not available here: use one of {', '.join(multiprocessing.get_all_start_methods())}")
        return forced
    if not sys.platform.startswith("linux") or device not in ("cpu", "auto"):
        return "spawn"
    import torch

    if torch.cuda.is_initialized() or (device == "auto" and torch.cuda.is_available()):
        return "spawn"
    return "fork"


def _ready() -> bool:
    return True


def _report_epoch(task_id: str, epoch: int, max_epochs: int) -> None:
    if _WORKER_EPOCHS is not None:
        try:
            _WORKER_EPOCHS.put_nowait((task_id, epoch, max_epochs))
        except Exception:  # progress is best effort; training must not fail for it
            pass


def _run_in_worker(task: StackTask) -> tuple[list[RestartResult], EpochReport | None]:
    """One task in a worker process: its results and its last epoch report (``last_epoch.py``)."""
    assert _WORKER_DATA is not None, "worker used before its initializer ran"
    data = _WORKER_DATA
    return tracked(lambda on_epoch: run_stack_task(task, data, on_epoch=on_epoch), _report_epoch)


def _drain(q: Any) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    while True:
        try:
            out.append(q.get_nowait())
        except (queue.Empty, OSError, EOFError, ValueError):
            return out


class LocalExecutor:
    """Train stacks on this machine: inline for one worker, else in a process pool."""

    def __init__(self, workers: int | None = None, *, device: str = "cpu") -> None:
        workers = default_workers() if workers is None else int(workers)
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.slots = workers
        self.device = device  # where the stacks train: decides how worker processes start
        self._data: TrainingData | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._epochs: Any = queue.SimpleQueue()
        # Inline training blocks the driver's loop, so epochs are also pushed to this listener
        # (set by the driver) as they happen; worker processes' epochs are polled instead.
        self.epoch_listener: Callable[[], None] | None = None
        self._last_epochs = LastEpochs()  # worker processes' last reports, before their results

    def start(self, data: TrainingData) -> None:
        self._data = data
        if self.workers > 1 and self._pool is None:
            ctx = multiprocessing.get_context(start_method(self.device))
            self._epochs = ctx.Queue()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(data, self._epochs),
            )
            # Start the workers now (a forking pool starts all of them on its first task): a fork
            # copies only the calling thread, so it must not happen while another thread of this
            # process (a progress display, say) may hold a lock the child would need.
            self._pool.submit(_ready).result()

    def submit(self, task: StackTask) -> "Future[list[RestartResult]]":
        if self._data is None:
            raise RuntimeError("LocalExecutor.start(data) must be called before submit")
        if self._pool is not None:
            return self._last_epochs.relay(self._pool.submit(_run_in_worker, task), task.task_id)
        fut: Future[list[RestartResult]] = Future()
        try:
            fut.set_result(run_stack_task(task, self._data, on_epoch=self._inline_epoch))
        except BaseException as exc:  # delivered through the future, like a pool would
            if isinstance(exc, KeyboardInterrupt):
                raise
            fut.set_exception(exc)
        return fut

    def _inline_epoch(self, task_id: str, epoch: int, max_epochs: int) -> None:
        self._epochs.put((task_id, epoch, max_epochs))
        if self.epoch_listener is not None:
            self.epoch_listener()

    def poll_epochs(self) -> list[tuple[str, int, int]]:
        """The epoch reports since the last poll; the last one of every task whose future is done."""
        return self._last_epochs.merge(_drain(self._epochs))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if hasattr(self._epochs, "close"):
            self._epochs.close()
            self._epochs.join_thread()
        self._epochs = queue.SimpleQueue()

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
