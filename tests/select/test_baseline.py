"""The no-network baseline, against scikit-learn's dummy estimators as oracles, and the notice a
search gives when its choice does not beat it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import log_loss, r2_score

from justenough import search
from justenough.select.baseline import describe, no_network_baseline, weak_signal_notice
from justenough.data import load, prepare
from justenough.space.search_space import Space


def test_classification_baseline_is_the_prior_as_scikit_learn_computes_it() -> None:
    prepared = prepare(load("wine"), seed=0)
    base = no_network_baseline(prepared)
    y_train, y_val = prepared.y_train.numpy(), prepared.y_val.numpy()
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y_train), 1)), y_train)
    X_val = np.zeros((len(y_val), 1))
    assert base["kind"] == "majority class" and base["metric"] == "accuracy"
    assert base["val_score"] == pytest.approx(dummy.score(X_val, y_val))
    assert base["val_metrics"]["log_loss"] == pytest.approx(log_loss(y_val, dummy.predict_proba(X_val), labels=dummy.classes_))
    assert base["val_metrics"]["balanced_accuracy"] == pytest.approx(1 / len(prepared.classes))
    assert base["prediction"] == prepared.classes[int(np.bincount(y_train).argmax())]


def test_regression_baseline_is_the_training_mean_in_the_targets_units() -> None:
    prepared = prepare(load("diabetes"), seed=0)
    base = no_network_baseline(prepared)
    enc = prepared.target_encoder
    y_train = enc.decode(prepared.y_train.numpy())
    y_val = enc.decode(prepared.y_val.numpy())
    dummy = DummyRegressor(strategy="mean").fit(np.zeros((len(y_train), 1)), y_train)
    assert base["kind"] == "training mean" and base["metric"] == "r2"
    assert base["prediction"] == pytest.approx(dummy.constant_[0][0], rel=1e-6)
    assert base["val_score"] == pytest.approx(r2_score(y_val, dummy.predict(np.zeros((len(y_val), 1)))), abs=1e-6)
    assert describe(base, percent=False).startswith("always 15")
    assert describe({**base, "val_score": -0.0004}, percent=False).endswith("r2 0.000")


def test_the_notice_comes_only_when_the_choice_is_within_one_se_of_the_baseline() -> None:
    base = {"kind": "majority class", "prediction": "no", "metric": "accuracy", "val_score": 0.80, "val_metrics": {}}
    assert weak_signal_notice(base, 0.85, 0.01, "1x8", percent=True) is None
    notice = weak_signal_notice(base, 0.805, 0.01, "1x8", percent=True)
    assert notice is not None and "1x8 (80.5%)" in notice and "always 'no' (majority class): 80.0%" in notice
    assert weak_signal_notice(base, 0.79, None, "1x8", percent=True) is not None


def test_a_search_on_noise_says_the_features_carry_little_signal() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(400, 4)), columns=["a", "b", "c", "d"])
    frame["label"] = rng.choice(["x", "y"], len(frame), p=[0.7, 0.3])
    result = search(frame, target="label", space=Space.from_options(depth="1", widths="4,16", max_epochs=30, patience=5),
                    n_init=2, workers=1, report=False)
    assert result.summary["baseline"]["prediction"] == "x"
    assert any("little information" in n for n in result.summary["notices"])
    assert any("little information" in n for n in result.notices)


def test_a_search_with_signal_has_a_baseline_and_no_notice() -> None:
    result = search("iris", space=Space.from_options(depth="1", widths="8", max_epochs=60, patience=10, embed="none"),
                    n_init=2, workers=1, report=False)
    assert result.summary["baseline"]["val_score"] == pytest.approx(1 / 3, abs=0.05)
    assert result.summary["notices"] == []
    assert result.baseline == result.summary["baseline"] and result.paired is None  # one config: no rival
