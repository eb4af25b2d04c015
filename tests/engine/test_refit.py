"""Refitting the chosen config on train+validation: the epoch rule, the refitted weights against a
plain torch.optim loop (with its cosine scheduler), and the run saying which model was tested."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from justenough import search
from justenough.data import load, prepare
from justenough.run.summary import describe_fit
from justenough.engine.refit import refit_epochs
from justenough.space.search_space import Space
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train.seeds import restart_seed
from justenough.train import epoch_orders

torch.set_num_threads(1)


def test_refit_epochs_is_the_median_best_epoch_of_the_finite_restarts() -> None:
    table = pd.DataFrame({"best_epoch": [10, 30, 14, 99], "diverged": [False, False, False, True]})
    assert refit_epochs(table) == 14
    assert refit_epochs(pd.DataFrame({"best_epoch": [10, 13], "diverged": [False, False]})) == 12  # round(11.5)
    assert refit_epochs(pd.DataFrame({"best_epoch": [0, 0, 1], "diverged": [False, False, False]})) == 1  # at least one
    assert refit_epochs(pd.DataFrame({"best_epoch": [5], "diverged": [True]})) == 1


def test_refit_trains_the_chosen_config_on_train_and_validation_as_a_plain_loop(tmp_path: Path) -> None:
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="8", lr="0.01", max_epochs="30", patience="5", schedule="cosine", embed="none")
    # ensemble=False: one network refit (the ensemble's members are each tested against their refit
    # alone in tests/engine/test_ensemble.py).
    result = search(prepared, space=space, n_init=2, workers=1, out=tmp_path / "run", report=False, refit=True,
                    ensemble=False)
    fit = result.summary["model"]
    sizes = prepared.split_sizes
    assert fit["fit_on"] == "train+validation" and fit["rows"] == sizes["train"] + sizes["val"]
    mine = result.restarts[result.restarts["key"] == result.chosen["key"]]
    assert fit["epochs"] == refit_epochs(mine) and fit["restart"] == result.chosen["best_restart"]

    # The oracle: the same initial weights, trained alone with torch.optim.Adam and
    # CosineAnnealingLR over max_epochs, on train+validation, for fit["epochs"] epochs.
    seed = restart_seed(0, fit["restart"])
    net = MLPStack(prepared.n_features, prepared.n_outputs, [MemberSpec(widths=(8,), init="he_normal", seed=seed, lr=0.01)],
                   init_data=prepared.X_train[:512]).member(0)
    X = torch.cat([prepared.X_train, prepared.X_val])
    y = torch.cat([prepared.y_train, prepared.y_val])
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
    for epoch in range(1, fit["epochs"] + 1):
        for idx in epoch_orders([seed], len(X), epoch)[0].split(64):
            loss = F.cross_entropy(net(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    for k, v in net.state_dict().items():
        torch.testing.assert_close(result.model.module.state_dict()[k], v, rtol=0, atol=1e-5)

    # The test score is the refitted model's, and the run directory says which model it is.
    X_test, y_test = prepared.test.open()
    with torch.no_grad():
        acc = float((result.model.module(X_test).argmax(1) == y_test).double().mean())
    assert result.test_score == pytest.approx(acc, abs=1e-12)
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["model"] == fit
    assert "refit on train+validation" in describe_fit(fit) and f"{fit['epochs']} epochs" in describe_fit(fit)


def test_without_refit_the_tested_model_is_the_best_restart(tmp_path: Path) -> None:
    """refit=False (refit is the default): the best restart, trained on the training rows."""
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="8", lr="0.01", max_epochs="10", patience="5")
    # One validation split (cv=1): with folds no restart trains on all the training rows, so the
    # chosen config is always refit (test_cross_validation.py).
    result = search(prepared, space=space, n_init=2, workers=1, report=False, refit=False, cv=1, ensemble=False)
    fit = result.summary["model"]
    best = result.restarts[(result.restarts["key"] == result.chosen["key"]) & (result.restarts["restart"] == fit["restart"])]
    assert fit == {"fit_on": "train", "rows": prepared.split_sizes["train"], "restart": result.chosen["best_restart"],
                   "epochs": int(best["best_epoch"].iloc[0])}
    assert describe_fit(fit).startswith(f"restart {fit['restart']} as the search trained it")


def test_no_refit_when_the_validation_rows_are_the_test_rows() -> None:
    """Refitting on train+validation would train on the test rows: the best restart stays the model."""
    from justenough.data.datasets import load_dataset

    iris = load_dataset("iris").sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, held_out = iris.iloc[:100], iris.iloc[100:]
    space = Space.from_options(depth="1", widths="8", lr="0.01", max_epochs="10", patience="5")
    result = search(train, val=held_out, test=held_out, space=space, n_init=2, workers=1, report=False, refit=True)
    assert result.summary["test_split"] == "validation"
    assert result.summary["model"]["fit_on"] == "train"
    assert any("no refit on train+validation" in n for n in result.summary["notices"])
