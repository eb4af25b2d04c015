"""The numeric scalings (``numeric``: standard, robust, quantile), fitted on the training rows:
scikit-learn as the oracle (``QuantileTransformer``, ``RobustScaler``), the smooth clip's
mathematics, the JSON round trip, imputation, constant columns and bad values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import QuantileTransformer, RobustScaler

from justenough.data import Preprocessor
from justenough.data.quantile_scaling import fit_quantiles, quantile_transform
from justenough.data.robust_scaling import SMOOTH_CLIP_BOUND, fit_robust_scale, robust_transform, smooth_clip
from justenough.errors import ConfigError, DataError
from justenough.vocab import NumericScaling


def _train(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A skewed column with missing values, an integer column full of ties, a column that is mostly one value."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.lognormal(10.0, 1.0, n),
        "count": rng.integers(0, 6, n).astype(np.float64),
        "mostly_zero": np.where(rng.random(n) < 0.8, 0.0, rng.normal(5.0, 2.0, n)),
    })
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    return frame


def _unseen(seed: int = 1) -> pd.DataFrame:
    """New rows: inside the training range, beyond both ends, on the training values (ties), far out."""
    rng = np.random.default_rng(seed)
    inside = pd.DataFrame({
        "income": rng.lognormal(10.0, 1.0, 40),
        "count": rng.integers(0, 6, 40).astype(np.float64),
        "mostly_zero": rng.normal(2.0, 3.0, 40),
    })
    edges = pd.DataFrame({
        "income": [-1e9, 0.0, 1e12, 1e300, 22026.465794806718],
        "count": [-3.0, 0.0, 5.0, 99.0, 2.0],
        "mostly_zero": [0.0, -1e6, 1e6, 0.0, 0.0],
    })
    return pd.concat([inside, edges], ignore_index=True)


# --- quantile: scikit-learn's QuantileTransformer as the oracle ---------------------------------


@pytest.mark.parametrize("n", [300, 1500])  # fewer rows than 1000 quantiles, and more
def test_quantile_equals_scikit_learn_on_train_and_unseen_rows(n: int) -> None:
    train = _train(n)
    pre = Preprocessor(numeric="quantile").fit(train)
    oracle = QuantileTransformer(output_distribution="normal", n_quantiles=min(1000, n), subsample=None)
    oracle.fit(train.to_numpy())  # scikit-learn leaves the NaN out of the quantiles, as the preprocessing does
    for frame in (train.fillna(train.median()), _unseen()):
        want = oracle.transform(frame.to_numpy())  # [N, 3] float64
        np.testing.assert_allclose(pre.transform(frame), want.astype(np.float32), rtol=1e-6, atol=1e-6)
        for j, name in enumerate(frame.columns):  # the float64 transform itself, before the float32 features
            got = quantile_transform(frame[name].to_numpy(np.float64), pre.columns[j]["quantiles"])
            np.testing.assert_allclose(got, want[:, j], rtol=1e-12, atol=1e-12)


def test_quantile_keeps_min_1000_rows_quantiles_and_maps_ties_to_their_middle() -> None:
    assert len(fit_quantiles(np.arange(50.0), 50)) == 50
    assert len(fit_quantiles(np.arange(5000.0), 5000)) == 1000
    # 0 holds the middle half of the rows: its tied quantiles span p = 1/4..3/4, and a 0 maps to their middle.
    values = np.r_[-np.arange(1.0, 26.0), np.zeros(50), np.arange(1.0, 26.0)]
    out = quantile_transform(np.array([0.0, -1e-3, 1e-3]), fit_quantiles(values, values.size))
    assert abs(out[0]) < 1e-9 and out[1] < -0.6 and out[2] > 0.6  # just off the tie: its ends


def test_quantile_outside_the_training_range_maps_to_the_clipped_ends() -> None:
    q = fit_quantiles(np.arange(100.0), 100)
    out = quantile_transform(np.array([-1e6, 0.0, 99.0, 1e6]), q)
    assert out[0] == out[1] < -5.19 and out[2] == out[3] > 5.19  # the ends of the range: +-5.1993...


# --- robust: scikit-learn's RobustScaler for the centering and scaling, then the smooth clip -----


def test_robust_equals_scikit_learns_robust_scaler_then_the_smooth_clip() -> None:
    train = _train()[["income", "count"]]  # interquartile ranges above 0
    pre = Preprocessor(numeric="robust").fit(train)
    oracle = RobustScaler().fit(train.to_numpy())  # median and IQR of the present values
    unseen = _unseen()[["income", "count"]]
    far = unseen["income"] == 1e300  # the oracle's (z / 3)^2 overflows there, and its formula gives 0
    assert pre.transform(unseen[far])[0, 0] == 3.0
    for frame in (train.fillna(train.median()), unseen[~far]):
        z = oracle.transform(frame.to_numpy())  # [N, 2]
        want = z / np.sqrt(1.0 + (z / 3.0) ** 2)
        np.testing.assert_allclose(pre.transform(frame), want.astype(np.float32), rtol=1e-6, atol=1e-6)
    for j, spec in enumerate(pre.columns):
        assert (spec["center"], spec["scale"]) == (oracle.center_[j], oracle.scale_[j])


def test_robust_scales_by_half_the_range_when_the_iqr_is_zero() -> None:
    values = np.r_[np.zeros(80), np.linspace(-4.0, 6.0, 20)]  # q25 = q75 = 0
    center, scale = fit_robust_scale(values)
    assert (center, scale) == (0.0, 5.0)
    frame = pd.DataFrame({"x": values})
    pre = Preprocessor(numeric="robust").fit(frame)
    np.testing.assert_allclose(pre.transform(pd.DataFrame({"x": [5.0]}))[:, 0], smooth_clip(np.array([1.0])), rtol=1e-7)


# --- the smooth clip's mathematics --------------------------------------------------------------


def test_the_smooth_clip_is_bounded_by_3_odd_monotone_and_the_identity_near_0() -> None:
    z = np.r_[-np.logspace(-8, 308, 2000)[::-1], 0.0, np.logspace(-8, 308, 2000)]  # sorted, up to 1e308
    f = smooth_clip(z)
    assert np.all(np.abs(f) <= SMOOTH_CLIP_BOUND)
    assert np.all(np.diff(f) >= 0)  # non-decreasing (strictly increasing up to rounding)
    np.testing.assert_array_equal(smooth_clip(-z), -f)  # odd
    small = np.linspace(-0.1, 0.1, 201)
    assert np.all(np.abs(smooth_clip(small) - small) <= np.abs(small) ** 3 / 18.0 + 1e-18)  # f(z) = z - z^3/18 + O(z^5)
    np.testing.assert_allclose(smooth_clip(np.array([3.0, 1e9])), [3.0 / np.sqrt(2.0), 3.0], rtol=1e-12)
    assert np.isfinite(robust_transform(np.array([1e308, -1e308]), 0.0, 1e-300)).all()  # overflow: clipped to +-3


# --- fitting, imputation, constant columns, the default ------------------------------------------


@pytest.mark.parametrize("numeric", list(NumericScaling))
def test_a_missing_value_is_the_training_median_and_a_constant_column_is_dropped(numeric: str) -> None:
    train = _train()
    train["always_7"] = 7.0
    pre = Preprocessor(numeric=numeric).fit(train)
    assert "always_7" in pre.dropped and pre.feature_names_out == ["income", "count", "mostly_zero"]
    median = float(np.nanmedian(train["income"]))
    row = pd.DataFrame({"income": [np.nan, median], "count": [1.0, 1.0], "mostly_zero": [0.0, 0.0]})
    out = pre.transform(row)
    np.testing.assert_array_equal(out[0], out[1])
    if numeric == NumericScaling.ROBUST:
        assert out[0, 0] == 0.0  # the median is the center


def test_the_default_standardizes_and_writes_the_json_it_always_wrote() -> None:
    train = _train()
    default, standard = Preprocessor().fit(train), Preprocessor(numeric="standard").fit(train)
    assert default.numeric == NumericScaling.STANDARD
    assert default.to_json() == standard.to_json() and "numeric" not in default.to_json()
    filled = train.fillna(train.median())
    for j, spec in enumerate(default.columns):
        assert set(spec) == {"name", "kind", "median", "mean", "std"}
        x = filled.iloc[:, j].to_numpy()
        np.testing.assert_array_equal(default.transform(filled)[:, j], ((x - x.mean()) / x.std()).astype(np.float32))


@pytest.mark.parametrize("numeric", ["robust", "quantile"])
def test_the_json_round_trip_transforms_new_rows_identically(numeric: str) -> None:
    pre = Preprocessor(numeric=numeric).fit(_train())
    saved = json.loads(json.dumps(pre.to_json()))
    assert saved["numeric"] == numeric
    again = Preprocessor.from_json(saved)
    assert again.numeric == numeric and again.columns == pre.columns
    np.testing.assert_array_equal(again.transform(_unseen()), pre.transform(_unseen()))
    assert numeric in again.summary()["numeric"]["scaling"]


def test_a_saved_preprocessor_without_numeric_loads_as_standard() -> None:
    saved = json.loads(json.dumps(Preprocessor().fit(_train()).to_json()))
    assert "numeric" not in saved  # as every file written before the choice existed
    assert Preprocessor.from_json(saved).numeric == NumericScaling.STANDARD


def test_a_malformed_saved_scaling_is_refused() -> None:
    saved = Preprocessor(numeric="quantile").fit(_train()).to_json()
    with pytest.raises(DataError, match="malformed"):
        Preprocessor.from_json({**saved, "numeric": "magic"})
    broken = json.loads(json.dumps(saved))
    broken["columns"][0]["quantiles"][3] = float("nan")
    with pytest.raises(DataError, match="invalid quantiles"):
        Preprocessor.from_json(broken)
    robust = json.loads(json.dumps(Preprocessor(numeric="robust").fit(_train()).to_json()))
    robust["columns"][0]["scale"] = 0.0
    with pytest.raises(DataError, match="invalid numbers"):
        Preprocessor.from_json(robust)


def test_an_unknown_scaling_is_refused_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown numeric 'minmax': use standard, robust or quantile"):
        Preprocessor(numeric="minmax")
    with pytest.raises(ConfigError, match="numeric must be one of standard, robust, quantile"):
        Preprocessor(numeric=3)  # type: ignore[arg-type]
