"""Cross-validation as stack members (``cv``): the folds, the setting, and a real search whose
restarts are validated out of fold. The trainer's side (each member on its own rows, equal to a
plain loop on those rows) is tests/train/test_train.py's ``test_folds_as_members_equal_loops_on_their_own_rows``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from justenough import search
from justenough.data import load, prepare
from justenough.errors import ConfigError
from justenough.run.files import read_evidence
from justenough.settings import SearchSettings
from justenough.space import Space
from justenough.settings import CV_AUTO_FOLDS, CV_AUTO_ROWS
from justenough.executors.training_data import TrainingData, deal_folds


@given(n=st.integers(5, 400), k=st.integers(2, 5), classes=st.integers(1, 4), seed=st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_every_row_is_in_one_fold_and_the_folds_are_even(n: int, k: int, classes: int, seed: int) -> None:
    y = np.arange(n) % classes
    fold = deal_folds(y, k, seed, "classification")
    sizes = np.bincount(fold, minlength=k)
    assert fold.shape == (n,) and sizes.max() - sizes.min() <= 1
    for c in range(classes):  # dealt class by class: each fold holds its share of every class
        per_fold = np.bincount(fold[y == c], minlength=k)
        assert per_fold.max() - per_fold.min() <= 1
    assert np.array_equal(fold, deal_folds(y, k, seed, "classification"))


def test_the_training_data_pools_train_and_validation_rows() -> None:
    prepared = prepare(load("iris"), seed=0)
    one = TrainingData.from_prepared(prepared)
    five = TrainingData.from_prepared(prepared, folds=5, seed=0)
    assert one.folds == 1 and one.fold_of_row is None
    n = prepared.split_sizes["train"] + prepared.split_sizes["val"]
    assert five.folds == 5 and five.X_train.shape[0] == five.X_val.shape[0] == n
    assert np.array_equal(five.X_train, np.concatenate([one.X_train, one.X_val]))


@pytest.mark.parametrize(("given_cv", "read"), [("auto", "auto"), ("5", 5), (3, 3), (1, 1), ("none", 1), ("AUTO", "auto")])
def test_cv_is_read_once(given_cv: object, read: object) -> None:
    assert SearchSettings(space=Space.default(), cv=given_cv).cv == read  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -2, "five", True, 2.5])
def test_a_bad_cv_is_refused_before_anything_runs(bad: object) -> None:
    with pytest.raises(ConfigError, match="cv"):
        SearchSettings(space=Space.default(), cv=bad)  # type: ignore[arg-type]


def test_auto_folds_below_the_threshold_and_not_with_a_validation_table() -> None:
    s = SearchSettings(space=Space.default())
    assert s.folds_for(CV_AUTO_ROWS - 1, own_val=False) == CV_AUTO_FOLDS
    assert s.folds_for(CV_AUTO_ROWS, own_val=False) == 1
    assert s.folds_for(100, own_val=True) == 1
    with pytest.raises(ConfigError, match="do not combine"):
        SearchSettings(space=Space.default(), cv=5).folds_for(100, own_val=True)
    with pytest.raises(ConfigError, match="at least 5 rows"):
        SearchSettings(space=Space.default(), cv=5).folds_for(3, own_val=False)


def test_auto_keeps_one_split_when_validation_rows_stand_in_for_the_test_and_below_a_fold_per_row() -> None:
    s = SearchSettings(space=Space.default())
    # No independent test split (the validation rows are the test rows): auto keeps the one split,
    # an explicit K folds the training and validation rows together.
    assert s.folds_for(CV_AUTO_ROWS - 1, own_val=False, test_is_val=True) == 1
    assert SearchSettings(space=Space.default(), cv=3).folds_for(CV_AUTO_ROWS - 1, own_val=False, test_is_val=True) == 3
    # Fewer rows than auto's folds would leave a fold empty.
    assert s.folds_for(CV_AUTO_FOLDS - 1, own_val=False) == 1


def test_a_search_with_folds_validates_every_row_out_of_fold(tmp_path: Path) -> None:
    out = tmp_path / "run"
    prepared = prepare(load("iris"), seed=0)
    n_pooled = prepared.split_sizes["train"] + prepared.split_sizes["val"]
    result = search(prepared, depth="0-1", widths="4,8", max_epochs="20", lr="0.01", n_init=2, workers=1, cv=3,
                    refit=False, out=out, report=False, judge_ensembles=True)
    # Every restart's score is the mean of its out-of-fold per-row shares, over all pooled rows.
    evidence = read_evidence(out, pd.read_csv(out / "results.csv"))
    assert set(evidence) == set(result.leaderboard["key"])
    for row in result.restarts.itertuples():
        shares = evidence[row.key][row.restart]
        assert shares.shape == (n_pooled,)
        assert float(shares.mean()) == pytest.approx(float(row.val_score), abs=1e-6)
    # Each restart's outputs are kept out of fold too (the row's output from the fold that validated
    # it), and the choice judged each config as its ensemble: its score is the accuracy of the mean of
    # its restarts' probabilities over those outputs (nets.ensemble.mean_prediction, as the model
    # predicts), the restarts' own mean kept beside it (judge_ensembles=True).
    from justenough.nets.ensemble import mean_prediction
    from justenough.study.weights import EvidenceStore

    assert result.summary["judged_by"] == "ensembles"
    board = result.leaderboard.set_index("key")
    for key in board.index:
        kept = EvidenceStore(out).of_config(str(key))
        outputs = torch.tensor(np.stack([kept[r]["output"] for r in sorted(kept)]))  # [R, N, C]
        target = torch.tensor(kept[0]["target"])
        for r in kept:
            assert np.array_equal(kept[r]["output"].argmax(-1) == kept[r]["target"], kept[r]["share"] == 1)
        accuracy = float((mean_prediction(outputs, "classification").argmax(-1) == target).double().mean())
        assert board.at[key, "val_mean"] == pytest.approx(accuracy)
        own = result.restarts.loc[result.restarts["key"] == key, "val_score"].mean()
        assert board.at[key, "val_mean_restarts"] == pytest.approx(own)
    # No restart trained on all the rows: the chosen config is refit on them, refit=False or not.
    assert result.summary["model"]["fit_on"] == "train+validation"
    assert (result.leaderboard["val_rows"] == n_pooled).all()
    assert (result.leaderboard["val_se"] > 0).all()
    # The study knows it was validated by folds: the same run directory with one split is another search.
    with pytest.raises(Exception, match="(?i)differ|fingerprint|another"):
        search(prepared, depth="0-1", widths="4,8", max_epochs="20", lr="0.01", n_init=2, workers=1, cv=1,
               refit=False, out=out, report=False, judge_ensembles=True)
