"""Bundled datasets, by name: scikit-learn's real ones and seeded synthetic 2-D teaching sets.

The real datasets (``digits``, ``breast_cancer``, ``wine``, ``iris``, ``diabetes``) ship inside
scikit-learn, so nothing is downloaded. Class labels are the readable names scikit-learn gives
(``setosa``, ``malignant``, ...), digits keep their integer values 0..9.

The synthetic sets (``moons``, ``circles``, ``xor``, ``spiral``) are two features ``x1, x2`` and a
binary ``target``, generated from an explicit ``numpy.random.Generator`` seeded by ``seed``: the
same seed gives the same table, bit for bit, and no global random state is read.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from justenough.errors import DataError
from justenough.vocab import Task

__all__ = ["available", "load_dataset", "is_dataset", "close_names", "DatasetInfo", "DATASETS"]

SYNTHETIC_ROWS = 500  # rows of each synthetic set


@dataclass(frozen=True)
class DatasetInfo:
    """What ``available()`` lists about one bundled dataset."""

    name: str
    rows: int
    features: int
    task: str  # "classification" or "regression"
    description: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("digits", 1797, 64, "classification", "8x8 images of handwritten digits 0-9 (scikit-learn)"),
        DatasetInfo("breast_cancer", 569, 30, "classification", "Wisconsin breast cancer, malignant or benign (scikit-learn)"),
        DatasetInfo("wine", 178, 13, "classification", "chemical analysis of wines from three cultivars (scikit-learn)"),
        DatasetInfo("iris", 150, 4, "classification", "Fisher's iris flowers, three species (scikit-learn)"),
        DatasetInfo("diabetes", 442, 10, "regression", "disease progression one year after baseline (scikit-learn)"),
        DatasetInfo("moons", SYNTHETIC_ROWS, 2, "classification", "two interleaving half circles with noise (synthetic, seeded)"),
        DatasetInfo("circles", SYNTHETIC_ROWS, 2, "classification", "a circle inside a circle with noise (synthetic, seeded)"),
        DatasetInfo("xor", SYNTHETIC_ROWS, 2, "classification", "XOR of the signs of x1 and x2 (synthetic, seeded)"),
        DatasetInfo("spiral", SYNTHETIC_ROWS, 2, "classification", "two interleaved spiral arms (synthetic, seeded)"),
    )
}


def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def is_dataset(name: str) -> bool:
    """True when ``name`` names a bundled dataset (case, ``-`` and ``_`` do not matter)."""
    return isinstance(name, str) and _normalize(name) in DATASETS


def close_names(name: str, n: int = 2, cutoff: float = 0.6) -> list[str]:
    """The bundled datasets spelled nearly like ``name`` (``digts`` -> ``["digits"]``), best first:
    what a "did you mean" hint offers for a name that is neither a file nor a dataset."""
    if not isinstance(name, str):
        return []
    return difflib.get_close_matches(_normalize(name), list(DATASETS), n=n, cutoff=cutoff)


def available() -> pd.DataFrame:
    """The bundled datasets: one row each, columns ``name, rows, features, task, description``."""
    return pd.DataFrame(
        [[i.name, i.rows, i.features, i.task, i.description] for i in DATASETS.values()],
        columns=["name", "rows", "features", "task", "description"],
    )


def load_dataset(name: str, seed: int = 0) -> pd.DataFrame:
    """The dataset ``name`` as one DataFrame: its features plus a ``target`` column.

    ``seed`` only matters for the synthetic sets. Unknown names raise ``DataError`` listing the names.
    """
    key = _normalize(name) if isinstance(name, str) else ""
    if key not in DATASETS:
        close = close_names(key)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise DataError(
            f"unknown dataset {name!r}: {hint}the bundled datasets are {', '.join(DATASETS)} "
            "(see justenough.data.datasets.available())"
        )
    if key in _REAL:
        return _load_real(key)
    rng = np.random.default_rng(seed)
    X, y = _SYNTHETIC[key](rng, SYNTHETIC_ROWS)
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "target": y})


# --- real datasets (inside scikit-learn, no download) ---------------------------------------


def _load_real(key: str) -> pd.DataFrame:
    from sklearn import datasets as skd

    loader = {
        "digits": skd.load_digits,
        "breast_cancer": skd.load_breast_cancer,
        "wine": skd.load_wine,
        "iris": skd.load_iris,
        "diabetes": skd.load_diabetes,
    }[key]
    bunch = loader()
    names = [str(n) for n in bunch.feature_names] if hasattr(bunch, "feature_names") else None
    if not names or len(names) != bunch.data.shape[1]:
        names = [f"x{j}" for j in range(bunch.data.shape[1])]
    df = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    target = np.asarray(bunch.target)
    if DATASETS[key].task == Task.CLASSIFICATION:
        target_names = [t.item() if isinstance(t, np.generic) else t for t in np.asarray(bunch.target_names)]
        # readable class names where scikit-learn has them (iris: setosa, ...); digits stay 0..9
        df["target"] = pd.Series([target_names[int(t)] for t in target], dtype=object)
        if all(isinstance(t, int) for t in target_names):
            df["target"] = target.astype(np.int64)
    else:
        df["target"] = target.astype(np.float64)
    return df


_REAL = {"digits", "breast_cancer", "wine", "iris", "diabetes"}


# --- synthetic 2-D sets: each returns X [n, 2] float64, y [n] int64 ---------------------------


def _moons(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    n_out = n // 2
    n_in = n - n_out
    t_out = rng.uniform(0.0, np.pi, n_out)
    t_in = rng.uniform(0.0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)  # upper half circle
    inner = np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)  # lower one, shifted
    X = np.concatenate([outer, inner]) + rng.normal(0.0, 0.2, (n, 2))
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _shuffle(rng, X, y)


def _circles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    n_out = n // 2
    n_in = n - n_out
    t = rng.uniform(0.0, 2 * np.pi, n)
    radius = np.concatenate([np.ones(n_out), np.full(n_in, 0.5)])
    X = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1) + rng.normal(0.0, 0.1, (n, 2))
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _shuffle(rng, X, y)


def _xor(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)  # 1 where the signs differ
    return X, y


def _spiral(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    n0 = n // 2
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    turns = 1.75
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * turns * 2 * np.pi  # denser near the centre
    phase = y * np.pi  # the second arm is the first one turned by 180 degrees
    r = t / (turns * 2 * np.pi)  # radius in [0, 1]
    X = np.stack([r * np.cos(t + phase), r * np.sin(t + phase)], axis=1) + rng.normal(0.0, 0.03, (n, 2))
    return _shuffle(rng, X, y)


def _shuffle(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


_SYNTHETIC: dict[str, Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]] = {
    "moons": _moons,
    "circles": _circles,
    "xor": _xor,
    "spiral": _spiral,
}
