"""``--embed``: a search over none and periodic shows both on its leaderboard; an embedded model
is saved, predicted with, shown and exported like any other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.test_cli import SMALL, jn


def test_search_over_embed_shows_both_on_the_leaderboard(tmp_path: Path) -> None:
    out = tmp_path / "both"
    proc = jn("search", "iris", *SMALL, "--widths", "8", "--embed", "none,periodic", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    board = pd.read_csv(out / "leaderboard.csv")
    assert sorted(board["label"]) == ["1x8", "1x8+periodic"]
    assert sorted(board["embed"]) == ["none", "periodic"]
    plain, embedded = (board.set_index("embed").loc[e] for e in ("none", "periodic"))
    assert int(embedded["params"]) - int(plain["params"]) == 4 * 8 * 8 + 2 * 4 * 8  # wider layer 0 + c, phi
    shown = jn("show", out)
    assert shown.returncode == 0 and "1x8+periodic" in shown.stdout and "1x8 " in shown.stdout
    # The recipe table names the embedding among every setting, with both values the search tried.
    recipe = shown.stdout[shown.stdout.index("recipe of the chosen config"):]
    assert "numeric embedding" in recipe and "none, periodic" in recipe and "weight decay" in recipe
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen"]["label"] in ("1x8", "1x8+periodic")
    assert_usage = jn("search", "iris", *SMALL, "--embed", "fourier", "--out", tmp_path / "bad")
    assert assert_usage.returncode == 2 and "embed" in assert_usage.stderr and not (tmp_path / "bad").exists()


def test_embed_auto_tries_embeddings_on_a_narrow_table_and_says_why_not_on_a_wide_one(tmp_path: Path) -> None:
    """iris has 4 inputs: both embeddings; digits has 61 (64 less 3 constant pixels): the plain inputs alone, and the search says so."""
    from justenough.space.search_space import AUTO_EMBED_MAX_INPUTS

    assert 4 <= AUTO_EMBED_MAX_INPUTS < 64
    narrow, wide = tmp_path / "narrow", tmp_path / "wide"
    proc = jn("search", "iris", *SMALL, "--widths", "8", "--embed", "auto", "--out", narrow)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(pd.read_csv(narrow / "leaderboard.csv")["label"]) == ["1x8", "1x8+periodic"]
    assert "embed auto: every architecture with and without periodic embeddings (4 inputs" in proc.stdout + proc.stderr
    proc = jn("search", "digits", *SMALL, "--widths", "8", "--embed", "auto", "--out", wide)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(pd.read_csv(wide / "leaderboard.csv")["label"]) == ["1x8"]
    assert re.search(r"embed auto: no periodic embeddings \(6\d inputs, more than", proc.stdout + proc.stderr)


@pytest.mark.slow
def test_an_embedded_model_predicts_and_exports_like_predict(tmp_path: Path) -> None:
    import onnxruntime as ort

    import justenough
    from justenough.data.datasets import load_dataset

    out = tmp_path / "emb"
    proc = jn("search", "iris", *SMALL, "--widths", "8", "--embed", "periodic", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    model_json = json.loads((out / "model" / "model.json").read_text())
    assert model_json["architecture"]["embed"] == "periodic"
    iris = load_dataset("iris")
    model = justenough.load(out)
    want = [c.item() if isinstance(c, np.generic) else c for c in model.predict(iris.drop(columns=["target"]))]
    path = tmp_path / "raw.onnx"
    proc = jn("export", out, "--format", "onnx", "--inputs", "raw", "--out", path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(Path(str(path) + ".features.json").read_text())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": iris[info["features"]].to_numpy(np.float32)})
    assert list(np.asarray(info["output"]["classes"])[logits.argmax(axis=1)]) == want
    proc = jn("export", out, "--format", "onnx", "--out", tmp_path / "pre.onnx")  # preprocessed features in
    assert proc.returncode == 0, proc.stderr
