"""A model with the periodic embedding (nets/periodic.py) saved, loaded and exported: the
embedding travels in model.json and the weights, and every form computes what the stack's member
and ``Model.predict`` compute."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from justenough.data import Preprocessor, TargetEncoder
from justenough.errors import ArtifactError
from justenough.nets.export import RawInputNetwork
from justenough.nets.periodic import PeriodicEmbedding
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.run.artifacts import architecture_of, build_module, export_onnx, export_torchscript, load_model, save_model
from justenough.run.files import MODEL_DIR, MODEL_FILE
from justenough.run.model import Model


def _member(n_in: int, n_out: int, widths: tuple[int, ...] = (16, 8), seed: int = 0) -> torch.nn.Sequential:
    """An embedded stack member whose frequencies and phases are far from their initial values."""
    stack = MLPStack(n_in, n_out, [MemberSpec(widths=widths, init="he_normal", seed=seed)], activation="tanh", embed="periodic")
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        stack.embedding[0].copy_(torch.randn(stack.embedding[0].shape, generator=g))
    return stack.member(0).eval()


def test_build_module_and_architecture_of_agree_and_plain_models_keep_their_keys() -> None:
    arch = {"n_in": 5, "widths": [16, 8], "n_out": 3, "activation": "tanh", "embed": "periodic"}
    module = build_module(arch)
    assert isinstance(module[0], PeriodicEmbedding)
    assert architecture_of(module) == arch
    assert set(module.state_dict()) == set(_member(5, 3).state_dict())
    plain = {"n_in": 5, "widths": [16, 8], "n_out": 3, "activation": "tanh"}
    assert architecture_of(build_module(plain)) == plain  # no embed key
    assert architecture_of(build_module({**plain, "embed": "none"})) == plain
    with pytest.raises(ArtifactError, match="embed"):
        build_module({**plain, "embed": "fourier"})


def test_save_and_load_keep_the_embedding(tmp_path: Path) -> None:
    module = _member(5, 3)
    save_model(tmp_path, module, activation="tanh")
    doc = json.loads((tmp_path / MODEL_DIR / MODEL_FILE).read_text())
    assert doc["architecture"]["embed"] == "periodic"
    loaded = load_model(tmp_path)
    X = torch.randn(40, 5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(loaded.module(X), module(X))
    again = MLPStack.from_members([loaded.module])
    assert again.embed == "periodic"


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(3, 2, n), "b": rng.uniform(-5, 5, n), "c": rng.normal(0, 1, n)})
    frame.loc[rng.random(n) < 0.1, "b"] = np.nan
    return frame


@pytest.mark.slow
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_exported_embedded_model_equals_model_predict(task: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    train, new = _rows(200, 0), _rows(60, 1)
    pre = Preprocessor().fit(train)
    rng = np.random.default_rng(0)
    if task == "regression":
        enc = TargetEncoder("regression").fit(pd.Series(rng.normal(50.0, 12.0, len(train))))
    else:
        enc = TargetEncoder("classification").fit(pd.Series(rng.choice(["lo", "mid", "hi"], len(train))))
    module = _member(len(pre.feature_names_out), enc.n_outputs)
    model = Model(module, activation="tanh", preprocessor=pre, target_encoder=enc, task=task, target_name="y")
    net = RawInputNetwork(model.module, pre, enc, task).eval()
    X = new[net.columns].to_numpy(dtype=np.float32, copy=True)
    with torch.no_grad():
        want = net(torch.from_numpy(X)).numpy()
    if task == "regression":
        np.testing.assert_allclose(want[:, 0], model.predict(new), rtol=1e-5, atol=1e-4)
    else:
        assert list(np.asarray(model.classes)[want.argmax(axis=1)]) == list(model.predict(new))
    session = ort.InferenceSession(str(export_onnx(net, len(net.columns), tmp_path / "m.onnx")), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": X})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates torch.jit
        scripted = torch.jit.load(str(export_torchscript(net, len(net.columns), tmp_path / "m.pt")))
    with torch.no_grad():
        np.testing.assert_allclose(scripted(torch.from_numpy(X)).numpy(), want, rtol=1e-6, atol=1e-6)
    # The network alone (preprocessed features in), as `justenough export --inputs preprocessed` writes it.
    Z = model.transform(new)
    session = ort.InferenceSession(str(export_onnx(module, Z.shape[1], tmp_path / "n.onnx")), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        np.testing.assert_allclose(session.run(None, {"input": Z})[0], module(torch.from_numpy(Z)).numpy(), rtol=1e-5, atol=1e-5)
