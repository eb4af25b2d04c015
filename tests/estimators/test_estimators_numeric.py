"""The search estimators' ``numeric`` parameter: it reaches the fitted model's preprocessing, and a
bad value is a ``ValueError`` naming the choices, raised before anything trains."""

from __future__ import annotations

import numpy as np
import pytest

from justenough.estimators import JustEnoughClassifier, JustEnoughRegressor

QUICK = dict(depth=1, widths=4, max_epochs=5, n_init=1, random_state=0, cv=1)


def test_the_regressor_scales_numeric_columns_as_asked() -> None:
    rng = np.random.default_rng(0)
    X = np.c_[rng.lognormal(0.0, 1.0, 80), rng.normal(0.0, 1.0, 80)]
    y = np.log(X[:, 0]) + 0.1 * rng.normal(size=80)
    est = JustEnoughRegressor(numeric="robust", **QUICK).fit(X, y)
    assert est.get_params()["numeric"] == "robust"
    assert est.model_.preprocessor.numeric == "robust"
    assert np.all(np.abs(est.model_.transform(np.c_[[1e9, -1e9], [0.0, 0.0]])) <= 3.0)  # the smooth clip's bound


def test_an_unknown_numeric_is_a_value_error_naming_the_choices() -> None:
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    with pytest.raises(ValueError, match="unknown numeric 'minmax': use standard, robust or quantile"):
        JustEnoughClassifier(numeric="minmax", **QUICK).fit(X, y)
