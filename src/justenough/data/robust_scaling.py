"""Robust scaling with a smooth clip, as RealMLP-TD preprocesses numeric columns (pytabkit;
Holzmüller et al. 2024, "Better by Default"), fitted on the training rows only.

For one column with training values ``x_1..x_n`` (missing values left out):

    center = median(x)                          (numpy's linear-interpolation percentile 50)
    scale  = q75(x) - q25(x)                    (the interquartile range, as scikit-learn's RobustScaler)
             or (max(x) - min(x)) / 2 where the IQR is 0 (pytabkit's fallback: most rows share one value)
    z      = (x - center) / scale
    f(z)   = z / sqrt(1 + (z / 3)^2)            (the smooth clip: odd, increasing, |f| < 3, f(z) = z - z^3/18 + ...)

Constant columns never reach here (the preprocessing drops them), so ``max > min`` and the
scale is positive. A missing value is imputed with the median, which lands on ``f(0) = 0``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SMOOTH_CLIP_BOUND", "fit_robust_scale", "robust_transform", "smooth_clip"]

SMOOTH_CLIP_BOUND = 3.0  # |f(z)| < 3: the value f approaches as |z| grows
# |z| beyond this is clipped before squaring, so (z / 3)^2 cannot overflow; f there is 3 to double precision.
_Z_LIMIT = 1e150


def fit_robust_scale(present: np.ndarray) -> tuple[float, float]:
    """``(center, scale)`` of the training values ``present`` ``[n]`` (no NaN, not all equal)."""
    q25, center, q75 = (float(v) for v in np.percentile(present, [25.0, 50.0, 75.0]))
    scale = q75 - q25
    if scale == 0.0:  # over half the rows share one value: half the range instead (pytabkit's fallback)
        scale = 0.5 * (float(present.max()) - float(present.min()))
    return center, scale


def smooth_clip(z: np.ndarray) -> np.ndarray:
    """``z / sqrt(1 + (z/3)^2)`` elementwise: near the identity around 0, bounded by 3 in absolute value."""
    z = np.clip(z, -_Z_LIMIT, _Z_LIMIT)
    return z / np.sqrt(1.0 + (z / SMOOTH_CLIP_BOUND) ** 2)


def robust_transform(values: np.ndarray, center: float, scale: float) -> np.ndarray:
    """Imputed values ``[N]`` (float64) -> the smooth-clipped robust scores ``[N]``."""
    with np.errstate(over="ignore"):  # an overflow to +-inf is clipped to 3 by smooth_clip
        return smooth_clip((values - center) / scale)
