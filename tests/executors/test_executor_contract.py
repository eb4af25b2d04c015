"""The executor contract, one test class run against every executor.

As Optuna's storage tests run one suite against each storage, ``ExecutorContract`` holds what
every executor promises the driver (``executors/contract.py``), and each subclass gives it
one executor: local with one worker (inline), local with two worker processes (forked, and
spawned), and Ray on a real two-node cluster on this machine (skipped when Ray is not installed,
as the other Ray tests).

- every task's results come back complete: one per (config, restart), in order, with weights;
- they equal the inline trainer's, bit for bit (where a stack trains must not change its numbers);
- resubmitting a task (a retry) gives the same records, which the study stores once;
- epochs are reported while a task trains, for the progress display, the last one before the result;
- a task that fails surfaces its error through its future.
"""

from __future__ import annotations

import multiprocessing
from typing import Any, Iterator

import numpy as np
import optuna
import pytest

from justenough.data import load, prepare
from justenough.executors import Executor, LocalExecutor
from justenough.study.record import RestartResult
from justenough.space.search_space import Space
from justenough.study.storage import restart_attr
from justenough.executors.task import StackTask, run_stack_task
from justenough.executors.training_data import TrainingData
from tests.services import ray_cluster  # noqa: F401  (fixture)

RESTARTS = (0, 1)


@pytest.fixture(scope="module")
def data() -> TrainingData:
    return TrainingData.from_prepared(prepare(load("iris"), seed=0))


@pytest.fixture(scope="module")
def tasks() -> list[StackTask]:
    space = Space.from_options(depth="1", widths="4,8", max_epochs=15, patience=3, embed="none")
    return [StackTask(configs=(c,), restarts=RESTARTS, study_seed=0, task_id=c.key) for c in space.configs()]


@pytest.fixture(scope="module")
def inline_results(tasks: list[StackTask], data: TrainingData) -> list[list[RestartResult]]:
    """What the stateless trainer gives in this process: the reference for every executor."""
    return [run_stack_task(t, data) for t in tasks]


def _same(a: RestartResult, b: RestartResult) -> bool:
    fields = ("key", "restart", "seed", "val_score", "val_loss", "best_epoch", "epochs_run", "history")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and a.state.keys() == b.state.keys() and all(
        np.array_equal(a.state[name], b.state[name]) for name in a.state
    )


class ExecutorContract:
    """What every executor promises; a subclass provides the ``executor`` fixture (started)."""

    @pytest.fixture()
    def executor(self, data: TrainingData) -> Iterator[Executor]:
        raise NotImplementedError

    def test_results_come_back_complete(self, executor: Executor, tasks: list[StackTask]) -> None:
        assert executor.slots >= 1
        futures = [executor.submit(t) for t in tasks]
        for task, future in zip(tasks, futures):
            results = future.result(timeout=300)
            assert [(r.key, r.restart) for r in results] == [(c.key, k) for c in task.configs for k in task.restarts]
            assert all(r.state and r.history["val_loss"] for r in results)

    def test_results_equal_the_inline_trainers(self, executor: Executor, tasks: list[StackTask],
                                               inline_results: list[list[RestartResult]]) -> None:
        got = [f.result(timeout=300) for f in [executor.submit(t) for t in tasks]]
        for want_list, got_list in zip(inline_results, got):
            assert len(want_list) == len(got_list)
            assert all(_same(a, b) for a, b in zip(want_list, got_list))

    def test_a_resubmitted_task_is_stored_once(self, executor: Executor, tasks: list[StackTask]) -> None:
        """A retried task returns the same records, keyed by (config key, restart): storing them
        again, as the driver does, leaves one attribute per restart with the same value."""
        first = executor.submit(tasks[0]).result(timeout=300)
        again = executor.submit(tasks[0]).result(timeout=300)
        assert all(_same(a, b) for a, b in zip(first, again))
        trial = optuna.create_study().ask()
        for results in (first, again):
            for r in results:
                trial.set_user_attr(restart_attr(r.restart), r.to_attrs())
        assert sorted(k for k in trial.user_attrs if k.startswith("restart_")) == [restart_attr(k) for k in RESTARTS]
        for r in first:  # the same record (the time it took is the one thing a retry may change)
            stored = trial.user_attrs[restart_attr(r.restart)]
            assert {**stored, "train_time": None} == {**r.to_attrs(), "train_time": None}

    def test_epochs_are_reported_while_a_task_trains(self, executor: Executor) -> None:
        """Reports travel on their own and may be late, but the last one is delivered before the
        result (``executors/last_epoch.py``): one poll after the future is done holds it."""
        # Early stopping ends the stack at an epoch no rate limit of the reports is aligned with.
        config = Space.from_options(depth="1", widths="4", lr=0.3, max_epochs=400, patience=1, embed="none").configs()[0]
        task = StackTask(configs=(config,), restarts=RESTARTS, study_seed=0, task_id="stops-early")
        max_epochs = config.max_epochs
        results = executor.submit(task).result(timeout=300)
        reports = [r for r in executor.poll_epochs() if r[0] == task.task_id]
        assert reports, "the task's last epoch was not reported before its result"
        epochs = [epoch for _, epoch, _ in reports]
        assert all(total == max_epochs for _, _, total in reports)
        assert epochs == sorted(epochs) and 1 <= epochs[0]
        assert epochs[-1] == max(r.epochs_run for r in results)  # the last epoch the stack trained

    def test_a_failing_task_surfaces_its_error(self, executor: Executor, tasks: list[StackTask]) -> None:
        mixed = Space.from_options(depth="1-2", widths="4", max_epochs=3, embed="none").configs()
        bad = StackTask(configs=tuple(mixed), restarts=(0,), study_seed=0, task_id="bad")  # two depths, one stack
        with pytest.raises(ValueError, match="must share depth"):
            executor.submit(bad).result(timeout=300)
        # The executor still serves the next task.
        assert len(executor.submit(tasks[0]).result(timeout=300)) == len(RESTARTS)


class TestLocalOneWorker(ExecutorContract):
    @pytest.fixture()
    def executor(self, data: TrainingData) -> Iterator[Executor]:
        with LocalExecutor(workers=1) as ex:
            ex.start(data)
            yield ex


class TestLocalTwoWorkers(ExecutorContract):
    """Worker processes forked (the default on Linux) or spawned: either way, the same contract."""

    @pytest.fixture(params=["fork", "spawn"])
    def executor(self, request: pytest.FixtureRequest, data: TrainingData, monkeypatch: pytest.MonkeyPatch) -> Iterator[Executor]:
        if request.param not in multiprocessing.get_all_start_methods():
            pytest.skip(f"{request.param} is not available here")
        monkeypatch.setenv("JUSTENOUGH_START_METHOD", request.param)
        with LocalExecutor(workers=2) as ex:
            ex.start(data)
            yield ex


@pytest.mark.ray
@pytest.mark.slow
class TestRay(ExecutorContract):
    @pytest.fixture()
    def executor(self, data: TrainingData, ray_cluster: str) -> Iterator[Any]:  # noqa: F811
        from justenough.executors.ray import RayExecutor

        ex = RayExecutor(address=ray_cluster)
        ex.start(data)
        try:
            yield ex
        finally:
            ex.close()
