"""Selection rules and restart statistics, on hand-built tables whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justenough.errors import ConfigError, JustEnoughError
from justenough.select import (
    Choice,
    Rule,
    choose,
    leaderboard,
    p_good,
    describe_paired,
    paired_difference,
    paired_evidence,
    parse_rule,
    restarts_for_95,
)


def board(*rows: dict) -> pd.DataFrame:
    """A leaderboard from (key, params, val_mean, val_se, ...) rows; label = key; nothing diverged."""
    out = []
    for r in rows:
        row = {"key": r["key"], "label": r.get("label", r["key"]), "params": r["params"],
               "flops": r.get("flops", 2 * r["params"]), "latency_ms": r.get("latency_ms", np.nan),
               "val_mean": r["val_mean"], "val_std": r.get("val_se", 0.0) * 2, "val_se": r.get("val_se", 0.0),
               "n_restarts": r.get("n_restarts", 4), "n_diverged": r.get("n_diverged", 0)}
        out.append(row)
    return pd.DataFrame(out)


# A typical search: 2x128 is the best, 1x32 is within one SE of it, 1x8 is not.
TYPICAL = board(
    {"key": "1x8", "params": 500, "val_mean": 0.950, "val_se": 0.004},
    {"key": "1x32", "params": 2000, "val_mean": 0.971, "val_se": 0.003},
    {"key": "1x128", "params": 8000, "val_mean": 0.972, "val_se": 0.002},
    {"key": "2x128", "params": 24000, "val_mean": 0.974, "val_se": 0.002},
)


# --- rules ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("one-se", Rule("one-se")),
        ("ONE_SE", Rule("one-se")),
        ("1se", Rule("one-se")),
        ("paired-se", Rule("paired-se")),
        ("Paired_SE", Rule("paired-se")),
        ("target=0.95", Rule("target", 0.95)),
        ("target = 95%", Rule("target", 0.95)),
        ("tolerance=0.01", Rule("tolerance", 0.01)),
        ("tol=1%", Rule("tolerance", 0.01)),
    ],
)
def test_parse_rule(text: str, rule: Rule) -> None:
    got = parse_rule(text)
    assert got.kind == rule.kind
    assert got.value == pytest.approx(rule.value) if rule.value is not None else got.value is None
    assert parse_rule(str(got)) == got  # str() is the canonical text


@pytest.mark.parametrize("text", ["", "best", "target", "target=", "target=abc", "target=95", "tolerance=-0.1", "median=3", "paired-se=1"])
def test_parse_rule_refuses_bad_text(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rule(text)
    assert "one-se" in str(info.value) or "target=" in str(info.value) or "tolerance=" in str(info.value)


def test_one_se_picks_the_smallest_within_one_se_of_the_best() -> None:
    choice = choose(TYPICAL, "one-se")
    assert isinstance(choice, Choice)
    # best 0.974 - SE 0.002 = 0.972: 1x128 qualifies (0.972), 1x32 (0.971) does not.
    assert choice.key == "1x128"
    assert choice.best_key == "2x128"
    assert choice.qualified == ("1x128", "2x128")
    # The SE of the *best* config sets the bar, not the candidate's own SE.
    wider = TYPICAL.copy()
    wider.loc[wider["key"] == "2x128", "val_se"] = 0.004
    assert choose(wider, "one-se").key == "1x32"


def test_one_se_keeps_the_best_when_nothing_simpler_is_close() -> None:
    tight = board(
        {"key": "small", "params": 100, "val_mean": 0.80, "val_se": 0.01},
        {"key": "big", "params": 1000, "val_mean": 0.90, "val_se": 0.01},
    )
    choice = choose(tight)
    assert choice.key == choice.best_key == "big"
    assert "best mean" in choice.explanation


def test_target_picks_the_simplest_that_reaches_it() -> None:
    assert choose(TYPICAL, "target=0.97").key == "1x32"
    assert choose(TYPICAL, "target=0.95").key == "1x8"  # reaching it exactly counts
    assert choose(TYPICAL, "target=0.973").key == "2x128"


def test_target_not_reached_says_the_best_and_how_to_relax() -> None:
    with pytest.raises(ConfigError) as info:
        choose(TYPICAL, "target=0.99")
    message = str(info.value)
    assert isinstance(info.value, JustEnoughError)
    assert "99.0%" in message and "2x128" in message and "97.4%" in message
    assert "target=0.974" in message and "one-se" in message


def test_tolerance_picks_the_simplest_within_e_of_the_best() -> None:
    assert choose(TYPICAL, "tolerance=0.005").key == "1x32"
    assert choose(TYPICAL, "tolerance=0.03").key == "1x8"
    assert choose(TYPICAL, "tolerance=0").key == "2x128"


def test_limits_apply_before_the_rule() -> None:
    # Without 2x128, the best is 1x128 (0.972 +/- 0.002): the bar drops to 0.970 and 1x32 passes.
    choice = choose(TYPICAL, "one-se", max_params=10_000)
    assert choice.key == "1x32" and choice.best_key == "1x128"
    assert "exclude the overall best" in choice.explanation and "2x128" in choice.explanation
    assert choose(TYPICAL, "tolerance=0.005", max_params=1000).key == "1x8"


def test_latency_limit() -> None:
    lat = TYPICAL.assign(latency_ms=[0.01, 0.02, 0.05, 0.20])
    assert choose(lat, "tolerance=0.05", max_latency_ms=0.03).key == "1x8"
    assert choose(lat, "one-se").key == "1x128"
    assert choose(lat, "one-se", max_latency_ms=0.06).key == "1x32"  # the best is now 1x128
    # A config whose latency was never measured cannot be shown to meet the limit.
    unknown = TYPICAL.assign(latency_ms=[np.nan, 0.02, 0.05, 0.20])
    assert choose(unknown, "tolerance=0.05", max_latency_ms=0.03).key == "1x32"


def test_limits_that_exclude_everything_say_how_to_relax() -> None:
    with pytest.raises(ConfigError) as info:
        choose(TYPICAL, max_params=100)
    message = str(info.value)
    assert "max_params=100" in message and "1x8" in message and "500 parameters" in message
    assert "relax the limits" in message
    lat = TYPICAL.assign(latency_ms=[0.01, 0.02, 0.05, 0.20])
    with pytest.raises(ConfigError, match="max_latency=0.001 ms"):
        choose(lat, max_latency_ms=0.001)


def test_target_within_limits_not_reached() -> None:
    with pytest.raises(ConfigError, match="within the limits"):
        choose(TYPICAL, "target=0.973", max_params=10_000)


def test_all_diverged_config_is_never_chosen() -> None:
    # The all-diverged config has the fewest parameters and a (stale) high mean: still never chosen.
    b = board(
        {"key": "tiny", "params": 10, "val_mean": 0.99, "val_se": 0.0, "n_diverged": 4},
        {"key": "1x32", "params": 2000, "val_mean": 0.97, "val_se": 0.003},
    )
    for rule in ("one-se", "target=0.5", "tolerance=0.5"):
        choice = choose(b, rule)
        assert choice.key == "1x32" and choice.best_key == "1x32"
    nan_mean = board({"key": "tiny", "params": 10, "val_mean": float("nan"), "n_diverged": 4},
                     {"key": "ok", "params": 100, "val_mean": 0.6})
    assert choose(nan_mean).key == "ok"
    with pytest.raises(ConfigError, match="diverged"):
        choose(board({"key": "a", "params": 10, "val_mean": float("nan"), "n_diverged": 3}))


def test_ties_break_by_flops_then_latency_then_key() -> None:
    same_params = board(
        {"key": "b", "params": 1000, "flops": 3000, "val_mean": 0.9},
        {"key": "a", "params": 1000, "flops": 2000, "val_mean": 0.9},
    )
    assert choose(same_params).key == "a"
    same_flops = board(
        {"key": "slow", "params": 1000, "flops": 2000, "latency_ms": 0.5, "val_mean": 0.9},
        {"key": "fast", "params": 1000, "flops": 2000, "latency_ms": 0.1, "val_mean": 0.9},
        {"key": "unmeasured", "params": 1000, "flops": 2000, "latency_ms": np.nan, "val_mean": 0.9},
    )
    assert choose(same_flops).key == "fast"
    all_equal = board({"key": "z", "params": 5, "val_mean": 0.5}, {"key": "y", "params": 5, "val_mean": 0.5})
    assert choose(all_equal).key == "y"


def test_explanation_text_accuracy_in_percent() -> None:
    b = board(
        {"key": "k1", "label": "1x32", "params": 2000, "val_mean": 0.971, "val_se": 0.003},
        {"key": "k2", "label": "2x128", "params": 24000, "val_mean": 0.974, "val_se": 0.004},
    )
    choice = choose(b, "one-se", metric_name="accuracy")
    text = choice.explanation
    assert text.startswith("picked 1x32 (accuracy 97.1% +/- 0.3 SE of the restarts, 2,000 parameters)")
    assert "within 1 SE of the best, 2x128 (accuracy 97.4% +/- 0.4 SE of the restarts, 24,000 parameters)" in text
    assert "12x fewer parameters" in text
    assert choice.row["label"] == "1x32" and choice.row["params"] == 2000
    assert choice.rule == Rule("one-se")


def test_explanation_text_regression_r2_three_decimals() -> None:
    b = board(
        {"key": "k1", "label": "1x16", "params": 300, "val_mean": 0.9123, "val_se": 0.0041},
        {"key": "k2", "label": "2x64", "params": 4500, "val_mean": 0.9150, "val_se": 0.0030},
    )
    text = choose(b, "tolerance=0.01", metric_name="r2").explanation
    assert "picked 1x16 (r2 0.912 +/- 0.004 SE" in text
    assert "within the tolerance 0.010 of the best, 2x64 (r2 0.915 +/- 0.003 SE" in text
    assert "15x fewer parameters" in text
    assert "%" not in text
    target = choose(b, "target=0.9", metric_name="r2").explanation
    assert "reaches the target 0.900" in target


def test_choice_row_is_plain_python() -> None:
    b = TYPICAL.assign(latency_ms=np.nan)
    row = choose(b).row
    assert row["latency_ms"] is None and row["key"] == "1x128"


# --- restart statistics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "n"),
    [(0.5, 5), (1.0, 1), (0.95, 1), (0.9, 2), (0.776, 3), (0.1, 29), (0.0, None), (float("nan"), None), (None, None)],
)
def test_restarts_for_95(p: float | None, n: int | None) -> None:
    assert restarts_for_95(p) == n


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-4, max_value=1.0))
def test_restarts_for_95_is_the_smallest_n_with_95_percent(p: float) -> None:
    n = restarts_for_95(p)
    assert n is not None and n >= 1
    assert 1 - (1 - p) ** n >= 0.95 - 1e-9
    if n > 1:
        assert 1 - (1 - p) ** (n - 1) < 0.95 + 1e-9


def test_p_good_counts_diverged_as_not_good() -> None:
    scores = [0.90, 0.895, 0.85, float("nan")]
    assert p_good(scores, [False, False, False, True]) == pytest.approx(2 / 4)
    assert p_good(scores, [False, False, False, True], tolerance=0.05) == pytest.approx(3 / 4)
    # A diverged restart's stale high score is not "best".
    assert p_good([0.99, 0.80, 0.80], [True, False, False]) == pytest.approx(2 / 3)
    assert p_good([0.5, 0.5], [True, True]) == 0.0
    assert math.isnan(p_good([]))


def restarts_table() -> pd.DataFrame:
    rows = []
    a = [0.90, 0.92, 0.91, 0.80]
    b = [0.88, 0.91, 0.89, 0.79]
    for k in range(4):
        rows.append({"key": "a", "label": "1x8", "restart": k, "val_score": a[k], "diverged": False,
                     "params": 100, "flops": 180, "lr": 1e-3, "train_time": 1.0, "pruned": False})
        rows.append({"key": "b", "label": "1x4", "restart": k, "val_score": b[k], "diverged": k == 3,
                     "params": 50, "flops": 90, "lr": 1e-3, "train_time": 0.5, "pruned": False})
    rows.append({"key": "c", "label": "1x2", "restart": 0, "val_score": None, "diverged": True,
                 "params": 25, "flops": 40, "lr": 10.0, "train_time": 0.1, "pruned": False})
    return pd.DataFrame(rows)


def test_leaderboard_statistics_against_numpy() -> None:
    lb = leaderboard(restarts_table()).set_index("key")
    a = np.array([0.90, 0.92, 0.91, 0.80])
    assert lb.loc["a", "val_mean"] == pytest.approx(a.mean())
    assert lb.loc["a", "val_std"] == pytest.approx(a.std(ddof=1))
    assert lb.loc["a", "val_se"] == pytest.approx(a.std(ddof=1) / 2)
    assert (lb.loc["a", "val_min"], lb.loc["a", "val_max"]) == (0.80, 0.92)
    assert lb.loc["a", "p_good"] == pytest.approx(2 / 4)  # 0.92 and 0.91 are within 0.01 of 0.92
    assert lb.loc["a", "restarts_for_95"] == 5
    # b: the diverged restart is out of the statistics but counts in n_restarts and p_good.
    b = np.array([0.88, 0.91, 0.89])
    assert lb.loc["b", "val_mean"] == pytest.approx(b.mean())
    assert lb.loc["b", "val_se"] == pytest.approx(b.std(ddof=1) / math.sqrt(3))
    assert (lb.loc["b", "n_restarts"], lb.loc["b", "n_diverged"]) == (4, 1)
    assert lb.loc["b", "p_good"] == pytest.approx(1 / 4)
    assert lb.loc["b", "restarts_for_95"] == 11
    # c: every restart diverged.
    assert math.isnan(lb.loc["c", "val_mean"]) and lb.loc["c", "n_diverged"] == 1
    assert lb.loc["c", "p_good"] == 0.0 and pd.isna(lb.loc["c", "restarts_for_95"])
    # Config columns carried over, time summed.
    assert (lb.loc["b", "label"], lb.loc["b", "params"], lb.loc["b", "flops"]) == ("1x4", 50, 90)
    assert lb.loc["a", "train_time"] == pytest.approx(4.0)
    assert str(lb["restarts_for_95"].dtype) == "Int64"
    assert list(lb.index) == ["a", "b", "c"]  # first-appearance order
    assert lb.loc["c", "lr"] == 10.0


def test_leaderboard_single_restart_has_zero_spread() -> None:
    lb = leaderboard(pd.DataFrame([{"key": "x", "restart": 0, "val_score": 0.7, "diverged": False}]))
    assert (lb.loc[0, "val_std"], lb.loc[0, "val_se"], lb.loc[0, "restarts_for_95"]) == (0.0, 0.0, 1)


def test_leaderboard_feeds_choose_and_never_picks_all_diverged() -> None:
    lb = leaderboard(restarts_table())
    # c has the fewest parameters but diverged everywhere; a and b are both within 0.05 of the
    # best, and b is smaller.
    assert choose(lb, "tolerance=0.05").key == "b"
    assert choose(lb, "target=0.5").key == "b"
    with pytest.raises(ConfigError, match="no config meets the limits"):
        choose(lb, max_params=30)  # only c is that small, and it never finished a restart


def test_one_se_bar_on_a_real_leaderboard() -> None:
    lb = leaderboard(restarts_table()).set_index("key")
    bar = lb.loc["b", "val_mean"] - lb.loc["b", "val_se"]  # b has the best mean (0.8933 > 0.8825)
    assert lb.loc["b", "val_mean"] > lb.loc["a", "val_mean"]
    assert lb.loc["a", "val_mean"] < bar
    choice = choose(lb.reset_index(), "one-se")
    assert choice.key == choice.best_key == "b"


def test_paired_difference_uses_restart_k_against_restart_k() -> None:
    table = restarts_table()
    got = paired_difference(table, "a", "b")
    # Restart 3 of b diverged: pairs 0..2 only.
    d = np.array([0.90 - 0.88, 0.92 - 0.91, 0.91 - 0.89])
    assert got["n"] == 3
    assert got["mean_diff"] == pytest.approx(d.mean())
    assert got["se_diff"] == pytest.approx(d.std(ddof=1) / math.sqrt(3))
    # Pairing removes the shared luck: the paired SE is far smaller than the unpaired one.
    a, b = np.array([0.90, 0.92, 0.91]), np.array([0.88, 0.91, 0.89])
    unpaired = math.sqrt(a.var(ddof=1) / 3 + b.var(ddof=1) / 3)
    assert got["se_diff"] < unpaired
    assert paired_difference(table, "a", "c")["n"] == 0
    with pytest.raises(ConfigError, match="no restarts of config 'zzz'"):
        paired_difference(table, "a", "zzz")


def _three_sizes() -> pd.DataFrame:
    """s < m < L in parameters; L is best by half a point in every restart, m by 10 points over s."""
    rows = []
    scores = {"s": [0.80, 0.82, 0.81, 0.79], "m": [0.90, 0.92, 0.91, 0.89], "L": [0.905, 0.925, 0.915, 0.895]}
    params = {"s": 10, "m": 100, "L": 1000}
    for key, vals in scores.items():
        for k, v in enumerate(vals):
            rows.append({"key": key, "label": f"cfg-{key}", "restart": k, "val_score": v, "diverged": False,
                         "params": params[key], "flops": 2 * params[key], "lr": 1e-3, "train_time": 1.0, "pruned": False})
    return pd.DataFrame(rows)


def test_paired_evidence_compares_the_choice_with_its_closest_rival() -> None:
    restarts = _three_sizes()
    lb = leaderboard(restarts)
    # One SE: m is within one SE of L, so m is chosen, and it is compared with the best, L.
    choice = choose(lb, "one-se")
    assert (choice.key, choice.best_key) == ("m", "L")
    ev = paired_evidence(lb, restarts, choice)
    assert ev is not None and (ev["other_key"], ev["other_label"], ev["relation"]) == ("L", "cfg-L", "best")
    assert ev == {**ev, **paired_difference(restarts, "m", "L")}
    assert ev["mean_diff"] == pytest.approx(-0.005) and ev["se_diff"] == pytest.approx(0.0, abs=1e-12) and ev["n"] == 4
    # No tolerance: L is chosen, and compared with the best of the simpler configs, m (not s).
    best = choose(lb, "tolerance=0")
    assert best.key == best.best_key == "L"
    ev = paired_evidence(lb, restarts, best)
    assert ev is not None and (ev["other_key"], ev["relation"]) == ("m", "best simpler")
    assert ev["mean_diff"] == pytest.approx(0.005)
    assert describe_paired(ev, "cfg-L", percent=True).startswith("cfg-L vs the best simpler, cfg-m: +0.50 +/- 0.00 points")
    # The simplest config chosen as the best has no rival.
    only_s = restarts[restarts["key"] == "s"]
    lone = leaderboard(only_s)
    assert paired_evidence(lone, only_s, choose(lone, "one-se")) is None


def _restarts(scores: dict[str, list[float]], params: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame([
        {"key": key, "label": key, "restart": k, "val_score": v, "diverged": False, "params": params[key],
         "flops": 2 * params[key], "lr": 1e-3, "train_time": 1.0, "pruned": False}
        for key, vals in scores.items() for k, v in enumerate(vals)
    ])


def test_paired_se_is_read_as_one_se() -> None:
    # The restarts-only paired rule was folded into one-se, which pairs configs over validation rows
    # and restarts (tests/select/test_noise.py); an old command line or summary naming it gets one-se.
    restarts = _restarts({"C": [0.95, 0.85, 0.93, 0.85], "B": [0.90, 0.90, 0.90, 0.90]}, {"C": 10, "B": 100})
    lb = leaderboard(restarts)
    assert parse_rule("paired-se") == Rule("paired-se") == Rule("one-se")
    assert choose(lb, "paired-se").key == choose(lb, "one-se").key
