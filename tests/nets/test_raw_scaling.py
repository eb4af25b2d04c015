"""The robust and quantile scalings as torch ops (``nets/raw_scaling.py``) against the NumPy and
SciPy ones the preprocessing uses: the normal quantile function, and whole columns with ties,
values beyond the training range and repeated quantiles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from justenough.data.quantile_scaling import fit_quantiles, quantile_transform
from justenough.data.robust_scaling import fit_robust_scale, robust_transform
from justenough.nets.raw_scaling import RawScaling, normal_ppf
from justenough.vocab import NumericScaling


def test_normal_ppf_equals_scipy_across_the_range_and_in_both_tails() -> None:
    p = np.r_[np.linspace(1e-7, 1 - 1e-7, 20001), 1e-7, 1e-7 - 2.2e-16, 1 - 1e-7, 0.02425, 0.97575, 0.5, 1e-3, 1 - 1e-3]
    got = normal_ppf(torch.tensor(p, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, stats.norm.ppf(p), rtol=1.15e-9, atol=0)  # Acklam's bound on the relative error


def _columns(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training columns ``[n, 3]`` (skewed, integer ties, mostly one value) and new values ``[m, 3]``."""
    rng = np.random.default_rng(seed)
    n = 400
    train = np.c_[rng.lognormal(3.0, 1.0, n), rng.integers(0, 5, n), np.where(rng.random(n) < 0.7, 1.0, rng.normal(0, 4, n))]
    new = np.c_[
        np.r_[rng.lognormal(3.0, 1.0, 60), -10.0, 0.0, 1e5],
        np.r_[rng.integers(-1, 7, 60), 0.0, 2.0, 4.0],  # ties: every training value, and beyond
        np.r_[rng.normal(0, 5, 60), 1.0, 1.0, -1e4],
    ]
    return train.astype(np.float32).astype(np.float64), new.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("numeric", [NumericScaling.ROBUST, NumericScaling.QUANTILE])
def test_the_torch_scaling_equals_the_numpy_one(numeric: NumericScaling) -> None:
    train, new = _columns()
    specs = []
    for j in range(train.shape[1]):
        if numeric == NumericScaling.ROBUST:
            center, scale = fit_robust_scale(train[:, j])
            specs.append({"center": center, "scale": scale})
        else:
            specs.append({"quantiles": fit_quantiles(train[:, j], train.shape[0])})
    ops = RawScaling(numeric, specs)
    for rows in (train, new):
        got = ops(torch.tensor(rows, dtype=torch.float32)).numpy()  # [N, 3] float32
        for j, spec in enumerate(specs):
            if numeric == NumericScaling.ROBUST:
                want = robust_transform(rows[:, j], spec["center"], spec["scale"])
            else:
                want = quantile_transform(rows[:, j], spec["quantiles"])
            np.testing.assert_allclose(got[:, j], want.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_raw_scaling_takes_robust_or_quantile_only() -> None:
    with pytest.raises(ValueError, match="robust or quantile"):
        RawScaling(NumericScaling.STANDARD, [{"mean": 0.0, "std": 1.0}])
