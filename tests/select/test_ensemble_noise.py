"""The noise model of ensembles (select/ensemble_noise.py), tested by simulation as select/noise.py
is: data drawn where the true difference of two configs' 5-restart ensembles is known; across many
draws the 68% band covers it at its nominal rate, within the simulation's own error. Fixed seeds:
every assertion is deterministic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import expit

from justenough.nets.ensemble import mean_prediction
from justenough.select import choose, leaderboard, with_noise
from justenough.select.ensemble_noise import EnsembleEvidence, EnsembleShares, ensemble_noise, ensemble_shares
from justenough.select.noise import paired_noise

NOMINAL = math.erf(1 / math.sqrt(2))  # 0.6827: P(|Z| <= 1)
R = 5


def _coverage(hits: np.ndarray) -> tuple[float, float]:
    p = float(hits.mean())
    return p, math.sqrt(NOMINAL * (1 - NOMINAL) / len(hits))


def _logits(theta: np.ndarray, shift: float, luck: float, jitter: float, r: np.random.Generator) -> np.ndarray:
    """R restarts' two-class logits ``[R, N, 2]`` on rows of margin ``theta [N]`` toward class 1:
    each restart has a luck over all its rows and a jitter of its own on each row (so averaging
    restarts changes which rows are right)."""
    eta = r.normal(0, luck, (R, 1)) + r.normal(0, jitter, (R, len(theta)))
    z = theta[None, :] + shift + eta  # [R, N]
    return np.stack([np.zeros_like(z), z], axis=-1)


def _ensemble_correct(z: np.ndarray) -> np.ndarray:
    """Rows the mean probability of ``z [S, R, N]`` (S ensembles of R logits for class 1) gets right."""
    return (expit(z).mean(1) > 0.5).astype(float)  # [S, N]


@pytest.mark.parametrize("luck", [0.05, 0.6])
def test_a_paired_difference_of_ensembles_covers_the_true_difference(luck: float) -> None:
    """Two configs' 5-restart ensembles classify the same rows. The truth, the expected difference
    of the ensembles' accuracies over new rows and new seeds, is computed on a huge sample; the
    paired band of 300 rows covers it at 68%, whether the rows dominate the noise or the restarts'
    luck does (then the jackknife's 4 degrees of freedom widen the band). The restarts disagree on
    some rows (a jitter of 0.5 logits); where they disagree on most (1.5) the coverage is 6 points
    off, 74.6% where the rows dominate and 62.2% where the luck does (docs/selection.md): shown
    there, not tested here."""
    shift_a, shift_b, jitter = 0.4, 0.0, 0.5
    big = np.random.default_rng(2)
    diffs = []
    for _ in range(40):  # 40 seed draws x 20,000 rows
        theta = big.normal(1.0, 1.5, 20_000)
        eta = big.normal(0, luck, (R, 1)) + big.normal(0, jitter, (R, len(theta)))
        eta_b = big.normal(0, luck, (R, 1)) + big.normal(0, jitter, (R, len(theta)))
        a = _ensemble_correct((theta + shift_a + eta)[None])
        b = _ensemble_correct((theta + shift_b + eta_b)[None])
        diffs.append(float((a - b).mean()))
    truth = float(np.mean(diffs))

    rng = np.random.default_rng(1)
    draws, N = 800, 300
    hits = np.empty(draws, dtype=bool)
    y = np.ones(N, dtype=np.int64)
    for k in range(draws):
        theta = rng.normal(1.0, 1.5, N)
        a = ensemble_shares(dict(enumerate(_logits(theta, shift_a, luck, jitter, rng))), y, "classification")
        b = ensemble_shares(dict(enumerate(_logits(theta, shift_b, luck, jitter, rng))), y, "classification")
        noise = ensemble_noise(a, b)
        hits[k] = abs(noise.mean - truth) <= noise.band
    coverage, sd = _coverage(hits)
    assert abs(coverage - NOMINAL) < 3 * sd


def test_the_rows_band_covers_the_difference_of_these_ensembles_on_new_rows() -> None:
    """The rule's room judged as ensembles (``Noise.room``, the rows' band alone) is an interval for
    the difference of the ensembles trained, not of ensembles of new seeds: with the restarts' luck
    dominating (0.6 logits), the rows' band covers the expected difference of *these* restarts over
    new rows at 68%, while it covers the truth over new seeds less often."""
    shift_a, shift_b, jitter, luck = 0.4, 0.0, 0.5, 0.6
    rng = np.random.default_rng(5)
    draws, N, fresh = 300, 300, 10_000
    given, anew = np.empty(draws, dtype=bool), np.empty(draws, dtype=bool)
    y = np.ones(N, dtype=np.int64)
    big = np.random.default_rng(2)  # the truth over new seeds, as in the test above
    truth = float(np.mean([(_ensemble_correct((t + shift_a + big.normal(0, luck, (R, 1)) + big.normal(0, jitter, (R, len(t))))[None])
                            - _ensemble_correct((t + shift_b + big.normal(0, luck, (R, 1)) + big.normal(0, jitter, (R, len(t))))[None])).mean()
                           for t in (big.normal(1.0, 1.5, 20_000) for _ in range(40))]))
    for k in range(draws):
        luck_a, luck_b = rng.normal(0, luck, (R, 1)), rng.normal(0, luck, (R, 1))  # [R, 1]: the seeds drawn
        theta = rng.normal(1.0, 1.5, N)
        za = theta + shift_a + luck_a + rng.normal(0, jitter, (R, N))  # [R, N]
        zb = theta + shift_b + luck_b + rng.normal(0, jitter, (R, N))
        a = ensemble_shares(dict(enumerate(np.stack([np.zeros_like(za), za], -1))), y, "classification")
        b = ensemble_shares(dict(enumerate(np.stack([np.zeros_like(zb), zb], -1))), y, "classification")
        noise = ensemble_noise(a, b)
        assert noise.room == noise.band_rows <= noise.band
        new = rng.normal(1.0, 1.5, fresh)  # the same restarts (their luck) on new rows
        these = float((_ensemble_correct((new + shift_a + luck_a + rng.normal(0, jitter, (R, fresh)))[None])
                       - _ensemble_correct((new + shift_b + luck_b + rng.normal(0, jitter, (R, fresh)))[None])).mean())
        given[k] = abs(noise.mean - these) <= noise.room
        anew[k] = abs(noise.mean - truth) <= noise.room
    coverage, sd = _coverage(given)
    assert abs(coverage - NOMINAL) < 3 * sd
    assert anew.mean() < NOMINAL - 3 * sd


def test_judged_as_ensembles_an_unstable_config_gets_no_room_for_its_restarts_spread() -> None:
    """A small config 3 points behind the best on 300 rows (the rows' band about 1 point), whose
    ensemble moves by several points when a restart is left out (its restarts land far apart): its
    full band reaches the best, but the rule allows the rows' band only, so the best is chosen."""
    n = 300
    best_full = (np.arange(n) < 0.9 * n).astype(np.float64)  # [N]
    small_full = (np.arange(n) < 0.87 * n).astype(np.float64)
    evidence = EnsembleEvidence({
        "best": EnsembleShares(best_full, {r: best_full for r in range(R)}),
        # leaving out restart r moves its ensemble between 72% and 96% right
        "small": EnsembleShares(small_full, {r: (np.arange(n) < p * n).astype(np.float64)
                                             for r, p in enumerate([0.72, 0.96, 0.80, 0.95, 0.92])}),
    })
    noise = paired_noise(evidence, "best", "small")
    assert noise is not None and noise.band_rows < noise.mean < noise.band
    restarts = pd.DataFrame({
        "key": ["small"] * R + ["best"] * R, "restart": list(range(R)) * 2, "val_score": [0.87] * R + [0.9] * R,
        "diverged": False, "params": [10] * R + [1000] * R, "flops": [10] * R + [1000] * R,
    })
    judged = with_noise(leaderboard(restarts), evidence)
    choice = choose(judged, "one-se", evidence=evidence)
    assert choice.key == "best" and "rows' band" in choice.explanation
    # A stable small config 0.5 points behind (within the rows' band) is chosen, and the explanation
    # gives the band it was within.
    close = (np.arange(n) < 0.895 * n).astype(np.float64)
    evidence = EnsembleEvidence({"best": evidence["best"], "small": EnsembleShares(close, {r: close for r in range(R)})})
    choice = choose(with_noise(leaderboard(restarts), evidence), "one-se", evidence=evidence)
    assert choice.key == "small" and "within the rows' band of the best" in choice.explanation


def test_the_ensembles_shares_are_the_ensemble_models_own() -> None:
    """Oracle: a config's ensemble shares are the correctness of ``nets.ensemble.mean_prediction``
    over its restarts (the model the search returns), and each left-out share is that of the other
    four; for regression, ``1 - e / v`` of the mean output, whose mean is scikit-learn's R^2."""
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    outs = rng.normal(size=(R, 50, 3))
    y = rng.integers(0, 3, 50)
    shares = ensemble_shares(dict(enumerate(outs)), y, "classification")
    predicted = mean_prediction(torch.from_numpy(outs), "classification").argmax(-1).numpy()
    np.testing.assert_array_equal(shares.full, (predicted == y).astype(float))
    without_2 = mean_prediction(torch.from_numpy(outs[[0, 1, 3, 4]]), "classification").argmax(-1).numpy()
    np.testing.assert_array_equal(shares.without[2], (without_2 == y).astype(float))

    targets = rng.normal(size=50)
    preds = targets[None, :, None] + rng.normal(0, 0.5, (R, 50, 1))
    regression = ensemble_shares(dict(enumerate(preds)), targets, "regression")
    assert regression.full.mean() == pytest.approx(r2_score(targets, preds.mean(0)[:, 0]))


def test_the_se_is_never_zero_and_one_restart_has_no_restart_part() -> None:
    y = np.ones(40, dtype=np.int64)
    sure = np.stack([np.zeros((40,)), np.full(40, 5.0)], axis=-1)  # every restart right on every row
    a = ensemble_shares({r: sure for r in range(R)}, y, "classification")
    noise = ensemble_noise(a, a)
    assert noise.mean == 0 and noise.se == pytest.approx(1 / 40)
    one = ensemble_shares({0: sure}, y, "classification")
    alone = ensemble_noise(one)
    assert alone.se_restarts == 0 and alone.n_restarts == 1


def test_pairing_makes_the_difference_of_ensembles_sharper_than_either_score() -> None:
    rng = np.random.default_rng(3)
    theta = rng.normal(1.0, 2.0, 400)
    y = np.ones(400, dtype=np.int64)
    a = ensemble_shares(dict(enumerate(_logits(theta, 0.2, 0.0, 0.1, rng))), y, "classification")
    b = ensemble_shares(dict(enumerate(_logits(theta, 0.0, 0.0, 0.1, rng))), y, "classification")
    assert ensemble_noise(a, b).se < 0.5 * min(ensemble_noise(a).se, ensemble_noise(b).se)


def test_the_rule_judges_the_ensembles_where_their_order_differs_from_the_restarts() -> None:
    """A small config whose restarts beat a bigger one's on average, but whose ensemble the bigger
    config's ensemble beats clearly (its restarts err on different rows, so averaging fixes them):
    judged by ensembles, the leaderboard's best is the bigger config and the small one does not
    qualify; ``paired_noise`` reads the ensemble evidence."""
    rng = np.random.default_rng(4)
    N = 2000
    theta = rng.normal(0.8, 1.0, N)
    y = np.ones(N, dtype=np.int64)
    small = _logits(theta, 0.0, 0.0, 0.2, rng)  # little jitter: averaging changes little
    big = _logits(theta, 0.5, 0.0, 2.0, rng)  # much jitter: each restart errs often, the mean rarely
    evidence = EnsembleEvidence({
        "small": ensemble_shares(dict(enumerate(small)), y, "classification"),
        "big": ensemble_shares(dict(enumerate(big)), y, "classification"),
    })
    restarts = pd.DataFrame({
        "key": ["small"] * R + ["big"] * R, "restart": list(range(R)) * 2,
        "val_score": [float((s[:, 1] > 0).mean()) for s in small] + [float((s[:, 1] > 0).mean()) for s in big],
        "diverged": False, "params": [10] * R + [1000] * R, "flops": [10] * R + [1000] * R,
    })
    board = leaderboard(restarts)
    assert board.set_index("key").loc["small", "val_mean"] > board.set_index("key").loc["big", "val_mean"]
    judged = with_noise(board, evidence)
    assert judged["key"].iloc[0] == "big"
    assert judged.set_index("key").loc["small", "val_mean_restarts"] == board.set_index("key").loc["small", "val_mean"]
    noise = paired_noise(evidence, "big", "small")
    assert noise is not None and noise.mean > noise.band
    assert choose(judged, "one-se", evidence=evidence).key == "big"
