"""An ensemble of restarts (``search(ensemble=True)``): the model is the mean of the chosen config's
restarts. Oracles: the restarts' own ``nn.Sequential`` networks averaged by hand, scikit-learn's
metrics on the sealed test rows, onnxruntime and torch.jit on the exported graph."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, r2_score

import justenough
from justenough import search
from justenough.data import load, prepare
from justenough.data.datasets import load_dataset
from justenough.engine.ensemble import with_ensemble_cost
from justenough.engine.refit import refit, refit_epochs, refit_members
from justenough.errors import ConfigError
from justenough.nets.ensemble import RestartEnsemble
from justenough.run.artifacts import architecture_of, build_module, export_onnx, export_torchscript, load_model, save_model
from justenough.run.summary import describe_fit
from justenough.select import choose
from justenough.space.config import Config
from justenough.space.search_space import Space
from justenough.study.weights import WeightsStore
from justenough.train.seeds import restart_seed
from justenough.vocab import Task

torch.set_num_threads(1)

SPACE = dict(depth="1", widths="4,8", lr="0.01", max_epochs="12", patience="5", monitor="val_loss", schedule="constant", embed="none")


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, object]:
    """One ensemble search on iris without refit (the kept restarts are the members), saved."""
    prepared = prepare(load("iris"), seed=0)
    out = tmp_path_factory.mktemp("ens") / "run"
    result = search(prepared, space=Space.from_options(**SPACE), n_init=3, workers=1, out=out, report=True,
                    refit=False, ensemble=True, cv=1)
    return result, out, prepared


def _members(out: Path, key: str, restarts: list[int], arch: dict) -> list[torch.nn.Sequential]:
    """The restarts' own networks, from the weights the search kept (``OUT/weights/KEY``)."""
    kept = WeightsStore(out).of_config(key)
    nets = []
    for r in restarts:
        net = build_module(arch)
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in kept[r].items()})
        nets.append(net.eval())
    return nets


def test_the_ensemble_predicts_the_mean_of_its_restarts_probabilities(iris_run) -> None:
    result, out, prepared = iris_run
    fit = result.summary["model"]
    chosen = result.restarts[(result.restarts["key"] == result.chosen["key"]) & ~result.restarts["diverged"]]
    assert result.summary["ensemble"] is True and fit["members"] == len(chosen) == 3
    assert fit["restarts"] == sorted(chosen["restart"]) and fit["fit_on"] == "train"
    arch = {k: v for k, v in architecture_of(result.model.module).items() if k != "ensemble"}  # the shapes
    nets = _members(out, result.chosen["key"], fit["restarts"], arch)
    rows = load_dataset("iris").drop(columns=["target"]).iloc[::3]
    X = torch.from_numpy(result.model.transform(rows))
    with torch.no_grad():
        oracle = torch.stack([torch.softmax(n(X), dim=1) for n in nets]).mean(0).numpy()  # [N, 3]
    np.testing.assert_allclose(result.model.predict_proba(rows), oracle, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.model.predict(rows), np.asarray(result.model.classes)[oracle.argmax(1)])
    assert fit["params"] == 3 * int(result.chosen["params"])
    assert result.model.ensemble_size == 3


def test_the_sealed_test_scores_the_ensemble(iris_run) -> None:
    result, _, prepared = iris_run
    X_test, y_test = prepared.test.open()
    with torch.no_grad():
        proba = torch.stack([torch.softmax(m(X_test), dim=1) for m in result.model.module.members]).mean(0)
    assert result.test_score == pytest.approx(accuracy_score(y_test.numpy(), proba.argmax(1).numpy()), abs=1e-12)
    (scored,) = result.summary["test_scored_models"]  # one model scored: the ensemble
    assert scored["ensemble"] == 3


