"""justenough.data: loading real files, task inference, preprocessing (against scikit-learn),
splits, tensors, and one test per kind of bad input (each a DataError that says what and where)."""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from justenough.data import Prepared, Preprocessor, SealedSplit, TargetEncoder, load, prepare
from justenough.errors import ConfigError, DataError


def _mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Numbers with gaps, a text category with gaps, an ID column, a constant, a string target."""
    rng = np.random.default_rng(seed)
    size = rng.normal(10.0, 3.0, n)
    size[::7] = np.nan
    color = rng.choice(["red", "green", "blue"], n).astype(object)
    color[::9] = None
    return pd.DataFrame(
        {
            "row id": np.arange(1000, 1000 + n),
            "größe (cm)": size,
            "colour name": color,
            "count": rng.integers(0, 5, n),
            "always": np.full(n, 3.0),
            "label": np.where(size > 10, "big", "small").astype(object),
        }
    )


# --- sources ---------------------------------------------------------------------------------


def test_csv_sniffed_delimiters_unicode_and_spaces(write_table) -> None:
    df = _mixed_frame()
    for name, sep in (("a.csv", ","), ("b.txt", ";"), ("c.tsv", "\t"), ("d.csv", "|")):
        path = write_table(name, df.to_csv(index=False, sep=sep))
        table = load(path, target="label")
        assert list(table.features.columns) == ["row id", "größe (cm)", "colour name", "count", "always"]
        assert table.task == "classification"
        assert table.source == str(path)
        assert sorted(set(table.target)) == ["big", "small"]


def test_csv_given_delimiter_and_last_column_default_with_notice(write_table, caplog) -> None:
    path = write_table("semi.csv", "x;y;z\n1;2;a\n3;4;b\n5;6;a\n7;8;b\n")
    with caplog.at_level(logging.INFO, logger="justenough"):
        table = load(path, delimiter=";")
    assert table.target_name == "z"
    assert any("last column 'z'" in n for n in table.notices)
    assert any("last column 'z'" in r.getMessage() for r in caplog.records)
    assert table.features.dtypes.tolist() == [np.int64, np.int64]


def test_gzip_csv_by_name(write_table) -> None:
    text = _mixed_frame().to_csv(index=False)
    path = write_table("t.csv.gz", gzip.compress(text.encode()))
    assert len(load(path, target="label")) == 60


def test_parquet_and_npz(write_table, tmp_path: Path) -> None:
    df = _mixed_frame()
    table = load(write_table("t.parquet", df), target="label")
    assert table.features.shape == (60, 5)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    np.savez(tmp_path / "xy.npz", X=X, y=y)
    table = load(tmp_path / "xy.npz")
    assert table.target_name == "target" and list(table.features.columns) == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(table.features.to_numpy(), X)
    np.testing.assert_array_equal(table.target.to_numpy(), y)
    np.savez(tmp_path / "one.npz", data=np.column_stack([X, y]))
    table = load(tmp_path / "one.npz")
    np.testing.assert_array_equal(table.target.to_numpy(), y)  # last column, integral -> int labels
    assert table.task == "classification"


def test_dataframe_and_arrays() -> None:
    df = _mixed_frame()
    table = load(df, target="label")
    assert table.source == "DataFrame" and len(table) == 60
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    table = load((X, y))
    assert table.task == "regression" and table.target_name == "target"
    np.testing.assert_array_equal(table.target.to_numpy(), y)


def test_bundled_dataset_by_name() -> None:
    table = load("iris")
    assert table.task == "classification" and table.features.shape == (150, 4)
    assert set(table.target) == {"setosa", "versicolor", "virginica"}
    assert load("diabetes").task == "regression"


# --- task inference ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "task"),
    [
        (np.arange(100) % 3, "classification"),  # few integers
        (np.arange(100) % 30, "regression"),  # more than 20 distinct integers
        (np.arange(100) * 0.5, "regression"),  # non-integers
        (np.where(np.arange(100) % 2 == 0, "yes", "no"), "classification"),  # strings
        (np.arange(100) % 2 == 0, "classification"),  # booleans
    ],
)
def test_task_inference(target: np.ndarray, task: str) -> None:
    df = pd.DataFrame({"x": np.linspace(0, 1, 100), "y": target})
    table = load(df, target="y")
    assert table.task == task
    assert any(n.startswith(f"task: {task}") for n in table.notices)


def test_task_override_and_integer_like_float_labels() -> None:
    df = pd.DataFrame({"x": np.linspace(0, 1, 40), "y": np.arange(40) % 2})
    assert load(df, target="y", task="regression").task == "regression"
    df["y"] = df["y"].astype(float)
    df.loc[3, "y"] = np.nan  # a gap turns ints into floats in pandas: the labels stay 0 and 1
    table = load(df, target="y", task="classification")
    assert table.target.dtype == np.int64 and set(table.target) == {0, 1}
    with pytest.raises(ConfigError, match="task must be"):
        load(df, target="y", task="clustering")


# --- preprocessing: oracle against scikit-learn ------------------------------------------------


def test_preprocessor_matches_sklearn_and_drops_id_and_constant() -> None:
    df = _mixed_frame(80)
    features = load(df, target="label").features
    pre = Preprocessor().fit(features)
    assert pre.dropped.keys() == {"row id", "always"}
    assert "ID-like" in pre.dropped["row id"] and "constant" in pre.dropped["always"]
    assert any("dropped 2 feature column(s)" in n for n in pre.notices)
    Z = pre.transform(features)
    assert Z.dtype == np.float32 and Z.shape == (80, 2 + 3)
    assert pre.feature_names_out == ["größe (cm)", "colour name=blue", "colour name=green", "colour name=red", "count"]

    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    cat = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    )
    oracle = ColumnTransformer([("n", numeric, ["größe (cm)"]), ("c", cat, ["colour name"]), ("k", numeric, ["count"])])
    ref_input = features[["größe (cm)", "colour name", "count"]].astype({"colour name": object})
    ref_input["colour name"] = ref_input["colour name"].where(ref_input["colour name"].notna(), np.nan)
    ref = oracle.fit_transform(ref_input)
    np.testing.assert_allclose(Z, ref, rtol=1e-5, atol=1e-6)


def test_unknown_category_maps_to_zeros_and_missing_to_mode() -> None:
    train = pd.DataFrame({"c": ["a", "b", "b", "a", "b"], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    pre = Preprocessor().fit(train)
    new = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["zzz", None, "a"]})
    Z = pre.transform(new)
    np.testing.assert_array_equal(Z[:, :2], [[0, 0], [0, 1], [1, 0]])  # unknown -> zeros, missing -> mode "b"
    assert Z[1, 2] == pytest.approx((3.0 - 3.0) / np.std([1, 2, 3, 4, 5]))  # missing -> median 3


def test_preprocessor_json_roundtrip_identical_without_pickle() -> None:
    features = load(_mixed_frame(), target="label").features
    pre = Preprocessor().fit(features)
    text = json.dumps(pre.to_json())
    assert "pickle" not in text
    again = Preprocessor.from_json(json.loads(text))
    assert again.feature_names_out == pre.feature_names_out
    np.testing.assert_array_equal(again.transform(features), pre.transform(features))
    with pytest.raises(DataError, match="malformed"):
        Preprocessor.from_json({"format": "justenough.preprocessor/1", "columns": [{"kind": "numeric"}]})


def test_target_encoder_labels_and_regression_scale() -> None:
    enc = TargetEncoder("classification").fit(pd.Series(["cat", "dog", "cat", "emu"]))
    assert enc.classes == ["cat", "dog", "emu"]
    codes = enc.encode(pd.Series(["emu", "cat"]))
    assert codes.dtype == np.int64 and codes.tolist() == [2, 0]
    assert enc.decode(codes).tolist() == ["emu", "cat"]
    again = TargetEncoder.from_json(json.loads(json.dumps(enc.to_json())))
    assert again.decode(np.array([1])).tolist() == ["dog"]
    with pytest.raises(DataError, match="'fox'.*not one of the classes"):
        enc.encode(pd.Series(["fox"]))
    reg = TargetEncoder("regression").fit(pd.Series([1.0, 2.0, 3.0, 6.0]))
    assert reg.mean == pytest.approx(3.0) and reg.std == pytest.approx(np.std([1, 2, 3, 6]))
    z = reg.encode(pd.Series([3.0, 6.0]))
    assert z.dtype == np.float32
    np.testing.assert_allclose(reg.decode(z), [3.0, 6.0], rtol=1e-6)
    assert TargetEncoder("regression").fit(pd.Series([5.0, 5.0])).std == 1.0  # std 0 -> 1


# --- prepare: splits, tensors, metadata --------------------------------------------------------


def test_prepare_digits_stratified_seeded() -> None:
    table = load("digits")
    p = prepare(table, seed=3)
    assert isinstance(p, Prepared) and isinstance(p.test, SealedSplit)
    assert p.split_sizes == {"train": 1079, "val": 359, "test": 359}
    assert sum(p.split_sizes.values()) == 1797
    assert p.X_train.dtype == torch.float32 and p.y_train.dtype == torch.int64
    assert p.X_train.shape == (1079, p.n_features) and p.n_outputs == 10 and p.classes == list(range(10))
    assert p.n_features == 61  # three pixels are 0 in every training image: dropped as constant
    # stratified: every split holds every digit in about the overall proportion
    overall = np.bincount(table.target.to_numpy(), minlength=10) / len(table)
    for y in (p.y_train, p.y_val):
        share = np.bincount(y.numpy(), minlength=10) / len(y)
        assert np.abs(share - overall).max() < 0.01
    # standardized with train statistics: train columns have mean 0, std 1
    np.testing.assert_allclose(p.X_train.mean(0).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(p.X_train.numpy().std(0), 1.0, atol=1e-4)
    assert any(n.startswith("split 1797 rows") and "train 1079" in n for n in p.notices)
    # seeded: the same seed gives the same split and fingerprint, another seed another one
    again = prepare(load("digits"), seed=3)
    assert torch.equal(again.X_train, p.X_train) and again.fingerprint() == p.fingerprint()
    assert prepare(table, seed=4).fingerprint() != p.fingerprint()


def test_sealed_test_split_counts_opens() -> None:
    p = prepare(load("iris"), seed=0)
    assert p.test.times_opened == 0 and len(p.test) == 30
    X, y = p.test.open()
    assert X.shape == (30, 4) and y.shape == (30,) and p.test.times_opened == 1
    assert set(y.tolist()) == {0, 1, 2}  # stratified: every class in the test split


def test_regression_targets_standardized_and_decoded() -> None:
    table = load("diabetes")
    p = prepare(table, seed=0)
    assert p.y_train.dtype == torch.float32 and p.classes == [] and p.n_outputs == 1
    assert float(p.y_train.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(p.y_train.std(unbiased=False)) == pytest.approx(1.0, abs=1e-4)
    decoded = p.target_encoder.decode(p.y_train.numpy())
    assert set(np.round(decoded, 3)) <= set(np.round(table.target.to_numpy(), 3))


def test_string_labels_survive_to_decode_and_describe_is_json() -> None:
    table = load(_mixed_frame(90), target="label")
    p = prepare(table, seed=0)
    assert p.classes == ["big", "small"]
    assert p.target_encoder.decode(p.y_val.numpy()).dtype.kind == "U"
    d = json.loads(json.dumps(p.describe()))
    assert d["task"] == "classification" and d["split_sizes"] == p.split_sizes
    assert d["class_balance"] == {"big": int((table.target == "big").sum()), "small": int((table.target == "small").sum())}
    assert d["feature_names"] == p.feature_names and d["fingerprint"] == p.fingerprint()
    assert d["preprocessing"]["dropped"].keys() == {"row id", "always"}


def test_separate_test_and_validation_tables(write_table) -> None:
    rng = np.random.default_rng(5)

    def frame(n: int) -> pd.DataFrame:
        x = rng.normal(size=n)
        return pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": np.where(x > 0, "pos", "neg")})

    main = load(write_table("main.csv", frame(100)), target="y")
    test = load(write_table("test.csv", frame(30).assign(extra=1)), target="y")
    p = prepare(main, seed=0, test=test)
    assert p.split_sizes == {"train": 75, "val": 25, "test": 30}  # 0.6:0.2 of the main table
    assert any("ignored 1 column(s)" in n and "'extra'" in n for n in p.notices)
    val = load(write_table("val.csv", frame(20)), target="y")
    p = prepare(main, seed=0, test=test, val=val)
    assert p.split_sizes == {"train": 100, "val": 20, "test": 30}
    with pytest.raises(DataError, match="missing column.*'z'"):
        prepare(main, test=load(frame(30).drop(columns="z"), target="y"))


def test_device_options() -> None:
    p = prepare(load("moons"), device="auto")
    assert p.X_train.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            prepare(load("moons"), device="cuda")
    with pytest.raises(ConfigError, match="split must be"):
        prepare(load("moons"), split=(0.5, 0.2, 0.2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_same_values_as_cpu() -> None:
    cpu = prepare(load("wine"), seed=1)
    gpu = prepare(load("wine"), seed=1, device="cuda")
    assert gpu.X_train.device.type == "cuda" and gpu.test.open()[0].device.type == "cuda"
    assert torch.equal(gpu.X_train.cpu(), cpu.X_train) and gpu.fingerprint() == cpu.fingerprint()


# --- bad input: a DataError that names the problem, the place, and the fix --------------------


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"file not found: .*nope\.csv.*check the path"):
        load(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="did you mean the bundled dataset 'digits'"):
        load("digts")
    with pytest.raises(DataError, match="is a directory, not a file"):
        load(tmp_path)


def test_empty_and_header_only(write_table) -> None:
    with pytest.raises(DataError, match=r"empty\.csv is empty \(0 bytes\)"):
        load(write_table("empty.csv", ""))
    with pytest.raises(DataError, match="only blank lines"):
        load(write_table("blank.csv", "\n\n  \n"))
    with pytest.raises(DataError, match=r"header.*'a', 'b'.*but no data rows"):
        load(write_table("header.csv", "a,b\n"))


def test_binary_and_compressed_junk(write_table) -> None:
    text = "a,b\n1,2\n3,4\n"
    with pytest.raises(DataError, match=r"gz\.csv is gzip-compressed data.*decompress"):
        load(write_table("gz.csv", gzip.compress(text.encode())))
    junk = np.random.default_rng(0).bytes(4096)
    with pytest.raises(DataError, match=r"random\.csv holds binary data"):
        load(write_table("random.csv", junk))
    with pytest.raises(DataError, match="not valid gzip"):
        load(write_table("bad.csv.gz", b"not gzip at all"))
    with pytest.raises(DataError, match="not a readable Parquet"):
        load(write_table("bad.parquet", b"PAR1 but nothing else"))
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load(write_table("bad.npz", junk))


def test_wrong_delimiter_one_column(write_table) -> None:
    path = write_table("semi.csv", "a;b;c\n1;2;3\n4;5;6\n")
    # The API's message speaks Python (the CLI translates it to `--delimiter ';'`: test_cli_language.py).
    with pytest.raises(DataError, match=r"one column.*';'.*pass `delimiter=\";\"`$"):
        load(path, delimiter=",")
    tabbed = write_table("tabs.csv", "a\tb\n1\t2\n")
    with pytest.raises(DataError, match=r"tab.*pass `delimiter=\"\\t\"`"):
        load(tabbed, delimiter=";")


def test_target_missing_suggests_close_names() -> None:
    df = pd.DataFrame({"price": [1, 2], "size": [3, 4], "species": ["a", "b"]})
    with pytest.raises(DataError, match=r"target column 'specis' is not in DataFrame: did you mean 'species'"):
        load(df, target="specis")


def test_target_all_missing_and_too_few_rows() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [np.nan, np.nan, np.nan]})
    with pytest.raises(DataError, match=r"target column 'y' in DataFrame is empty"):
        load(df, target="y")
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, np.nan, np.nan]})
    with pytest.raises(DataError, match=r"missing in 2 of 3 rows; only 1 row"):
        load(df, target="y")


def test_missing_target_rows_dropped_with_notice(write_table) -> None:
    path = write_table("gaps.csv", "x,y\n1,a\n2,\n3,b\n4,a\n5,b\n6,\n")
    table = load(path, target="y")
    assert len(table) == 4 and table.features["x"].tolist() == [1, 3, 4, 5]
    assert any("dropped 2 row(s) with a missing target 'y'" in n for n in table.notices)


def test_single_class() -> None:
    table = load(pd.DataFrame({"x": range(20), "y": ["same"] * 20}), target="y")
    with pytest.raises(DataError, match=r"single class \('same' in all 20 rows\)"):
        prepare(table)


def test_class_too_small_to_stratify() -> None:
    y = ["a"] * 20 + ["b"] * 20 + ["rare"] * 2
    table = load(pd.DataFrame({"x": np.arange(42.0), "y": y}), target="y")
    with pytest.raises(DataError, match=r"class 'rare' of target 'y' has only 2 row\(s\)"):
        prepare(table)


def test_junk_in_numeric_column(write_table) -> None:
    rows = "\n".join(f"{i * 1.5},{i % 2}" for i in range(30))
    path = write_table("junk.csv", "weight,y\n" + rows.replace("7.5,", "n/a?,", 1) + "\n")
    with pytest.raises(DataError, match=r"column 'weight' in .*junk\.csv holds numbers, but row 6 has 'n/a\?'"):
        load(path, target="y")


def test_inf_values(write_table) -> None:
    df = pd.DataFrame({"x": [1.0, np.inf, 3.0, 4.0], "ok": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    with pytest.raises(DataError, match=r"column 'x' in DataFrame has 1 infinite value\(s\) \(first at row 2\)"):
        load(df, target="y")
    path = write_table("inf.csv", "a,y\n1,0\ninf,1\n2,0\n")
    with pytest.raises(DataError, match="column 'a'.*infinite"):
        load(path, target="y")
    reg = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.5, -np.inf, 1.5, 2.5]})
    with pytest.raises(DataError, match="target 'y'.*infinite"):
        load(reg, target="y")


def test_duplicate_column_names(write_table) -> None:
    with pytest.raises(DataError, match=r"'a' appear more than once"):
        load(write_table("dup.csv", "a,b,a\n1,2,3\n4,5,6\n"))
    df = pd.DataFrame([[1, 2, 3]], columns=["x", "x", "y"])
    with pytest.raises(DataError, match=r"'x' appear more than once"):
        load(df, target="y")


def test_fewer_rows_than_the_split_needs() -> None:
    table = load(pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.1, 0.2, 0.3]}), target="y")
    with pytest.raises(DataError, match=r"has 3 row\(s\), fewer than the split into train/val/test needs \(at least 4\)"):
        prepare(table)


def test_too_many_categories(write_table) -> None:
    n = 200
    cats = [f"town{i % 80}" for i in range(n)]
    df = pd.DataFrame({"town": cats, "x": np.arange(n) * 0.1, "y": np.arange(n) % 2})
    with pytest.raises(DataError, match=r"'town' .* 80 categories, more than `max_categories=50`: raise the limit with `max_categories=100`, or drop"):
        load(df, target="y")
    table = load(df, target="y", max_categories=100)
    p = prepare(table)
    n_towns = p.preprocessor.summary()["categorical"]["categories"]["town"]
    assert 50 < n_towns <= 80 and p.n_features == 1 + n_towns  # x plus one column per train category
    path = write_table("towns.csv", df)
    with pytest.raises(DataError, match="towns.csv"):
        load(path, target="y")


def test_predict_time_columns() -> None:
    train = pd.DataFrame({"größe m": [1.0, 2.0, 3.0, 4.0], "colour": ["r", "g", "r", "b"]})
    pre = Preprocessor().fit(train)
    reordered = pd.DataFrame({"colour": ["g"], "größe m": [2.5], "note": ["hi"]})
    notices = pre.check_columns(reordered)
    assert notices == ["ignored 1 column(s) the model does not use: 'note'"]
    np.testing.assert_array_equal(pre.transform(reordered), pre.transform(train.iloc[[1]].assign(**{"größe m": 2.5})))
    with pytest.raises(DataError, match=r"missing column\(s\) the model needs: 'größe m'.*is it 'grösse m'"):
        pre.check_columns(pd.DataFrame({"colour": ["r"], "grösse m": [1.0]}))
    as_text = pd.DataFrame({"größe m": ["2.5", " 1 ", None], "colour": ["r", "g", "b"]})
    expected = pre.transform(pd.DataFrame({"größe m": [2.5, 1.0, np.nan], "colour": ["r", "g", "b"]}))
    np.testing.assert_array_equal(pre.transform(as_text), expected)  # numbers as strings: coerced
    with pytest.raises(DataError, match=r"column 'größe m' should hold numbers.*row 2 has 'tall'"):
        pre.transform(pd.DataFrame({"größe m": ["2.5", "tall"], "colour": ["r", "g"]}))


def test_nothing_but_data_errors_for_odd_sources(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot load data from a list"):
        load([1, 2, 3])
    with pytest.raises(DataError, match=r"DataFrame has 1 column\(s\) \('y'\); a table needs at least one feature"):
        load(pd.DataFrame({"y": [1, 2, 3]}))
    with pytest.raises(DataError, match="X has 3 rows but y has 2"):
        load((np.zeros((3, 2)), np.zeros(2)))
    with pytest.raises(DataError, match="unsupported file type"):
        load(Path(__file__).with_suffix(".py"))
    np.savez(tmp_path / "objs.npz", X=np.array([[1, "a"]], dtype=object), y=np.array([1]))
    with pytest.raises(DataError, match="pickle"):
        load(tmp_path / "objs.npz")
    with pytest.raises(DataError, match="holds dates or times"):
        load(pd.DataFrame({"d": pd.date_range("2020-01-01", periods=4), "y": [0, 1, 0, 1]}), target="y")


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_unreadable_file(write_table) -> None:
    path = write_table("locked.csv", "a,b\n1,2\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # running as root: permissions do not apply
            pytest.skip("file permissions are not enforced for this user")
        with pytest.raises(DataError, match="cannot read"):
            load(path)
    finally:
        path.chmod(0o644)


def test_ragged_row_and_text_in_regression_target(write_table) -> None:
    path = write_table("ragged.csv", "a,b,y\n1,2,3\n4,5,6,7\n8,9,10\n")
    with pytest.raises(DataError, match=r"ragged\.csv cannot be parsed.*delimiter ','.*as many fields as the header"):
        load(path, target="y")
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["cheap", "dear", "cheap", "dear"]})
    with pytest.raises(DataError, match=r"target 'y' in DataFrame holds text \('cheap' at row 1\).*`task=\"classification\"`"):
        load(df, target="y", task="regression")


def test_text_target_that_is_mostly_numbers_names_the_row() -> None:
    y = [str(v) for v in np.linspace(0, 5, 30)]
    y[4] = "unknown"
    df = pd.DataFrame({"x": np.arange(30.0), "y": y})
    with pytest.raises(DataError, match=r"target 'y' in DataFrame holds numbers, but row 5 has 'unknown'"):
        load(df, target="y")
