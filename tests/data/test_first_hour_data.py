"""Issue 25, "the first hour and the bad day": data that was silently mishandled.

One test per item: the input (a real file), what the command line answers (its exit status, the
message's key words, nothing written to ``--out``) or what the Python API says (the error or the
notice). Every test failed before its change.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from justenough.data import load, prepare
from justenough.errors import DataError

EXE = Path(sys.executable).with_name("justenough")
TINY = ["--depth", "1", "--widths", "8", "--n-init", "2", "--max-epochs", "5", "--workers", "1", "--no-report"]


def jn(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``justenough ARGS`` in a subprocess (this checkout's source, one torch thread)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def refused(proc: subprocess.CompletedProcess[str], out: Path, *words: str) -> str:
    """A usage error: status 2, one message holding ``words``, no traceback, nothing at ``out``."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    for word in words:
        assert word.lower() in proc.stderr.lower(), (word, proc.stderr)
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))
    return proc.stderr


def searched(proc: subprocess.CompletedProcess[str], *notes: str) -> str:
    """A search that ran (status 0) and printed each of ``notes`` (notices are printed, not quiet)."""
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    said = proc.stdout + proc.stderr
    for note in notes:
        assert note.lower() in said.lower(), (note, said)
    return said


def numbers_csv(path: Path, rows: int = 30, *, target: list[str] | None = None, seed: int = 0) -> Path:
    """A small numeric table ``a,b,y`` (``target`` replaces the ``y`` cells when given)."""
    rng = np.random.default_rng(seed)
    ys = target if target is not None else [f"{v:.4f}" for v in rng.normal(size=rows)]
    lines = ["a,b,y"] + [f"{rng.normal():.4f},{rng.normal():.4f},{y}" for y in ys]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- an unknown dataset name -------------------------------------------------------------------


def test_an_unknown_dataset_name_gets_did_you_mean(tmp_path: Path) -> None:
    out = tmp_path / "run"
    err = refused(jn("search", "digts", *TINY, "--out", out, cwd=tmp_path), out, "'digts'", "did you mean digits?")
    assert "justenough datasets" in err


# --- targets that cannot be learned ------------------------------------------------------------


def test_a_text_target_with_one_class_says_there_is_nothing_to_learn(tmp_path: Path) -> None:
    path = numbers_csv(tmp_path / "one_class.csv", target=["cat"] * 30)
    out = tmp_path / "run"
    err = refused(jn("search", path, "--target", "y", *TINY, "--out", out), out, "single class", "'cat'", "nothing to learn")
    assert "regression" not in err  # one value in every row is no regression target either


def test_a_one_row_file_says_how_many_rows_a_search_needs(tmp_path: Path) -> None:
    path = tmp_path / "one_row.csv"
    path.write_text("a,b,y\n1,2,3\n", encoding="utf-8")
    out = tmp_path / "run"
    err = refused(jn("search", path, *TINY, "--out", out), out, "has 1 row(s)", "a search needs at least 4 rows")
    assert "constant" not in err


def test_an_infinite_target_says_what_blanking_does_to_the_rows(tmp_path: Path) -> None:
    ys = [f"{v:.3f}" for v in np.linspace(-1, 1, 30)]
    ys[3] = ys[7] = "inf"
    path = numbers_csv(tmp_path / "inf.csv", target=ys)
    out = tmp_path / "run"
    err = refused(jn("search", path, "--target", "y", *TINY, "--out", out), out, "2 infinite value(s)", "first at row 4",
                  "rows whose target is blank are dropped", "drops these 2 row(s)")
    assert "imputed" not in err


# --- reading a text file -----------------------------------------------------------------------


