"""The scikit-learn estimators: behaviour, sklearn interoperability, and oracles.

Data are scikit-learn's bundled datasets (iris, breast_cancer, digits, diabetes): real data, no
download. The accuracy comparison against ``sklearn.neural_network.MLPClassifier`` is slow-marked.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from justenough.vocab import Task
from justenough.errors import ConfigError, DataError, JustEnoughError
from justenough.estimators import (
    EstimatorConfigError,
    EstimatorInputError,
    JustEnoughClassifier,
    JustEnoughRegressor,
    MLPClassifier,
    MLPRegressor,
    seed_from_random_state,
)
from justenough.estimators.forward import forward, state_to_layers

FAST = dict(max_iter=60, learning_rate_init=0.01, n_init=3, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def fitted_iris(iris):
    X_tr, X_te, y_tr, y_te = iris
    return MLPClassifier(hidden_layer_sizes=(16,), **FAST).fit(X_tr, y_tr)


# --- MLPClassifier: fitted attributes --------------------------------------------------------


def test_classifier_learns_iris_and_exposes_sklearn_attributes(iris, fitted_iris):
    X_tr, X_te, y_tr, y_te = iris
    clf = fitted_iris
    assert clf.score(X_te, y_te) >= 0.9
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.n_features_in_ == 4
    assert not hasattr(clf, "feature_names_in_")
    # coefs_ / intercepts_ as in scikit-learn: [fan_in, fan_out] per layer.
    assert [w.shape for w in clf.coefs_] == [(4, 16), (16, 3)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (3,)]
    assert clf.n_layers_ == 3 and clf.n_outputs_ == 3
    assert 1 <= clf.n_iter_ <= 60
    assert len(clf.loss_curve_) == clf.n_iter_
    assert all(np.isfinite(clf.loss_curve_))
    # n_init > 1: a validation split chose the checkpoint and the restart.
    assert clf.validation_used_ and clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_


def test_restarts_table_and_best_restart(fitted_iris):
    clf = fitted_iris
    table = clf.restarts_
    assert isinstance(table, pd.DataFrame)
    assert list(table["restart"]) == [0, 1, 2]
    for col in ("seed", "val_score", "val_loss", "train_loss", "best_epoch", "epochs_run", "diverged", "stopped_by", "train_time", "best"):
        assert col in table.columns
    assert table["seed"].nunique() == 3  # every restart has its own seed
    best = table.loc[table["val_score"].idxmax()]
    assert clf.best_restart_ == int(best["restart"])
    assert table["best"].sum() == 1 and bool(table.loc[clf.best_restart_, "best"])
    assert clf.validation_used_
    assert clf.n_iter_ == int(table.loc[clf.best_restart_, "epochs_run"])


def test_predict_proba_is_softmax_of_the_network(iris, fitted_iris):
    X_tr, X_te, _, _ = iris
    clf = fitted_iris
    proba = clf.predict_proba(X_te)
    assert proba.shape == (len(X_te), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_te))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_te)), proba, rtol=1e-6)
    # Oracle: a plain torch Sequential holding coefs_/intercepts_, fed standardized inputs.
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(clf.coefs_[0].T))
        net[0].bias.copy_(torch.from_numpy(clf.intercepts_[0]))
        net[2].weight.copy_(torch.from_numpy(clf.coefs_[1].T))
        net[2].bias.copy_(torch.from_numpy(clf.intercepts_[1]))
        Z = torch.from_numpy(((X_te - clf.x_mean_) / clf.x_scale_).astype(np.float32))
        expected = torch.softmax(net(Z).double(), dim=1).numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)


def test_string_labels_and_dataframe_feature_names():
    X, y = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y.to_numpy()]
    clf = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(clf.feature_names_in_) == list(X.columns)
    pred = clf.predict(X)
    assert pred.dtype == object and set(pred) <= set(clf.classes_)
    assert (pred == names).mean() > 0.85


def test_same_random_state_same_model_and_different_states_differ(iris):
    X_tr, X_te, y_tr, _ = iris
    a = MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, n_init=2, random_state=7).fit(X_tr, y_tr)
    b = MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, n_init=2, random_state=7).fit(X_tr, y_tr)
    c = MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, n_init=2, random_state=8).fit(X_tr, y_tr)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    np.testing.assert_array_equal(a.predict_proba(X_te), b.predict_proba(X_te))


def test_seed_from_random_state():
    assert seed_from_random_state(5) == 5
    assert seed_from_random_state(np.int64(5)) == 5
    rs = np.random.RandomState(0)
    first, second = seed_from_random_state(rs), seed_from_random_state(rs)
    assert first != second  # a RandomState instance is consumed, as in scikit-learn
    assert seed_from_random_state(np.random.RandomState(0)) == first
    assert 0 <= seed_from_random_state(None) < 2**31
    with pytest.raises(EstimatorConfigError):
        seed_from_random_state(-1)
    with pytest.raises(EstimatorConfigError):
        seed_from_random_state("zero")


def test_early_stopping_records_validation_scores():
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3, max_iter=200, n_init=2, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ < 200  # stopped by patience, not by the budget
    assert len(clf.validation_scores_) == clf.n_iter_
    # The kept checkpoint is the best epoch by validation loss; its score is best_validation_score_.
    best_epoch = int(clf.restarts_.loc[clf.best_restart_, "best_epoch"])
    assert clf.best_validation_score_ == pytest.approx(clf.validation_scores_[best_epoch - 1])
    assert clf.best_validation_score_ >= max(clf.validation_scores_) - 0.05
    assert clf.best_loss_ is None
    assert set(clf.restarts_["stopped_by"]) <= {"early", "budget"}


def test_tol_rule_stops_without_early_stopping(iris):
    X_tr, _, y_tr, _ = iris
    # A huge tol: no epoch after the first improves by it. Oracle: sklearn's own count of epochs.
    kw = dict(hidden_layer_sizes=(8,), tol=1e3, n_iter_no_change=2, max_iter=50, random_state=0)
    sk = SkMLPClassifier(**kw).fit(X_tr, y_tr)
    clf = MLPClassifier(n_init=1, **kw).fit(X_tr, y_tr)
    assert not clf.validation_used_
    assert list(clf.restarts_["epochs_run"]) == [sk.n_iter_] == [4]
    assert list(clf.restarts_["stopped_by"]) == ["converged"]
    assert clf.best_validation_score_ is None and clf.validation_scores_ is None


def test_restarts_stop_by_validation_loss(iris):
    X_tr, _, y_tr, _ = iris
    clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.05, max_iter=500, n_init=3, random_state=0).fit(X_tr, y_tr)
    table = clf.restarts_
    assert (table["stopped_by"] == "early").all()
    # Each stopped n_iter_no_change epochs after its best validation loss.
    assert (table["epochs_run"] == table["best_epoch"] + clf.n_iter_no_change).all()


def test_single_restart_without_early_stopping_trains_on_all_rows(iris):
    X_tr, X_te, y_tr, y_te = iris
    clf = MLPClassifier(hidden_layer_sizes=(16,), n_init=1, max_iter=60, learning_rate_init=0.01, random_state=0).fit(X_tr, y_tr)
    assert not clf.validation_used_
    assert len(clf.restarts_) == 1 and clf.best_restart_ == 0
    assert clf.score(X_te, y_te) >= 0.85
    assert clf.best_loss_ == pytest.approx(min(clf.loss_curve_))
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_standardize_false_uses_raw_features(iris):
    X_tr, X_te, y_tr, _ = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), standardize=False, **FAST).fit(X_tr, y_tr)
    assert clf.x_mean_ is None and clf.x_scale_ is None
    raw = forward(X_te.astype(np.float32), clf.coefs_, clf.intercepts_, clf.activation_)
    np.testing.assert_array_equal(clf.predict(X_te), clf.classes_[raw.argmax(axis=1)])


def test_alpha_shrinks_the_weights(iris):
    X_tr, _, y_tr, _ = iris
    kw = dict(hidden_layer_sizes=(16,), max_iter=150, learning_rate_init=0.01, n_init=1, tol=0.0, random_state=0)
    free = MLPClassifier(alpha=0.0, **kw).fit(X_tr, y_tr)
    decayed = MLPClassifier(alpha=50.0, **kw).fit(X_tr, y_tr)
    norm = lambda m: sum(float((w**2).sum()) for w in m.coefs_)  # noqa: E731
    assert norm(decayed) < 0.5 * norm(free)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity", "gelu", "leaky_relu", "selu"])
def test_forward_equals_the_stack_member_module(activation):
    """Prediction from coefs_ equals the trained module ``MLPStack.member(i)`` (oracle)."""
    from justenough.nets.stack import MemberSpec, MLPStack

    from justenough.vocab import SKLEARN_ACTIVATION_NAMES as _ACTIVATION_ALIASES

    act = _ACTIVATION_ALIASES.get(activation, activation)
    spec = MemberSpec(widths=(7, 5), init="glorot_uniform", seed=3, bias_init=0.1)
    stack = MLPStack(6, 3, [spec, spec], activation=act)
    module = stack.member(1)
    coefs, intercepts = state_to_layers(module.state_dict())
    assert [w.shape for w in coefs] == [(6, 7), (7, 5), (5, 3)]
    X = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(forward(X, coefs, intercepts, act), expected, rtol=1e-5, atol=1e-6)


# --- MLPRegressor -----------------------------------------------------------------------------


def test_an_ensemble_predicts_the_mean_of_its_restarts_probabilities(iris, fitted_iris):
    """ensemble=True: the same restarts (same random_state), predicting with the mean of their
    softmax probabilities; each member is the restart's own network (an oracle by hand)."""
    X_tr, X_te, y_tr, _ = iris
    ens = MLPClassifier(hidden_layer_sizes=(16,), ensemble=True, **FAST).fit(X_tr, y_tr)
    assert ens.ensemble_restarts_ == [0, 1, 2] and fitted_iris.ensemble_layers_ is None
    # The best restart is the same network with or without the ensemble.
    assert ens.best_restart_ == fitted_iris.best_restart_
    for a, b in zip(ens.coefs_, fitted_iris.coefs_):
        np.testing.assert_array_equal(a, b)
    Z = (X_te - ens.x_mean_) / ens.x_scale_
    probs = [torch.softmax(torch.from_numpy(forward(Z, c, b, "relu")), dim=1).numpy() for c, b in ens.ensemble_layers_]
    np.testing.assert_allclose(ens.predict_proba(X_te), np.mean(probs, axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.exp(ens.predict_log_proba(X_te)), np.mean(probs, axis=0), rtol=1e-9)
    np.testing.assert_array_equal(ens.predict(X_te), ens.classes_[np.mean(probs, axis=0).argmax(axis=1)])
    with pytest.raises(EstimatorConfigError, match="ensemble must be True or False"):
        MLPClassifier(ensemble="yes", **FAST).fit(X_tr, y_tr)


def test_a_regression_ensemble_predicts_the_mean_of_its_restarts():
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=40, learning_rate_init=0.01, n_init=3, ensemble=True,
                       random_state=0).fit(X[:300], y[:300])
    Z = (X[300:] - reg.x_mean_) / reg.x_scale_
    outs = [forward(Z, c, b, "relu")[:, 0] * reg.y_scale_[0] + reg.y_mean_[0] for c, b in reg.ensemble_layers_]
    np.testing.assert_allclose(reg.predict(X[300:]), np.mean(outs, axis=0), rtol=1e-9)


