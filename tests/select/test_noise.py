"""The noise model (select/noise.py), tested by simulation: data drawn where the true difference is
known; across many draws the one-SE band must cover the truth at its nominal rate (68.3%), within
the simulation's own error. Fixed seeds: every assertion is deterministic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from justenough.select import choose, difference_noise, leaderboard, score_noise, with_noise
from justenough.select.noise import paired_noise

NOMINAL = math.erf(1 / math.sqrt(2))  # 0.6827: P(|Z| <= 1)


def _coverage(hits: np.ndarray) -> tuple[float, float]:
    """The coverage and its binomial standard error."""
    p = float(hits.mean())
    return p, math.sqrt(NOMINAL * (1 - NOMINAL) / len(hits))


def test_the_variance_parts_are_unbiased_for_a_two_way_design() -> None:
    """x = mu + a_i + b_r + e_ri: the estimate's mean over draws is the true Var(mean), and the
    one-SE band covers mu at 68%."""
    rng = np.random.default_rng(0)
    R, N, s_a, s_b, s_e = 5, 300, 1.0, 0.05, 0.5
    true_var = s_a**2 / N + s_b**2 / R + s_e**2 / (N * R)
    draws = 3000
    est, hits = np.empty(draws), np.empty(draws, dtype=bool)
    for k in range(draws):
        x = 0.2 + rng.normal(0, s_a, N)[None, :] + rng.normal(0, s_b, R)[:, None] + rng.normal(0, s_e, (R, N))
        noise = score_noise(x)
        est[k] = noise.se**2
        hits[k] = abs(noise.mean - 0.2) <= noise.band
    assert est.mean() == pytest.approx(true_var, rel=0.05)
    coverage, sd = _coverage(hits)
    assert abs(coverage - NOMINAL) < 3 * sd


@pytest.mark.parametrize("luck", [0.05, 0.25, 0.5])
def test_a_paired_difference_of_correctness_covers_the_true_difference(luck: float) -> None:
    """Two configs classify the same rows; each row has a difficulty, each restart a luck of its own.
    The truth, the expected accuracy difference over new rows and new seeds, is computed on a huge
    sample; the paired 68% band of 360 rows x 5 restarts covers it at the nominal rate, whether the
    rows dominate the noise or the luck of 5 restarts does (then one SE alone would cover only
    Student's t's 63%: the band widens by Satterthwaite's degrees of freedom)."""
    rng = np.random.default_rng(1)
    shift_a, shift_b = 0.35, 0.0

    def correct(theta: np.ndarray, shift: float, restarts: int, r: np.random.Generator) -> np.ndarray:
        eta = r.normal(0, luck, (restarts, 1))  # a restart's luck, over all its rows
        return (r.random((restarts, len(theta))) < expit(theta[None, :] + shift + eta)).astype(float)

    big = np.random.default_rng(2)
    theta_big = big.normal(2.0, 1.5, 400_000)
    eta_big = big.normal(0, luck, (64, 1))
    truth = float((expit(theta_big + shift_a + eta_big) - expit(theta_big + shift_b + eta_big)).mean())

    draws, R, N = 2000, 5, 360
    hits = np.empty(draws, dtype=bool)
    for k in range(draws):
        theta = rng.normal(2.0, 1.5, N)
        noise = difference_noise(correct(theta, shift_a, R, rng), correct(theta, shift_b, R, rng))
        hits[k] = abs(noise.mean - truth) <= noise.band
    coverage, sd = _coverage(hits)
    assert abs(coverage - NOMINAL) < 3 * sd


def test_pairing_makes_the_difference_sharper_than_either_score() -> None:
    rng = np.random.default_rng(3)
    theta = rng.normal(2.0, 1.5, 360)
    a = (rng.random((5, 360)) < expit(theta + 0.2)).astype(float)
    b = np.where(rng.random((5, 360)) < 0.05, 1 - a, a)  # b mostly agrees with a, row by row
    assert difference_noise(a, b).se < 0.5 * min(score_noise(a).se, score_noise(b).se)


def test_the_se_is_never_zero() -> None:
    """Every restart right on every one of 36 rows: the score is 100% +/- one row, not +/- 0."""
    perfect = np.ones((5, 36))
    assert score_noise(perfect).se == pytest.approx(1 / 36)
    assert difference_noise(perfect, perfect).se == pytest.approx(1 / 36)
    assert score_noise(np.ones((1, 10))).se == pytest.approx(0.1)


def test_the_parts_add_up_and_one_restart_has_no_restart_part() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 50))
    n = score_noise(x)
    assert n.se_rows <= n.se and n.se_restarts <= n.se
    assert (n.n_restarts, n.n_rows) == (4, 50)
    one = score_noise(x[:1])
    assert one.se_restarts == 0.0
    assert one.se == pytest.approx(x[0].std(ddof=1) / math.sqrt(50))


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="one shape"):
        difference_noise(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="restarts, rows"):
        score_noise(np.ones(3))


