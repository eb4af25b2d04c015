"""The whole search vs scikit-learn's GridSearchCV, side by side in one run.

    OMP_NUM_THREADS=1 python benchmarks/bench_search.py [--quick] [--smoke]

Ours: ``justenough.search("digits")`` with the default space (depth 1-3 x widths 4..256, Adam,
lr 1e-3, batch 64, early stopping with patience 10) and n_init 5, on both cores (two worker
processes), one-SE rule, then one test scoring.

Theirs: GridSearchCV over MLPClassifier with the same architectures and 5 random_state values as
a grid dimension, a PredefinedSplit on the same train/validation split, early stopping (sklearn's
own, n_iter_no_change=10), n_jobs=2. The best (config, seed) by validation accuracy is refit on
train+val by GridSearchCV's default; we instead score the fitted best-by-validation estimator on
the test split to keep the comparison like for like (refit=False, then fit that one candidate on
the training split only).

Then, for reference, the same search with non-default options, each timed the same way:
``--halving`` (successive halving inside stacks), ``--monitor val_score`` (early stopping on the
validation score, scikit-learn's own rule, instead of the loss), ``--precision bfloat16`` (mixed
precision matmuls), and all three together. ``--no-variants`` skips them.

Last, the floors (``search_floor.py``): how long the matrix products of our default search take
at the very least on this machine, counting only those products for the epochs each restart
actually ran, at the float32 peak and at the search's own shapes, split perfectly over the
workers. ``sklearn_seconds / floor`` bounds the speedup any float32 implementation of this search
could reach here.

``--je-option NAME=VALUE`` (repeatable, as in ``bench_quality.py``) changes a dimension of our space
(``lr=1e-2``, ``embed=auto``) or passes a ``search()`` keyword, to check the guard of at least 1.5x
for a candidate recipe; GridSearchCV keeps scikit-learn's recipe over the same architectures. The
floors count the plain layers only (not a periodic embedding's).

``--smoke`` checks that the script still runs (the test suite runs it): a few seconds, depth 1 x
width 8, 5 epochs, 2 restarts a side, one worker, the variants skipped; its numbers mean nothing.

The last line is one JSON object: speedup, ours_test_acc, sklearn_test_acc, ours_params,
sklearn_params (the default search), ``peak_floor_seconds``, ``shape_floor_seconds`` and
``speedup_ceiling`` (GridSearchCV's time over the shape floor), and ``variants`` with each
variant's speedup, test accuracy and parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, PredefinedSplit  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from bench_quality import parse_je_options  # noqa: E402
from search_floor import floors  # noqa: E402

from justenough.data import load, prepare  # noqa: E402
from justenough import search  # noqa: E402
from justenough.space.search_space import Space  # noqa: E402


def sklearn_params(model: MLPClassifier) -> int:
    return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="depth 1-2 x widths 16,64 only")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-variants", action="store_true", help="skip the --halving and --monitor val_score runs")
    parser.add_argument("--je-option", action="append", default=[], metavar="NAME=VALUE",
                        help="a dimension of our space (lr=1e-2, embed=auto) or a search() keyword; repeatable")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: depth 1 x width 8, 5 epochs, 2 restarts, 1 worker, no variants (a check that it runs)")
    args = parser.parse_args()

    base_options: dict[str, object] = dict(depth="1-2", widths="16,64") if args.quick else {}
    n_init, max_iter = 5, 200
    if args.smoke:
        base_options, n_init, max_iter = dict(depth="1", widths="8", max_epochs=5), 2, 5
        args.workers, args.no_variants = 1, True
    space_options, search_options = parse_je_options(args.je_option)
    base_options = {**base_options, **space_options}
    prepared = prepare(load("digits"), seed=0)
    # The space as the search resolves it (max_epochs "auto" becomes the task's budget, embed
    # "auto" the inputs' choice), so that GridSearchCV gets the very architectures ours trains.
    space = Space.from_options(**base_options).for_task(prepared.task, n_features=prepared.n_features)
    X_train, y_train = prepared.X_train.numpy(), prepared.y_train.numpy()
    X_val, y_val = prepared.X_val.numpy(), prepared.y_val.numpy()

    # --- ours ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    result = search(prepared, space=space, n_init=n_init, workers=args.workers, report=False, **search_options)
    ours_s = time.perf_counter() - t0
    ours_acc, ours_params = result.test_score, int(result.chosen["params"])

    # --- scikit-learn ----------------------------------------------------------------------
    archs = sorted({tuple(c.widths) for c in space.configs()}, key=lambda w: (len(w), w))
    X = np.concatenate([X_train, X_val])
    y = np.concatenate([y_train, y_val])
    fold = np.r_[np.full(len(X_train), -1), np.zeros(len(X_val), dtype=int)]
    grid = {"hidden_layer_sizes": archs, "random_state": list(range(n_init))}
    base = MLPClassifier(solver="adam", learning_rate_init=1e-3, batch_size=64, max_iter=max_iter,
                         early_stopping=True, n_iter_no_change=10, alpha=0.0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gs = GridSearchCV(base, grid, cv=PredefinedSplit(fold), n_jobs=args.workers, refit=False)
        gs.fit(X, y)
        best = MLPClassifier(**{**base.get_params(), **gs.best_params_}).fit(X_train, y_train)
    sk_s = time.perf_counter() - t0
    X_test, y_test = prepared.test.open()
    sk_acc = float((best.predict(X_test.numpy()) == y_test.numpy()).mean())
    sk_params = sklearn_params(best)

    print(f"space: {len(archs)} architectures x {n_init} restarts on digits ({len(X_train)} train, {len(X_val)} val rows), "
          f"{args.workers} worker processes each side")
    print(f"justenough search : {ours_s:7.1f} s  chosen {result.chosen['label']:>6} ({ours_params} params)  test acc {ours_acc:.4f}")
    print(f"sklearn GridSearch: {sk_s:7.1f} s  chosen {gs.best_params_['hidden_layer_sizes']} ({sk_params} params)  test acc {sk_acc:.4f}")
    print(f"speedup {sk_s / ours_s:.2f}x, accuracy gap {100 * (ours_acc - sk_acc):+.2f} points, "
          f"size ratio {ours_params / sk_params:.2f}")
    floor = floors(result.restarts, prepared.n_features, prepared.n_outputs, len(X_train), len(X_val),
                   batch_size=64, workers=args.workers, members=n_init)
    print(f"floors of our search ({floor['gflop']:.0f} GFLOP of matrix products, {args.workers} workers): "
          f"{floor['peak_floor_seconds']:.2f} s at the float32 peak ({floor['peak_gflops']:.0f} GFLOP/s per thread), "
          f"{floor['shape_floor_seconds']:.2f} s at the search's shapes, so at best "
          f"{sk_s / floor['shape_floor_seconds']:.2f}x GridSearchCV here; ours takes "
          f"{ours_s / floor['shape_floor_seconds']:.1f}x the shape floor")
    variants: dict[str, dict[str, float]] = {}
    if not args.no_variants:
        score = {"monitor": "val_score"}
        for name, options, halving, precision in [
            ("halving", {}, True, "float32"),
            ("monitor_val_score", score, False, "float32"),
            ("bfloat16", {}, False, "bfloat16"),
            ("all_three", score, True, "bfloat16"),
        ]:
            t0 = time.perf_counter()
            res = search(prepared, space=Space.from_options(**{**base_options, **options}), n_init=n_init, workers=args.workers,
                         halving=halving, precision=precision, report=False, **search_options)
            secs = time.perf_counter() - t0
            variants[name] = {"speedup": round(sk_s / secs, 3), "seconds": round(secs, 2),
                              "test_acc": round(res.test_score, 4), "params": int(res.chosen["params"])}
            print(f"  variant {name:18s}: {secs:7.1f} s  chosen {res.chosen['label']:>6} ({res.chosen['params']} params)  "
                  f"test acc {res.test_score:.4f}  speedup {sk_s / secs:.2f}x")
    print(json.dumps({
        "speedup": round(sk_s / ours_s, 3),
        "ours_test_acc": round(ours_acc, 4),
        "sklearn_test_acc": round(sk_acc, 4),
        "ours_params": ours_params,
        "sklearn_params": sk_params,
        "ours_seconds": round(ours_s, 2),
        "sklearn_seconds": round(sk_s, 2),
        "peak_floor_seconds": round(floor["peak_floor_seconds"], 2),
        "shape_floor_seconds": round(floor["shape_floor_seconds"], 2),
        "speedup_ceiling": round(sk_s / floor["shape_floor_seconds"], 3),
        "variants": variants,
    }))


if __name__ == "__main__":
    main()
