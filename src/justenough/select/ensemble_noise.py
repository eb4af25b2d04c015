"""The noise model of a choice among ensembles: when the model a search returns is the mean of a
config's restarts (``ensemble=True``, the default), the rule compares the configs' ensembles, not
their single restarts, and this is the SE of that comparison.

The evidence is each restart's output on every validation row (``train.row_evidence``: logits, or
the standardized targets predicted). A config's ensemble over its R restarts averages them as the
model does (``nets.ensemble.mean_prediction``: the mean probability, or the mean output), and each
row's share of its score is read from that mean (``train.stack_data.row_shares``: 0/1 correctness,
or ``1 - e / v`` for regression), ``s[i]`` for row i. So the ensemble's validation score is
``mean_i s[i]`` and a difference of two configs' ensembles ``D = mean_i d[i]`` with ``d[i] = s_a[i]
- s_b[i]``, the same row i. With the ensemble that leaves out restart r (of both: restart r of
every config trains from seed stream r), ``d_(-r)[i]`` and ``D_(-r) = mean_i d_(-r)[i]``.

Two sources of noise, as in ``select/noise.py``: which rows validated, and which seeds trained.

- Rows: ``S_rows = var_i(d[i])`` (ddof 1), the rows' spread of the ensembles' paired difference; its
  expectation is ``s_a + s_e``, the row effect and the row x seed interaction of the R-ensemble.
- Restarts, by the jackknife over the paired restarts (Efron and Stein 1981; Efron and Tibshirani,
  *An Introduction to the Bootstrap*, ch. 11): ``J = (R - 1) / R * sum_r (D_(-r) - mean_r D_(-r))^2``
  estimates the variance over seeds of the R-ensemble's difference on these rows, ``s_b + s_e / N``.
- The interaction, by the same jackknife row by row: ``v_i = (R - 1) / R * sum_r (d_(-r)[i] -
  mean_r d_(-r)[i])^2`` has mean ``s_b + s_e``, so ``s_e = (mean_i v_i - J) * N / (N - 1)``.

Both estimates count the interaction, so the seeds add ``J - s_e / N`` to the rows' part:

    se^2 = S_rows / N + max(J - s_e / N, 0),

shown in those parts, ``se_rows = sqrt(S_rows / N)`` (the rows' part given the seeds that trained)
and ``se_restarts = sqrt(max(J - s_e / N, 0))`` (what the seeds add). The seeds' part is clipped at
0 and the interaction not subtracted from the total, unlike ``select/noise.py``: over 0/1
correctness, a jumpy function of the restarts' outputs, the jackknife finds a large interaction,
J and ``s_e / N`` nearly cancel, and the unclipped estimate's Satterthwaite df (three terms, one
negative) then falls below 1 and the band with a t of that df grows without bound (digits, split
2: 2x4's ensemble 3.6 points behind the best, SE 0.7, band 4.1). df by Satterthwaite over the two
terms (N - 1 and R - 1 degrees of freedom), the band ``t(0.8413, df) * se`` and the floor ``se >=
1 / N`` as in ``select/noise.py`` (``noise.combined``). With one restart in common there is no jackknife: ``se = sqrt(S_rows / N)``.
``tests/select/test_ensemble_noise.py`` measures the band's coverage by simulation.

Pairing works as for single restarts: two configs' ensembles get most rows right or wrong
together, so ``S_rows`` of their difference is far smaller than either's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from justenough.select.noise import Noise, combined

__all__ = ["EnsembleShares", "EnsembleEvidence", "ensemble_shares", "ensemble_noise", "judged_as_ensembles"]


@dataclass(frozen=True)
class EnsembleShares:
    """One config's ensemble on the validation rows: ``full [N]``, each row's share of the score of
    the mean of all its restarts; ``without``: restart r -> ``[N]``, the same without restart r
    (empty with one restart)."""

    full: np.ndarray
    without: Mapping[int, np.ndarray]


def ensemble_shares(outputs: Mapping[int, np.ndarray], target: np.ndarray, task: str) -> EnsembleShares:
    """``EnsembleShares`` from each restart's outputs (restart -> ``[N, C]``, the restarts that did
    not diverge) and the rows' ``target`` (``[N]`` class indices, or ``[N]`` / ``[N, C]`` targets)."""
    import torch

    from justenough.nets.ensemble import mean_prediction
    from justenough.train.stack_data import row_shares

    restarts = sorted(outputs)
    outs = torch.tensor(np.stack([np.asarray(outputs[r], dtype=np.float64) for r in restarts]))  # [R, N, C]
    y = torch.tensor(np.asarray(target))  # a copy: arrays read from a file are read-only

    def shares(members: list[int]) -> np.ndarray:  # [N]: the rows' shares of the ensemble of these restarts
        mean = mean_prediction(outs[members], task)  # [N, C]
        return row_shares(mean[None], y, task)[0][0].double().numpy()

    R = len(restarts)
    full = shares(list(range(R)))
    without = {r: shares([j for j in range(R) if j != i]) for i, r in enumerate(restarts)} if R > 1 else {}
    return EnsembleShares(full=full, without=without)


