"""The run directory's one reader (``run/files.py``): the names it knows, what it requires, and
what it tolerates. The report, ``show`` and ``compare`` all read a run through it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from justenough.errors import ArtifactError
from justenough.run.files import (
    DATA,
    DIAGNOSTICS,
    HISTORY,
    LEADERBOARD,
    RESULTS,
    SUMMARY,
    load_run,
    read_data,
    read_leaderboard,
    read_results,
    read_summary,
)
from justenough.run.table_schema import LEADERBOARD_SCHEMA, RESULTS_SCHEMA, text_columns, typed
from tests.run_fixture import copy_run, run_dir  # noqa: F401 (pytest fixtures)


def as_declared(path: Path, schema: dict) -> pd.DataFrame:
    """The table as pandas reads it, its declared columns in their kinds (run/table_schema.py)."""
    return typed(pd.read_csv(path, dtype=text_columns(schema)), schema)


def test_every_table_of_a_run_is_read(run_dir: Path) -> None:
    for name in (SUMMARY, LEADERBOARD, RESULTS, HISTORY, DIAGNOSTICS, DATA):
        assert (run_dir / name).is_file(), name
    run = load_run(run_dir)
    assert run.summary == json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    # Every row and column of the file, each declared column in its kind (tests/run/test_run_directory.py checks the kinds).
    pd.testing.assert_frame_equal(run.leaderboard, as_declared(run_dir / LEADERBOARD, LEADERBOARD_SCHEMA))
    assert run.results is not None and run.history is not None and run.diagnostics is not None and run.data is not None


def test_a_missing_summary_says_the_run_is_not_finished(copy_run: Path) -> None:
    (copy_run / SUMMARY).unlink()
    with pytest.raises(ArtifactError, match="not a finished run"):
        read_summary(copy_run)


def test_a_summary_without_a_chosen_config_is_refused(copy_run: Path) -> None:
    summary = json.loads((copy_run / SUMMARY).read_text(encoding="utf-8"))
    del summary["chosen"]
    (copy_run / SUMMARY).write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(ArtifactError, match="no chosen config"):
        read_summary(copy_run)


def test_an_empty_or_foreign_leaderboard_is_refused(copy_run: Path) -> None:
    board = pd.read_csv(copy_run / LEADERBOARD)
    board.iloc[:0].to_csv(copy_run / LEADERBOARD, index=False)
    with pytest.raises(ArtifactError, match="has no configs"):
        read_leaderboard(copy_run)
    board.drop(columns=["val_mean"]).to_csv(copy_run / LEADERBOARD, index=False)
    with pytest.raises(ArtifactError, match="lacks the columns val_mean"):
        read_leaderboard(copy_run)


def test_an_unreadable_optional_table_reads_as_none(copy_run: Path) -> None:
    (copy_run / HISTORY).write_text("key,restart\n1,2\n", encoding="utf-8")  # lacks epoch and the losses
    (copy_run / DIAGNOSTICS).unlink()
    run = load_run(copy_run)
    assert run.history is None and run.diagnostics is None and run.results is not None


def test_results_and_data_are_read_here_for_compare_and_show(copy_run: Path) -> None:
    pd.testing.assert_frame_equal(read_results(copy_run), as_declared(copy_run / RESULTS, RESULTS_SCHEMA))
    assert read_data(copy_run) == json.loads((copy_run / DATA).read_text(encoding="utf-8"))
    (copy_run / DATA).unlink()
    assert read_data(copy_run) is None  # optional: show names the run alone
    pd.read_csv(copy_run / RESULTS).drop(columns=["val_score"]).to_csv(copy_run / RESULTS, index=False)
    with pytest.raises(ArtifactError, match="lacks the columns val_score"):
        read_results(copy_run)
    (copy_run / RESULTS).unlink()
    with pytest.raises(ArtifactError, match="no per-restart results"):
        read_results(copy_run)
