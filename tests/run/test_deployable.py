"""Raw-input networks: the preprocessing as torch ops, checked against ``Model.predict`` on raw
rows (missing values included), and through real ONNX (onnxruntime) and TorchScript files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from justenough.run.artifacts import build_module, export_onnx, export_torchscript
from justenough.data import Preprocessor, TargetEncoder
from justenough.nets.export import RawInputNetwork, raw_input_columns
from justenough.errors import ArtifactError
from justenough.run.model import Model


def _rows(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Numeric columns on different scales, with missing values, plus a constant one (dropped)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "height_cm": rng.normal(170, 10, n),
            "income": rng.lognormal(10, 1, n),
            "count": rng.integers(0, 7, n).astype(np.int64),
            "always_one": np.ones(n),
            "ratio": rng.uniform(-1, 1, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    frame.loc[rng.random(n) < 0.1, "ratio"] = np.nan
    return frame


def _model(task: str, frame: pd.DataFrame, seed: int = 0, numeric: str = "standard") -> Model:
    pre = Preprocessor(numeric=numeric).fit(frame)
    rng = np.random.default_rng(seed)
    if task == "regression":
        enc = TargetEncoder("regression").fit(pd.Series(rng.normal(50.0, 12.0, len(frame))))
    else:
        enc = TargetEncoder("classification").fit(pd.Series(rng.choice(["lo", "mid", "hi"], len(frame))))
    n_out = enc.n_outputs
    module = build_module({"n_in": len(pre.feature_names_out), "widths": [16, 8], "n_out": n_out, "activation": "tanh"})
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return Model(module, activation="tanh", preprocessor=pre, target_encoder=enc, task=task, target_name="y")


def _raw(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return frame[columns].to_numpy(dtype=np.float32)  # [N, F], NaN where missing


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_raw_input_network_equals_the_model_on_raw_rows(task: str) -> None:
    train, new = _rows(seed=0), _rows(n=50, seed=1)
    model = _model(task, train)
    net = RawInputNetwork(model.module, model.preprocessor, model.target_encoder, task).eval()
    assert net.columns == ["height_cm", "income", "count", "ratio"]  # the constant column is dropped
    with torch.no_grad():
        got = net(torch.from_numpy(_raw(new, net.columns))).numpy()
    if task == "regression":
        np.testing.assert_allclose(got[:, 0], model.predict(new), rtol=1e-5, atol=1e-4)
    else:
        with torch.no_grad():
            logits = model.module(torch.from_numpy(model.transform(new))).numpy()
        np.testing.assert_allclose(got, logits, rtol=1e-5, atol=1e-5)
        assert list(np.asarray(model.classes)[got.argmax(axis=1)]) == list(model.predict(new))


def test_a_missing_value_becomes_the_training_median() -> None:
    train = _rows()
    model = _model("regression", train)
    net = RawInputNetwork(model.module, model.preprocessor, model.target_encoder, "regression").eval()
    row = _raw(train.iloc[:1], net.columns)
    filled = row.copy()
    row[0, 1] = np.nan
    filled[0, 1] = np.nanmedian(train["income"].to_numpy())
    with torch.no_grad():
        torch.testing.assert_close(net(torch.from_numpy(row)), net(torch.from_numpy(filled)))


def test_text_columns_are_refused_with_the_way_out() -> None:
    frame = _rows()
    frame["colour"] = np.where(np.arange(len(frame)) % 2 == 0, "red", "blue")
    pre = Preprocessor().fit(frame)
    with pytest.raises(ArtifactError, match=r"'colour'.*--inputs preprocessed"):
        raw_input_columns(pre)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_exported_raw_input_files_need_nothing_but_their_runtime(task: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    train, new = _rows(seed=0), _rows(n=77, seed=2)
    model = _model(task, train)
    net = RawInputNetwork(model.module, model.preprocessor, model.target_encoder, task).eval()
    X = _raw(new, net.columns)
    with torch.no_grad():
        want = net(torch.from_numpy(X)).numpy()
    onnx_path = export_onnx(net, len(net.columns), tmp_path / "m.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": X})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    ts_path = export_torchscript(net, len(net.columns), tmp_path / "m.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates torch.jit
        scripted = torch.jit.load(str(ts_path))
    with torch.no_grad():
        np.testing.assert_allclose(scripted(torch.from_numpy(X)).numpy(), want, rtol=1e-6, atol=1e-6)
    with pytest.raises(ArtifactError, match="takes 4 features"):
        export_onnx(net, 3, tmp_path / "wrong.onnx")


@pytest.mark.parametrize("numeric", ["robust", "quantile"])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_robust_and_quantile_scaling_are_built_into_the_raw_input_network(task: str, numeric: str) -> None:
    train, new = _rows(seed=0), _rows(n=50, seed=1)
    new.loc[0, "height_cm"], new.loc[1, "height_cm"] = 1e4, -1e4  # beyond the training range
    new.loc[2, "count"] = float(train["count"].iloc[0])  # a tie with training values
    model = _model(task, train, numeric=numeric)
    net = RawInputNetwork(model.module, model.preprocessor, model.target_encoder, task).eval()
    X = torch.from_numpy(_raw(new, net.columns))
    with torch.no_grad():
        got = net(X).numpy()
        # The rows as the raw network sees them (float32), through the model's own preprocessing.
        as_float32 = pd.DataFrame(X.numpy().astype(np.float64), columns=net.columns)
        want = model.module(torch.from_numpy(model.transform(as_float32))).numpy()
    if task == "regression":
        want = want * model.target_encoder.std + model.target_encoder.mean
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("numeric", ["robust", "quantile"])
def test_exported_robust_and_quantile_files_equal_the_model(numeric: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    train, new = _rows(seed=0), _rows(n=77, seed=2)
    new.loc[0, "income"] = 1e9  # beyond the training range
    model = _model("regression", train, numeric=numeric)
    net = RawInputNetwork(model.module, model.preprocessor, model.target_encoder, "regression").eval()
    X = _raw(new, net.columns)
    want = model.predict(pd.DataFrame(X.astype(np.float64), columns=net.columns))  # [N] in the target's units
    session = ort.InferenceSession(str(export_onnx(net, len(net.columns), tmp_path / "m.onnx")),
                                   providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": X})
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-5, atol=1e-4)
    ts_path = export_torchscript(net, len(net.columns), tmp_path / "m.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates torch.jit
        scripted = torch.jit.load(str(ts_path))
    with torch.no_grad():
        np.testing.assert_allclose(scripted(torch.from_numpy(X)).numpy()[:, 0], want, rtol=1e-5, atol=1e-4)
