"""The noise model of a choice: how far a validation score, or the difference of two configs'
scores, can move by chance, counting both which rows happened to validate and which seeds trained.

The evidence is per row. For every restart r of a config and every validation row i, the row's
share of the score, ``x[r, i]``: its 0/1 correctness for classification (their mean is the
accuracy), or ``1 - e[r, i] / v`` for regression, where ``e`` is the row's squared error and ``v``
the validation targets' variance (their mean is R^2). So a score is the mean of ``x`` over rows,
and the mean over restarts too for a config's mean; a difference of two configs is the mean of the
paired differences ``d[r, i] = x_a[r, i] - x_b[r, i]``, restart r of both trained from seed stream
r and row i the same row.

Model (two-way crossed random effects, Searle et al., *Variance Components*, ch. 4): a value is
``mu + a_i + b_r + e_ri``, a row effect (variance ``s_a``), a restart effect (``s_b``) and their
interaction (``s_e``). The mean of an ``R x N`` table has variance

    Var(mean) = s_a / N + s_b / R + s_e / (N R).

With the row means ``m_i`` (over restarts), the restart means ``m_r`` (over rows) and the grand mean
``m``, the sample variances and the interaction's mean square,

    S_rows = var(m_i)   (ddof 1),  E = s_a + s_e / R
    S_rest = var(m_r)   (ddof 1),  E = s_b + s_e / N
    MSE    = sum (x_ri - m_i - m_r + m)^2 / ((N - 1)(R - 1)),  E = s_e,

give the unbiased estimate ``se^2 = S_rows / N + S_rest / R - MSE / (N R)``, which is ``se``.
For the reader it is shown in parts, ``se_rows = sqrt(max(S_rows - MSE / R, 0) / N)`` (which rows
happened to validate) and ``se_restarts = sqrt(max(S_rest - MSE / N, 0) / R)`` (which seeds
trained); their squares plus ``MSE / (N R)`` (the interaction) make ``se^2`` unless a part was
clipped at 0. ``se`` itself is not built from the clipped parts: clipping a part whose true value is
near 0 (restarts that barely matter) would bias the SE upwards, and the band would cover the truth
more often than it says (measured: 72% for a nominal 68%). With one restart the restart effect
cannot be told from the rows': ``se = se_rows = sqrt(S_rows / N)`` and ``se_restarts`` is 0.

The band. ``se`` is estimated, from R - 1 degrees of freedom for the restarts' part, so ``mean +/-
se`` covers the truth less often than 68% where the luck of a few restarts dominates the noise
(Student's t: 63% for 5 restarts). The rules therefore use ``band = t(0.8413, df) * se``, the
half-width of a 68% interval, with Satterthwaite's degrees of freedom for the three mean squares,

    df = se^4 / ((S_rows / N)^2 / (N - 1) + (S_rest / R)^2 / (R - 1) + (MSE / (N R))^2 / ((N - 1)(R - 1))),

so that ``mean +/- band`` covers the true difference (over new rows and new seeds) 68% of the time
whichever source dominates; ``tests/select/test_noise.py`` measures it by simulation. Where the rows
dominate, df is large and the band is one SE.

Pairing is what makes a difference sharp: two configs get most rows right or wrong together, so
``S_rows`` of the differences is far smaller than either config's own.

The SE is never 0. A score cannot be resolved finer than one validation row's share (a row's
correctness, or one target variance of one row's squared error), so ``se`` is at least ``1 / N``:
on 36 rows where every restart of two configs scores 100%, the difference is 0 +/- 2.8 points,
not 0 +/- 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

# P(Z <= 1) for a standard normal Z: a band of t(this, df) SEs is a 68% interval.
_ONE_SIDED_68 = 0.8413447460685429

__all__ = ["Noise", "RowEvidence", "score_noise", "difference_noise", "config_shares", "paired_noise", "with_noise", "combined", "ModelEvidence"]


@dataclass(frozen=True)
class Noise:
    """A mean over ``n_restarts`` x ``n_rows`` per-row values, and its standard error in parts."""

    mean: float
    se: float  # the total: rows, restarts and their interaction, at least 1 / n_rows
    se_rows: float  # the part from which rows happened to validate
    se_restarts: float  # the part from which seeds trained
    n_rows: int
    n_restarts: int
    df: float  # Satterthwaite's degrees of freedom of se^2 (inf: every part known exactly)
    band: float  # half-width of the 68% interval: t(0.8413, df) * se, at least se
    band_rows: float  # the same of the rows' part alone: t(0.8413, n_rows - 1) * se_rows, at least 1 / n_rows
    ensembles: bool = False  # of configs' ensembles of their restarts (select/ensemble_noise.py)

    @property
    def room(self) -> float:
        """How far a config may fall behind the best and still count as good for the one-SE rule:
        the 68% band; for configs judged as their ensembles, the rows' band alone. The seeds' part
        of two ensembles' difference is how far it would move with other restarts, and counting it
        as room favours exactly the configs whose restarts land far apart (docs/selection.md,
        "Judging ensembles")."""
        return self.band_rows if self.ensembles else self.band

    def as_dict(self, prefix: str = "") -> dict[str, float | int]:
        return {f"{prefix}{k}": v for k, v in self.__dict__.items()}


def score_noise(x: np.ndarray) -> Noise:
    """The mean and SE of one config's score from its per-row shares ``x [R, N]`` (restarts that
    diverged left out by the caller; NaN rows of a restart are an error of the caller's)."""
    return _noise(np.asarray(x, dtype=np.float64))


