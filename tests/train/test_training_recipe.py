"""How each config was trained, shown: the rule of the flags on restart tables, then one real
search whose every restart runs out of epochs, read back from results.csv, leaderboard.csv,
``justenough show`` (a subprocess) and the report."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from justenough.training_recipe import FEW_EPOCHS, STOPPED_AT_ONCE, UNDER_TRAINED, epochs_text, lr_text, training_columns
from justenough.select import leaderboard

EXE = Path(sys.executable).with_name("justenough")


def restarts(rows: list[tuple[str, int, int]], patience: int | None = 10, **extra: object) -> pd.DataFrame:
    """A restarts table of one config: (stopped_by, epochs_run, best_epoch) per restart."""
    return pd.DataFrame(
        [{"key": "k", "restart": i, "val_score": 0.5, "diverged": stop == "diverged", "stopped_by": stop,
          "epochs_run": run, "best_epoch": best, "patience": patience, **extra} for i, (stop, run, best) in enumerate(rows)]
    )


def test_every_restart_out_of_epochs_while_improving_is_under_trained() -> None:
    cols = training_columns(restarts([("budget", 200, 195), ("budget", 200, 200), ("budget", 200, 191)]))
    assert cols["training_flag"] == UNDER_TRAINED
    assert cols["epochs_run"] == 200 and cols["best_epoch"] == pytest.approx((195 + 200 + 191) / 3)
    assert cols["stopped_by"] == "budget 3"
    # One restart that stopped early: the config could converge, so no flag.
    assert training_columns(restarts([("budget", 200, 195), ("early", 80, 70)]))["training_flag"] == ""
    # Without early stopping, out of epochs means "still improving" only with the best in the last tenth.
    assert training_columns(restarts([("budget", 100, 95)], patience=None))["training_flag"] == UNDER_TRAINED
    assert training_columns(restarts([("budget", 100, 40)], patience=None))["training_flag"] == ""


def test_every_restart_stopped_in_the_first_epochs_is_stopped_at_once() -> None:
    few = [("early", FEW_EPOCHS + 10, FEW_EPOCHS), ("early", 11, 1)]
    cols = training_columns(restarts(few))
    assert cols["training_flag"] == STOPPED_AT_ONCE and cols["stopped_by"] == "early 2"
    assert training_columns(restarts([*few, ("early", 30, FEW_EPOCHS + 1)]))["training_flag"] == ""
    # Pruned and diverged restarts say nothing about the recipe: left out of the flag, still counted.
    cols = training_columns(restarts([*few, ("pruned", 5, 5), ("diverged", 4, 2)]))
    assert cols["training_flag"] == STOPPED_AT_ONCE and cols["stopped_by"] == "early 2, pruned 1, diverged 1"
    assert training_columns(restarts([("pruned", 5, 5)]))["training_flag"] == ""


def test_leaderboard_carries_the_training_columns_and_old_tables_still_read() -> None:
    table = pd.concat([restarts([("early", 40, 30), ("budget", 200, 199)]),
                       restarts([("budget", 200, 198)]).assign(key="other")], ignore_index=True)
    board = leaderboard(table).set_index("key")
    assert board.at["k", "epochs_run"] == 120 and board.at["k", "stopped_by"] == "early 1, budget 1"
    assert board.at["k", "training_flag"] == "" and board.at["other", "training_flag"] == UNDER_TRAINED
    old = leaderboard(table[["key", "restart", "val_score", "diverged"]])  # written before these columns
    assert "training_flag" not in old.columns and "epochs_run" not in old.columns


def test_texts() -> None:
    assert lr_text(0.01, "cosine") == "0.01 cosine" and lr_text(0.001, "constant") == "0.001" and lr_text(1e-3, None) == "0.001"
    assert epochs_text(41.6, "early 5") == "42 (early 5)" and epochs_text(math.nan, "") == "?"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real search whose restarts all stop at the budget: 2 epochs, patience 10 (and --refit)."""
    out = tmp_path_factory.mktemp("recipe") / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "220"}
    proc = subprocess.run(
        [str(EXE), "search", "iris", "--depth", "1", "--widths", "4,8", "--n-init", "2", "--lr", "0.01",
         "--schedule", "cosine", "--max-epochs", "2", "--patience", "10", "--embed", "none", "--workers", "1", "--refit", "--out", str(out), "-q"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_results_and_leaderboard_say_how_each_config_was_trained(short_run: Path) -> None:
    results = pd.read_csv(short_run / "results.csv")
    assert len(results) == 4
    assert (results["lr"] == 0.01).all() and (results["schedule"] == "cosine").all()
    assert (results["epochs_run"] == 2).all() and (results["stopped_by"] == "budget").all()
    board = pd.read_csv(short_run / "leaderboard.csv", keep_default_na=False)
    assert (board["training_flag"] == UNDER_TRAINED).all()
    assert (board["stopped_by"] == "budget 2").all() and (board["epochs_run"] == 2).all()
    summary = json.loads((short_run / "summary.json").read_text())
    assert summary["chosen"]["schedule"] == "cosine" and summary["chosen"]["lr"] == 0.01


def test_show_and_report_show_the_recipe_and_flag(short_run: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "220"}
    proc = subprocess.run([str(EXE), "show", str(short_run)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.strip("│┃ ").startswith("1x")]
    assert len(rows) == 2
    for line in rows:
        assert "0.01 cosine" in line and "2 (budget 2)" in line and UNDER_TRAINED in line, proc.stdout
    fit = json.loads((short_run / "summary.json").read_text())["model"]
    assert fit["fit_on"] == "train+validation" and fit["rows"] == 120  # iris: 60% + 20% of 150 rows
    # The default model: the ensemble of the chosen config's 2 restarts, each refit.
    assert (f"tested model: an ensemble of 2 restarts (the mean of their predictions; {fit['params']:,} parameters in "
            f"all), each refit on train+validation (120 rows) for {fit['epochs']} epochs") in " ".join(proc.stdout.split())
    html = (short_run / "report.html").read_text(encoding="utf-8")
    assert "tested model" in html and "each refit on train+validation (120 rows)" in html
    assert html.count(f'<span class="flag">{UNDER_TRAINED}</span>') == 2
    assert "<th>stopped by</th>" in html and "<td>budget 2</td>" in html and "0.01 cosine" in html
