"""lr_per_config: each architecture keeps its best learning rate by validation before the rule."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justenough import search
from justenough.cli.app import app
from justenough.data import load, prepare
from justenough.run.files import read_leaderboard, read_summary
from justenough.select.lr_choice import family_of, kept_lrs, lr_choice_of
from justenough.space.config import Config
from justenough.space.search_space import Space


def _board(rows: list[tuple[Config, float]]) -> tuple[pd.DataFrame, dict[str, Config]]:
    configs = {cfg.key: cfg for cfg, _ in rows}
    board = pd.DataFrame({"key": [cfg.key for cfg, _ in rows], "val_mean": [mean for _, mean in rows]})
    return board, configs


def test_a_family_is_every_setting_but_the_learning_rate() -> None:
    a, b = Config(depth=1, widths=(8,), lr=1e-3), Config(depth=1, widths=(8,), lr=1e-2)
    assert family_of(a) == family_of(b) and a.key != b.key
    assert family_of(a) != family_of(Config(depth=1, widths=(16,), lr=1e-3))
    assert family_of(a) != family_of(Config(depth=1, widths=(8,), lr=1e-3, weight_decay=1e-4))


def test_each_family_keeps_its_best_mean_and_ties_keep_the_lower_rate() -> None:
    rows = [
        (Config(depth=1, widths=(8,), lr=1e-3), 0.90), (Config(depth=1, widths=(8,), lr=1e-2), 0.93),
        (Config(depth=2, widths=(8, 8), lr=1e-3), 0.95), (Config(depth=2, widths=(8, 8), lr=1e-2), 0.95),  # a tie
        (Config(depth=1, widths=(4,), lr=1e-3), math.nan), (Config(depth=1, widths=(4,), lr=1e-2), 0.50),  # one diverged
        (Config(depth=0, widths=(), lr=1e-3), math.nan), (Config(depth=0, widths=(), lr=3e-3), math.nan),  # all diverged
    ]
    board, configs = _board(rows)
    assert kept_lrs(board, configs).tolist() == [False, True, True, False, False, True, True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([4, 8, 16]), st.sampled_from([1e-3, 3e-3, 1e-2]),
                          st.floats(0, 1, allow_nan=False)), min_size=1, max_size=9,
                unique_by=lambda t: (t[0], t[1])))
def test_exactly_one_rate_per_family_is_kept_and_none_beats_it(rows: list[tuple[int, float, float]]) -> None:
    board, configs = _board([(Config(depth=1, widths=(w,), lr=lr), mean) for w, lr, mean in rows])
    board.index = np.arange(10, 10 + len(board))  # any index: the result aligns with it
    kept = kept_lrs(board, configs)
    assert list(kept.index) == list(board.index)
    for width in {w for w, _, _ in rows}:
        mine = board[[configs[k].widths == (width,) for k in board["key"]]]
        keepers = mine[kept.loc[mine.index]]
        assert len(keepers) == 1
        assert float(keepers["val_mean"].iloc[0]) == float(mine["val_mean"].max())


def test_lr_choice_of_lists_the_family_rates_lowest_first() -> None:
    rows = [(Config(depth=1, widths=(8,), lr=1e-2), 0.93), (Config(depth=1, widths=(8,), lr=1e-3), math.nan),
            (Config(depth=1, widths=(16,), lr=1e-3), 0.99)]
    board, configs = _board(rows)
    assert lr_choice_of(board, configs, rows[0][0].key) == {"lr": 0.01, "val_means": {"0.001": None, "0.01": 0.93}}


SPACE = dict(depth="0-1", widths="4,16", lr="1e-3,3e-2", max_epochs="15", patience="5", embed="none")


@pytest.fixture(scope="module")
def iris_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object, Path]:
    prepared = prepare(load("iris"), seed=0)
    out = tmp_path_factory.mktemp("lr") / "run"
    chosen = search(prepared, space=Space.from_options(**SPACE), n_init=2, workers=1, out=out, report=False,
                    lr_per_config=True)
    plain = search(prepared, space=Space.from_options(**SPACE), n_init=2, workers=1, report=False)
    return chosen, plain, out


def test_the_rule_compares_architectures_each_at_its_best_rate(iris_runs: tuple) -> None:
    result, plain, out = iris_runs
    board = result.leaderboard
    assert board["lr_kept"].sum() == 3  # linear, 1x4, 1x16: one rate each
    for _, family in board.groupby("label"):
        assert len(family) == 2
        keeper = family[family["lr_kept"]].iloc[0]
        assert keeper["val_mean"] == family["val_mean"].max()
    row = board[board["chosen"]].iloc[0]
    assert bool(row["lr_kept"])
    lr_choice = result.summary["lr_choice"]
    assert lr_choice["lr"] == row["lr"] and set(lr_choice["val_means"]) == {"0.001", "0.03"}
    assert f"Its learning rate, {row['lr']:g}, was the best of 0.001, 0.03 on validation" in result.explanation
    # Written and read back: the column and the summary key survive the run directory.
    assert read_leaderboard(out)["lr_kept"].tolist() == board["lr_kept"].tolist()
    assert read_summary(out).lr_choice == lr_choice
    # Training is the same: the same restarts' scores with and without the option.
    pd.testing.assert_series_equal(
        result.restarts.sort_values(["key", "restart"])["val_score"].reset_index(drop=True),
        plain.restarts.sort_values(["key", "restart"])["val_score"].reset_index(drop=True))
    # Without the option nothing changes in the run's files.
    assert "lr_kept" not in plain.leaderboard.columns and "lr_choice" not in plain.summary


def test_one_rate_leaves_nothing_to_choose(tmp_path: Path) -> None:
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="4,8", lr="1e-2", max_epochs="5", patience="3")
    result = search(prepared, space=space, n_init=2, workers=1, report=False, lr_per_config=True)
    assert result.leaderboard["lr_kept"].all() and "lr_choice" not in result.summary


def test_the_cli_marks_the_other_rates(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    out = tmp_path / "run"
    args = ["search", "iris", "--depth", "1", "--widths", "4", "--lr", "1e-3,3e-2", "--max-epochs", "10",
            "--patience", "3", "--n-init", "2", "--workers", "1", "--no-report", "--lr-per-config", "--out", str(out)]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    assert "other lr" in run.output and "was the best of 0.001, 0.03 on validation" in " ".join(run.output.split())


def test_a_bad_switch_is_refused_before_anything_trains(tmp_path: Path) -> None:
    from justenough.errors import ConfigError

    with pytest.raises(ConfigError, match="lr_per_config"):
        search("iris", lr_per_config="yes", out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_search_estimator_keeps_one_rate_per_architecture() -> None:
    from sklearn.datasets import load_iris

    from justenough.estimators import JustEnoughClassifier

    X, y = load_iris(return_X_y=True)
    model = JustEnoughClassifier(depth=(1,), widths=(4, 8), learning_rate_init=(1e-3, 3e-2), max_epochs=10, patience=3,
                                 embed="none", n_init=2, cv=1, lr_per_config=True, report=False, random_state=0).fit(X, y)
    board = model.leaderboard_
    assert board["lr_kept"].sum() == 2 and bool(board.loc[board["chosen"], "lr_kept"].iloc[0])
    assert "on validation" in model.explanation_
