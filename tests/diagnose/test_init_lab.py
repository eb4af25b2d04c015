"""The init lab on real data: the facts about symmetry and scale it must show, its tables,
its figures and the files it saves."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from justenough.nets import init as init_mod
from justenough.data import load, prepare
from justenough.errors import ConfigError
from justenough.diagnose.lab import SUMMARY_COLUMNS, InitLabResult, default_schemes, init_lab
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train import TrainSettings, train

RANDOM = [s for s in default_schemes() if init_mod.parse(s).scheme.random]


@pytest.fixture(scope="module")
def digits():
    return prepare(load("digits"), seed=0)


def test_default_schemes_cover_the_registry():
    specs = default_schemes()
    assert {init_mod.parse(s).name for s in specs} == set(init_mod.SCHEMES)
    for s in ("zeros", "constant(value=0.1)", "normal(std=0.01)", "normal(std=1.0)", "uniform(a=0.05)", "he_normal", "lsuv"):
        assert s in specs


# --- fact 1 and fact 2: symmetric init, for relu, tanh and sigmoid ----------------------------


@pytest.fixture(scope="module")
def symmetric_labs(digits):
    return {
        act: init_lab(digits, depth=3, width=16, activation=act, schemes=["zeros", "constant(value=0.1)", "he_normal"],
                      n_init=2, epochs=4, seed=0)
        for act in ("relu", "tanh", "sigmoid")
    }


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_symmetric_init_keeps_effective_width_one_at_every_epoch(symmetric_labs, activation):
    lab = symmetric_labs[activation]
    sym = lab.symmetry
    for scheme in ("zeros", "constant(value=0.1)"):
        hidden = sym[(sym["scheme"] == scheme) & (sym["layer"] <= 3)]
        assert sorted(hidden["epoch"].unique()) == [0, 1, 2, 3, 4]
        assert len(hidden) == 2 * 5 * 3  # restarts x epochs x hidden layers
        assert (hidden["effective_width"] == 1).all()
        row = lab.summary.set_index("scheme").loc[scheme]
        assert row["min_effective_width"] == row["max_effective_width"] == 1
    he = sym[(sym["scheme"] == "he_normal") & (sym["layer"] <= 3)]
    assert (he["effective_width"] == 16).all()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_zero_init_hidden_weights_never_change_only_the_output_bias_learns(symmetric_labs, activation):
    mv = symmetric_labs[activation].movement
    zeros = mv[mv["scheme"] == "zeros"]
    hidden, output = zeros[zeros["kind"] == "hidden"], zeros[zeros["kind"] == "output"]
    assert (hidden["weight_change"] == 0.0).all() and (hidden["bias_change"] == 0.0).all()  # exactly
    assert (output["weight_change"] == 0.0).all()
    assert (output["bias_change"] > 0).all()  # not "no learning at all": the output bias learns


def test_zero_init_sigmoid_output_weights_learn_too(symmetric_labs):
    mv = symmetric_labs["sigmoid"].movement
    output = mv[(mv["scheme"] == "zeros") & (mv["kind"] == "output")]
    assert (output["weight_change"] > 0).all() and (output["bias_change"] > 0).all()
    # sigmoid(0) = 1/2 is not 0, so the gradient reaches the hidden layers too: they move, but
    # every unit of a layer moves alike (effective width 1, tested above).
    hidden = mv[(mv["scheme"] == "zeros") & (mv["kind"] == "hidden")]
    assert (hidden["weight_change"] > 0).all()


def test_zero_init_relu_weights_are_exactly_zero_after_training(digits):
    """The same fact without the lab: the trained stack's hidden tensors are all exactly zero."""
    stack = MLPStack(digits.n_features, digits.n_outputs, [MemberSpec(widths=(16, 16), init="zeros", seed=1)])
    train(stack, digits, TrainSettings(max_epochs=3, patience=None, restore_best=False))
    for l in range(2):
        assert torch.count_nonzero(stack.weights[l]) == 0 and torch.count_nonzero(stack.biases[l]) == 0
    assert torch.count_nonzero(stack.weights[2]) == 0
    assert torch.count_nonzero(stack.biases[2]) > 0


# --- fact 3: every random scheme keeps every unit distinct ----------------------------------


def test_random_schemes_have_full_effective_width_before_and_after_training(digits):
    lab = init_lab(digits, depth=3, width=16, activation="relu", schemes=RANDOM, n_init=2, epochs=3, seed=1)
    assert set(lab.summary["scheme"]) == set(RANDOM)
    hidden = lab.symmetry[lab.symmetry["layer"] <= 3]
    assert set(hidden["epoch"]) == {0, 1, 2, 3}
    assert (hidden["effective_width"] == 16).all()
    assert (lab.summary["min_effective_width"] == 16).all() and (lab.summary["max_effective_width"] == 16).all()
    init = lab.signal[lab.signal["kind"] == "hidden"]
    assert (init["effective_width"] == 16).all()


# --- the result: tables, figures, files ------------------------------------------------------


@pytest.fixture(scope="module")
def small_lab(digits):
    return init_lab(digits, depth=6, width=64, schemes=["zeros", "normal(std=0.01)", "normal(std=1.0)", "he_normal"],
                    n_init=3, epochs=2, seed=0, tolerance=0.05)


