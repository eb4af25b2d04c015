"""The local executor: how its worker processes start. That every way trains the same, bit for bit,
is the executor contract's (tests/executors/test_executor_contract.py)."""

from __future__ import annotations

import multiprocessing

import pytest

from justenough.data import load, prepare
from justenough.errors import ConfigError
from justenough.executors import LocalExecutor, start_method
from justenough.space.search_space import Space
from justenough.executors.task import StackTask
from justenough.executors.training_data import TrainingData


def test_start_method_forks_for_cpu_on_linux_and_spawns_otherwise(monkeypatch):
    monkeypatch.delenv("JUSTENOUGH_START_METHOD", raising=False)
    assert start_method("cpu") == "fork"  # the CI machines are Linux
    assert start_method("cuda") == "spawn"  # fork after CUDA is unsafe
    assert start_method("cuda:1") == "spawn"
    monkeypatch.setattr("sys.platform", "darwin")
    assert start_method("cpu") == "spawn"


def test_start_method_can_be_forced(monkeypatch):
    monkeypatch.setenv("JUSTENOUGH_START_METHOD", "spawn")
    assert start_method("cpu") == "spawn"
    monkeypatch.setenv("JUSTENOUGH_START_METHOD", "teleport")
    with pytest.raises(ConfigError, match="JUSTENOUGH_START_METHOD"):
        start_method("cpu")


@pytest.fixture(scope="module")
def tasks_and_data():
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="4,8", max_epochs=15, patience=3, embed="none")
    tasks = [StackTask(configs=(c,), restarts=(0, 1), study_seed=0, task_id=c.key) for c in space.configs()]
    return tasks, TrainingData.from_prepared(prepared)


def test_workers_start_with_the_executor_before_any_task(tasks_and_data, monkeypatch):
    """A forking pool starts its workers in ``start``, while the caller has no other thread
    running (the search starts its live display only afterwards)."""
    monkeypatch.delenv("JUSTENOUGH_START_METHOD", raising=False)
    _, data = tasks_and_data
    before = set(multiprocessing.active_children())
    with LocalExecutor(workers=2) as pool:
        pool.start(data)
        started = set(multiprocessing.active_children()) - before
        assert len(started) >= 2  # the two workers (and maybe the queue's helper)
