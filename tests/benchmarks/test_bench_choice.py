"""The choice benchmark (benchmarks/bench_choice.py, issue 24): its teachers and their data, the
judging of a choice against the oracle on a hand-made table, the weights it scores, and one real
smoke run as a subprocess.

The benchmark measures; nothing here depends on how well the choice does.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
SRC = Path(__file__).resolve().parents[2] / "src"
sys.path.insert(0, str(BENCH))

import bench_choice  # noqa: E402
from bench_choice import Case, all_cases, chosen_cases, draw, judge, make_teacher, share_of_rows, summarize  # noqa: E402

SUMMARY_KEYS = {"median_regret_points", "p90_regret_points", "oversize_rate", "cases", "rows"}


# --- the teachers and their data -----------------------------------------------------------------


@pytest.mark.parametrize("task,n_out", [("classification", bench_choice.N_CLASSES), ("regression", 1)])
def test_a_teacher_has_its_depth_and_width(task: str, n_out: int) -> None:
    deep = make_teacher(7, task=task, depth=2, width=8, activation="relu")
    assert [W.shape for W, _ in deep.layers] == [(8, 8), (8, 8), (8, n_out)]
    assert [b.shape for _, b in deep.layers] == [(8,), (8,), (n_out,)]
    linear = make_teacher(7, task=task, depth=0, width=0, activation="tanh")
    assert [W.shape for W, _ in linear.layers] == [(8, n_out)]
    X = np.random.default_rng(1).standard_normal((5, 8))
    assert deep.outputs(X).shape == (5, n_out)


def test_a_teacher_and_its_rows_are_fixed_by_their_seeds() -> None:
    a = make_teacher(3, task="classification", depth=1, width=16, activation="tanh")
    b = make_teacher(3, task="classification", depth=1, width=16, activation="tanh")
    other = make_teacher(4, task="classification", depth=1, width=16, activation="tanh")
    for (Wa, ba), (Wb, bb) in zip(a.layers, b.layers):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    assert not np.array_equal(a.layers[0][0], other.layers[0][0])
    X1, y1 = draw(a, 300, seed=11)
    X2, y2 = draw(b, 300, seed=11)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = draw(a, 300, seed=12)
    assert not np.array_equal(X1, X3)
    assert X1.shape == (300, bench_choice.N_FEATURES) and y1.shape == (300,)


@pytest.mark.parametrize("teacher", bench_choice.TEACHERS, ids=lambda t: t[0])
@pytest.mark.parametrize("task", bench_choice.TASKS)
def test_every_teacher_is_neither_constant_nor_saturated(teacher: tuple, task: str) -> None:
    """The cases' own teachers, on fresh rows: outputs of sd about 1, hidden tanh units mostly off
    their flat ends, and every class common (the bounds are far from the seeded values)."""
    name, depth, width, activation = teacher
    case = Case(name, task, 1000, depth, width, activation)
    t = make_teacher(case.teacher_seed, task=task, depth=depth, width=width, activation=activation)
    X = np.random.default_rng(99).standard_normal((4000, bench_choice.N_FEATURES))
    out = t.outputs(X)
    assert np.all((out.std(axis=0) > 0.5) & (out.std(axis=0) < 2.0))
    h = X
    for W, b in t.layers[:-1]:
        pre = h @ W + b
        if activation == "tanh":
            assert np.mean(np.abs(np.tanh(pre)) > 0.99) < 0.2
        else:
            assert np.mean(pre > 0) > 0.2
        h = bench_choice._activate(pre, activation)
    if task == "classification":
        shares = np.bincount(out.argmax(axis=1), minlength=bench_choice.N_CLASSES) / len(out)
        assert shares.min() > 0.05


def test_label_noise_flips_that_many_labels_to_another_class() -> None:
    t = make_teacher(5, task="classification", depth=1, width=4, activation="tanh")
    X, y = draw(t, 1000, seed=8, label_noise=0.1)
    clean = t.outputs(X).argmax(axis=1)
    assert int((y != clean).sum()) == 100
    X0, y0 = draw(t, 1000, seed=8, label_noise=0.0)
    np.testing.assert_array_equal(y0, t.outputs(X0).argmax(axis=1))


def test_target_noise_is_added_to_the_teachers_output() -> None:
    t = make_teacher(5, task="regression", depth=2, width=8, activation="relu")
    X, y = draw(t, 5000, seed=8, target_noise=0.5)
    residual = y - t.outputs(X)[:, 0]
    assert 0.4 < residual.std() < 0.6
    X0, y0 = draw(t, 50, seed=8, target_noise=0.0)
    np.testing.assert_array_equal(y0, t.outputs(X0)[:, 0])


# --- the cases ----------------------------------------------------------------------------------


def test_case_names_and_seeds_are_distinct_and_the_subsets_cover_both_tasks() -> None:
    cases = all_cases()
    assert len({c.name for c in cases}) == len(cases)
    assert len({(c.table_seed("fit"), c.table_seed("large")) for c in cases}) == len(cases)
    # One teacher per (teacher, task), shared by its row counts.
    assert len({c.teacher_seed for c in cases}) == len(bench_choice.TEACHERS) * len(bench_choice.TASKS)
    quick = chosen_cases(None, quick=True, smoke=False)
    assert {c.task for c in quick} == set(bench_choice.TASKS)
    assert {c.rows for c in quick} == set(bench_choice.ROW_COUNTS)
    assert {c.depth for c in quick} == {0, 1, 2} and len(quick) == 14
    assert len(chosen_cases(None, quick=False, smoke=True)) == 1
    assert [c.name for c in chosen_cases("regr-linear-200,class-2x8-relu-4000", False, False)] == [
        "regr-linear-200", "class-2x8-relu-4000"]
    with pytest.raises(bench_choice.BenchError, match="nope"):
        chosen_cases("nope", False, False)


# --- judging a choice ---------------------------------------------------------------------------


def _table(oracle_se: float = 0.004) -> pd.DataFrame:
    """Five configs in leaderboard order; the oracle is 2x8 (0.860). Within max(SE, 0.5 points) of
    it: 1x8, 2x8, 2x64; 1x4 is 0.7 points below; one config diverged (no score)."""
    return pd.DataFrame([
        {"key": "a", "label": "linear", "params": 10, "score": 0.800, "se": 0.003},
        {"key": "b", "label": "1x4", "params": 50, "score": 0.853, "se": 0.003},
        {"key": "c", "label": "1x8", "params": 100, "score": 0.856, "se": 0.003},
        {"key": "d", "label": "2x8", "params": 180, "score": 0.860, "se": oracle_se},
        {"key": "e", "label": "2x64", "params": 5000, "score": 0.858, "se": 0.003},
        {"key": "f", "label": "3x256", "params": 90000, "score": float("nan"), "se": float("nan")},
    ])


def test_a_choice_larger_than_enough_is_oversize() -> None:
    v = judge(_table(), "e")
    assert (v["oracle"], v["enough"], v["chosen"]) == ("2x8", "1x8", "2x64")
    assert v["regret_points"] == pytest.approx(0.2)
    assert v["tolerance_points"] == pytest.approx(0.5)
    assert v["oversize"] and not v["short"]
    assert v["params_ratio"] == 50.0


def test_a_choice_below_the_noise_is_short_not_oversize() -> None:
    v = judge(_table(), "b")
    assert v["regret_points"] == pytest.approx(0.7)
    assert v["short"] and not v["oversize"]


def test_enough_itself_and_the_oracle_have_no_fault() -> None:
    v = judge(_table(), "c")
    assert v["regret_points"] == pytest.approx(0.4) and not v["oversize"] and not v["short"]
    v = judge(_table(), "d")
    assert v["regret_points"] == 0.0 and v["oversize"] and not v["short"]  # the oracle is bigger than 1x8


def test_the_oracles_se_widens_the_noise_beyond_half_a_point() -> None:
    v = judge(_table(oracle_se=0.02), "b")
    assert v["tolerance_points"] == pytest.approx(2.0)
    assert v["enough"] == "1x4" and not v["short"] and not v["oversize"]


def test_shares_average_to_accuracy_and_r2() -> None:
    from sklearn.metrics import r2_score

    assert share_of_rows("classification", np.array([0, 1, 2, 1]), np.array([0, 1, 1, 1])).mean() == 0.75
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=200), rng.normal(size=200)
    assert share_of_rows("regression", y, p).mean() == pytest.approx(r2_score(y, p))


def test_summary_of_hand_made_rows() -> None:
    rows = [{"case": f"c{i}", "regret_points": r, "oversize": o, "short": s, "params_ratio": 1.0 + i}
            for i, (r, o, s) in enumerate([(0.0, True, False), (1.0, False, True), (2.0, False, False),
                                           (3.0, True, False), (4.0, False, False)])]
    s = summarize(rows)
    assert s["median_regret_points"] == 2.0
    assert s["p90_regret_points"] == pytest.approx(3.6)
    assert s["oversize_rate"] == pytest.approx(0.4) and s["short_rate"] == pytest.approx(0.2)
    assert s["median_params_ratio"] == 3.0
    assert s["cases"] == ["c0", "c1", "c2", "c3", "c4"]
    assert "best_restart_median_regret_points" not in s  # rows without the other measure
    other = summarize([{**r, "best_restart_regret_points": 2 * r["regret_points"], "best_restart_oversize": False,
                        "best_restart_short": r["short"]} for r in rows])
    assert other["median_regret_points"] == 2.0 and other["best_restart_median_regret_points"] == 4.0
    assert other["best_restart_oversize_rate"] == 0.0 and other["best_restart_short_rate"] == pytest.approx(0.2)


# --- the weights it scores ----------------------------------------------------------------------


def _searched(tmp_path: Path, task: str, seed: int, **options: Any) -> tuple[Any, Path, np.ndarray, np.ndarray]:
    """A smoke-space search on a one-layer tanh teacher's rows (150 to train, 50 to validate, 300
    to test), its run directory kept: ``(result, out, X_test, y_test)``."""
    from justenough import search

    t = make_teacher(seed, task=task, depth=1, width=4, activation="tanh")
    X, y = draw(t, 200, seed=seed + 1)
    X_test, y_test = draw(t, 300, seed=seed + 2)
    out = tmp_path / "run"
    result = search(bench_choice.frame(X[:150], y[:150]), target="target", task=task,
                    val=bench_choice.frame(X[150:], y[150:]), test=bench_choice.frame(X_test, y_test),
                    report=False, out=out, workers=1, refit=False, **options, **bench_choice.SMOKE_SEARCH)
    return result, out, X_test, y_test


def test_config_scores_read_the_weights_the_choice_was_made_from(tmp_path: Path) -> None:
    """Without refit and as one network (not the restarts' ensemble), the search tests its choice's
    best restart: scoring the same test rows with the kept weights must give the search's own test
    score, exactly (the same forward pass)."""
    result, out, X_test, y_test = _searched(tmp_path, "classification", 21, ensemble=False)
    table = bench_choice.config_scores(result, out, X_test, y_test)
    assert sorted(table["label"]) == sorted(result.leaderboard["label"])
    chosen = table[table["key"] == result.chosen["key"]].iloc[0]
    assert int(chosen["restart"]) == int(result.chosen["best_restart"])
    assert chosen["score"] == result.test_score


def test_config_scores_ensemble_is_the_model_the_search_returns(tmp_path: Path) -> None:
    """With the restarts' ensemble (the default) and without refit, the search tests the mean of
    the chosen config's restarts: its ``ensemble_score`` on the same rows must be the search's own
    test score; the best restart's ``score`` is scored from the same weights beside it."""
    result, out, X_test, y_test = _searched(tmp_path, "regression", 22, ensemble=True, cv=1)
    assert result.summary["ensemble"]
    table = bench_choice.config_scores(result, out, X_test, y_test)
    chosen = table[table["key"] == result.chosen["key"]].iloc[0]
    assert chosen["ensemble_score"] == pytest.approx(result.test_score, abs=1e-6)
    assert np.isfinite(table["ensemble_score"]).all() and np.isfinite(table["score"]).all()


# --- real runs ----------------------------------------------------------------------------------


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(BENCH / "bench_choice.py"), *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)


