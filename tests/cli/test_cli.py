"""The command line end to end: the real ``justenough`` executable in a subprocess, real files.

One small search on iris (depth 1 x widths 8,16 x 2 restarts, 30 epochs, one worker) runs once
per module; show, report, predict and export then work on its run directory. Usage errors must
exit with status 2, print one message and no traceback. A few fast in-process tests cover the
config-file reader and the progress displays.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from justenough.errors import ConfigError
from tests.config_recipe import CONFIG_RECIPE

EXE = Path(sys.executable).with_name("justenough")
# A small search: one network per width (the plain inputs: on iris's 4 inputs the default embed
# "auto" would also train each with the embedding). A test that adds its own --embed after SMALL
# overrides it (the last of a repeated option wins, as argparse reads it).
SMALL = ["--depth", "1", "--widths", "8,16", "--n-init", "2", "--lr", "0.01", "--max-epochs", "30", "--patience", "5",
         "--embed", "none", "--workers", "1"]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env["COLUMNS"] = "200"
    env.pop("FORCE_COLOR", None)
    return env


def jn(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``justenough ARGS`` in a subprocess and capture its output (stdout is not a terminal)."""
    return subprocess.run(
        [str(EXE), *map(str, args)], capture_output=True, text=True, env={**cli_env(), **(env or {})}, cwd=cwd, timeout=timeout
    )


