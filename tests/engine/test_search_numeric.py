"""``numeric`` through a whole search: the run records it (summary.json, data.json, the saved
preprocessing), a loaded model scales new rows with the fitted parameters, and a resumed study
or a prepared dataset with another scaling is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import justenough
from justenough import search
from justenough.data import Preprocessor, load, prepare
from justenough.data.robust_scaling import smooth_clip
from justenough.errors import ConfigError

QUICK = dict(depth=1, widths=4, max_epochs=5, n_init=1, workers=1, cv=1, report=False)


def _frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 1.0, n)
    return pd.DataFrame({"x": x, "noise": rng.normal(0.0, 1.0, n), "y": np.log(x) + rng.normal(0.0, 0.1, n)})


def test_a_robust_search_records_its_scaling_and_predicts_new_rows_with_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = search(_frame(), target="y", out=out, numeric="robust", **QUICK)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["numeric"] == "robust"
    data = json.loads((out / "data.json").read_text())
    assert data["preprocessing"]["numeric"]["scaling"].startswith("robust")
    model = justenough.load(out)
    assert model.preprocessor.numeric == "robust"
    new = _frame(10, seed=1).drop(columns="y")
    new.loc[0, "x"] = 1e6  # far beyond the training rows: clipped smoothly, close to 3
    features = model.transform(new)  # [10, 2]
    for j, spec in enumerate(model.preprocessor.columns):
        want = smooth_clip((new[spec["name"]].to_numpy() - spec["center"]) / spec["scale"])
        np.testing.assert_allclose(features[:, j], want.astype(np.float32), rtol=1e-6, atol=1e-7)
    assert 2.99 < features[0, 0] <= 3.0
    np.testing.assert_allclose(model.predict(new), result.model.predict(new), rtol=1e-6)


def test_a_default_search_records_standard(tmp_path: Path) -> None:
    out = tmp_path / "run"
    search(_frame(), target="y", out=out, **QUICK)
    assert json.loads((out / "summary.json").read_text())["numeric"] == "standard"
    assert justenough.load(out).preprocessor.numeric == "standard"


def test_resuming_with_another_scaling_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    search(_frame(), target="y", out=out, numeric="quantile", **QUICK)
    with pytest.raises(ConfigError, match=r"different .*numeric"):
        search(_frame(), target="y", out=out, **QUICK)  # the default, standard
    search(_frame(), target="y", out=out, numeric="quantile", **QUICK)  # the same scaling resumes


def test_prepared_data_with_another_scaling_is_refused() -> None:
    prepared = prepare(load(_frame(), target="y"), numeric="quantile")
    assert isinstance(prepared.preprocessor, Preprocessor) and prepared.preprocessor.numeric == "quantile"
    with pytest.raises(ConfigError, match=r"prepared with `numeric=\"quantile\"`.*`numeric=\"robust\"`"):
        search(prepared, numeric="robust", **QUICK)