def test_regressor_diabetes():
    X, y = load_diabetes(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=150, learning_rate_init=0.01, n_init=3, random_state=0).fit(X_tr, y_tr)
    pred = reg.predict(X_te)
    assert pred.shape == (len(X_te),)
    # Noisy and small: a linear model gets 0.39 on this split, sklearn's MLP (32,) on scaled data
    # 0.30-0.35; overfitting restarts score far lower.
    assert reg.score(X_te, y_te) > 0.25
    assert reg.y_mean_.shape == (1,)


def test_regressor_multi_output():
    # Two smooth targets in very different units; each column must be learned.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1], 1000.0 * X[:, 2] * X[:, 3] + 5000.0])
    X_tr, X_te, Y_tr, Y_te = X[:450], X[450:], Y[:450], Y[450:]
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=200, learning_rate_init=0.01, n_init=3, random_state=0).fit(X_tr, Y_tr)
    P = reg.predict(X_te)
    assert P.shape == (len(X_te), 2)
    assert reg.coefs_[-1].shape == (32, 2) and reg.n_outputs_ == 2
    assert reg.y_mean_.shape == (2,)
    assert r2_score(Y_te[:, 0], P[:, 0]) > 0.9
    assert r2_score(Y_te[:, 1], P[:, 1]) > 0.9


