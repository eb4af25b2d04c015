"""Wall time of one search on 2 Ray worker processes vs 1, side by side in one run.

    python benchmarks/bench_scale.py [--quick] [--smoke]

Each side starts a local Ray instance with that many CPUs (one torch thread per task), warms its
workers up (imports torch and justenough: a fixed cost a long-lived cluster pays once), then
times the same search on digits, and shuts Ray down. The last line is one JSON object:
speedup_2_vs_1. ``--smoke`` checks that the script still runs (the test suite runs it): depth 1
x width 8, 3 epochs, 2 restarts; its numbers mean nothing (Ray's start dominates).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local benchmark cluster needs no tokens

from justenough.data import load, prepare  # noqa: E402
from justenough import search  # noqa: E402
from justenough.space.search_space import Space  # noqa: E402


def _warm() -> int:
    import justenough.executors.task  # noqa: F401  (imports torch too)

    return os.getpid()


def run(workers: int, space: Space, prepared, n_init: int) -> tuple[float, object]:
    import ray

    ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="error")
    try:
        warm = ray.remote(num_cpus=1)(_warm)
        pids = set(ray.get([warm.remote() for _ in range(4 * workers)]))
        t0 = time.perf_counter()
        # The executor joins the running Ray instance (and leaves it running).
        result = search(prepared, space=space, n_init=n_init, executor="ray", workers=workers, report=False)
        return time.perf_counter() - t0, result
    finally:
        ray.shutdown()
        del pids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    parser.add_argument("--smoke", action="store_true", help="depth 1 x width 8, 3 epochs, 2 restarts (a check that it runs)")
    args = parser.parse_args()
    widths = "16,64" if args.quick else "8,16,32,64,128,256"
    space = Space.from_options(depth="1-3", widths=widths, max_epochs=40, patience=None)
    n_init = 5
    if args.smoke:
        space, n_init = Space.from_options(depth="1", widths="8", max_epochs=3, patience=None), 2
    prepared = prepare(load("digits"), seed=0)
    t1, r1 = run(1, space, prepared, n_init)
    t2, r2 = run(2, space, prepared, n_init)
    same = r1.leaderboard.sort_values("key")["val_mean"].tolist() == r2.leaderboard.sort_values("key")["val_mean"].tolist()
    print(f"configs: {len(r1.leaderboard)} x {n_init} restarts, digits, cpu cores: {os.cpu_count()}")
    print(f"1 Ray worker : {t1:7.2f} s")
    print(f"2 Ray workers: {t2:7.2f} s")
    print(f"speedup      : {t1 / t2:7.2f}x   (same leaderboard: {same})")
    print(json.dumps({"speedup_2_vs_1": round(t1 / t2, 3), "seconds_1": round(t1, 2), "seconds_2": round(t2, 2), "same_leaderboard": same}))


if __name__ == "__main__":
    main()
