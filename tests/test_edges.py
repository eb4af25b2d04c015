"""Honest answers at the edges (issue 13, section 5): targets that cannot be learned, predict-time
surprises, the explanation of a choice that is already the simplest, one order and one label for
configs, a sealed test split that has scored more than one model, and the report's axis and notices.

Each bad input asserts the message, the exit code where the CLI is involved, and that nothing was
written. The CLI runs are real subprocesses on real files.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.preprocessing import OneHotEncoder

from justenough.data import Preprocessor, load, prepare
from justenough.data.messages import quote_list
from justenough.errors import DataError
from justenough.select import best_first, choose, leaderboard
from tests.cli.test_cli import assert_usage_error, jn

# A search that needs no luck: on XOR a linear model cannot beat chance (about 50%), one hidden
# layer of 16 units separates it (above 90%), so "linear" and "1x16" are always different choices.
XOR_RUN = ["--depth", "0-1", "--widths", "16", "--embed", "none", "--n-init", "2", "--lr", "0.03", "--max-epochs", "60",
           "--patience", "20", "--workers", "1"]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# ----------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------


def test_constant_regression_target_is_refused() -> None:
    frame = pd.DataFrame({"x": np.arange(30.0), "y": np.full(30, 4.5)})
    with pytest.raises(DataError, match=r"target 'y' in DataFrame is constant \(4\.5 in all 30 rows\): there is nothing to "
                                        r"predict; pass the column to predict as `target=\.\.\.`"):
        prepare(load(frame, target="y"))
    # Forcing regression on a one-valued column is refused the same way.
    with pytest.raises(DataError, match="is constant"):
        prepare(load(frame.assign(y=1), target="y", task="regression"))


def test_text_target_unique_per_row_looks_like_an_id() -> None:
    frame = pd.DataFrame({"x": np.arange(40.0), "name": [f"person {i}" for i in range(40)]})
    with pytest.raises(DataError, match=r"target 'name' in DataFrame looks like an ID or free text: 40 distinct values in "
                                        r"40 rows") as info:
        prepare(load(frame, target="name"))
    assert "stratified" not in str(info.value)  # not the split's complaint about one-row classes
    assert "--task regression" not in str(info.value)  # text cannot be a quantity


def test_id_threshold_is_nine_in_ten_distinct_values() -> None:
    # 18 distinct labels in 20 rows (90%): an ID. 17 in 20: classes too small to split, which the
    # stratified split says in its own words.
    nearly = [f"v{i}" for i in range(18)] + ["v0", "v1"]
    with pytest.raises(DataError, match=r"looks like an ID or free text: 18 distinct values in 20 rows"):
        prepare(load(pd.DataFrame({"x": np.arange(20.0), "t": nearly}), target="t"))
    fewer = [f"v{i}" for i in range(17)] + ["v0", "v1", "v2"]
    with pytest.raises(DataError, match=r"class 'v0' of target 't' has only 2 row\(s\); a stratified split"):
        prepare(load(pd.DataFrame({"x": np.arange(20.0), "t": fewer}), target="t"))


def test_unique_floats_are_regression_but_not_classes() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    table = load(frame, target="y")
    assert table.task == "regression"
    assert prepare(table).split_sizes["train"] == 30  # accepted: a quantity, every value distinct
    with pytest.raises(DataError, match=r"looks like an ID or free text: 50 distinct values in 50 rows.*"
                                        r'if it is a quantity, pass `task="regression"`'):
        prepare(load(frame, target="y", task="classification"))


@pytest.mark.parametrize(
    ("rows", "target", "message"),
    [
        ("".join(f"{i},{i % 3},4.5\n" for i in range(30)), "y", "target 'y' in {path} is constant (4.5 in all 30 rows)"),
        ("".join(f"{i},{i % 3},person {i}\n" for i in range(30)), "y",
         "target 'y' in {path} looks like an ID or free text: 30 distinct values in 30 rows"),
    ],
)
def test_cli_refuses_unlearnable_targets_before_writing(tmp_path: Path, rows: str, target: str, message: str) -> None:
    data = tmp_path / "table.csv"
    data.write_text("a,b,y\n" + rows)
    out = tmp_path / "run"
    proc = jn("search", data, "--target", target, "--out", out, "--workers", "1")
    assert_usage_error(proc, message.format(path=data))
    assert not out.exists()
    assert _files(tmp_path) == {"table.csv"}


# ----------------------------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------------------------


def _colour_train() -> pd.DataFrame:
    return pd.DataFrame({"Age": [20.0, 30.0, 40.0, 50.0, 60.0, 70.0], "colour": ["r", "g", "b", "r", "g", "b"]})


def test_unseen_categories_are_counted_named_and_encoded_as_zeros() -> None:
    train = _colour_train()
    pre = Preprocessor().fit(train)
    rows = pd.DataFrame({"Age": [25.0, 35.0, 45.0, 55.0], "colour": ["purple", "r", "teal", "purple"]})
    notices = pre.check_columns(rows)
    assert notices == [
        "column 'colour': 3 of 4 row(s) hold 2 categories not seen in training ('purple', 'teal'); "
        "they are encoded as all zeros (no known category)"
    ]
    # The encoding agrees with scikit-learn's one-hot encoder that ignores unknown categories.
    ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train[["colour"]])
    got = pre.transform(rows)[:, 1:]  # [N, 3]: the colour block after the numeric column
    np.testing.assert_array_equal(got, ohe.transform(rows[["colour"]]).astype(np.float32))
    assert pre.check_columns(train) == []  # known categories: no notice


def test_missing_column_that_differs_only_in_case_gets_did_you_mean() -> None:
    pre = Preprocessor().fit(_colour_train())
    with pytest.raises(DataError, match=r"missing column\(s\) the model needs: 'Age'\. Close names: 'Age' \(did you mean "
                                        r"'AGE'\? the names differ only in case\)"):
        pre.check_columns(pd.DataFrame({"AGE": [1.0], "colour": ["r"]}))


def test_truncated_lists_end_with_an_ellipsis() -> None:
    assert quote_list([f"c{i}" for i in range(15)], limit=3) == "'c0', 'c1', 'c2', … (12 more)"
    assert quote_list(["a", "b"], limit=3) == "'a', 'b'"


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("colour")
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], size=90)
    frame = pd.DataFrame({"size": rng.normal(size=90), "colour": colour, "label": np.where(colour == "red", "yes", "no")})
    frame.to_csv(root / "train.csv", index=False)
    out = root / "run"
    proc = jn("search", root / "train.csv", "--target", "label", "--depth", "1", "--widths", "4", "--n-init", "1",
              "--max-epochs", "3", "--workers", "1", "--no-report", "-q", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_cli_predict_names_unseen_categories(colour_run: Path, tmp_path: Path) -> None:
    rows = tmp_path / "new.csv"
    pd.DataFrame({"size": [0.1, 0.2, 0.3], "colour": ["mauve", "red", "mauve"]}).to_csv(rows, index=False)
    proc = jn("predict", colour_run, rows, "--out", tmp_path / "preds.csv")
    assert proc.returncode == 0, proc.stderr
    assert ("note: column 'colour': 2 of 3 row(s) hold 1 category not seen in training ('mauve'); they are encoded "
            "as all zeros") in " ".join(proc.stderr.split())
    assert len(pd.read_csv(tmp_path / "preds.csv")) == 3


def test_cli_predict_refuses_a_column_in_the_wrong_case(colour_run: Path, tmp_path: Path) -> None:
    rows = tmp_path / "new.csv"
    pd.DataFrame({"SIZE": [0.1], "colour": ["red"]}).to_csv(rows, index=False)
    preds = tmp_path / "preds.csv"
    assert_usage_error(jn("predict", colour_run, rows, "--out", preds),
                        "missing column(s) the model needs: 'size'", "did you mean 'SIZE'? the names differ only in case")
    assert not preds.exists()
    assert _files(tmp_path) == {"new.csv"}


def test_cli_predict_id_error_lists_columns_with_an_ellipsis(colour_run: Path, tmp_path: Path) -> None:
    rows = tmp_path / "wide.csv"
    pd.DataFrame({"size": [0.1], "colour": ["red"], **{f"extra{i}": [i] for i in range(12)}}).to_csv(rows, index=False)
    preds = tmp_path / "preds.csv"
    proc = jn("predict", colour_run, rows, "--id", "customer", "--out", preds)
    assert_usage_error(proc, "--id 'customer': no such column")
    assert re.search(r"columns: size, colour, extra0, .*extra9, …\)", " ".join(proc.stderr.split())), proc.stderr
    assert not preds.exists()


# ----------------------------------------------------------------------------------------------
# The explanation of a choice that is the simplest config
# ----------------------------------------------------------------------------------------------


def _board(*rows: tuple[str, float, float, int]) -> pd.DataFrame:
    """Leaderboard rows (key, mean, se, params), two restarts each, none diverged."""
    return pd.DataFrame([
        {"key": k, "label": k, "val_mean": m, "val_se": se, "params": p, "flops": 2 * p, "n_restarts": 2, "n_diverged": 0}
        for k, m, se, p in rows
    ])


def _restarts(scores: dict[str, tuple[list[float], int]]) -> pd.DataFrame:
    return pd.DataFrame([
        {"key": k, "label": k, "restart": r, "val_score": v, "diverged": False, "params": p, "flops": 2 * p}
        for k, (vals, p) in scores.items() for r, v in enumerate(vals)
    ])


SIMPLEST = "it is the simplest config to choose from"


@pytest.mark.parametrize("rule", ["one-se", "tolerance=0.01", "target=0.5", "paired-se"])
def test_the_only_config_is_called_the_simplest(rule: str) -> None:
    restarts = _restarts({"a": ([0.9, 0.92], 10)})
    choice = choose(leaderboard(restarts), rule, restarts=restarts)
    assert SIMPLEST in choice.explanation
    for claim in ("no simpler config", "beats every simpler config", "the simplest config whose mean"):
        assert claim not in choice.explanation, (rule, choice.explanation)


@pytest.mark.parametrize("rule", ["one-se", "tolerance=0.01", "paired-se"])
def test_best_and_simplest_says_so(rule: str) -> None:
    # The smallest config is also the best by a wide, steady margin.
    restarts = _restarts({"small": ([0.95, 0.96], 10), "big": ([0.80, 0.70], 1000)})
    choice = choose(leaderboard(restarts), rule, restarts=restarts)
    assert choice.key == choice.best_key == "small"
    assert choice.explanation.startswith("picked small (accuracy 95.5% +/- 0.5 SE of the restarts, 10 parameters): it has the best mean, "
                                         f"and {SIMPLEST}")


@pytest.mark.parametrize("rule", ["one-se", "tolerance=0.05", "paired-se"])
def test_simplest_but_not_best_says_both(rule: str) -> None:
    restarts = _restarts({"small": ([0.90, 0.92], 10), "big": ([0.94, 0.90], 1000)})
    choice = choose(leaderboard(restarts), rule, restarts=restarts)
    assert choice.key == "small" and choice.best_key == "big"
    assert "of the best, big" in choice.explanation and choice.explanation.endswith(f"; {SIMPLEST}")


def test_target_reached_by_the_simplest_config() -> None:
    choice = choose(_board(("small", 0.9, 0.01, 10), ("big", 0.95, 0.01, 100)), "target=0.8")
    assert choice.explanation.startswith(f"picked small (accuracy 90.0% +/- 1.0 SE of the restarts, 10 parameters): {SIMPLEST}, and its "
                                         "mean reaches the target 80.0%; the best is big")


def test_a_simpler_config_keeps_the_old_words() -> None:
    # A simpler config exists but is not close: the choice is not the simplest, and says why.
    choice = choose(_board(("small", 0.5, 0.01, 10), ("big", 0.95, 0.01, 100)), "one-se")
    assert choice.key == "big"
    assert "no simpler config comes within 1 SE of it (above 94.0%)" in choice.explanation
    assert SIMPLEST not in choice.explanation
    # A simpler config whose every restart diverged still exists: the choice is not the simplest.
    dead = _board(("small", float("nan"), float("nan"), 10), ("big", 0.95, 0.01, 100)).assign(n_diverged=[2, 0])
    assert SIMPLEST not in choose(dead, "one-se").explanation
    # Limits decide what there is to choose from: within max_params=50 the small one is the best
    # and the simplest, and the explanation still names the best it gave up.
    within = choose(_board(("small", 0.9, 0.01, 10), ("big", 0.95, 0.01, 100)), "one-se", max_params=50)
    assert within.key == "small"
    assert f"it has the best mean, and {SIMPLEST}. The limits (max_params=50) exclude the overall best, big" in within.explanation


# ----------------------------------------------------------------------------------------------
# One order and one label
# ----------------------------------------------------------------------------------------------


def test_best_first_orders_by_mean_then_simplicity_then_key() -> None:
    board = pd.DataFrame({
        "key": ["e", "d", "c", "b", "a"],
        "val_mean": [0.8, float("nan"), 0.9, 0.9, 0.9],
        "params": [5, 1, 100, 10, 10],
        "flops": [10, 2, 200, 30, 20],
    })
    ranked = best_first(board)
    # 0.9 first: fewest params (10, 10, then 100), equal params: fewest FLOPs; NaN last.
    assert list(ranked["key"]) == ["a", "b", "c", "e", "d"]
    assert list(ranked.index) == [0, 1, 2, 3, 4]
    tied = pd.DataFrame({"key": ["z", "y"], "val_mean": [0.5, 0.5], "params": [3, 3], "flops": [6, 6]})
    assert list(best_first(tied)["key"]) == ["y", "z"]  # a full tie: by key


def test_progress_line_and_table_use_one_label() -> None:
    from justenough.cli.labels import table_labels
    from justenough.space.labels import config_text
    from justenough.space.search_space import Space

    space = Space.from_options(depth="0-1", widths=[8], activation=["relu", "tanh"], embed="none")
    configs = space.configs(task="regression")
    rows = pd.DataFrame([{**c.to_dict(), "label": c.label, "depth": c.depth} for c in configs])
    table = dict(zip([c.key for c in configs], table_labels(rows)))
    for config in configs:
        progress = config_text(config).split()
        words = table[config.key].split()
        assert words == [w for w in progress if w in words]  # the table leaves settings out, in order
        assert progress[0] == config.label
        if config.depth == 0:
            assert "identity" not in progress and "identity" not in words
    assert sorted(table.values()) == sorted({*table.values()})  # every config told apart


def test_cli_orders_and_labels_agree_and_the_test_split_counts_its_models(tmp_path: Path) -> None:
    out = tmp_path / "xor"
    # Run 1: tolerance=1 accepts every config, so it picks the simplest, the linear model.
    first = jn("search", "xor", *XOR_RUN, "--rule", "tolerance=1", "--out", out)
    assert first.returncode == 0, first.stdout + first.stderr
    s1 = json.loads((out / "summary.json").read_text())
    assert s1["chosen"]["label"] == "linear" and s1["test_models_scored"] == 1
    assert "(sealed test split, scored once)" in first.stdout
    assert "scored once, on the sealed test split" in (out / "report.html").read_text()

    # Order: leaderboard.csv best-first, as printed; labels: the progress line's label starts with
    # the table's, for the linear model too (no "identity" anywhere).
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board["label"]) == ["1x16", "linear"]
    assert board["val_mean"].is_monotonic_decreasing
    lines = first.stdout.splitlines()
    table_rows = [line for line in lines if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in table_rows] == ["1x16", "linear"]
    progress = [line for line in lines if re.match(r"\[\d/2\] ", line)]
    assert sorted(line.split()[1] for line in progress) == ["1x16", "linear"]
    assert any(line.split()[1:4] == ["linear", "he_normal", "adam"] for line in progress)
    assert "identity" not in first.stdout

    # The count lives in the study. Make run 1 look like a run from before the count (its study
    # holds no count): its summary.json still says which model it scored.
    with sqlite3.connect(out / "study.db") as db:
        assert db.execute("DELETE FROM study_user_attributes WHERE key = 'test_scored_models'").rowcount == 1

    # Run 2 on the same run directory with another rule: a second model scores the sealed split.
    second = jn("search", "xor", *XOR_RUN, "--rule", "one-se", "--out", out)
    assert second.returncode == 0, second.stdout + second.stderr
    s2 = json.loads((out / "summary.json").read_text())
    assert s2["chosen"]["label"] == "1x16"
    assert s2["test_models_scored"] == 2
    assert [m["label"] for m in s2["test_scored_models"]] == ["linear", "1x16"]
    assert [m["rule"] for m in s2["test_scored_models"]] == ["tolerance=1", "one-se"]
    text = " ".join(second.stdout.split())
    assert "(sealed test split, which has now scored 2 models: no longer an unbiased estimate)" in text
    notice = next(n for n in s2["notices"] if "has now scored 2 different models" in n)
    assert "no longer an unbiased estimate" in notice and f"note: {notice}" in text
    report = (out / "report.html").read_text()
    assert "the sealed test split has now scored 2 models: no longer an unbiased estimate" in report
    assert "has now scored 2 models of this run" in report
    shown = jn("show", out)
    assert "which has now scored 2 models" in " ".join(shown.stdout.split())

    study = optuna.load_study(study_name=None, storage=f"sqlite:///{out / 'study.db'}")
    assert [m["label"] for m in study.user_attrs["test_scored_models"]] == ["linear", "1x16"]

    # Run 3 repeats run 1's rule: a model already scored, no new look at the test rows.
    third = jn("search", "xor", *XOR_RUN, "--rule", "tolerance=1", "--out", out, "--no-report", "-q")
    assert third.returncode == 0, third.stdout + third.stderr
    s3 = json.loads((out / "summary.json").read_text())
    assert s3["chosen"]["label"] == "linear" and s3["test_models_scored"] == 2
    assert "which has now scored 2 models" in " ".join(third.stdout.split())


def test_result_leaderboard_is_best_first() -> None:
    import justenough
    from justenough.data.datasets import load_dataset
    from justenough.space.search_space import Space

    space = Space.from_options(depth="0-1", widths=[4, 16], lr=[0.03], max_epochs=[40], patience=[10])
    result = justenough.search(load_dataset("xor"), space=space, n_init=2, report=False, workers=1)
    means = result.leaderboard["val_mean"].to_numpy()
    assert np.all(np.diff(means) <= 0)
    assert list(result.leaderboard.index) == list(range(len(result.leaderboard)))
    assert result.summary["test_models_scored"] == 1


# ----------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------


def test_log_axis_ticks_are_readable_counts() -> None:
    from justenough.report.figure_style import count_text, log_ticks
    from justenough.report.figures import complexity_figure

    assert log_ticks(np.array([131.0, 5000.0, 60000.0])) == ([100.0, 1e3, 1e4, 1e5], ["100", "1k", "10k", "100k"])
    # Less than a decade: 2x and 5x marks too, so the axis still has labels.
    assert log_ticks(np.array([131.0, 400.0])) == ([100.0, 200.0, 500.0, 1e3], ["100", "200", "500", "1k"])
    assert [count_text(v) for v in (1.0, 2e3, 1.5e6)] == ["1", "2k", "1.5M"]
    board = _board(("a", 0.9, 0.01, 131), ("b", 0.95, 0.01, 60000)).assign(val_std=0.01, widths="8", depth=1)
    fig = complexity_figure(board, "a", percent=True, metric="accuracy")
    assert fig.layout.xaxis.type == "log"
    assert list(fig.layout.xaxis.ticktext) == ["100", "1k", "10k", "100k"]


def test_report_shows_data_notices_one_per_line(tmp_path: Path) -> None:
    import shutil

    from justenough.report import build_report
    from tests.run_fixture import write_run

    run = write_run(tmp_path / "run")
    data = json.loads((run / "data.json").read_text())
    data["notices"] = ["first notice, with a comma", "second notice"]
    (run / "data.json").write_text(json.dumps(data))
    html = Path(build_report(run)).read_text()
    assert '<ul class="lines"><li>first notice, with a comma</li><li>second notice</li></ul>' in html
    shutil.rmtree(run)