def difference_noise(a: np.ndarray, b: np.ndarray) -> Noise:
    """The mean and SE of ``score(a) - score(b)``, paired by restart and row: ``a`` and ``b`` are
    ``[R, N]`` per-row shares of the same R restart indices and the same N rows."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired shares must have one shape, got {a.shape} and {b.shape}")
    return _noise(a - b)


def _noise(x: np.ndarray) -> Noise:
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"per-row shares must be [restarts, rows] with at least one of each, got {x.shape}")
    R, N = x.shape
    mean = float(x.mean())
    row_means = x.mean(0)  # [N]
    s_rows = float(row_means.var(ddof=1)) if N > 1 else 0.0
    if R > 1 and N > 1:
        restart_means = x.mean(1)  # [R]
        s_restarts = float(restart_means.var(ddof=1))
        resid = x - row_means[None, :] - restart_means[:, None] + mean  # [R, N]
        mse = float((resid**2).sum() / ((N - 1) * (R - 1)))
        var_rows = max(s_rows - mse / R, 0.0) / N
        var_restarts = max(s_restarts - mse / N, 0.0) / R
        terms = [(s_rows / N, N - 1), (s_restarts / R, R - 1), (-mse / (N * R), (N - 1) * (R - 1))]
    elif R > 1:  # one row: only the restarts vary
        var_rows, var_restarts = 0.0, float(x[:, 0].var(ddof=1)) / R
        terms = [(var_restarts, R - 1)]
    else:
        var_rows, var_restarts = s_rows / N, 0.0
        terms = [(var_rows, max(N - 1, 1))]
    return combined(mean, terms, var_rows=var_rows, var_restarts=var_restarts, n_rows=N, n_restarts=R)


def combined(mean: float, terms: Sequence[tuple[float, float]], *, var_rows: float, var_restarts: float, n_rows: int,
             n_restarts: int, ensembles: bool = False) -> Noise:
    """The ``Noise`` of ``mean`` whose variance is the sum of ``terms`` (each a mean square's share
    and its degrees of freedom; a share may be negative, as the interaction's is): ``se`` at least
    ``1 / n_rows``, Satterthwaite's df, and the 68% band ``t(0.8413, df) * se``. ``var_rows`` and
    ``var_restarts`` are the parts shown (clipped at 0); ``band_rows`` is the band of ``var_rows``
    alone, over ``n_rows - 1`` degrees of freedom."""
    var = sum(t for t, _ in terms)  # unbiased; the floor below keeps the SE above 0
    se = max(math.sqrt(max(var, 0.0)), 1.0 / n_rows)
    spread = sum(t * t / d for t, d in terms)
    df = var * var / spread if var > 0 and spread > 0 else math.inf
    band = se * _t68(df)
    band_rows = max(math.sqrt(var_rows), 1.0 / n_rows) * _t68(max(n_rows - 1, 1))
    return Noise(mean=mean, se=se, se_rows=math.sqrt(var_rows), se_restarts=math.sqrt(var_restarts), n_rows=n_rows,
                 n_restarts=n_restarts, df=df, band=band, band_rows=band_rows, ensembles=ensembles)


def _t68(df: float) -> float:
    """SEs in a 68% band with ``df`` degrees of freedom: t(0.8413, df), at least 1 (1 for df = inf)."""
    if not math.isfinite(df):
        return 1.0
    from scipy.stats import t as student_t  # loaded on first use: scipy.stats is slow to import

    return max(float(student_t.ppf(_ONE_SIDED_68, df)), 1.0)

# The evidence the noise model reads: config key -> restart index -> that restart's per-row shares
# ``[N]`` (the restarts that did not diverge), all over the same N validation rows; or, when the
# choice judges ensembles, an ``ensemble_noise.EnsembleEvidence`` (config key -> ``EnsembleShares``).
RowEvidence = Mapping[str, Any]


@runtime_checkable
class ModelEvidence(Protocol):
    """Evidence that judges each config as a model other than its single restarts (the
    ensemble's: ``ensemble_noise.EnsembleEvidence``): it pairs two configs and scores one."""

    def difference(self, key_a: str, key_b: str) -> Noise | None:
        """Config a's score minus config b's, paired, with its noise (None without evidence)."""
        ...

    def score(self, key: str) -> Noise | None:
        """The config's score as this evidence judges it, with its noise (None without evidence)."""
        ...


def config_shares(evidence: RowEvidence | None, key: str) -> np.ndarray | None:
    """One config's shares ``[R, N]`` by restart index (None without evidence for it)."""
    by_restart = (evidence or {}).get(str(key))
    if not by_restart:
        return None
    return np.stack([np.asarray(by_restart[r], dtype=np.float64) for r in sorted(by_restart)])


def paired_noise(evidence: RowEvidence | None, key_a: str, key_b: str) -> Noise | None:
    """``difference_noise`` of config a minus config b over the restarts both have, or None when
    either has no evidence, they share no restart, or their rows differ in number. Evidence of
    ensembles (``select.ensemble_noise.EnsembleEvidence``, the choice's when the model is the mean
    of the restarts) compares the two configs' ensembles instead."""
    if isinstance(evidence, ModelEvidence):
        return evidence.difference(key_a, key_b)
    a, b = (evidence or {}).get(str(key_a)), (evidence or {}).get(str(key_b))
    if not a or not b:
        return None
    common = sorted(set(a) & set(b))
    if not common or len({len(a[r]) for r in common} | {len(b[r]) for r in common}) != 1:
        return None
    return difference_noise(np.stack([a[r] for r in common]), np.stack([b[r] for r in common]))


def with_noise(board: pd.DataFrame, evidence: RowEvidence | None) -> pd.DataFrame:
    """The leaderboard with the noise model's SE of each config's mean where it has evidence:
    ``val_se`` becomes the total (rows, restarts and their interaction), beside ``val_se_rows``,
    ``val_se_restarts`` and ``val_rows`` (the validation rows counted). Configs without evidence
    keep the restarts' SE (``val_se_rows`` NaN): studies from before the evidence was kept, or
    configs another process trained. Evidence that judges another model of each config
    (``ModelEvidence``: its ensemble) makes ``val_mean`` that model's score too, keeps the restarts'
    own mean as ``val_mean_restarts``, and returns the rows best first again (``select.best_first``)."""
    from justenough.select.order import best_first

    board = board.copy()
    judged = isinstance(evidence, ModelEvidence)
    columns: list[tuple[float, float, float, float, float]] = []  # (mean, se, se_rows, se_restarts, n_rows) per row
    for _, row in board.iterrows():
        key = str(row["key"])
        if isinstance(evidence, ModelEvidence):
            noise = evidence.score(key)
        else:
            shares = config_shares(evidence, key)
            noise = None if shares is None else score_noise(shares)
        if noise is None:
            columns.append((float(row["val_mean"]), float(row.get("val_se", np.nan)), np.nan, np.nan, np.nan))
        else:
            columns.append((noise.mean if judged else float(row["val_mean"]), noise.se, noise.se_rows,
                            noise.se_restarts, float(noise.n_rows)))
    if judged:
        board["val_mean_restarts"] = board["val_mean"].astype(float)
    if len(board):
        mean, se, se_rows, se_restarts, n_rows = (list(c) for c in zip(*columns))
        board["val_mean"], board["val_se"], board["val_se_rows"], board["val_se_restarts"] = mean, se, se_rows, se_restarts
        board["val_rows"] = pd.array([None if np.isnan(n) else int(n) for n in n_rows], dtype="Int64")
    return best_first(board) if judged else board