def test_a_file_read_as_cp1252_says_so_and_names_the_encoding_option(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "windows.csv"
    rows = "".join(f"{'café' if i % 2 else 'thé'},{rng.normal():.3f},{rng.normal():.3f}\n" for i in range(30))
    path.write_bytes(("drink,x,y\n" + rows).encode("cp1252"))
    said = searched(jn("search", path, "--target", "y", *TINY, "--out", tmp_path / "run"),
                    "is not utf-8", "read it as cp1252", "--encoding")
    assert "`encoding=" not in said  # the command line's own flag, not the Python keyword
    # Given the encoding, nothing is guessed and nothing is said.
    assert not any("utf-8" in n.lower() for n in load(path, target="y", encoding="cp1252").notices)


def test_short_rows_are_counted_with_the_first_line_number(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    lines = ["a,b,y"] + [f"{rng.normal():.3f},{rng.normal():.3f},{rng.normal():.3f}" for _ in range(30)]
    lines[6] = lines[6].rsplit(",", 1)[0]  # line 7 of the file: two fields of three
    lines[20] = lines[20].split(",", 1)[0]  # line 21: one field
    path = tmp_path / "short.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    searched(jn("search", path, "--target", "y", *TINY, "--out", tmp_path / "run"),
             "2 row(s) have fewer fields than the header's 3", "the first on line 7")
    # Whole rows say nothing.
    whole = numbers_csv(tmp_path / "whole.csv")
    assert not any("fewer fields" in n for n in load(whole, target="y").notices)


# --- categories and missing cells, in a search and at predict time ------------------------------


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A tiny search on a table with a category column and 3 blank cells in ``size``."""
    where = tmp_path_factory.mktemp("colour")
    rng = np.random.default_rng(3)
    colours = ["red", "green", "blue"]
    lines = ["colour,size,y"]
    for i in range(40):
        size = "" if i in (5, 17, 29) else f"{rng.normal():.3f}"
        lines.append(f"{colours[i % 3]},{size},{i % 3 + rng.normal(0, 0.1):.3f}")
    path = where / "colour.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = where / "run"
    return out, jn("search", path, "--target", "y", *TINY, "--out", out)


def test_imputation_is_counted_per_column_in_a_search(colour_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, proc = colour_run
    said = searched(proc, "column 'size': 3 of 40 value(s) missing, imputed with the training median")
    assert "column 'colour':" not in said  # a column with no blank cell says nothing


def test_a_category_in_other_case_at_predict_time_names_the_near_match(
    colour_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    run, proc = colour_run
    searched(proc)
    rows = tmp_path / "new.csv"
    rows.write_text("colour,size\nRED,0.1\nblue,\ngreen,0.3\nmauve,0.2\n", encoding="utf-8")
    predicted = jn("predict", run, rows)
    assert predicted.returncode == 0, predicted.stderr
    assert len(pd.read_csv(io.StringIO(predicted.stdout))) == 4
    for words in ("column 'colour': 2 of 4 row(s) hold 2 categories not seen in training",
                  "'RED' is the training category 'red' in other case",
                  "column 'size': 1 of 4 value(s) missing, imputed with the training median"):
        assert words in predicted.stderr, (words, predicted.stderr)
    assert "'mauve' is the training" not in predicted.stderr  # a new category has no near match


# --- a regression validation split whose targets are all equal ----------------------------------


def test_a_validation_split_with_equal_targets_warns_that_r2_is_undefined(tmp_path: Path) -> None:
    train = numbers_csv(tmp_path / "train.csv", rows=30)
    val = numbers_csv(tmp_path / "val.csv", rows=3, target=["5.0"] * 3, seed=1)
    said = searched(jn("search", train, "--target", "y", "--task", "regression", "--val-file", val, *TINY,
                       "--out", tmp_path / "run"),
                    "the validation split has 3 rows whose targets are all 5", "R² is undefined there",
                    "validation loss (mean squared error) and the test RMSE", "--val-file")
    assert "the test split has" not in said  # the test rows' targets vary: their R² is fine
    # A tiny table: one validation row, whose R² is undefined whatever its value.
    tiny = load(pd.DataFrame({"a": np.arange(5.0), "y": [0.5, 1.5, 2.0, 3.5, 4.0]}), target="y")
    notes = prepare(tiny).notices
    assert any(n.startswith("the validation split has a single row") and "R² is undefined" in n for n in notes), notes
    varied = prepare(load(numbers_csv(tmp_path / "varied.csv"), target="y")).notices
    assert not any("R² is undefined" in n for n in varied)


# --- a date column ------------------------------------------------------------------------------


def dates_table(rows: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=rows, freq="D"),
        "x": rng.normal(size=rows).round(3),
        "y": rng.normal(size=rows).round(3),
    })


def test_a_date_column_is_refused_like_parquet_unless_dates_says_drop_or_ordinal(tmp_path: Path) -> None:
    frame = dates_table()
    csv = tmp_path / "days.csv"
    frame.to_csv(csv, index=False)  # the dates as text: 2024-01-01, ...
    parquet = tmp_path / "days.parquet"
    frame.to_parquet(parquet)  # the dates as a datetime column
    for path in (csv, parquet):
        out = tmp_path / f"run-{path.suffix[1:]}"
        refused(jn("search", path, "--target", "y", *TINY, "--out", out), out,
                "column 'when'", "holds dates or times", "--dates ordinal", "--dates drop")
        assert load(path, target="y", dates="drop").features.columns.tolist() == ["x"]
        days = load(path, target="y", dates="ordinal").features["when"]
        assert days.tolist() == [19723.0 + i for i in range(30)]  # 2024-01-01 is day 19,723 since 1970-01-01
    # A misspelt choice is refused by the API before anything is written.
    import justenough
    from justenough.errors import ConfigError

    with pytest.raises(ConfigError, match="dates must be 'drop' or 'ordinal'"):
        justenough.search(csv, target="y", dates="days", out=tmp_path / "api-run")
    assert not (tmp_path / "api-run").exists()


def test_dates_ordinal_searches_and_predict_reads_new_dates_the_same_way(tmp_path: Path) -> None:
    csv = tmp_path / "days.csv"
    dates_table().to_csv(csv, index=False)
    out = tmp_path / "run"
    searched(jn("search", csv, "--target", "y", "--dates", "ordinal", *TINY, "--out", out),
             "read 1 date column(s) ('when') as days since 1970-01-01, as `--dates ordinal` asks")
    rows = tmp_path / "new.csv"
    rows.write_text("when,x\n2024-02-01,0.5\n2024-02-02,-0.5\n", encoding="utf-8")
    predicted = jn("predict", out, rows)
    assert predicted.returncode == 0, predicted.stderr
    assert len(pd.read_csv(io.StringIO(predicted.stdout))) == 2