def ensemble_noise(a: EnsembleShares, b: EnsembleShares | None = None) -> Noise:
    """The mean and SE of ensemble a's score, or of ``score(a) - score(b)`` paired by row and by
    the restart left out (see the module docstring; ``n_restarts``: the restarts paired)."""
    d = a.full if b is None else a.full - b.full  # [N]
    if b is not None and d.shape != b.full.shape:
        raise ValueError(f"paired ensembles must share their rows, got {a.full.shape} and {b.full.shape}")
    N = int(d.shape[0])
    if N < 1:
        raise ValueError("an ensemble's evidence needs at least one row")
    common = sorted(set(a.without) if b is None else set(a.without) & set(b.without))
    mean = float(d.mean())
    s_rows = float(d.var(ddof=1)) if N > 1 else 0.0
    R = len(common)
    if R < 2 or N < 2:
        return combined(mean, [(s_rows / N, max(N - 1, 1))], var_rows=s_rows / N, var_restarts=0.0, n_rows=N,
                        n_restarts=max(R, 1), ensembles=True)
    loo = np.stack([a.without[r] if b is None else a.without[r] - b.without[r] for r in common])  # [R, N]
    scale = (R - 1) / R
    jack = scale * float(((loo.mean(1) - loo.mean(1).mean()) ** 2).sum())  # J: the seeds' variance of D
    per_row = scale * ((loo - loo.mean(0, keepdims=True)) ** 2).sum(0)  # [N]: v_i, the seeds' variance of d[i]
    s_e = max(float(per_row.mean()) - jack, 0.0) * N / (N - 1)  # the interaction
    # What the seeds add to the rows' part (which holds the interaction already), clipped at 0: with
    # the interaction subtracted and not clipped, the df of three terms of which one is negative
    # collapses (below 1) where J and s_e / N nearly cancel, and the band with it.
    var_restarts = max(jack - s_e / N, 0.0)
    terms = [(s_rows / N, N - 1), (var_restarts, R - 1)]
    return combined(mean, terms, var_rows=s_rows / N, var_restarts=var_restarts, n_rows=N, n_restarts=R,
                    ensembles=True)


class EnsembleEvidence(Mapping[str, EnsembleShares]):
    """The choice's evidence when it judges ensembles: config key -> ``EnsembleShares``, all over
    the same validation rows, a ``select.noise.ModelEvidence``: ``select.paired_noise`` and
    ``select.with_noise`` read it as they read the restarts' shares (``select.RowEvidence``)."""

    def __init__(self, by_key: Mapping[str, EnsembleShares]) -> None:
        self._by_key = {str(k): v for k, v in by_key.items()}

    def __getitem__(self, key: str) -> EnsembleShares:
        return self._by_key[str(key)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def difference(self, key_a: str, key_b: str) -> Noise | None:
        """``ensemble_noise`` of config a minus config b, or None when either has no evidence or
        their rows differ in number."""
        a, b = self._by_key.get(str(key_a)), self._by_key.get(str(key_b))
        if a is None or b is None or a.full.shape != b.full.shape:
            return None
        return ensemble_noise(a, b)

    def score(self, key: str) -> Noise | None:
        shares = self._by_key.get(str(key))
        return None if shares is None else ensemble_noise(shares)


def judged_as_ensembles(board: pd.DataFrame) -> bool:
    """Whether a leaderboard's scores are its configs' ensembles' (``select.with_noise`` with an
    ``EnsembleEvidence``: the restarts' own mean then stands in ``val_mean_restarts``)."""
    return "val_mean_restarts" in board.columns and bool(pd.to_numeric(board["val_mean_restarts"], errors="coerce").notna().any())
