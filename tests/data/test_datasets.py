"""justenough.data.datasets: the bundled real datasets match scikit-learn, the synthetic sets are seeded
and shaped as documented, and available() tells the truth about every one of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets as skd

from justenough.data import load, prepare
from justenough.data.datasets import DATASETS, available, is_dataset, load_dataset
from justenough.errors import DataError

SYNTHETIC = ["moons", "circles", "xor", "spiral"]


def test_available_lists_every_dataset_truthfully() -> None:
    table = available()
    assert list(table.columns) == ["name", "rows", "features", "task", "description"]
    assert set(table["name"]) == {"digits", "breast_cancer", "wine", "iris", "diabetes", *SYNTHETIC}
    for row in table.itertuples():
        df = load_dataset(row.name)
        assert df.shape == (row.rows, row.features + 1), row.name
        assert df.columns[-1] == "target"
        assert load(row.name).task == row.task


@pytest.mark.parametrize(
    ("name", "loader"),
    [("digits", skd.load_digits), ("breast_cancer", skd.load_breast_cancer), ("wine", skd.load_wine),
     ("iris", skd.load_iris), ("diabetes", skd.load_diabetes)],
)
def test_real_datasets_equal_sklearn(name: str, loader) -> None:
    bunch = loader()
    df = load_dataset(name)
    np.testing.assert_array_equal(df.drop(columns="target").to_numpy(), bunch.data)
    assert list(df.columns[:-1]) == [str(n) for n in bunch.feature_names]
    if name == "diabetes":
        np.testing.assert_array_equal(df["target"].to_numpy(), bunch.target)
    else:  # labels are sklearn's class names (digits: the digits themselves)
        names = np.asarray(bunch.target_names)
        np.testing.assert_array_equal(df["target"].to_numpy().astype(str), names[bunch.target].astype(str))


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_sets_are_seeded_balanced_and_2d(name: str) -> None:
    a, b, c = load_dataset(name, seed=0), load_dataset(name, seed=0), load_dataset(name, seed=1)
    assert list(a.columns) == ["x1", "x2", "target"]
    pd.testing.assert_frame_equal(a, b)  # same seed, same table, bit for bit
    assert not np.array_equal(a[["x1", "x2"]].to_numpy(), c[["x1", "x2"]].to_numpy())
    counts = a["target"].value_counts()
    assert set(counts.index) == {0, 1} and abs(counts[0] - counts[1]) <= 0.1 * len(a)
    assert np.isfinite(a[["x1", "x2"]].to_numpy()).all()


def test_synthetic_geometry() -> None:
    circles = load_dataset("circles", seed=2)
    r = np.hypot(circles["x1"], circles["x2"])
    assert r[circles["target"] == 0].mean() == pytest.approx(1.0, abs=0.05)  # outer circle
    assert r[circles["target"] == 1].mean() == pytest.approx(0.5, abs=0.05)  # inner circle
    xor = load_dataset("xor", seed=2)
    assert ((xor["x1"] * xor["x2"] < 0) == (xor["target"] == 1)).all()  # 1 where the signs differ
    spiral = load_dataset("spiral", seed=2)
    assert np.hypot(spiral["x1"], spiral["x2"]).max() < 1.2


def test_names_are_forgiving_and_unknown_names_are_listed() -> None:
    assert is_dataset("Breast-Cancer") and is_dataset("iris") and not is_dataset("mnist")
    assert load_dataset("Breast-Cancer").shape == (569, 31)
    with pytest.raises(DataError, match=r"unknown dataset 'irsi': did you mean 'iris'\?.*digits, breast_cancer"):
        load_dataset("irsi")
    assert set(DATASETS) == set(available()["name"])


def test_synthetic_sets_prepare_and_separate() -> None:
    """The teaching sets load, split and are not linearly trivial (xor defeats a linear model)."""
    from sklearn.linear_model import LogisticRegression

    p = prepare(load("xor", seed=3), seed=0)
    assert p.split_sizes == {"train": 300, "val": 100, "test": 100}
    clf = LogisticRegression().fit(p.X_train.numpy(), p.y_train.numpy())
    assert clf.score(p.X_val.numpy(), p.y_val.numpy()) < 0.75