# --- errors -----------------------------------------------------------------------------------


def test_bad_parameters_raise_config_errors_that_sklearn_sees_as_value_errors(iris):
    X_tr, _, y_tr, _ = iris
    bad = [
        dict(solver="lbfgs"),
        dict(solver="rmsprop"),
        dict(activation="swish-ish"),
        dict(hidden_layer_sizes=(0,)),
        dict(hidden_layer_sizes="wide"),
        dict(n_init=0),
        dict(max_iter=0),
        dict(validation_fraction=1.5),
        dict(alpha=-1.0),
        dict(learning_rate_init=0.0),
        dict(batch_size=0),
    ]
    for params in bad:
        with pytest.raises(EstimatorConfigError) as info:
            MLPClassifier(**params).fit(X_tr, y_tr)
        assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
        assert isinstance(info.value, JustEnoughError)
    with pytest.raises(EstimatorConfigError, match="lbfgs.*adam"):
        MLPClassifier(solver="lbfgs").fit(X_tr, y_tr)


def test_one_class_and_regression_targets_are_refused():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(EstimatorInputError, match="class") as info:
        MLPClassifier(**FAST).fit(X, np.ones(20))
    assert isinstance(info.value, DataError)
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(**FAST).fit(X, np.linspace(0, 1, 20))
    with pytest.raises(ValueError):
        MLPClassifier(**FAST).fit(np.full((20, 3), np.nan), np.arange(20) % 2)