def test_the_explanation_show_and_report_name_the_ensemble_and_its_cost(iris_run) -> None:
    result, out, _ = iris_run
    p = int(result.chosen["params"])
    assert f"mean of its 3 restarts' probabilities (an ensemble): 3 x {p:,} = {3 * p:,} parameters" in result.explanation
    assert "an ensemble of 3 restarts" in describe_fit(result.summary["model"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "ensemble of 3" in html and "an ensemble of 3 restarts" in html
    # The size fact counts every network that predicts, with one network's beside it.
    assert f"{3 * p:,} params" in html and f"{p:,} per network x 3" in html
    board = pd.read_csv(out / "leaderboard.csv")
    assert (board["ensemble_params"] == 3 * board["params"]).all() and (board["ensemble_members"] == 3).all()


def test_a_saved_ensemble_loads_and_predicts_alike(iris_run) -> None:
    result, out, _ = iris_run
    rows = load_dataset("iris").drop(columns=["target"]).head(20)
    loaded = justenough.load(out)
    assert isinstance(loaded.module, RestartEnsemble) and loaded.ensemble_size == 3
    np.testing.assert_array_equal(loaded.predict_proba(rows), result.model.predict_proba(rows))
    doc = json.loads((out / "model" / "model.json").read_text())
    assert doc["architecture"]["ensemble"] == {"members": 3, "task": "classification"}


def test_export_is_one_graph_that_equals_predict_proba(iris_run, tmp_path: Path) -> None:
    import onnxruntime as ort

    result, _, prepared = iris_run
    model = result.model
    rows = load_dataset("iris").drop(columns=["target"])
    X = model.transform(rows)  # [150, 4] preprocessed
    want = model.predict_proba(rows)
    onnx_path = export_onnx(model.module, prepared.n_features, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (log_p,) = session.run(None, {"input": X})
    np.testing.assert_allclose(np.exp(log_p), want, rtol=1e-5, atol=1e-6)  # the log of the mean probability
    ts_path = export_torchscript(model.module, prepared.n_features, tmp_path / "m.pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks torch.jit as deprecated; loading still works
        got = torch.softmax(torch.jit.load(str(ts_path))(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_refit_members_trains_each_restart_as_it_would_alone() -> None:
    """The ensemble's refit is one stack of the restarts; each member equals its refit alone."""
    prepared = prepare(load("iris"), seed=0)
    cfg = Config.create(depth=1, width=8, lr=0.01, max_epochs=12, patience=5)
    seeds = [restart_seed(0, r) for r in range(3)]
    together = refit_members(cfg, seeds, prepared, 6)
    for seed, state in zip(seeds, together):
        alone = refit(cfg, seed, prepared, 6)
        for name, value in alone.items():
            np.testing.assert_allclose(state[name], value, rtol=0, atol=1e-6)


def test_with_refit_every_restart_is_refit_from_its_own_seed(tmp_path: Path) -> None:
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="8", lr="0.01", max_epochs="12", patience="5", embed="none",
                               monitor="val_loss", schedule="constant")  # Config.create's (tests/config_recipe.py)
    result = search(prepared, space=space, n_init=3, workers=1, report=False, refit=True, ensemble=True, cv=1)
    fit = result.summary["model"]
    mine = result.restarts[result.restarts["key"] == result.chosen["key"]]
    assert fit["fit_on"] == "train+validation" and fit["epochs"] == refit_epochs(mine) and fit["members"] == 3
    cfg = Config.create(depth=1, width=8, lr=0.01, max_epochs=12, patience=5)
    for member, r in zip(result.model.module.members, fit["restarts"]):
        alone = refit(cfg, restart_seed(0, r), prepared, fit["epochs"])
        for name, value in member.state_dict().items():
            np.testing.assert_allclose(value.numpy(), alone[name], rtol=0, atol=1e-5)
    assert "each refit on train+validation" in describe_fit(fit)


def test_regression_averages_the_outputs_and_scores_that_mean() -> None:
    prepared = prepare(load("diabetes"), seed=0)
    space = Space.from_options(depth="1", widths="8", lr="0.01", max_epochs="8", patience="5", embed="none")
    result = search(prepared, space=space, n_init=2, workers=1, report=False, refit=False, ensemble=True, cv=1)
    module = result.model.module
    X_test, y_test = prepared.test.open()
    with torch.no_grad():
        mean = torch.stack([m(X_test) for m in module.members]).mean(0)[:, 0].numpy()  # standardized
    enc = prepared.target_encoder
    assert result.test_score == pytest.approx(r2_score(enc.decode(y_test.numpy()), enc.decode(mean)), abs=1e-9)
    assert module.task == Task.REGRESSION and "outputs (an ensemble)" in result.explanation


def test_one_restart_is_one_network_not_an_ensemble_of_one() -> None:
    """The default asks for the ensemble; with one restart (n_init=1) the model is that network,
    and nothing speaks of a mean."""
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="8", lr="0.01", max_epochs="5", patience="5", embed="none")
    result = search(prepared, space=space, n_init=1, workers=1, report=False, cv=1)
    assert result.summary["ensemble"] is False and "members" not in result.summary["model"]
    assert isinstance(result.model.module, torch.nn.Sequential) and result.model.ensemble_size == 1
    assert "ensemble" not in result.explanation and "mean of" not in result.explanation
    # With two restarts the same search's default model is their mean.
    two = search(prepared, space=space, n_init=2, workers=1, report=False, cv=1)
    assert two.summary["ensemble"] is True and two.summary["model"]["members"] == 2 and two.model.ensemble_size == 2


def test_the_limits_count_the_ensembles_parameters() -> None:
    board = pd.DataFrame({"key": ["a", "b"], "label": ["1x4", "1x8"], "val_mean": [0.9, 0.9], "val_se": [0.01, 0.01],
                          "n_restarts": [3, 3], "n_diverged": [0, 1], "params": [35, 67], "flops": [1, 2],
                          "latency_ms": [0.01, 0.01]})
    configs = {"a": Config.create(depth=1, width=4), "b": Config.create(depth=1, width=8)}
    costly = with_ensemble_cost(board, configs, 4, 3, Task.CLASSIFICATION)
    assert list(costly["ensemble_members"]) == [3, 2] and list(costly["ensemble_params"]) == [105, 134]
    assert choose(board, "one-se", max_params=100).key == "a"  # the network alone fits
    with pytest.raises(ConfigError, match="an ensemble of its 3 restarts, would have 105 parameters") as raised:
        choose(costly, "one-se", max_params=100)
    assert "predict with one network (`ensemble=False`)" in str(raised.value)  # 1x4 alone has 35
    with pytest.raises(ConfigError) as raised:
        choose(costly, "one-se", max_params=30)  # no network fits either: no such advice
    assert "ensemble=False" not in str(raised.value)
    assert choose(costly, "one-se", max_params=110).key == "a"


def test_a_model_saved_without_an_ensemble_still_loads_as_one_network(tmp_path: Path) -> None:
    net = build_module({"n_in": 3, "widths": [5], "n_out": 2, "activation": "relu"})
    save_model(tmp_path, net, activation="relu")
    loaded = load_model(tmp_path)
    assert isinstance(loaded.module, torch.nn.Sequential) and "ensemble" not in loaded.architecture
    ens = RestartEnsemble([net, build_module(loaded.architecture)], Task.CLASSIFICATION)
    save_model(tmp_path / "e", ens, activation="relu")
    back = load_model(tmp_path / "e").module
    x = torch.randn(4, 3)
    with torch.no_grad():
        torch.testing.assert_close(back(x), ens(x))



def test_restarts_not_kept_are_trained_again_to_the_same_ensemble(iris_run) -> None:
    """Without kept weights (an empty store), the members are re-created from their seeds as one
    stack, and equal the kept ones (invariant 3: a restart is a function of its seed on CPU)."""
    from justenough.engine.ensemble import fit_ensemble

    result, _, prepared = iris_run
    cfg = Config.create(depth=1, width=int(result.chosen["widths"][0]), lr=0.01, max_epochs=12, patience=5)
    assert cfg.key == result.chosen["key"]
    mine = result.restarts[(result.restarts["key"] == cfg.key) & ~result.restarts["diverged"]]
    mine = mine.sort_values(["val_score", "restart"], ascending=[False, True])
    module, fit = fit_ensemble(cfg, cfg.key, mine, prepared, WeightsStore(None), seed=0, device="cpu",
                               precision="float32", refit=False)
    assert fit == result.summary["model"]
    for name, value in result.model.module.state_dict().items():
        torch.testing.assert_close(module.state_dict()[name], value, rtol=0, atol=1e-6)


def test_an_ensemble_of_embedded_networks_saves_loads_and_exports_as_one_graph(tmp_path: Path) -> None:
    """--ensemble with --embed periodic: every member carries its own embedding, through the
    refit, the saved model and the exported graph."""
    prepared = prepare(load("iris"), seed=0)
    space = Space.from_options(depth="1", widths="4", lr="0.01", max_epochs="8", patience="4", embed="periodic")
    result = search(prepared, space=space, n_init=2, workers=1, out=tmp_path / "run", report=False, ensemble=True, cv=1)
    model = result.model
    assert model.ensemble_size == 2 and architecture_of(model.module)["embed"] == "periodic"
    members = model.module.members
    assert not torch.equal(members[0][0].frequencies, members[1][0].frequencies)  # each restart its own
    rows = load_dataset("iris").drop(columns=["target"])
    want = model.predict_proba(rows)
    np.testing.assert_allclose(justenough.load(tmp_path / "run").predict_proba(rows), want, rtol=1e-6, atol=1e-7)
    X = model.transform(rows)
    ts_path = export_torchscript(model.module, prepared.n_features, tmp_path / "m.pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = torch.softmax(torch.jit.load(str(ts_path))(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
