"""RayExecutor on a real two-node Ray cluster on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pandas as pd
import pytest

from justenough import search
from justenough.data import load, prepare
from justenough.space.search_space import Space
from tests.services import ray_cluster  # noqa: F401  (fixture)

pytestmark = [pytest.mark.ray, pytest.mark.slow]

COLS = ["key", "val_mean", "val_std", "n_restarts", "n_diverged"]


def _board(result) -> pd.DataFrame:
    return result.leaderboard[COLS].sort_values("key").reset_index(drop=True)


@pytest.fixture(scope="module")
def digits():
    return prepare(load("digits"), seed=0)


def test_ray_gives_the_same_leaderboard_as_local(ray_cluster, digits):  # noqa: F811
    import ray

    space = Space.from_options(depth="1-2", widths="8,32", max_epochs=15, patience=None)
    local = search(digits, space=space, n_init=2, workers=1, report=False)
    remote = search(digits, space=space, n_init=2, executor="ray", ray_address=ray_cluster, report=False)
    pd.testing.assert_frame_equal(_board(local), _board(remote))
    assert not ray.is_initialized(), "the executor must disconnect after the search"


def _ray_task_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "ray::_run_on_ray"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_a_killed_worker_is_retried_without_duplicates(ray_cluster, digits, tmp_path):  # noqa: F811
    space = Space.from_options(depth="1", widths="16,32,64", max_epochs=60, patience=None)
    killed: list[int] = []
    done = threading.Event()

    def killer() -> None:
        while not done.is_set() and not killed:
            pids = _ray_task_pids()
            if pids:
                time.sleep(0.1)  # let it get into the training loop
                try:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        result = search(digits, space=space, n_init=2, executor="ray", ray_address=ray_cluster,
                        out=tmp_path / "run", report=False)
    finally:
        done.set()
        thread.join(timeout=5)
    assert killed, "no Ray task process was seen to kill"
    assert len(result.restarts) == 3 * 2
    assert not result.restarts.duplicated(["key", "restart"]).any()
    local = search(digits, space=space, n_init=2, workers=1, report=False)
    pd.testing.assert_frame_equal(_board(local), _board(result))


def test_progress_sees_the_epochs_of_ray_tasks(ray_cluster, digits):  # noqa: F811
    from justenough.engine.progress import SearchProgress

    class Recorder(SearchProgress):
        def __init__(self) -> None:
            self.epochs: dict[str, list[int]] = {}
            self.done: list[str] = []

        def on_epoch(self, configs, epoch, max_epochs):
            assert max_epochs == 150
            for cfg in configs:
                self.epochs.setdefault(cfg.key, []).append(epoch)

        def on_config_done(self, config, stats, best_so_far):
            self.done.append(config.key)

    rec = Recorder()
    space = Space.from_options(depth="1", widths="32,64", max_epochs=150, patience=None)
    search(digits, space=space, n_init=2, executor="ray", ray_address=ray_cluster, report=False, progress=rec)
    # Intermediate reports are best effort (every EPOCH_REPORT_S, fire and forget); the last one
    # of each task comes back with its result, so every config shows its final epoch, under any load.
    assert sorted(rec.done) == sorted(rec.epochs), "every config's stack reported its epochs"
    for seen in rec.epochs.values():
        assert seen == sorted(seen) and 1 <= seen[0] and seen[-1] == 150  # no patience: all 150 epochs


def test_grow_on_ray_takes_the_same_path_as_local(ray_cluster, digits):  # noqa: F811
    space = Space.from_options(depth="0-2", widths="8,16,32", max_epochs=15, patience=None, embed="none")
    local = search(digits, space=space, n_init=2, workers=1, report=False, strategy="grow")
    remote = search(digits, space=space, n_init=2, executor="ray", ray_address=ray_cluster, report=False, strategy="grow")
    pd.testing.assert_frame_equal(_board(local), _board(remote))
    assert remote.summary["growth"]["path"] == local.summary["growth"]["path"]
    assert len(remote.leaderboard) < len(space.configs()) or remote.summary["growth"]["not_needed"] == []
