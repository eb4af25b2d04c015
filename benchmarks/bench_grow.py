"""Grow against the full grid, side by side, on the quality suite's datasets (issue 15).

    OMP_NUM_THREADS=1 python benchmarks/bench_grow.py [--quick] [--datasets a,b,c] [--workers 2]
        [--grow-patience N] [--quality-dir DIR] [--smoke]

Runs against whichever ``justenough`` is importable (``PYTHONPATH=/path/to/src``). The datasets,
their loading and the one fixed 60/20/20 split by seed are the quality suite's
(``quality_datasets.py`` and ``bench_quality.split_tables``, next to this file, or in
``--quality-dir``). On each dataset ``justenough.search`` runs twice on the same split, both with
the default recipe (nothing passed but ``workers``, the split and ``strategy``): ``strategy="grid"``
(every config) and ``strategy="grow"`` (from the simplest config up, while bigger keeps paying).
Where the search's ``cv`` would fold (the quality suite's ``pools_validation``), both get the
training and validation rows pooled and validate by the same folds.

It prints, per dataset, both choices, both test scores, both wall times and the configs each
trained (with where growth stopped), and its last line is one JSON object:
``median_speedup_vs_grid`` (the grid's seconds over grow's, the median over datasets),
``worst_test_gap_points`` (grow minus grid, test accuracy or R^2 x 100, the lowest),
``same_choice_fraction`` (datasets where both chose the same config), ``datasets`` and the
per-dataset rows under ``rows``. Issue 15's targets: a gap of at least -0.5 and a speedup of at
least 3. ``--smoke`` checks that the script still runs (the test suite runs it): the suite's
tiny ``smoke`` table, depth 1 x widths 4, 8, 5 epochs, 2 restarts, one worker; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _import_quality(quality_dir: Path) -> tuple[Any, Any]:
    """The quality suite's modules (``bench_quality``, ``quality_datasets``) from ``quality_dir``."""
    sys.path.insert(0, str(quality_dir))
    try:
        import bench_quality
        import quality_datasets
    except ImportError as e:
        raise SystemExit(f"error: the quality suite (bench_quality.py, quality_datasets.py) is not in {quality_dir} "
                         f"({e}): pass --quality-dir") from None
    return bench_quality, quality_datasets


# --smoke: search() keywords that make each search a fraction of a second.
SMOKE_OPTIONS: dict[str, Any] = {"depth": 1, "widths": [4, 8], "max_epochs": 5, "n_init": 2}


def run_one(tables: Any, dataset: Any, strategy: str, workers: int, patience: int | None = None,
            options: dict[str, Any] | None = None, pooled: bool = False) -> dict[str, Any]:
    """One search; ``options`` are extra search() keywords (none: the default recipe). ``pooled``:
    the training and validation rows go in as one table, for the search's own folds (as the
    quality suite's ``pools_validation`` decides), else the validation rows as ``val=``."""
    import pandas as pd

    from justenough import search

    extra = {"grow_patience": patience} if patience is not None else {}  # else search()'s default
    extra.update(options or {})
    if pooled:
        extra["data"] = pd.concat([tables.train, tables.val], ignore_index=True)
    else:
        extra.update(data=tables.train, val=tables.val)
    t0 = time.perf_counter()
    result = search(target=dataset.target, task=dataset.task, test=tables.test,
                    workers=workers, report=False, strategy=strategy, **extra)
    seconds = time.perf_counter() - t0
    growth = result.summary.get("growth") or {}
    return {
        "chosen": str(result.chosen["label"]),
        "test_score": float(result.test_score),
        "seconds": seconds,
        "configs": [str(label) for label in result.leaderboard.sort_values(["params"])["label"]],
        "growth": growth.get("explanation"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the quality suite's quick datasets")
    parser.add_argument("--datasets", help="comma-separated names (default: the whole suite)")
    parser.add_argument("--workers", type=int, default=2, help="processes for each search (default 2)")
    parser.add_argument("--grow-patience", type=int, default=None, help="grow's patience (default: search()'s)")
    parser.add_argument("--quality-dir", type=Path, default=Path(__file__).resolve().parent,
                        help="where bench_quality.py and quality_datasets.py are (default: next to this file)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: the tiny smoke table, depth 1 x widths 4,8, 5 epochs, 2 restarts, 1 worker")
    args = parser.parse_args(argv)
    bq, qd = _import_quality(args.quality_dir)
    options: dict[str, Any] = {}
    if args.smoke:
        args.datasets, args.workers, options = "smoke", 1, SMOKE_OPTIONS
    try:
        datasets = bq.chosen_datasets(args.datasets, args.quick)
    except bq.BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"grow vs grid: {len(datasets)} datasets, default recipe, {args.workers} worker processes, "
          f"split {bq.SPLIT} seed {bq.SPLIT_SEED}")
    rows = []
    for dataset in datasets:
        frame = dataset.load()
        tables = bq.split_tables(frame, dataset.target, dataset.task)
        pooled = bq.pools_validation(len(tables.train) + len(tables.val), options)
        grid = run_one(tables, dataset, "grid", args.workers, options=options, pooled=pooled)
        grow = run_one(tables, dataset, "grow", args.workers, args.grow_patience, options, pooled)
        row = {
            "dataset": dataset.name, "task": dataset.task,
            "grid_chosen": grid["chosen"], "grow_chosen": grow["chosen"],
            "grid_test": grid["test_score"], "grow_test": grow["test_score"],
            "gap_points": 100.0 * (grow["test_score"] - grid["test_score"]),
            "grid_seconds": grid["seconds"], "grow_seconds": grow["seconds"],
            "speedup": grid["seconds"] / grow["seconds"] if grow["seconds"] > 0 else float("inf"),
            "grid_configs": len(grid["configs"]), "grow_configs": len(grow["configs"]),
            "grow_trained": grow["configs"], "growth": grow["growth"],
        }
        rows.append(row)
        print(f"\n{dataset.name} ({dataset.task}):")
        print(f"  grid: {row['grid_chosen']:>8}  test {100 * row['grid_test']:6.2f}  {row['grid_seconds']:7.1f} s  "
              f"{row['grid_configs']} configs trained")
        print(f"  grow: {row['grow_chosen']:>8}  test {100 * row['grow_test']:6.2f}  {row['grow_seconds']:7.1f} s  "
              f"{row['grow_configs']} configs trained: {', '.join(grow['configs'])}")
        print(f"  grow minus grid: {row['gap_points']:+.2f} points, {row['speedup']:.2f}x faster; {row['growth']}")
        sys.stdout.flush()
    summary = {
        "median_speedup_vs_grid": statistics.median(r["speedup"] for r in rows),
        "worst_test_gap_points": min(r["gap_points"] for r in rows),
        "same_choice_fraction": sum(r["grid_chosen"] == r["grow_chosen"] for r in rows) / len(rows),
        "datasets": [r["dataset"] for r in rows],
        "rows": [{k: v for k, v in r.items() if k not in ("grow_trained", "growth")} for r in rows],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
