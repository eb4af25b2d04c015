"""justenough.MLPClassifier(n_init=5) against scikit-learn's MLPClassifier, fitted 5 times.

For each dataset (breast_cancer, digits; a fixed stratified 75/25 split) and each random state
0..4: scikit-learn's MLPClassifier with the default settings and ``hidden_layer_sizes``, fitted once
per random state, one after another; and ``justenough.MLPClassifier`` with the same
``hidden_layer_sizes`` and ``n_init=5``, which trains its 5 restarts at once as one stack.

Figures:
- ``speedup``: (time of the 5 sklearn fits in a row) / (time of one justenough fit with n_init=5),
  the justenough time being the median over its 5 random states;
- ``acc_gap_points``: justenough mean test accuracy minus sklearn mean test accuracy, in points
  (positive: justenough is better).

One torch / BLAS thread for both (OMP_NUM_THREADS=1). The last line printed is one JSON object.
Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_estimators.py [--hidden 100] [--smoke]``.
``--smoke`` checks that the script still runs (the test suite runs it): breast_cancer only, one
random state, hidden (8,), 5 epochs; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402

from justenough.estimators import MLPClassifier  # noqa: E402

__all__ = ["run"]

DATASETS = {"breast_cancer": load_breast_cancer, "digits": load_digits}


def _split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = DATASETS[name](return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def run(hidden: tuple[int, ...] = (100,), states: int = 5, datasets: tuple[str, ...] = tuple(DATASETS),
        max_iter: int | None = None) -> dict[str, dict[str, float]]:
    """The figures; ``max_iter`` (both sides' epoch limit) stays each side's default when None."""
    torch.set_num_threads(1)
    figures: dict[str, dict[str, float]] = {"speedup": {}, "acc_gap_points": {}}
    details: dict[str, dict[str, float]] = {}
    limit = {} if max_iter is None else {"max_iter": max_iter}
    for name in datasets:
        X_tr, X_te, y_tr, y_te = _split(name)
        # One untimed fit each first: one-time costs (lazy imports, torch's first kernels) are
        # not what the comparison is about.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            SkMLPClassifier(hidden_layer_sizes=hidden, max_iter=5, random_state=0).fit(X_tr, y_tr)
        MLPClassifier(hidden_layer_sizes=hidden, n_init=5, max_iter=5, random_state=0).fit(X_tr, y_tr)
        sk_acc, sk_times, je_acc, je_times = [], [], [], []
        # Interleaved (sklearn fit, justenough fit) per random state, so that load from other
        # processes on a shared machine hits both sides alike.
        for rs in range(states):
            model = SkMLPClassifier(hidden_layer_sizes=hidden, random_state=rs, **limit)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning at max_iter
                model.fit(X_tr, y_tr)
            sk_times.append(time.perf_counter() - t0)
            sk_acc.append(model.score(X_te, y_te))
            ours = MLPClassifier(hidden_layer_sizes=hidden, n_init=5, random_state=rs, **limit)
            t0 = time.perf_counter()
            ours.fit(X_tr, y_tr)
            je_times.append(time.perf_counter() - t0)
            je_acc.append(ours.score(X_te, y_te))
        sk_time = float(np.sum(sk_times))
        je_time = float(np.median(je_times))
        figures["speedup"][name] = round(sk_time / je_time, 3)
        figures["acc_gap_points"][name] = round(100.0 * (float(np.mean(je_acc)) - float(np.mean(sk_acc))), 3)
        details[name] = {
            "sklearn_5_fits_s": sk_time,
            "justenough_fit_s": je_time,
            "sklearn_acc": float(np.mean(sk_acc)),
            "justenough_acc": float(np.mean(je_acc)),
        }
        print(
            f"{name:14s} sklearn {states} fits {sk_time:7.2f} s  acc {np.mean(sk_acc):.4f}   |   "
            f"justenough n_init=5 {je_time:7.2f} s  acc {np.mean(je_acc):.4f}   |   "
            f"speedup {sk_time / je_time:5.2f}x  gap {figures['acc_gap_points'][name]:+.2f} pts",
            flush=True,
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="100", help="hidden_layer_sizes, comma separated (default 100)")
    parser.add_argument("--states", type=int, default=5, help="random states per side (default 5)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: breast_cancer, 1 random state, hidden 8, 5 epochs (a check that it runs)")
    args = parser.parse_args()
    if args.smoke:
        figures = run((8,), states=1, datasets=("breast_cancer",), max_iter=5)
    else:
        figures = run(tuple(int(w) for w in args.hidden.split(",")), args.states)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