def test_predict_checks_features(fitted_iris):
    with pytest.raises(ValueError, match="features"):
        fitted_iris.predict(np.zeros((3, 5)))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPClassifier().predict(np.zeros((3, 4)))


# --- scikit-learn interoperability ---------------------------------------------------------------


def test_clone_get_set_params():
    clf = MLPClassifier(hidden_layer_sizes=(8, 4), n_init=2, alpha=0.1)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (8, 4) and params["n_init"] == 2 and params["alpha"] == 0.1
    for name in ("hidden_layer_sizes", "activation", "init", "solver", "learning_rate_init", "alpha", "batch_size",
                 "max_iter", "early_stopping", "validation_fraction", "n_iter_no_change", "n_init",
                 "random_state", "device"):
        assert name in params
    twin = clone(clf)
    assert twin.get_params() == params and twin is not clf
    twin.set_params(alpha=0.5, n_init=3)
    assert twin.alpha == 0.5 and twin.n_init == 3 and clf.alpha == 0.1


def test_pipeline_grid_search_and_cross_val_score(iris):
    X_tr, X_te, y_tr, y_te = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30, n_init=2, random_state=0))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3)
    grid.fit(X_tr, y_tr)
    assert grid.best_params_["mlpclassifier__hidden_layer_sizes"] in [(4,), (16,)]
    assert grid.score(X_te, y_te) > 0.8
    est = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=150, n_init=2, random_state=0)
    scores = cross_val_score(est, X_tr, y_tr, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


def test_pickle_round_trip_gives_the_same_predictions(iris, fitted_iris):
    X_te = iris[1]
    again = pickle.loads(pickle.dumps(fitted_iris))
    np.testing.assert_array_equal(again.predict_proba(X_te), fitted_iris.predict_proba(X_te))
    pd.testing.assert_frame_equal(again.restarts_, fitted_iris.restarts_)
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, n_init=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


# --- search estimators --------------------------------------------------------------------------

SEARCH_FAST = dict(depth="1", widths="4,16", learning_rate_init=0.01, batch_size=32, max_epochs=40, patience=8, embed="none",
                   n_init=2, random_state=0)


@pytest.fixture(scope="module")
def searched_iris(iris):
    X_tr, _, y_tr, _ = iris
    labels = np.array(["a", "b", "c"], dtype=object)[y_tr]
    # 80 epochs, not SEARCH_FAST's 40: on 21 validation rows 1x4 is within the noise of 1x16 and is
    # chosen (select/noise.py), and 40 epochs leave it under-trained (80% on test, 100% at 80 epochs).
    return JustEnoughClassifier(**{**SEARCH_FAST, "max_epochs": 80}).fit(X_tr, labels)


def test_search_classifier_chooses_and_predicts(iris, searched_iris):
    _, X_te, _, y_te = iris
    est = searched_iris
    assert list(est.classes_) == ["a", "b", "c"]
    assert est.chosen_["widths"] in ([4], [16])
    assert est.chosen_["depth"] == 1
    board = est.leaderboard_
    assert len(board) == 2 and board["chosen"].sum() == 1
    assert len(est.restarts_) == 2 * 2
    assert est.explanation_
    assert est.baseline_["kind"] == "majority class" and 0.2 < est.baseline_["val_score"] < 0.5
    assert est.paired_ is not None and est.paired_["n"] == 2 and est.paired_["other_key"] != est.chosen_["key"]
    labels = np.array(["a", "b", "c"], dtype=object)[y_te]
    assert (est.predict(X_te) == labels).mean() > 0.8
    proba = est.predict_proba(X_te)
    assert proba.shape == (len(X_te), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # Pickling keeps the predictions.
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X_te), proba)