def test_summary_and_tables(small_lab):
    lab = small_lab
    assert isinstance(lab, InitLabResult)
    assert list(lab.summary.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert list(lab.summary["scheme"]) == ["zeros", "normal(std=0.01)", "normal(std=1.0)", "he_normal"]
    r = lab.restarts
    assert len(r) == 4 * 3 and set(r["restart"]) == {0, 1, 2}
    for scheme, row in lab.summary.set_index("scheme").iterrows():
        scores = r[r["scheme"] == scheme]["val_score"]
        assert row["score_mean"] == pytest.approx(scores.mean())
        assert row["score_std"] == pytest.approx(scores.std(ddof=1))
        assert row["score_min"] == scores.min() and row["score_max"] == scores.max()
        good = (scores >= r["val_score"].max() - 0.05).mean()
        assert row["good_fraction"] == pytest.approx(good)
        assert 0 <= row["diverged_fraction"] <= 1
    assert lab.summary["good_fraction"].max() > 0  # the best restart is good
    # the signal at init: 7 layers (6 hidden + output) per restart, act std and grad norm there
    assert len(lab.signal) == 12 * 7
    assert lab.signal["act_std"].notna().all() and lab.signal["grad_norm"].notna().all()
    he = lab.summary.set_index("scheme").loc["he_normal"]
    small = lab.summary.set_index("scheme").loc["normal(std=0.01)"]
    assert small["init_act_std_first"] / small["init_act_std_last"] > 100
    assert 1 / 3 < he["init_act_std_last"] / he["init_act_std_first"] < 3
    large = lab.summary.set_index("scheme").loc["normal(std=1.0)"]
    assert large["init_act_std_last"] / large["init_act_std_first"] > 100  # the large init explodes
    assert set(lab.figures) == {"scores", "signal", "symmetry"}  # digits is not 2-D: no maps
    assert lab.figures["signal"].layout.yaxis.type == "log"


def test_save_writes_summary_tables_and_one_self_contained_page(small_lab, tmp_path):
    out = small_lab.save(tmp_path / "lab")
    for name in ("summary.csv", "restarts.csv", "signal.csv", "symmetry.csv", "movement.csv", "settings.json", "init_lab.html"):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert len(summary) == 4
    assert np.allclose(summary["score_mean"], small_lab.summary["score_mean"])
    symmetry = pd.read_csv(out / "symmetry.csv")
    assert {"scheme", "restart", "epoch", "layer", "effective_width"} <= set(symmetry.columns)
    settings = json.loads((out / "settings.json").read_text())
    assert settings["depth"] == 6 and settings["schemes"][0] == "zeros"
    page = (out / "init_lab.html").read_text()
    assert page.count("<script") == 2  # plotly.js once, then the figures
    # offline: no script or stylesheet is fetched from anywhere
    assert not re.search(r"<script[^>]*\bsrc=", page) and not re.search(r"<link[^>]*\bhref=", page)
    for name in ("scores", "signal", "symmetry"):
        assert f'id="fig-{name}"' in page


def test_user_strings_are_escaped_in_the_page(tmp_path):
    frame = load("moons", seed=0)
    path = tmp_path / "a<b>&x.csv"
    pd.concat([frame.features, frame.target], axis=1).to_csv(path, index=False)
    lab = init_lab(str(path), depth=1, width=4, schemes=["zeros", "he_normal"], n_init=1, epochs=1)
    page = lab.html()
    assert "a<b>&x" not in page
    assert "a&lt;b&gt;&amp;x" in page


def test_two_d_data_draws_first_layer_unit_maps():
    lab = init_lab("moons", depth=2, width=8, activation="tanh", schemes=["constant(value=0.1)", "glorot_uniform"],
                   n_init=1, epochs=3, seed=0)
    fig = lab.figures["unit_maps"]
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 16  # 2 schemes x 8 units
    constant = [np.asarray(t.z) for t in heat[:8]]
    random = [np.asarray(t.z) for t in heat[8:]]
    assert all(np.array_equal(constant[0], z) for z in constant[1:])  # symmetric: identical maps
    assert not any(np.allclose(random[0], z) for z in random[1:])  # random: all different
    assert "unit_maps" in lab.html()


def test_bad_arguments_raise_config_errors(digits):
    with pytest.raises(ConfigError, match="depth"):
        init_lab(digits, depth=0)
    with pytest.raises(ConfigError, match="unknown init scheme"):
        init_lab(digits, schemes=["he_normall"])
    with pytest.raises(ConfigError, match="twice"):
        init_lab(digits, schemes=["he_normal", "he_normal"])
    with pytest.raises(ConfigError, match="tolerance"):
        init_lab(digits, tolerance=-1.0)


# --- fact 4, training part: 6 relu layers of 64 on digits -------------------------------------


def test_small_normal_stays_near_chance_while_he_normal_learns(digits):
    lab = init_lab(digits, depth=6, width=64, activation="relu", schemes=["normal(std=0.01)", "he_normal"],
                   n_init=2, epochs=20, seed=0)
    s = lab.summary.set_index("scheme")
    assert s.loc["normal(std=0.01)", "score_max"] < 0.2  # 10 classes: chance is about 0.1
    assert s.loc["he_normal", "score_mean"] > 0.9
    assert math.isfinite(s.loc["he_normal", "init_grad_ratio"])
