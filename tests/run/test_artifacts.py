"""Saving, loading and exporting models: real files, onnxruntime and torch.jit as oracles."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from justenough.errors import ArtifactError
from justenough.nets.activations import ACTIVATION_MODULES
from justenough.run.artifacts import (
    FORMAT_VERSION,
    architecture_of,
    build_module,
    export_onnx,
    export_safetensors,
    export_torchscript,
    load_model,
    save_model,
)
from justenough.run.atomic import atomic_dir, write_bytes, write_csv, write_json, write_text
from justenough.run.files import MODEL_FILE, WEIGHTS_FILE

N_IN, N_OUT = 7, 3


def trained_like(activation: str = "relu", widths: tuple[int, ...] = (16, 8), seed: int = 0) -> nn.Sequential:
    """A module with random (non-default) weights drawn from an explicit generator."""
    module = build_module({"n_in": N_IN, "widths": list(widths), "n_out": N_OUT, "activation": activation})
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module.eval()


def inputs(n: int = 64, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, N_IN)).astype(np.float32)


META = {"task": "classification", "classes": ["a", "b", "c"], "preprocessor": {"mean": [0.0] * N_IN}, "score": 0.97}


# --- build_module ---------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", sorted(ACTIVATION_MODULES))
def test_build_module_layout(activation: str) -> None:
    module = build_module({"n_in": 5, "widths": [8, 4], "n_out": 2, "activation": activation})
    kinds = [type(m) for m in module]
    act = ACTIVATION_MODULES[activation]
    assert kinds == [nn.Linear, act, nn.Linear, act, nn.Linear]
    assert list(module.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert module(torch.zeros(3, 5)).shape == (3, 2)
    assert architecture_of(module) == {"n_in": 5, "widths": [8, 4], "n_out": 2, "activation": activation}


def test_build_module_refuses_bad_architecture() -> None:
    with pytest.raises(ArtifactError, match="unknown activation 'swish'"):
        build_module({"n_in": 5, "widths": [8], "n_out": 2, "activation": "swish"})
    with pytest.raises(ArtifactError, match="lacks n_out"):
        build_module({"n_in": 5, "widths": [8], "activation": "relu"})
    with pytest.raises(ArtifactError, match="positive integer"):
        build_module({"n_in": 5, "widths": [0], "n_out": 2, "activation": "relu"})


# --- save and load -----------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "leaky_relu", "selu", "sigmoid", "identity"])
def test_round_trip_gives_identical_outputs(tmp_path: Path, activation: str) -> None:
    module = trained_like(activation)
    path = save_model(tmp_path / "run", module, activation=activation, meta=META)
    assert path == tmp_path / "run" / "model"
    assert sorted(p.name for p in path.iterdir()) == [MODEL_FILE, WEIGHTS_FILE]
    loaded = load_model(tmp_path / "run")  # a run directory ...
    again = load_model(path)  # ... or the model directory itself
    X = inputs()
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    with torch.no_grad():
        np.testing.assert_array_equal(loaded.module(torch.from_numpy(X)).numpy(), expected)  # bit for bit
        np.testing.assert_array_equal(again.module(torch.from_numpy(X)).numpy(), expected)
    assert not loaded.module.training
    assert isinstance(loaded.module, nn.Sequential)
    assert loaded.meta == META
    assert loaded.architecture == {"n_in": N_IN, "widths": [16, 8], "n_out": N_OUT, "activation": activation}


def test_model_json_contents(tmp_path: Path) -> None:
    import hashlib

    path = save_model(tmp_path, trained_like(), activation="relu", meta={"nan": float("nan"), "n": np.int64(4)})
    doc = json.loads((path / MODEL_FILE).read_text())
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["weights"]["sha256"] == hashlib.sha256((path / WEIGHTS_FILE).read_bytes()).hexdigest()
    assert doc["meta"] == {"nan": None, "n": 4}  # strict JSON: NaN becomes null


def test_weights_file_is_safetensors_and_loading_never_unpickles(tmp_path: Path, monkeypatch) -> None:
    import pickle

    from safetensors.torch import load_file

    module = trained_like()
    path = save_model(tmp_path, module, activation="relu", meta={})
    tensors = load_file(str(path / WEIGHTS_FILE))
    for name, value in module.state_dict().items():
        torch.testing.assert_close(tensors[name], value, rtol=0, atol=0)

    def refuse(*args, **kwargs):
        raise AssertionError("loading a model must not unpickle anything")

    # Invariant 6: with every unpickling entry point booby-trapped, loading still works.
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    loaded = load_model(path)
    X = inputs()
    with torch.no_grad():
        np.testing.assert_array_equal(loaded.module(torch.from_numpy(X)).numpy(), module(torch.from_numpy(X)).numpy())


def test_save_replaces_an_old_model_atomically(tmp_path: Path) -> None:
    save_model(tmp_path, trained_like(seed=1), activation="relu", meta={"v": 1})
    save_model(tmp_path, trained_like(seed=2), activation="relu", meta={"v": 2})
    assert load_model(tmp_path).meta == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temp or trash directories left


def test_save_failure_leaves_the_old_model(tmp_path: Path) -> None:
    save_model(tmp_path, trained_like(seed=1), activation="relu", meta={"v": 1})
    with pytest.raises(ArtifactError, match="JSON"):
        save_model(tmp_path, trained_like(seed=2), activation="relu", meta={"bad": object()})
    assert load_model(tmp_path).meta == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_save_refuses_modules_it_cannot_describe(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="Dropout"):
        save_model(tmp_path, nn.Sequential(nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2)), activation="relu", meta={})
    with pytest.raises(ArtifactError, match="uses 'relu'"):
        save_model(tmp_path, trained_like("relu"), activation="tanh", meta={})
    with pytest.raises(ArtifactError, match="mixes"):
        save_model(tmp_path, nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1)),
                   activation="relu", meta={})
    assert not (tmp_path / "model").exists()


def test_identity_without_modules_is_saved_in_the_canonical_layout(tmp_path: Path) -> None:
    """A linear net written as Linear, Linear still saves as Linear, Identity, Linear."""
    module = nn.Sequential(nn.Linear(N_IN, 5), nn.Linear(5, N_OUT))
    path = save_model(tmp_path, module, activation="identity", meta={})
    loaded = load_model(path)
    X = inputs()
    with torch.no_grad():
        np.testing.assert_array_equal(loaded.module(torch.from_numpy(X)).numpy(), module(torch.from_numpy(X)).numpy())


# --- load failures ------------------------------------------------------------------------------------


@pytest.fixture()
def saved(tmp_path: Path) -> Path:
    return save_model(tmp_path / "run", trained_like(), activation="relu", meta=META)


def test_tampered_weights_raise(saved: Path) -> None:
    data = bytearray((saved / WEIGHTS_FILE).read_bytes())
    data[-5] ^= 0x01  # one bit of one weight: same size, different contents
    (saved / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(saved)


def test_truncated_weights_raise(saved: Path) -> None:
    data = (saved / WEIGHTS_FILE).read_bytes()
    (saved / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="truncated"):
        load_model(saved)


def test_truncated_weights_with_a_matching_json_still_raise(saved: Path) -> None:
    """Someone truncates the file and fixes up size and hash: safetensors refuses to parse it."""
    import hashlib

    data = (saved / WEIGHTS_FILE).read_bytes()[:100]
    (saved / WEIGHTS_FILE).write_bytes(data)
    doc = json.loads((saved / MODEL_FILE).read_text())
    doc["weights"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    (saved / MODEL_FILE).write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="safetensors"):
        load_model(saved)


def test_missing_files_raise(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    (saved / WEIGHTS_FILE).unlink()
    with pytest.raises(ArtifactError, match="weights.safetensors is missing"):
        load_model(saved)
    (saved / MODEL_FILE).unlink()
    with pytest.raises(ArtifactError, match="model.json is missing"):
        load_model(saved)


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: "[1, 2]", "not a justenough model"),
        (lambda text: text.replace('"format_version": 1', '"format_version": 99'), "format version 99"),
        (lambda text: text.replace('"activation": "relu"', '"activation": "swish"'), "unknown activation"),
        (lambda text: text.replace('"widths": [\n      16,', '"widths": [\n      32,'), "different models"),
    ],
)
def test_bad_model_json_raises(saved: Path, edit, fragment: str) -> None:
    path = saved / MODEL_FILE
    path.write_text(edit(path.read_text()))
    with pytest.raises(ArtifactError, match=fragment):
        load_model(saved)


# --- export --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_onnx_export_matches_torch_with_dynamic_batch(tmp_path: Path) -> None:
    import onnxruntime as ort

    module = trained_like("tanh", widths=(32, 16, 8))
    path = export_onnx(module, N_IN, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    for batch in (1, 5, 1000):
        X = inputs(batch, seed=batch)
        (got,) = session.run(None, {"input": X})
        with torch.no_grad():
            expected = module(torch.from_numpy(X)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_torchscript_export_matches_torch(tmp_path: Path) -> None:
    module = trained_like("gelu")
    path = export_torchscript(module, N_IN, tmp_path / "model.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates torch.jit
        scripted = torch.jit.load(str(path))
    for batch in (1, 9, 300):
        X = torch.from_numpy(inputs(batch, seed=batch))
        with torch.no_grad():
            torch.testing.assert_close(scripted(X), module(X), atol=1e-5, rtol=0)


def test_safetensors_export_holds_weights_and_architecture(tmp_path: Path) -> None:
    from safetensors import safe_open

    module = trained_like("selu")
    path = export_safetensors(module, tmp_path / "weights.safetensors")
    with safe_open(str(path), framework="pt") as fh:
        arch = json.loads(fh.metadata()["architecture"])
        rebuilt = build_module(arch)
        rebuilt.load_state_dict({k: fh.get_tensor(k) for k in fh.keys()})
    assert arch["activation"] == "selu"
    X = torch.from_numpy(inputs())
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(X), module(X), atol=0, rtol=0)


# --- atomic writes -------------------------------------------------------------------------------------


def test_atomic_writers_write_and_replace(tmp_path: Path) -> None:
    write_text(tmp_path / "a" / "x.txt", "hello")
    write_text(tmp_path / "a" / "x.txt", "world")
    assert (tmp_path / "a" / "x.txt").read_text() == "world"
    write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    write_json(tmp_path / "c.json", {"x": [1, 2.5, float("inf")], "y": None})
    assert json.loads((tmp_path / "c.json").read_text()) == {"x": [1, 2.5, None], "y": None}
    df = pd.DataFrame({"k": ["a", "b"], "v": [1.5, 2.0]})
    write_csv(tmp_path / "d.csv", df)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "d.csv"), df)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b.bin", "c.json", "d.csv"]
    mode = (tmp_path / "b.bin").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not mkstemp's private 0600


def test_failed_atomic_write_keeps_the_old_file(tmp_path: Path) -> None:
    write_json(tmp_path / "s.json", {"ok": True})
    with pytest.raises(TypeError):
        write_json(tmp_path / "s.json", {"bad": object()})
    assert json.loads((tmp_path / "s.json").read_text()) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_atomic_dir_replaces_on_success_and_keeps_old_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        assert tmp != target and tmp.parent == tmp_path
        (tmp / "f").write_text("1")
        assert not target.exists()  # nothing visible until the block ends
    assert (target / "f").read_text() == "1"
    with atomic_dir(target) as tmp:
        (tmp / "g").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["g"]  # replaced, not merged
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "h").write_text("3")
            raise RuntimeError("crash while writing")
    assert sorted(p.name for p in target.iterdir()) == ["g"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
