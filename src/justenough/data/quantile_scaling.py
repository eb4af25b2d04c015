"""The quantile transform to a standard normal, fitted on the training rows only: the same
numbers as scikit-learn's ``QuantileTransformer(output_distribution="normal",
n_quantiles=min(1000, n_rows), subsample=None)``, with the quantiles kept as plain JSON.

For one column: ``Q = min(1000, n_rows)`` reference probabilities ``r = linspace(0, 1, Q)`` and
the training quantiles ``q_k = nanpercentile(x, 100 r_k)`` (missing values left out). A value
``v`` maps to

    p = (interp(v; q -> r) + interp_from_above(v; q -> r)) / 2     (the mean of the two, so that
                                                                     tied quantiles give the middle r)
    p = 0 where v - 1e-7 < q_1,  p = 1 where v + 1e-7 > q_Q          (outside the training range)
    out = clip(Phi^-1(p), Phi^-1(1e-7 - eps), Phi^-1(1 - (1e-7 - eps)))   (|out| <= about 5.2)

``interp_from_above`` is ``-interp(-v; -q reversed -> -r reversed)``, as scikit-learn writes it.
Unlike scikit-learn's default (``subsample=10_000``), every training row counts: no random subsample.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_QUANTILES", "BOUNDS_THRESHOLD", "fit_quantiles", "quantile_references", "quantile_transform",
           "normal_clip"]

MAX_QUANTILES = 1000  # Q = min(MAX_QUANTILES, training rows)
BOUNDS_THRESHOLD = 1e-7  # scikit-learn's: values this close to the training range's ends map to its ends


def quantile_references(n_quantiles: int) -> np.ndarray:
    """The reference probabilities ``[Q]``: ``linspace(0, 1, Q)``."""
    return np.linspace(0.0, 1.0, n_quantiles, endpoint=True)


def fit_quantiles(present: np.ndarray, n_rows: int) -> list[float]:
    """The training quantiles ``[Q]`` of ``present`` (the column's values, no NaN); ``n_rows``
    (missing rows included, as scikit-learn counts them) sets ``Q = min(1000, n_rows)``."""
    references = quantile_references(max(1, min(MAX_QUANTILES, n_rows)))
    return [float(v) for v in np.nanpercentile(present, references * 100.0)]


def normal_clip() -> tuple[float, float]:
    """The output's bounds: the normal quantiles of ``1e-7 - eps`` and ``1 - (1e-7 - eps)``."""
    from scipy import stats

    low = float(stats.norm.ppf(BOUNDS_THRESHOLD - np.spacing(1)))
    high = float(stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1))))
    return low, high


def quantile_transform(values: np.ndarray, quantiles: list[float] | np.ndarray) -> np.ndarray:
    """Imputed values ``[N]`` (float64, no NaN) -> standard-normal scores ``[N]``."""
    from scipy import stats

    q = np.asarray(quantiles, dtype=np.float64)  # [Q]
    r = quantile_references(q.size)  # [Q]
    below = values - BOUNDS_THRESHOLD < q[0]
    above = values + BOUNDS_THRESHOLD > q[-1]
    p = 0.5 * (np.interp(values, q, r) - np.interp(-values, -q[::-1], -r[::-1]))  # [N] in [0, 1]
    p[above] = 1.0
    p[below] = 0.0  # after ``above``, as scikit-learn sets them
    low, high = normal_clip()
    with np.errstate(divide="ignore"):  # Phi^-1(0) = -inf, clipped next
        return np.clip(stats.norm.ppf(p), low, high)
