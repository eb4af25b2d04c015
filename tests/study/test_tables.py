"""Real tables: European CSVs (semicolons, decimal commas, thousands separators), encodings, and
the CLI flags that read them, from search to predict.

The files are written byte by byte here (a BOM, CRLF line ends, quoted fields holding the
delimiter, missing cells), so what is tested is what a spreadsheet program writes.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from justenough.data import load, read_rows
from justenough.errors import ConfigError, DataError

EXE = Path(sys.executable).with_name("justenough")
BOM = b"\xef\xbb\xbf"

# A spreadsheet's export: ';', decimal comma, '.' thousands groups, quoted fields with ';' in
# them, a missing number and a missing category, CRLF line ends, a UTF-8 BOM.
EUROPEAN = (
    "art;insel;schnabel_mm;masse_g;datum;version\r\n"
    'Adelie;"Torgersen; Nord";39,1;3.750,0;01.02.2024;1.2\r\n'
    "Adelie;Biscoe;;3.800,5;02.02.2024;1.2\r\n"
    'Gentoo;"Dream; Ost";46,5;5.000;03.02.2024;1.3\r\n'
    "Gentoo;;-0,5;1.234.567,25;04.02.2024;1.3\r\n"
    "Adelie;Biscoe;,5;950;05.02.2024;1.4\r\n"
)
SCHNABEL = [39.1, np.nan, 46.5, -0.5, 0.5]
MASSE = [3750.0, 3800.5, 5000.0, 1234567.25, 950.0]


def _write(path: Path, text: str, *, bom: bool = True, encoding: str = "utf-8") -> Path:
    path.write_bytes((BOM if bom else b"") + text.encode(encoding))
    return path


def test_a_european_csv_loads_its_numbers_exactly(tmp_path: Path) -> None:
    # The date column is read as days since 1970-01-01 (dates are refused unless dates= says how).
    table = load(_write(tmp_path / "pinguine.csv", EUROPEAN), target="art", dates="ordinal")
    f = table.features
    assert list(f.columns) == ["insel", "schnabel_mm", "masse_g", "datum", "version"]  # the BOM is gone
    # Exactly the numbers written: float("39.1") is what "39,1" means.
    np.testing.assert_array_equal(f["schnabel_mm"].to_numpy(), np.array(SCHNABEL))
    np.testing.assert_array_equal(f["masse_g"].to_numpy(), np.array(MASSE))
    assert f["schnabel_mm"].dtype == np.float64 and f["masse_g"].dtype == np.float64
    # Quoted fields keep their ';'; a missing category is missing; text stays text.
    assert f["insel"].tolist() == ["Torgersen; Nord", "Biscoe", "Dream; Ost", None, "Biscoe"]
    assert f["datum"].tolist() == [19754, 19755, 19756, 19757, 19758]  # 1 to 5 February 2024, day first
    # "1.2" is no decimal-comma number: the column keeps what the ordinary reader makes of it.
    np.testing.assert_array_equal(f["version"].to_numpy(), [1.2, 1.2, 1.3, 1.3, 1.4])
    assert table.target.tolist() == ["Adelie", "Adelie", "Gentoo", "Gentoo", "Adelie"]
    assert table.reading == {"decimal": ",", "dates": "ordinal"}


def test_the_decimal_comma_can_be_forced_or_turned_off(tmp_path: Path) -> None:
    path = _write(tmp_path / "pinguine.csv", EUROPEAN)
    off = load(path, target="art", decimal=".", dates="drop")
    assert off.features["schnabel_mm"].dtype == object  # read as text, as asked
    assert off.reading == {"dates": "drop"}
    # Quoted decimal commas in a comma-delimited file: not detected (a comma delimits), forced works.
    commas = _write(tmp_path / "commas.csv", 'x,y\r\n"1,5",a\r\n"2,25",b\r\n"3.000,5",a\r\n', bom=False)
    assert load(commas, target="y").features["x"].dtype == object
    forced = load(commas, target="y", decimal="comma")
    np.testing.assert_array_equal(forced.features["x"].to_numpy(), [1.5, 2.25, 3000.5])
    assert forced.reading == {"decimal": ","}
    # An ordinary file is read as before: no column parses with a decimal comma.
    plain = _write(tmp_path / "plain.csv", "a;b;y\n1.5;2;u\n2.5;3;v\n", bom=False)
    table = load(plain, target="y")
    np.testing.assert_array_equal(table.features["a"].to_numpy(), [1.5, 2.5])
    assert table.features["b"].dtype == np.int64 and table.reading == {}


def test_numbers_read_as_text_get_the_decimal_hint_not_more_categories(tmp_path: Path) -> None:
    rows = "".join(f"{i % 60},{i % 10};{'ab'[i % 2]}\n" for i in range(120))  # 60 values, each twice
    path = _write(tmp_path / "many.csv", "x;y\n" + rows, bom=False)
    with pytest.raises(DataError) as caught:
        load(path, target="y", decimal=".")
    message = str(caught.value)
    assert "column 'x'" in message and "60 categories" in message
    assert "numbers with a decimal comma (such as '0,0')" in message and '`decimal=","`' in message
    assert "raise the limit" not in message
    np.testing.assert_array_equal(load(path, target="y").features["x"].to_numpy(), [float(f"{i % 60}.{i % 10}") for i in range(120)])


def test_encodings(tmp_path: Path) -> None:
    text = "stadt;wert;y\r\nMünchen;1,5;a\r\nKöln;2,5;b\r\nZürich;3,5;a\r\n"
    cp = _write(tmp_path / "cp1252.csv", text, bom=False, encoding="cp1252")
    assert load(cp, target="y").features["stadt"].tolist() == ["München", "Köln", "Zürich"]  # the fallback
    assert load(cp, target="y", encoding="latin-1").features["stadt"].tolist() == ["München", "Köln", "Zürich"]
    utf8 = _write(tmp_path / "utf8.csv", text)
    table = load(utf8, target="y", encoding="utf-8")  # the BOM goes with utf-8 too
    assert list(table.features.columns) == ["stadt", "wert"] and table.reading == {"decimal": ",", "encoding": "utf-8"}
    at = text.encode("cp1252").index("ü".encode("cp1252"))
    with pytest.raises(DataError, match=rf"cannot be decoded as ascii: byte b'\\xfc' at position {at} .*`encoding=\"cp1252\"`"):
        load(cp, target="y", encoding="ascii")
    with pytest.raises(ConfigError, match=r"unknown encoding 'klingon'.*`encoding=\"utf-8\"`"):
        load(utf8, target="y", encoding="klingon")
    with pytest.raises(ConfigError, match=r"decimal must be '\.' or ','.*got ';'"):
        load(utf8, target="y", decimal=";")
    # Reading options are checked whatever the source.
    with pytest.raises(ConfigError, match="decimal must be"):
        load("iris", decimal="x")


def test_read_rows_reads_rows_to_predict_like_load(tmp_path: Path) -> None:
    path = _write(tmp_path / "pinguine.csv", EUROPEAN)
    rows = read_rows(path)
    np.testing.assert_array_equal(rows["masse_g"].to_numpy(), np.array(MASSE))
    assert "art" in rows.columns  # no target is taken out
    # With the decimal comma forced, even a file that cannot show it reads right.
    ints = _write(tmp_path / "ints.csv", "masse_g;insel\r\n5.000;Biscoe\r\n", bom=False)
    assert read_rows(ints)["masse_g"].tolist() == [5.0]  # "5.000" alone reads as five
    assert read_rows(ints, decimal=",")["masse_g"].tolist() == [5000.0]


# --- the command line: search and predict a European table -----------------------------------------


def _jn(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)


def _european_iris(rows: pd.DataFrame) -> str:
    """iris as a German spreadsheet writes it, with a 60-category text column and a mass in grams."""
    lines = ["laenge;breite;blatt_laenge;blatt_breite;masse_g;code;art"]
    for i, r in enumerate(rows.itertuples(index=False)):
        mass = f"{int(r[0] * 1000):,}".replace(",", ".") + ",5"  # 5.100,5
        nums = [f"{v:.1f}".replace(".", ",") for v in r[:4]]
        if i == 3:
            nums[1] = ""  # a missing cell
        lines.append(";".join([*nums, mass, f'"c{i % 60}; x"', str(r[4])]))
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture(scope="module")
def european_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from justenough.data.datasets import load_dataset

    tmp = tmp_path_factory.mktemp("eu")
    iris = load_dataset("iris")
    path = tmp / "iris_eu.csv"
    path.write_bytes(BOM + _european_iris(iris).encode())
    out = tmp / "run"
    # 60 categories in 'code': more than the default 50, so the search needs the flag the message names.
    refused = _jn("search", path, "--target", "art", "--out", out)
    assert refused.returncode == 2, refused.stderr
    assert "`--max-categories 100`" in refused.stderr and "max_categories=" not in refused.stderr
    assert not out.exists()
    proc = _jn("search", path, "--target", "art", "--max-categories", "100", "--depth", "1", "--widths", "8", "--n-init", "2",
               "--lr", "0.01", "--max-epochs", "20", "--workers", "1", "--no-report", "--out", out, "-q")
    assert proc.returncode == 0, proc.stderr
    return path, out


def test_search_reads_a_european_csv_and_the_run_remembers_it(european_run: tuple[Path, Path]) -> None:
    path, out = european_run
    data = json.loads((out / "data.json").read_text())
    assert "masse_g" in data["feature_names"] and "laenge" in data["feature_names"]  # numbers, standardized
    assert any(name.startswith("code=") for name in data["feature_names"])  # the text column, one-hot
    model_json = json.loads((out / "model" / "model.json").read_text())
    assert model_json["meta"]["info"]["reading"] == {"decimal": ","}


def test_predict_reads_new_rows_as_the_run_read_its_table(european_run: tuple[Path, Path], tmp_path: Path) -> None:
    import justenough

    path, out = european_run
    model = justenough.load(out)
    # New rows with no decimal comma to detect: "5.100" is 5100 g only for a European reader.
    new = tmp_path / "neu.csv"
    new.write_bytes(BOM + "laenge;breite;blatt_laenge;blatt_breite;masse_g;code\r\n5;3;1;0;5.100;\"c1; x\"\r\n7;3;6;2;7.000;\"c2; x\"\r\n".encode())
    expected = pd.DataFrame({"laenge": [5.0, 7.0], "breite": [3.0, 3.0], "blatt_laenge": [1.0, 6.0], "blatt_breite": [0.0, 2.0],
                             "masse_g": [5100.0, 7000.0], "code": ["c1; x", "c2; x"]})
    proc = _jn("predict", out, new, "--proba")
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout))
    proba = model.predict_proba(expected)  # [2, 3]
    np.testing.assert_allclose(got[[f"proba_{c}" for c in model.classes]].to_numpy(), proba, rtol=1e-5, atol=1e-6)
    # The flag overrides what the run remembers: read with a decimal point, "5.100" is 5.1.
    proc = _jn("predict", out, new, "--proba", "--decimal", ".")
    assert proc.returncode == 0, proc.stderr
    as_points = expected.assign(masse_g=[5.1, 7.0])
    np.testing.assert_allclose(pd.read_csv(io.StringIO(proc.stdout))[[f"proba_{c}" for c in model.classes]].to_numpy(),
                               model.predict_proba(as_points), rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.predict_proba(as_points), proba)  # the two readings really differ
    # The original file itself predicts (its target column is ignored, with a note).
    proc = _jn("predict", out, path, "--out", tmp_path / "preds.csv")
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(tmp_path / "preds.csv")) == 150


def test_bad_reading_flags_are_refused_before_anything_is_written(european_run: tuple[Path, Path], tmp_path: Path) -> None:
    path, out = european_run
    cases = [
        (["search", path, "--target", "art", "--decimal", ";"], "decimal must be '.' or ','"),
        (["search", path, "--target", "art", "--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["search", path, "--target", "art", "--delimiter", "ab"], "delimiter must be one character"),
        (["search", path, "--target", "art", "--max-categories", "20", "--decimal", "."], "`--decimal ,`"),
    ]
    for args, needle in cases:
        run_dir = tmp_path / "new-run"
        proc = _jn(*args, "--out", run_dir)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr
        assert not run_dir.exists()
    preds = tmp_path / "preds.csv"
    proc = _jn("predict", out, path, "--encoding", "klingon", "--out", preds)
    assert proc.returncode == 2 and "unknown encoding 'klingon'" in proc.stderr and "`--encoding utf-8`" in proc.stderr
    assert not preds.exists()