def test_bad_input_exits_2_with_the_fix(tmp_path: Path) -> None:
    done = _run(["--cases", "class-linear-200,nope"], tmp_path)
    assert done.returncode == 2 and "unknown case(s) nope" in done.stderr and "class-linear-200" in done.stderr
    done = _run(["--quick", "--smoke"], tmp_path)
    assert done.returncode == 2 and "one of them" in done.stderr
    done = _run(["--smoke", "--label-noise", "1.5"], tmp_path)
    assert done.returncode == 2 and "--label-noise" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_smoke_run_ends_with_the_json_line(tmp_path: Path) -> None:
    done = _run(["--smoke", "--workers", "1"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert SUMMARY_KEYS <= set(summary)
    assert summary["cases"] == ["class-1x4-tanh-200"] and len(summary["rows"]) == 1
    row = summary["rows"][0]
    assert row["regret_points"] >= 0.0 and math.isfinite(row["chosen_score"])
    assert isinstance(row["oversize"], bool) and 0.0 <= summary["oversize_rate"] <= 1.0
    # Judged as the default model, the restarts' ensemble; the best restart's measure beside it.
    assert row["model"] == "ensemble" and row["best_restart_regret_points"] >= 0.0
    assert 0.0 <= summary["best_restart_oversize_rate"] <= 1.0
    assert list(tmp_path.iterdir()) == []  # its run directory was temporary