def assert_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle.lower() in proc.stderr.lower(), proc.stderr


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One real search, reused by the tests of show, report, predict and export."""
    out = tmp_path_factory.mktemp("cli") / "iris-run"
    proc = jn("search", "iris", *SMALL, "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def restarts_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The same search with the rule comparing the configs' restarts (``--judge-restarts``), for
    show and compare as they read restarts."""
    out = tmp_path_factory.mktemp("cli") / "iris-restarts"
    proc = jn("search", "iris", *SMALL, "--judge-restarts", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    from justenough.data.datasets import load_dataset

    return load_dataset("iris")


# ----------------------------------------------------------------------------------------------
# search
# ----------------------------------------------------------------------------------------------


def test_search_writes_the_run_and_prints_the_outcome(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = run
    for name in ("summary.json", "leaderboard.csv", "results.csv", "report.html", "model/weights.safetensors", "model/model.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    board = pd.read_csv(out / "leaderboard.csv")
    assert len(board) == 2 and int(board["chosen"].sum()) == 1
    assert summary["n_init"] == 2
    assert len(pd.read_csv(out / "results.csv")) == 4  # 2 configs x 2 restarts

    text = proc.stdout
    # Plain-log progress (stdout is a pipe): one line per finished config, numbered.
    lines = text.splitlines()
    assert sum(line.startswith("[1/2]") for line in lines) == 1
    assert sum(line.startswith("[2/2]") for line in lines) == 1
    # The leaderboard: both configs, the chosen one marked on its own row.
    chosen_label = summary["chosen"]["label"]
    marked = [line for line in lines if "<- chosen" in line]
    assert len(marked) == 1 and chosen_label in marked[0]
    assert any("1x8" in line for line in lines) and any("1x16" in line for line in lines)
    # The choice, its explanation, the test score as summary.json has it, and the paths.
    assert summary["explanation"] in " ".join(text.split())
    assert f"test accuracy: {100 * summary['test_score']:.1f}%" in text
    paired = summary["paired"]  # the choice against its closest rival, restart k against restart k
    assert paired["n"] == 2 and paired["other_key"] != summary["chosen"]["key"]
    assert f"paired: {chosen_label} vs the {paired['relation']}, {paired['other_label']}: {100 * paired['mean_diff']:+.2f}" in text
    base = summary["baseline"]
    assert f"no network: always {base['prediction']!r} (majority class): {100 * base['val_score']:.1f}% on validation" in text
    assert f"report: {out / 'report.html'}" in text
    assert f"model: {out / 'model'}" in text
    assert "Traceback" not in proc.stderr


def test_search_default_out_is_runs_slash_data_stem(tmp_path: Path) -> None:
    data = tmp_path / "flowers.csv"
    from justenough.data.datasets import load_dataset

    load_dataset("iris").to_csv(data, index=False)
    proc = jn("search", data, "--depth", "1", "--widths", "4", "--n-init", "1", "--max-epochs", "5", "--workers", "1",
              "--no-report", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "runs" / "flowers" / "summary.json").is_file()
    assert not (tmp_path / "runs" / "flowers" / "report.html").exists()  # --no-report
    # Quiet: no progress lines and no leaderboard, just the result.
    assert "[1/1]" not in proc.stdout and "leaderboard" not in proc.stdout
    assert "chosen:" in proc.stdout and "test accuracy:" in proc.stdout


# ----------------------------------------------------------------------------------------------
# show, report
# ----------------------------------------------------------------------------------------------


def test_show_prints_the_leaderboard_and_the_choice(restarts_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = restarts_run
    assert json.loads((out / "summary.json").read_text())["judged_by"] == "restarts"
    proc = jn("show", out)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    board = pd.read_csv(out / "leaderboard.csv")
    lines = proc.stdout.splitlines()
    marked = [line for line in lines if "<- chosen" in line]
    assert len(marked) == 1 and summary["chosen"]["label"] in marked[0]
    # Mean +/- std over restarts of each row, as in leaderboard.csv (accuracy in percent).
    for _, row in board.iterrows():
        cell = f"{100 * row['val_mean']:.1f}% +/- {100 * row['val_std']:.1f}"
        assert any(row["label"] in line and cell in line for line in lines), (cell, proc.stdout)
    assert summary["explanation"] in " ".join(proc.stdout.split())
    assert "iris" in lines[0]  # the data source from data.json


def test_report_rebuilds_the_html(run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    out, _ = run
    target = tmp_path / "again.html"
    proc = jn("report", out, "--out", target)
    assert proc.returncode == 0, proc.stderr
    html = target.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen"]["key"] in html or summary["chosen"]["label"] in html
    assert f"report: {target}" in proc.stdout
    # --open hands the file's URL to the web browser ($BROWSER: a script that records it).
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    proc = jn("report", out, "--out", target, "--open", env={"BROWSER": str(browser)})
    assert proc.returncode == 0, proc.stderr
    assert opened.read_text().strip() == target.resolve().as_uri()


def test_show_and_report_refuse_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    assert_usage_error(jn("show", tmp_path / "nowhere"), "no run directory")
    assert_usage_error(jn("show", tmp_path), "summary.json")
    assert_usage_error(jn("report", tmp_path / "nowhere"), "no run directory")


# ----------------------------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------------------------


def _shuffled_rows(iris: pd.DataFrame) -> pd.DataFrame:
    """30 iris rows, columns reversed, an ID and an extra column, no target."""
    rows = iris.drop(columns=["target"]).iloc[::5].reset_index(drop=True)
    rows = rows[list(reversed(rows.columns))]
    rows.insert(0, "flower_id", [f"f{i:03d}" for i in range(len(rows))])
    rows["comment"] = "extra"
    return rows


def test_predict_matches_the_python_api(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    import justenough

    out, _ = run
    rows = _shuffled_rows(iris)
    src = tmp_path / "new.csv"
    rows.to_csv(src, index=False)
    preds_path = tmp_path / "preds.csv"
    proc = jn("predict", out, src, "--id", "flower_id", "--proba", "--out", preds_path)
    assert proc.returncode == 0, proc.stderr
    assert "comment" in proc.stderr  # the extra column is named in a notice
    preds = pd.read_csv(preds_path)
    model = justenough.load(out)
    features = iris.drop(columns=["target"]).iloc[::5].reset_index(drop=True)  # original order
    expected = model.predict(features)
    assert list(preds.columns) == ["flower_id", "prediction", *[f"proba_{c}" for c in model.classes]]
    assert list(preds["flower_id"]) == list(rows["flower_id"])
    np.testing.assert_array_equal(preds["prediction"].to_numpy(), np.asarray(expected))
    proba = preds[[f"proba_{c}" for c in model.classes]].to_numpy()
    np.testing.assert_allclose(proba, model.predict_proba(features), atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # The argmax of the probabilities is the predicted class.
    np.testing.assert_array_equal(np.asarray(model.classes)[proba.argmax(axis=1)], preds["prediction"].to_numpy())
    # The model is good: most of these (training-distribution) rows are right.
    truth = iris["target"].iloc[::5].to_numpy()
    assert (preds["prediction"].to_numpy() == truth).mean() > 0.7


def test_predict_prints_csv_to_stdout(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    out, _ = run
    import justenough

    rows = iris.drop(columns=["target"]).head(7)
    src = tmp_path / "rows.parquet"
    rows[list(reversed(rows.columns))].to_parquet(src)
    proc = jn("predict", out, src)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no extra columns: no notes
    preds = pd.read_csv(io.StringIO(proc.stdout))
    assert list(preds.columns) == ["prediction"] and len(preds) == 7
    np.testing.assert_array_equal(preds["prediction"].to_numpy(), np.asarray(justenough.load(out).predict(rows)))


def test_predict_names_missing_columns(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    out, _ = run
    missing = "petal width (cm)"
    src = tmp_path / "short.csv"
    iris.drop(columns=["target", missing]).head(5).to_csv(src, index=False)
    proc = jn("predict", out, src)
    assert_usage_error(proc, missing)
    assert proc.stdout == ""  # nothing half-printed


def test_predict_usage_errors(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    out, _ = run
    assert_usage_error(jn("predict", out, tmp_path / "nope.csv"), "nope.csv")
    src = tmp_path / "rows.csv"
    iris.drop(columns=["target"]).head(3).to_csv(src, index=False)
    assert_usage_error(jn("predict", out, src, "--id", "no_such_col"), "no_such_col")
    # No telling suffix: the delimiter is sniffed from the whole file; a file it cannot sniff
    # gets an answer, not a traceback.
    semi = tmp_path / "rows.dat"
    iris.drop(columns=["target"]).head(3).to_csv(semi, index=False, sep=";")
    proc = jn("predict", out, semi)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(io.StringIO(proc.stdout))) == 3
    odd = tmp_path / "odd.dat"
    odd.write_text('a,"b\n1,2\n')  # an unclosed quote
    assert_usage_error(jn("predict", out, odd), "error:")


def test_an_ensemble_run_from_a_config_file_predicts_shows_and_exports(iris: pd.DataFrame, tmp_path: Path) -> None:
    """``ensemble = true`` in --config: predict, show and export work on the ensemble of restarts."""
    import justenough

    out = tmp_path / "ens"
    config = tmp_path / "search.toml"
    config.write_text("ensemble = true\nrefit = false\n", encoding="utf-8")
    proc = jn("search", "iris", *SMALL, "--config", config, "--out", out, "--no-report", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    model = justenough.load(out)
    assert model.ensemble_size == 2 and json.loads((out / "summary.json").read_text())["ensemble"] is True
    rows = iris.drop(columns=["target"]).iloc[::7].reset_index(drop=True)
    src, preds_path = tmp_path / "new.csv", tmp_path / "preds.csv"
    rows.to_csv(src, index=False)
    assert jn("predict", out, src, "--proba", "--out", preds_path).returncode == 0
    preds = pd.read_csv(preds_path)
    np.testing.assert_allclose(preds[[f"proba_{c}" for c in model.classes]].to_numpy(), model.predict_proba(rows), atol=1e-6)
    np.testing.assert_array_equal(preds["prediction"].to_numpy(), np.asarray(model.predict(rows)))
    shown = jn("show", out)
    assert shown.returncode == 0 and "tested model: an ensemble of 2 restarts" in " ".join(shown.stdout.split())
    ts = tmp_path / "ens.pt"
    assert jn("export", out, "--format", "torchscript", "--out", ts).returncode == 0
    info = json.loads(Path(str(ts) + ".features.json").read_text())
    assert info["ensemble"] == {"members": 2, "mean": "probabilities"}
    X = torch.from_numpy(model.transform(rows))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks torch.jit as deprecated; loading still works
        got = torch.softmax(torch.jit.load(str(ts))(X), dim=1).numpy()
    np.testing.assert_allclose(got, model.predict_proba(rows), atol=1e-6)


# ----------------------------------------------------------------------------------------------
# compare
# ----------------------------------------------------------------------------------------------


def test_judged_by_ensembles_show_and_compare_say_so(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """By default (the ensemble as the model) the rule judges the configs' ensembles: the
    leaderboard's score is each config's ensemble's (the restarts' own mean beside it), show prints
    both, and compare pairs the two ensembles: its difference is that of their validation scores."""
    from justenough.run.files import read_evidence, read_results, read_summary
    from justenough.select import paired_noise

    out, _ = run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["judged_by"] == "ensembles" and "ensemble accuracy" in summary["explanation"]
    board = pd.read_csv(out / "leaderboard.csv")
    lines = jn("show", out).stdout.splitlines()
    assert any("each config's ensemble of 2 restarts" in line for line in lines)
    for _, row in board.iterrows():
        cells = (f"{100 * row['val_mean']:.1f}%", f"{100 * row['val_mean_restarts']:.1f}% +/- {100 * row['val_std']:.1f}")
        assert any(row["label"] in line and all(c in line for c in cells) for line in lines), (cells, lines)
    keys = board.set_index("label")["key"].astype(str)
    noise = paired_noise(read_evidence(out, read_results(out), read_summary(out)), keys["1x16"], keys["1x8"])
    assert noise is not None and noise.ensembles
    means = board.set_index("label")["val_mean"]
    assert noise.mean == pytest.approx(means["1x16"] - means["1x8"])
    text = " ".join(jn("compare", out, "1x16", "1x8").stdout.split())
    assert f"paired: 1x16 - 1x8 = {100 * noise.mean:+.2f} +/- {100 * noise.se:.2f} points SE between the two ensembles" in text


def test_compare_pairs_two_configs_restart_by_restart(restarts_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    from justenough.select import paired_difference

    out, _ = restarts_run
    proc = jn("compare", out, "1x16", "1x8")
    assert proc.returncode == 0, proc.stderr
    results = pd.read_csv(out / "results.csv")
    board = pd.read_csv(out / "leaderboard.csv").set_index("label")
    d = paired_difference(results, str(board.at["1x16", "key"]), str(board.at["1x8", "key"]))
    # The pairing is by validation row and seed (the run kept per-row evidence), beside the restarts alone.
    from justenough.run.files import read_evidence
    from justenough.select import paired_noise

    noise = paired_noise(read_evidence(out, results), str(board.at["1x16", "key"]), str(board.at["1x8", "key"]))
    assert noise is not None
    text = " ".join(proc.stdout.split())  # rich may wrap a long line
    assert f"paired: 1x16 - 1x8 = {100 * noise.mean:+.2f} +/- {100 * noise.se:.2f} points SE" in text
    assert f"over {noise.n_rows} validation rows x {d['n']} restarts, paired by row and seed" in text
    assert f"restarts alone: {100 * d['mean_diff']:+.2f}" in text and f"over {d['n']} restarts paired by seed" in text
    # A key works as well as a label; an unknown name or the same config twice is a usage error.
    assert jn("compare", out, str(board.at["1x16", "key"]), "1x8").returncode == 0
    assert_usage_error(jn("compare", out, "1x16", "9x9"), "no config '9x9'")
    assert_usage_error(jn("compare", out, "1x8", "1x8"), "same config")


# ----------------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------------


def test_export_onnx_matches_torch(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    import onnxruntime as ort

    import justenough

    out, _ = run
    path = tmp_path / "iris.onnx"
    proc = jn("export", out, "--format", "onnx", "--out", path)
    assert proc.returncode == 0, proc.stderr
    model = justenough.load(out)
    info = json.loads(Path(str(path) + ".features.json").read_text())
    assert info["features"] == list(model.preprocessor.feature_names_out)
    assert sorted(info["raw_columns"]) == sorted(iris.columns.drop("target"))
    assert info["output"]["classes"] == [c if not isinstance(c, np.generic) else c.item() for c in model.classes]

    X = model.transform(iris.drop(columns=["target"]))  # preprocessed [150, 4] float32
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: X})
    with torch.no_grad():
        want = model.module(torch.from_numpy(X)).numpy()
    assert got.shape == want.shape == (150, 3)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_export_raw_inputs_predicts_like_predict_from_raw_rows(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    import onnxruntime as ort

    import justenough

    out, _ = run
    path = tmp_path / "raw.onnx"
    proc = jn("export", out, "--format", "onnx", "--inputs", "raw", "--out", path)
    assert proc.returncode == 0, proc.stderr
    assert "raw numeric columns" in proc.stdout
    info = json.loads(Path(str(path) + ".features.json").read_text())
    assert info["inputs"] == "raw"
    assert sorted(info["features"]) == sorted(iris.columns.drop("target"))
    raw = iris[info["features"]].to_numpy(np.float32)  # raw rows, no preprocessing: [150, 4]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": raw})
    labels = np.asarray(info["output"]["classes"])[logits.argmax(axis=1)]
    model = justenough.load(out)
    assert list(labels) == [c.item() if isinstance(c, np.generic) else c for c in model.predict(iris.drop(columns=["target"]))]
    assert_usage_error(jn("export", out, "--format", "safetensors", "--inputs", "raw", "--out", tmp_path / "w.st"), "--inputs raw")
    assert_usage_error(jn("export", out, "--inputs", "pixels", "--out", tmp_path / "x.onnx"), "--inputs")


def test_export_torchscript_and_safetensors(run: tuple[Path, subprocess.CompletedProcess[str]], iris: pd.DataFrame, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    import justenough

    out, _ = run
    model = justenough.load(out)
    ts, st = tmp_path / "m.pt", tmp_path / "m.safetensors"
    assert jn("export", out, "--format", "torchscript", "--out", ts).returncode == 0
    assert jn("export", out, "--format", "safetensors", "--out", st).returncode == 0
    X = torch.from_numpy(model.transform(iris.drop(columns=["target"])))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks torch.jit as deprecated; loading still works
        want = model.module(X)
        got = torch.jit.load(str(ts))(X)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)
    tensors = load_file(str(st))
    for name, value in model.module.state_dict().items():
        torch.testing.assert_close(tensors[name], value)
    assert (tmp_path / "m.safetensors.features.json").is_file()
    assert_usage_error(jn("export", out, "--format", "pickle", "--out", tmp_path / "x"), "--format")


# ----------------------------------------------------------------------------------------------
# usage errors, --debug
# ----------------------------------------------------------------------------------------------


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    assert_usage_error(jn("search", "iris", "--bogus"), "no such option")
    never = tmp_path / "never"
    assert_usage_error(jn("search", "iris", "--rule", "best", "--out", never), "rule")
    assert_usage_error(jn("search", "iris", "--depth", "two", "--out", never), "depth")
    assert_usage_error(jn("search", "iris", "--sampler", "magic", "--out", never), "sampler")
    assert_usage_error(jn("search", tmp_path / "missing.csv", "--out", never), "missing.csv")
    assert_usage_error(jn("search"), "data")
    assert not never.exists()  # bad options are refused before anything is written


def test_a_bad_rule_or_rule_value_exits_2_before_anything_is_written(tmp_path: Path) -> None:
    never = tmp_path / "never"
    # The rule's number is checked too, not only its name: a target above 1, a negative tolerance.
    assert_usage_error(jn("search", "iris", "--rule", "target=95", "--out", never), "target=95", "target=0.95")
    assert_usage_error(jn("search", "iris", "--rule", "tolerance=-0.1", "--out", never), "tolerance")
    # A rule from a config file is read by the same check.
    cfg = tmp_path / "search.toml"
    cfg.write_text(f'data = "iris"\nrule = "median"\nout = "{never.as_posix()}"\n')
    assert_usage_error(jn("search", "--config", cfg), "rule", "one-se")
    assert not never.exists()


def test_the_recipe_options_refuse_bad_values_before_anything_is_written(tmp_path: Path) -> None:
    never = tmp_path / "never"
    assert_usage_error(jn("search", "iris", "--label-smoothing", "1", "--out", never), "label_smoothing", "below 1")
    assert_usage_error(jn("search", "iris", "--schedule", "warmup", "--out", never), "schedule", "warmup_cosine")
    assert_usage_error(jn("search", "iris", "--batch-size", "auto..256", "--out", never), "batch_size", "auto")
    # Smoothing a regression target: refused once the data says regression, before the run is made.
    assert_usage_error(jn("search", "diabetes", "--label-smoothing", "0.1", "--out", never), "smooths class targets")
    assert not never.exists()


def test_the_choices_offered_are_the_vocabularies(tmp_path: Path) -> None:
    from justenough.vocab import ExecutorKind, Sampler, Strategy

    never = tmp_path / "never"
    for flag, vocabulary in (("--sampler", Sampler), ("--executor", ExecutorKind), ("--strategy", Strategy)):
        assert_usage_error(jn("search", "iris", flag, "nowhere", "--out", never), flag, ", ".join(vocabulary))
    assert not never.exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    for args in (("--debug", "show", tmp_path / "nowhere"), ("show", tmp_path / "nowhere", "--debug")):
        proc = jn(*args)
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr and "ArtifactError" in proc.stderr


def test_version_and_help() -> None:
    from typer.testing import CliRunner

    from justenough import __version__
    from justenough.cli import app

    proc = jn("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout
    # Every command documents every option with an example (in process: --help needs no subprocess).
    runner = CliRunner()
    for command in ("search", "show", "compare", "report", "predict", "export", "init-lab", "datasets"):
        result = runner.invoke(app, [command, "--help"], terminal_width=400)
        assert result.exit_code == 0, result.output
        assert "Example" in result.output, command
        lines = result.output.splitlines()
        # An option's names longer than click's first column (30 characters) put its help on the next line.
        options = [line if "  " in line.strip() else line + lines[i + 1]
                   for i, line in enumerate(lines) if line.lstrip().startswith("--") and "--help" not in line]
        assert options or command in ("datasets", "compare"), command  # these take arguments only
        for line in options:
            assert "Example:" in line, (command, line)


def test_datasets_lists_the_bundled_sets() -> None:
    from justenough.data.datasets import available

    proc = jn("datasets")
    assert proc.returncode == 0, proc.stderr
    for name in available()["name"]:
        assert name in proc.stdout


# ----------------------------------------------------------------------------------------------
# config file
# ----------------------------------------------------------------------------------------------


def test_config_file_with_flags_overriding_it(tmp_path: Path) -> None:
    cfg = tmp_path / "search.toml"
    cfg.write_text(
        'data = "iris"\n'
        "depth = 1\n"
        "widths = [8, 32]\n"
        "n-init = 2\n"
        "max_epochs = 5\n"
        'embed = "none"\n'
        "workers = 1\n"
        "report = false\n"
        "quiet = true\n"
        'rule = "tolerance=0.05"\n'
        f'out = "{(tmp_path / "from-file").as_posix()}"\n'
    )
    proc = jn("search", "--config", cfg, "--widths", "4")  # the flag wins over the file
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = tmp_path / "from-file"
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert list(board["widths"].astype(str)) == ["4"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n_init"] == 2 and summary["rule"] == "tolerance=0.05"
    assert not (run_dir / "report.html").exists()
    assert "leaderboard" not in proc.stdout  # quiet = true


def test_config_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('data = "iris"\nbogus = 1\nalso_wrong = "x"\n')
    assert_usage_error(jn("search", "--config", bad), "bogus", "also-wrong", str(bad))
    typo = tmp_path / "typo.toml"
    typo.write_text('data = "iris"\nn-init = "many"\n')
    assert_usage_error(jn("search", "--config", typo), "n_init")
    broken = tmp_path / "broken.toml"
    broken.write_text("depth = [1,\n")
    assert_usage_error(jn("search", "--config", broken), "not valid TOML")
    assert_usage_error(jn("search", "--config", tmp_path / "absent.toml"), "absent.toml")


def test_read_config_normalizes_keys_and_sections(tmp_path: Path) -> None:
    from justenough.cli.config_file import read_config

    path = tmp_path / "c.toml"
    path.write_text('n-init = 3\nmax_epochs = 9\n[search]\nn_init = 4\n[init-lab]\ndepth = 12\n')
    assert read_config(path, "search", ["search", "init-lab"]) == {"n_init": 4, "max_epochs": 9}
    assert read_config(path, "init-lab", ["search", "init-lab"]) == {"n_init": 3, "max_epochs": 9, "depth": 12}
    twice = tmp_path / "twice.toml"
    twice.write_text("n-init = 3\nn_init = 4\n")
    with pytest.raises(ConfigError, match="twice"):
        read_config(twice, "search")


def test_split_specs_keeps_commas_inside_parentheses() -> None:
    from justenough.cli import split_specs

    assert split_specs("he_normal, normal(std=0.1,mean=0),,orthogonal(gain=1.0)") == (
        "he_normal", "normal(std=0.1,mean=0)", "orthogonal(gain=1.0)")


def test_leaderboard_table_keeps_the_chosen_row_when_cut() -> None:
    from rich.console import Console

    from justenough.cli import leaderboard_table

    board = pd.DataFrame({  # best first, as every leaderboard is (select.best_first)
        "label": ["2x16", "1x16", "1x8", "1x4"],
        "activation": ["relu", "tanh", "relu", "relu"],
        "params": [355, 83, 43, 23],
        "val_mean": [0.95, 0.93, 0.90, 0.80],
        "val_std": [0.02, 0.01, 0.01, 0.02],
        "val_max": [0.97, 0.94, 0.91, 0.82],
        "n_restarts": [3, 3, 3, 3],
        "n_diverged": [0, 0, 1, 0],
        "train_time": [4.0, 3.0, 2.0, 1.0],
        "chosen": [False, False, True, False],
    })
    buf = io.StringIO()
    Console(file=buf, width=200).print(leaderboard_table(board, {"test_metric": "accuracy", "n_init": 3}, limit=1))
    lines = buf.getvalue().splitlines()
    rows = [line for line in lines if "relu" in line or "tanh" in line]
    # The board's order, best first (2x16), then the chosen row although it is beyond the limit; the activation
    # differs between configs, so it is part of the config's name.
    assert len(rows) == 2 and "2x16 relu" in rows[0] and "1x8 relu" in rows[1] and "<- chosen" in rows[1]
    assert "95.0% +/- 2.0" in rows[0] and "1/3" in rows[1]
    assert "2 more configs in leaderboard.csv" in buf.getvalue()


def test_cli_space_defaults_equal_the_api_defaults() -> None:
    from justenough.cli import SPACE_DEFAULTS
    from justenough.space.search_space import Space

    assert Space.from_options(**SPACE_DEFAULTS) == Space.default()


# ----------------------------------------------------------------------------------------------
# progress displays (in process)
# ----------------------------------------------------------------------------------------------


def _configs() -> list:
    from justenough.space.search_space import Space

    return Space.from_options(**CONFIG_RECIPE, depth="1", widths="8,16,32,64").configs(task="classification")


def test_plain_progress_writes_one_line_per_config() -> None:
    from rich.console import Console

    from justenough.cli.search_progress import PlainProgress, make_progress

    buf = io.StringIO()
    console = Console(file=buf, width=60)
    progress = make_progress(console)
    assert isinstance(progress, PlainProgress)  # not a terminal
    configs = _configs()
    progress.on_start(len(configs), 0, 3)
    progress.on_submit(configs[:2])
    progress.on_config_done(configs[0], {"val_mean": 0.9, "val_std": 0.01, "val_max": 0.91, "n_restarts": 3, "n_diverged": 1, "train_time": 2.0}, 0.9)
    progress.on_config_done(configs[1], {"val_mean": 0.95, "val_std": 0.02, "val_max": 0.97, "n_restarts": 3, "n_diverged": 0, "train_time": 2.0}, 0.95)
    progress.on_message("dropped 2 rows")
    progress.on_end()
    lines = buf.getvalue().splitlines()
    assert lines[0] == "search: 4 configs x 3 restarts"
    assert lines[1].startswith("[1/4] 1x8 relu he_normal adam lr=0.001  val 0.9000 +/- 0.0100 sd  best 0.9100  1/3 diverged")
    assert "best so far 0.9500" in lines[2] and lines[2].startswith("[2/4] 1x16")
    assert lines[3] == "note: dropped 2 rows"
    assert lines[4].startswith("search done: 2 configs (6 restarts)")
    assert len(lines) == 5  # one line per event, however narrow the console


def test_live_progress_shows_counts_flight_best_and_eta() -> None:
    from rich.console import Console

    from justenough.cli.search_progress import LiveProgress, QuietProgress, make_progress

    assert isinstance(make_progress(Console(file=io.StringIO()), quiet=True), QuietProgress)
    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    progress = make_progress(console)
    assert isinstance(progress, LiveProgress)
    configs = _configs()
    progress.on_start(len(configs), 1, 5)  # resuming: one config done before
    progress.on_submit(configs[1:3])
    progress.on_config_done(configs[1], {"val_mean": 0.8, "val_std": 0.1, "val_max": 0.9, "n_restarts": 5, "n_diverged": 2, "train_time": 1.0}, 0.8)
    snap = Console(file=io.StringIO(), width=160, force_terminal=False)
    snap.print(progress.render())
    text = snap.file.getvalue()  # type: ignore[attr-defined]
    assert "2/4 configs" in text and "10 restarts" in text
    assert "best so far: 0.8000" in text and "1x16" in text
    assert "training: 1x32  (5 restarts in flight)" in text
    assert "2 diverged" in text
    eta = progress.tally.eta()
    assert eta is not None and eta >= 0
    progress.on_end()
    assert not progress.live.is_started


def test_format_seconds() -> None:
    from justenough.cli.search_progress import format_seconds

    assert format_seconds(4.25) == "4.2s" or format_seconds(4.25) == "4.3s"
    assert format_seconds(42) == "42s"
    assert format_seconds(95) == "1m35s"
    assert format_seconds(4000) == "1h06m"
    assert format_seconds(None) == "?" and format_seconds(float("inf")) == "?"


# ----------------------------------------------------------------------------------------------
# init lab
# ----------------------------------------------------------------------------------------------


def test_init_lab_writes_summary_and_report(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    proc = jn("init-lab", "iris", "--depth", "3", "--width", "16", "--n-init", "2", "--epochs", "2",
              "--schemes", "he_normal,normal(std=0.01)", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["scheme"]) == ["he_normal", "normal(std=0.01)"]
    restarts = pd.read_csv(out / "restarts.csv")
    assert len(restarts) == 2 * 2  # schemes x restarts
    # The summary's mean is the mean of the restarts' validation scores.
    for scheme, group in restarts.groupby("scheme"):
        row = summary[summary["scheme"] == scheme].iloc[0]
        np.testing.assert_allclose(row["score_mean"], group.loc[~group["diverged"].astype(bool), "val_score"].mean(), rtol=1e-9)
    assert (out / "init_lab.html").is_file()
    assert f"summary: {out / 'summary.csv'}" in proc.stdout
    assert "he_normal" in proc.stdout and "normal(std=0.01)" in proc.stdout
    assert_usage_error(jn("init-lab", "iris", "--schemes", "no_such_scheme", "--epochs", "1", "--out", tmp_path / "x"), "no_such_scheme")


def test_config_labels_name_every_setting_that_differs() -> None:
    from justenough.cli.labels import table_labels

    board = pd.DataFrame({
        "label": ["1x8", "1x8", "1x8", "1x8"],
        "lr": [1e-3, 1e-3, 1e-3, 1e-3],
        "patience": [10.0, 10.0, float("nan"), 10.0],
        "monitor": ["val_loss", "val_score", "val_loss", "val_loss"],
        "max_epochs": [200, 200, 200, 50],
    })
    labels = table_labels(board)
    assert len(set(labels)) == 4  # each config told apart
    assert labels[1].endswith("val_score") and "patience=none" in labels[2] and "epochs=50" in labels[3]
    assert "lr=" not in labels[0]  # the same in every config: not repeated