def test_search_regressor_and_run_directory_without_pickles(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    # report=False: the HTML report has its own tests (tests/report/test_report.py). cv=1: the single
    # validation split, whose rows stand in for the test rows (folds: test_search_estimator_cv_*).
    # ensemble=False: the score read back below is the best restart's own validation score.
    est = JustEnoughRegressor(out=tmp_path / "run", report=False, cv=1, ensemble=False, **SEARCH_FAST).fit(X, y)
    assert est.predict(X[:5]).shape == (5,)
    assert est.score(X, y) > 0.2
    run = tmp_path / "run"
    assert (run / "model" / "weights.safetensors").exists()
    assert (run / "leaderboard.csv").exists()
    files = [p.name for p in run.rglob("*") if p.is_file()]
    assert not any(name.endswith((".pkl", ".pickle", ".joblib", ".pt")) for name in files)
    # No test split: the run directory says its "test" score is the validation rows' score.
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test_split"] == "validation" and est.test_score_ is None
    assert summary["test_score"] == pytest.approx(summary["best_restart_val_score"], abs=1e-6)
    assert any("validation rows also serve as the test rows" in n for n in est.notices_)
    shown = subprocess.run([str(Path(sys.executable).with_name("justenough")), "show", str(run)],
                           capture_output=True, text=True, timeout=120)
    assert "the validation rows: no independent test split, so optimistic" in shown.stdout, shown.stderr
    sealed = JustEnoughRegressor(out=tmp_path / "sealed", report=False, test_fraction=0.2, **SEARCH_FAST).fit(X, y)
    assert json.loads((tmp_path / "sealed" / "summary.json").read_text())["test_split"] == "sealed"
    assert sealed.test_score_ is not None


def test_search_estimator_params_and_clone():
    est = JustEnoughClassifier(depth="1-2", widths=(8, 32), rule="tolerance=0.01", n_init=3)
    twin = clone(est)
    assert twin.get_params()["widths"] == (8, 32)
    assert twin.get_params()["rule"] == "tolerance=0.01"
    assert twin.get_params()["workers"] == 1  # one process inside estimators, by default



def test_search_estimators_judge_the_configs_ensembles_by_default(iris):
    """By default (judge_ensembles=None, with the ensemble) the search judges the configs' ensembles:
    the leaderboard's val_mean is each config's ensemble's (the restarts' own mean kept as
    val_mean_restarts, equal to the restarts table's) and the explanation says so; False judges the
    restarts (val_mean is their mean); the value survives clone; True with ensemble=False is refused
    before training."""
    X_tr, _, y_tr, _ = iris
    est = JustEnoughClassifier(**SEARCH_FAST, cv=1).fit(X_tr, y_tr)
    assert est.get_params()["judge_ensembles"] is None
    board = est.leaderboard_.set_index("key")
    restarts = est.restarts_[~est.restarts_["diverged"].astype(bool)]
    np.testing.assert_allclose(board["val_mean_restarts"], restarts.groupby("key")["val_score"].mean().loc[board.index])
    assert "ensemble accuracy" in est.explanation_
    by_restarts = JustEnoughClassifier(**SEARCH_FAST, cv=1, judge_ensembles=False).fit(X_tr, y_tr)
    board = by_restarts.leaderboard_.set_index("key")
    kept = by_restarts.restarts_[~by_restarts.restarts_["diverged"].astype(bool)]
    np.testing.assert_allclose(board["val_mean"], kept.groupby("key")["val_score"].mean().loc[board.index])
    assert "ensemble accuracy" not in by_restarts.explanation_
    assert clone(by_restarts).get_params()["judge_ensembles"] is False
    assert JustEnoughRegressor().get_params()["judge_ensembles"] is None
    with pytest.raises(ValueError, match="judge_ensembles"):
        JustEnoughClassifier(**SEARCH_FAST, ensemble=False, judge_ensembles=True).fit(X_tr, y_tr)

# --- comparison with scikit-learn (fixed split, 5 random states) --------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits], ids=["breast_cancer", "digits"])
def test_accuracy_at_least_sklearn_mlp(loader):
    """n_init=5 reaches sklearn's MLP test accuracy (same hidden_layer_sizes, 5 random states)."""
    X, y = loader(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    hidden = (100,)
    sk = []
    for rs in range(5):
        model = SkMLPClassifier(hidden_layer_sizes=hidden, random_state=rs)
        with warnings.catch_warnings():
            # sklearn's own ConvergenceWarning when it hits max_iter is not ours to judge.
            warnings.simplefilter("ignore")
            model.fit(X_tr, y_tr)
        sk.append(model.score(X_te, y_te))
    ours = [
        MLPClassifier(hidden_layer_sizes=hidden, n_init=5, random_state=rs).fit(X_tr, y_tr).score(X_te, y_te)
        for rs in range(5)
    ]
    assert np.mean(ours) * 100 >= np.mean(sk) * 100 - 0.5, (ours, sk)


# --- search estimators: the CLI's defaults, tables with text columns, verbose --------------------


def test_search_estimators_default_to_the_cli_space():
    from justenough.space.search_space import DEFAULT_SPACE_VALUES, Space

    for cls in (JustEnoughClassifier, JustEnoughRegressor):
        est = cls()
        p = est.get_params()
        # Typed values, the very defaults of search(): no text to read back.
        assert p["depth"] is DEFAULT_SPACE_VALUES["depth"] == (0, 1, 2, 3)
        assert p["widths"] is DEFAULT_SPACE_VALUES["widths"] == (4, 8, 16, 32, 64, 128, 256)
        assert (p["learning_rate_init"], p["batch_size"], p["patience"]) == (0.01, 64, 30)
        assert (p["schedule"], p["embed"]) == ("warmup_cosine", "auto")
        assert p["verbose"] == 0
        assert est._space() == Space.default()  # every dimension as `justenough search` has it
        assert p["max_epochs"] == 200


def test_search_estimators_take_typed_values_numpy_ones_included():
    # A parameter grid often holds numpy numbers and arrays: they reach the space as they are.
    from justenough.space.search_space import Space

    est = JustEnoughClassifier(depth=np.int64(2), widths=np.array([16, 8]), learning_rate_init=np.float32(0.5),
                               batch_size=np.int64(32))
    space = est._space()
    assert space == Space.from_options(depth="2", widths="8,16", lr="0.5", batch_size="32")
    assert type(space.depth.values[0]) is int and type(space.lr.values[0]) is float
    assert JustEnoughClassifier(depth=[1, 3], widths=(4,))._space() == Space.from_options(depth="1,3", widths="4")


def test_search_estimators_take_embed():
    from justenough.space.search_space import Space

    assert JustEnoughClassifier().get_params()["embed"] == "auto"  # the default space's
    assert JustEnoughRegressor(embed="none,periodic")._space() == Space.from_options(embed="none,periodic")
    assert JustEnoughClassifier(embed=["periodic"])._space() == Space.from_options(embed="periodic")
    with pytest.raises(EstimatorConfigError, match="embed"):
        JustEnoughClassifier(embed="fourier")._space()
    # "auto": iris's 4 inputs are few, so both embeddings are trained and the rule chooses among them.
    X, y = load_iris(return_X_y=True)
    est = JustEnoughClassifier(depth=1, widths=4, max_epochs=3, n_init=1, embed="auto", random_state=0).fit(X, y)
    assert sorted(est.leaderboard_["embed"]) == ["none", "periodic"]


def test_an_embedded_models_predictions_do_not_depend_on_the_order_of_the_rows():
    """Each row's probabilities are the same, to float32 rounding, whatever rows surround it (the
    periodic embedding's cosines and the products are computed a batch at a time)."""
    X, y = load_iris(return_X_y=True)
    est = JustEnoughClassifier(depth=1, widths=8, max_epochs=20, n_init=2, embed="periodic", random_state=0,
                               report=False).fit(X, y)
    assert est.chosen_["embed"] == "periodic"
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(est.predict_proba(X)[order], est.predict_proba(X[order]), rtol=1e-5, atol=1e-6)
    assert (est.predict(X)[order] == est.predict(X[order])).mean() >= 0.99  # a tie within rounding may flip a label


def test_search_estimators_take_the_recipe_settings():
    """schedule, label_smoothing and batch_size="auto" (issue 26) reach the search; the chosen
    config holds the batch the rows gave; smoothing is refused for the regressor."""
    X, y = load_iris(return_X_y=True)
    est = JustEnoughClassifier(depth=1, widths=4, max_epochs=3, n_init=1, batch_size="auto", schedule="warmup_cosine",
                               label_smoothing=0.1, random_state=0).fit(X, y)
    assert est.get_params()["schedule"] == "warmup_cosine" and est.get_params()["label_smoothing"] == 0.1
    assert (est.chosen_["schedule"], est.chosen_["label_smoothing"], est.chosen_["batch_size"]) == ("warmup_cosine", 0.1, 64)
    assert JustEnoughClassifier().get_params()["label_smoothing"] == 0.0
    assert JustEnoughClassifier().get_params()["schedule"] == "warmup_cosine"
    Xd, yd = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="smooths class targets"):
        JustEnoughRegressor(depth=1, widths=4, max_epochs=2, n_init=1, label_smoothing=0.1).fit(Xd[:60], yd[:60])
    with pytest.raises(ValueError, match="cannot read label_smoothing"):
        JustEnoughClassifier(label_smoothing=-0.5).fit(X, y)
    with pytest.raises(ValueError, match="cannot read schedule"):
        JustEnoughClassifier(schedule="step").fit(X, y)


def test_search_estimators_train_for_their_tasks_epoch_budget():
    # max_epochs="auto" is the task's budget (DEFAULT_MAX_EPOCHS): 200 epochs for the classifier,
    # 400 for the regressor, as `justenough search` resolves it from the data. The default is 200 for both.
    from justenough.space.search_space import DEFAULT_MAX_EPOCHS

    X, y = load_iris(return_X_y=True)
    assert JustEnoughRegressor().get_params()["max_epochs"] == JustEnoughClassifier().get_params()["max_epochs"] == 200
    quick = dict(depth="0", n_init=1, patience=2, embed="none", max_epochs="auto", random_state=0, report=False)
    budgets = {
        Task.CLASSIFICATION: JustEnoughClassifier(**quick).fit(X, y).leaderboard_["max_epochs"].tolist(),
        Task.REGRESSION: JustEnoughRegressor(**quick).fit(X[:, :3], X[:, 3]).leaderboard_["max_epochs"].tolist(),
    }
    assert budgets == {task: [DEFAULT_MAX_EPOCHS[task]] for task in Task}
    assert JustEnoughRegressor(**{**quick, "max_epochs": 30}).fit(X[:, :3], X[:, 3]).leaderboard_["max_epochs"].tolist() == [30]


def _penguin_like(n: int = 150) -> tuple[pd.DataFrame, np.ndarray]:
    """iris with a text column that carries signal, a text column that does not, and missing cells."""
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    frame["island"] = np.array(["Biscoe", "Dream", "Torgersen"], dtype=object)[y]
    frame["colour"] = np.array(["red", "blue"], dtype=object)[np.arange(n) % 2]
    frame.loc[5, "sw"] = np.nan
    frame.loc[7, "colour"] = None
    return frame, np.array(["a", "b", "c"], dtype=object)[y]


def test_search_estimator_takes_a_dataframe_with_text_columns(capsys):
    frame, labels = _penguin_like()
    est = JustEnoughClassifier(verbose=1, **SEARCH_FAST).fit(frame, labels)
    printed = capsys.readouterr().out
    assert "search: 2 configs x 2 restarts" in printed and "search done" in printed  # verbose=1: a log line per config
    assert list(est.feature_names_in_) == ["sl", "sw", "pl", "pw", "island", "colour"] and est.n_features_in_ == 6
    names_out = est.model_.preprocessor.feature_names_out
    assert {"island=Biscoe", "island=Dream", "island=Torgersen"} <= set(names_out)  # one-hot, as the CLI does
    # Predictions are the chosen model's on the same frame (the search's own preprocessing).
    np.testing.assert_array_equal(est.predict_proba(frame), est.model_.predict_proba(frame).astype(np.float64))
    assert (est.predict(frame) == labels).mean() > 0.9  # the island column gives the class away
    # Columns in another order are refused by name, as scikit-learn does for DataFrames.
    with pytest.raises(ValueError, match="feature names"):
        est.predict(frame[frame.columns[::-1]])
    with pytest.raises(EstimatorInputError, match="fitted on a DataFrame with text columns: pass a DataFrame"):
        est.predict(frame.to_numpy())
    # Silent by default.
    JustEnoughRegressor(**SEARCH_FAST).fit(frame.drop(columns=["pl"]), frame["pl"].to_numpy())
    assert capsys.readouterr().out == ""


def test_search_estimator_refuses_a_bad_verbose():
    frame, labels = _penguin_like()
    with pytest.raises(EstimatorConfigError, match="verbose must be a non-negative int"):
        JustEnoughClassifier(verbose=-1, **SEARCH_FAST).fit(frame, labels)


# --- search estimators: cross-validation (cv) ---------------------------------------------------

CV_FAST = dict(depth="1", widths="4", learning_rate_init=0.01, batch_size=32, max_epochs=20, patience=5, n_init=2,
               random_state=0, report=False)


@pytest.mark.parametrize("cls", [JustEnoughClassifier, JustEnoughRegressor])
def test_search_estimator_cv_validates_by_folds_and_predicts_with_one_refit_model(cls, tmp_path):
    X, y = load_iris(return_X_y=True)
    if cls is JustEnoughRegressor:
        X, y = X[:, :3], X[:, 3]
    est = cls(cv=3, out=tmp_path / "run", **CV_FAST).fit(X, y)
    assert est.n_folds_ == 3
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["folds"] == 3
    # Every row validated out of fold, then the choice refit on all of them: one model predicts.
    assert (est.leaderboard_["val_rows"] == len(X)).all()
    assert summary["model"]["fit_on"] == "train+validation" and summary["model"]["rows"] == len(X)
    assert est.predict(X).shape == (len(X),)
    assert est.test_score_ is None  # no test split (test_fraction=0)
    assert any("3-fold cross-validation" in n for n in est.notices_)


def test_search_estimator_cv_1_keeps_the_single_validation_split():
    X, y = load_iris(return_X_y=True)
    est = JustEnoughClassifier(cv=1, **CV_FAST).fit(X, y)
    assert est.n_folds_ == 1
    n_val = int(est.leaderboard_["val_rows"].iloc[0])
    assert 0 < n_val < len(X)  # validation_fraction's rows, not all of them
    assert est.model_.info["fit"]["fit_on"] == "train"  # no refit: the validation rows stand in for the test
    assert est.predict(X).shape == (len(X),)


def test_search_estimator_cv_auto_folds_below_the_threshold_only():
    from sklearn.datasets import make_classification

    from justenough.settings import CV_AUTO_FOLDS, CV_AUTO_ROWS

    # The threshold is re-chosen on the benchmark suite from time to time: the tests read it.
    n_small = max(CV_AUTO_FOLDS * 4, min(150, CV_AUTO_ROWS - 1))
    X, y = make_classification(n_samples=n_small, n_features=5, n_informative=3, random_state=0)
    assert JustEnoughClassifier(**CV_FAST).fit(X, y).n_folds_ == CV_AUTO_FOLDS  # cv="auto" is the default
    X, y = make_classification(n_samples=CV_AUTO_ROWS, n_features=5, n_informative=3, random_state=0)
    assert JustEnoughClassifier(cv="auto", **CV_FAST).fit(X, y).n_folds_ == 1
    # With a test split, the search folds the rows outside it, as search(cv=...) does.
    X, y = load_iris(return_X_y=True)
    tested = JustEnoughClassifier(cv=3, test_fraction=0.2, **CV_FAST).fit(X, y)
    assert tested.n_folds_ == 3 and tested.test_score_ is not None


@pytest.mark.parametrize("bad", [0, -1, "three", 2.5, True, None])
def test_search_estimator_refuses_a_bad_cv_before_training(bad, tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    out = tmp_path / "run"
    with pytest.raises(EstimatorConfigError, match="cv") as caught:
        JustEnoughClassifier(cv=bad, out=out, verbose=1, **{**CV_FAST, "report": True}).fit(X, y)
    assert isinstance(caught.value, ValueError)  # scikit-learn's contract for a bad parameter
    assert "auto" in str(caught.value)  # the message says what to write instead
    assert not out.exists() and capsys.readouterr().out == ""  # nothing created, nothing trained


@pytest.mark.parametrize("bad", ["best", "target=95", "tolerance=-0.1", "target=abc", "one-se=1"])
def test_search_estimator_refuses_a_bad_rule_before_training(bad, tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    out = tmp_path / "run"
    with pytest.raises(EstimatorConfigError, match="rule|target|tolerance") as caught:
        JustEnoughClassifier(rule=bad, out=out, verbose=1, **{**CV_FAST, "report": True}).fit(X, y)
    assert isinstance(caught.value, ValueError)  # scikit-learn's contract for a bad parameter
    assert not out.exists() and capsys.readouterr().out == ""  # nothing created, nothing trained


def test_search_estimator_refuses_more_folds_than_rows_before_training(tmp_path):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(EstimatorConfigError, match=f"needs at least {len(X) + 1} rows"):
        JustEnoughClassifier(cv=len(X) + 1, out=tmp_path / "run", **CV_FAST).fit(X, y)
    assert not (tmp_path / "run").exists()


def test_search_estimator_cv_round_trips_through_get_set_params_and_clone():
    est = JustEnoughRegressor(cv=4)
    assert est.get_params()["cv"] == 4
    assert clone(est).get_params()["cv"] == 4
    est.set_params(cv="auto")
    assert est.get_params()["cv"] == "auto" and clone(est).cv == "auto"
    assert JustEnoughClassifier().get_params()["cv"] == "auto"  # the default, as search()'s
