"""Property tests at the input edge: random tables (random dtypes, gaps, infinities, text, 0 to 50
rows) either load and prepare into finite tensors of the right shapes, or raise DataError. Nothing
else may escape: no pandas or NumPy traceback reaches the user."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from justenough.data import Preprocessor, load, prepare
from justenough.errors import DataError

TEXT = st.sampled_from(["a", "b", "c", "Zürich", "x y", "", " ", "1", "2.5", "nan", "inf", "?", "-"])
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64, min_value=None, max_value=None)


def _column(kind: str, n: int) -> st.SearchStrategy[list]:
    element = {
        "float": st.one_of(FLOATS, st.just(np.nan)),
        "small_float": st.floats(-1e3, 1e3) | st.just(np.nan),
        "int": st.integers(-5, 5),
        "bigint": st.integers(-(2**40), 2**40),
        "bool": st.booleans(),
        "text": TEXT | st.none(),
        "mixed": st.one_of(TEXT, st.integers(-3, 3), st.floats(-10, 10), st.none(), st.booleans()),
        "numeric_text": st.sampled_from(["1", "2", "3.5", "-4", "1e3"]) | st.none(),
    }[kind]
    return st.lists(element, min_size=n, max_size=n)


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 50))
    kinds = draw(st.lists(st.sampled_from(
        ["float", "small_float", "int", "bigint", "bool", "text", "mixed", "numeric_text"]), min_size=1, max_size=4))
    data = {f"f{j} {kind}": draw(_column(kind, n)) for j, kind in enumerate(kinds)}
    target_kind = draw(st.sampled_from(["int", "small_float", "text", "bool", "mixed", "float"]))
    data["target"] = draw(_column(target_kind, n))
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()})
    # half the time let pandas infer proper dtypes, as a user's DataFrame would have them
    if draw(st.booleans()):
        frame = frame.infer_objects()
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables(), seed=st.integers(0, 2**16), task=st.sampled_from(["auto", "classification", "regression"]))
def test_load_and_prepare_succeed_with_finite_tensors_or_raise_data_error(frame: pd.DataFrame, seed: int, task: str) -> None:
    try:
        table = load(frame, target="target", task=task)
        prepared = prepare(table, seed=seed)
    except DataError as exc:
        assert str(exc)  # a message for the user, never empty
        return
    n = len(table)
    sizes = prepared.split_sizes
    assert sizes["train"] + sizes["val"] + sizes["test"] == n and min(sizes.values()) >= 1
    X_test, y_test = prepared.test.open()
    for X, y, rows in ((prepared.X_train, prepared.y_train, sizes["train"]), (prepared.X_val, prepared.y_val, sizes["val"]),
                       (X_test, y_test, sizes["test"])):
        assert X.dtype == torch.float32 and X.shape == (rows, prepared.n_features)
        assert torch.isfinite(X).all()
        assert y.shape == (rows,)
        if prepared.task == "classification":
            assert y.dtype == torch.int64 and int(y.min()) >= 0 and int(y.max()) < prepared.n_outputs
        else:
            assert y.dtype == torch.float32 and torch.isfinite(y).all()
    assert len(prepared.feature_names) == prepared.n_features >= 1
    # the fitted preprocessing survives JSON with identical output
    again = Preprocessor.from_json(json.loads(json.dumps(prepared.preprocessor.to_json())))
    np.testing.assert_array_equal(again.transform(table.features), prepared.preprocessor.transform(table.features))
    json.dumps(prepared.describe())


@settings(max_examples=40, deadline=None)
@given(frame=tables())
def test_csv_roundtrip_loads_or_raises_data_error(frame: pd.DataFrame, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    frame.to_csv(path, index=False)
    try:
        table = load(path, target="target")
    except DataError as exc:
        assert str(exc)
        return
    assert len(table) <= len(frame) and table.target_name == "target"
