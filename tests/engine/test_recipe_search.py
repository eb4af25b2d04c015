"""A search with the recipe's added settings (issue 26): ``batch_size="auto"`` resolved once by the
training rows into the configs, the leaderboard and the run directory; ``warmup_cosine`` and
``label_smoothing`` carried to every restart and shown with the learning rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from justenough import search
from justenough.run.summary import Summary
from justenough.space.search_space import auto_batch_size
from justenough.training_recipe import lr_text


def _table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 2))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "target": (X[:, 0] + X[:, 1] > 0).astype(int)})


def test_batch_auto_warmup_and_smoothing_reach_the_run(tmp_path: Path) -> None:
    # 24,000 rows: the 60% training split (14,400 rows) gives batch 128, not the default 64.
    out = tmp_path / "run"
    result = search(_table(24_000), depth=0, widths=4, max_epochs=2, n_init=1, workers=1, cv=1, batch_size="auto", embed="none",
                    schedule="warmup_cosine", label_smoothing="0,0.1", out=out, report=False)
    expected = auto_batch_size(int(Summary.from_json(result.summary).split_sizes["train"]))
    assert expected == 128
    board = result.leaderboard
    assert set(board["batch_size"]) == {128} and set(result.restarts["batch_size"]) == {128}
    assert set(board["schedule"]) == {"warmup_cosine"} and sorted(board["label_smoothing"]) == [0.0, 0.1]
    written = pd.read_csv(out / "leaderboard.csv")
    assert set(written["batch_size"]) == {128} and sorted(written["label_smoothing"]) == [0.0, 0.1]
    assert lr_text(0.001, "warmup_cosine", 0.1) == "0.001 warmup_cosine smoothing=0.1"
    assert lr_text(0.001, "constant", 0.0) == "0.001"
    # Resumed with the same options: the same study (the resolved space, the same fingerprint).
    again = search(_table(24_000), depth=0, widths=4, max_epochs=2, n_init=1, workers=1, cv=1, batch_size="auto", embed="none",
                   schedule="warmup_cosine", label_smoothing="0,0.1", out=out, report=False)
    assert sorted(again.leaderboard["key"]) == sorted(board["key"])
