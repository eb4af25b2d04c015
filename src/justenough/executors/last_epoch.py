"""A task's last epoch report, delivered before its result: the guarantee of ``poll_epochs``.

Epoch reports from worker processes and Ray tasks travel on their own (a queue, an actor), fire
and forget, so under load the result of a task can come back before its last reports: the
driver, which forwards reports only for the tasks in flight, would then never show them. So the
task body also returns its last report with its results (``tracked``), and ``LastEpochs.relay``
records that report *before* it resolves the future the driver waits on. A ``poll_epochs`` after
a task's future is done therefore always holds the task's last epoch, whatever the load; reports
of a finished task that straggle in later are dropped (``merge``), so a task's epochs never go
back.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["EpochReport", "LastEpochs", "tracked"]

EpochReport = tuple[str, int, int]  # (task id, epoch, max epochs)


def tracked(run: Callable[[Callable[[str, int, int], None]], Any], report: Callable[[str, int, int], None]) -> tuple[Any, EpochReport | None]:
    """``run(on_epoch)`` with every epoch passed on to ``report`` and the last one kept:
    returns (its result, the last report or None)."""
    last: list[EpochReport] = []

    def on_epoch(task_id: str, epoch: int, max_epochs: int) -> None:
        last[:] = [(task_id, epoch, max_epochs)]
        report(task_id, epoch, max_epochs)

    result = run(on_epoch)
    return result, (last[0] if last else None)


class LastEpochs:
    """The last reports of finished tasks, kept until the next poll; thread-safe (futures call
    back from other threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: list[EpochReport] = []
        self._finished: set[str] = set()

    def relay(self, inner: "Future[tuple[Any, EpochReport | None]]", task_id: str) -> "Future[Any]":
        """A future of the task's result alone, resolved once its last report is recorded."""
        with self._lock:
            self._finished.discard(task_id)  # a task submitted again (a retry) reports afresh
        outer: Future[Any] = Future()

        def done(future: "Future[tuple[Any, EpochReport | None]]") -> None:
            if future.cancelled():
                outer.cancel()
                return
            exc = future.exception()
            if exc is not None:
                outer.set_exception(exc)
                return
            result, last = future.result()
            if last is not None:
                with self._lock:
                    self._last.append(last)
                    self._finished.add(last[0])
            outer.set_result(result)

        inner.add_done_callback(done)
        return outer

    def merge(self, polled: list[EpochReport]) -> list[EpochReport]:
        """``polled`` (the reports that travelled on their own), less those of tasks whose last
        report was already delivered, then the last reports recorded since the previous merge."""
        with self._lock:
            delivered = self._finished - {task_id for task_id, _, _ in self._last}
            last, self._last = self._last, []
        return [r for r in polled if r[0] not in delivered] + last