def _evidence_case(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, dict[int, np.ndarray]]]:
    """A small config S that gets one row wrong that a big config B gets right, on 3 restarts of 5."""
    theta = rng.normal(2.5, 1.0, 360)
    big = (rng.random((5, 360)) < expit(theta[None, :])).astype(float)
    big[:, 0] = 1.0
    small = big.copy()
    small[:3, 0] = 0.0
    evidence = {"S": {r: small[r] for r in range(5)}, "B": {r: big[r] for r in range(5)}}
    rows = [{"key": k, "restart": r, "val_score": float(m[r].mean()), "diverged": False,
             "params": p, "label": k} for k, m, p in (("S", small, 10), ("B", big, 1000)) for r in range(5)]
    return pd.DataFrame(rows), evidence


def test_one_se_keeps_a_config_within_the_row_noise_where_the_restarts_see_no_noise_at_all() -> None:
    """Restart by restart S loses by one row or by none: the restarts alone see a difference 2.4 SE
    from 0 and would reject S. The rows say one row in 360 is within the noise."""
    restarts, evidence = _evidence_case(np.random.default_rng(5))
    board = with_noise(leaderboard(restarts), evidence)
    choice = choose(board, "one-se", restarts=restarts, evidence=evidence)
    assert choice.key == "S"
    noise = paired_noise(evidence, "B", "S")
    assert noise is not None and noise.mean == pytest.approx(3 / (5 * 360)) and noise.mean < noise.se
    by_restart = np.array([1, 1, 1, 0, 0]) / 360
    assert by_restart.mean() > 2 * by_restart.std(ddof=1) / math.sqrt(5)
    assert "paired over 360 validation rows x 5 restarts" in choice.explanation
    assert (board["val_se"] > 0).all() and board["val_se_rows"].notna().all()


def test_one_se_rejects_a_config_the_rows_separate() -> None:
    """S loses 40 rows in 360 on every restart: far beyond one SE of the paired difference."""
    rng = np.random.default_rng(6)
    restarts, evidence = _evidence_case(rng)
    for r in range(5):
        evidence["S"][r] = evidence["S"][r].copy()
        evidence["S"][r][:40] = 0.0
        evidence["B"][r] = evidence["B"][r].copy()
        evidence["B"][r][:40] = 1.0
    restarts["val_score"] = [float(evidence[k][r].mean()) for k, r in zip(restarts["key"], restarts["restart"])]
    board = with_noise(leaderboard(restarts), evidence)
    assert choose(board, "one-se", restarts=restarts, evidence=evidence).key == "B"


def test_without_evidence_one_se_reads_the_restarts_spread_as_before() -> None:
    restarts, _ = _evidence_case(np.random.default_rng(7))
    board = leaderboard(restarts)
    best = board.loc[board["val_mean"].idxmax()]
    expected = "S" if board.set_index("key").loc["S", "val_mean"] >= best["val_mean"] - best["val_se"] else "B"
    assert choose(board, "one-se").key == expected
    assert with_noise(board, None)["val_se_rows"].isna().all()
