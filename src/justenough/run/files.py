"""The run directory: the one place that knows its file names, writes them and reads them back.

A finished search writes these files into ``runs/NAME/`` (docs/architecture.md, "Run directory");
``engine.finalize`` writes them through the writers here (``write_summary``, ``write_leaderboard``,
..., one per file, each atomic: ``run/atomic.py``), and the report, ``show`` and ``compare`` read
them here, and nothing else writes or parses them (``tests/run/test_run_directory.py``). ``summary.json`` and ``leaderboard.csv`` are required (a run
without them is not finished); the other tables are optional: a missing or unreadable one reads as None.

The files and their types (this docstring is the schema's reference):

- ``summary.json``: a ``Summary`` (run/summary.py, one typed field per key), its ``growth`` a
  ``Growth`` (run/growth.py: ``GrowthStep`` path, ``NotNeeded`` configs) or absent;
- ``leaderboard.csv``: one row per config, best first (``select.best_first``), columns and kinds
  in ``table_schema.LEADERBOARD_SCHEMA`` (key, label, widths ... as text; depth, params, flops,
  n_restarts ... as int64; val_mean, val_se ... as float64; restarts_for_95, val_rows as nullable
  Int64; chosen, pruned as bool);
- ``results.csv``: one row per restart, ``table_schema.RESULTS_SCHEMA`` (restart, seed, trial as
  int64; val_score, train_time as float64; diverged, pruned as bool; best_epoch, pruned_rung as Int64);
- ``history.csv``, ``diagnostics.csv``: read as pandas reads them (no declared kinds yet);
- ``data.json``, ``model/model.json``: JSON objects (dicts);
- ``evidence/KEY.safetensors``: ``read_evidence`` -> config key -> restart (int) -> per-row shares,
  float32 ``[N]`` (or each config's ensemble, as the choice judged it: ``Summary.judged_by``).

The tables come back with their types fixed once, here: ``_read_csv`` applies the schema
(``table_schema.typed``: text columns read as text, so a key of digits stays text, an empty text
cell reads as ``""``; the yes/no columns as booleans whatever their spelling), and the writers
refuse a table whose columns do not hold their kinds (``table_schema.check``), so what is written
reads back as the same frame. Each config's hidden-layer widths read as a tuple through
``layer_widths`` (``RunFiles.config_widths``). Rows keep the order the file has: the leaderboard
is written best first (``select.best_first``), so no reader sorts it again, and no reader
converts a column itself.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from justenough.errors import ArtifactError
from justenough.run.atomic import write_csv, write_json
from justenough.run.summary import Summary
from justenough.run.table_schema import LEADERBOARD_SCHEMA, RESULTS_SCHEMA, Kind, SchemaError, check, text_columns, typed

__all__ = [
    "read_evidence",
    "SUMMARY",
    "LEADERBOARD",
    "RESULTS",
    "HISTORY",
    "DIAGNOSTICS",
    "DATA",
    "MODEL_DIR",
    "MODEL_FILE",
    "WEIGHTS_FILE",
    "REPORT",
    "EXPORT_DIR",
    "RunFiles",
    "load_run",
    "read_summary",
    "read_leaderboard",
    "read_results",
    "read_data",
    "layer_widths",
    "write_summary",
    "write_leaderboard",
    "write_results",
    "write_history",
    "write_diagnostics",
    "write_data",
]

log = logging.getLogger("justenough")

SUMMARY = "summary.json"  # the choice, its test score and why
LEADERBOARD = "leaderboard.csv"  # one row per config, best first
RESULTS = "results.csv"  # one row per restart
HISTORY = "history.csv"  # per-epoch learning curves
DIAGNOSTICS = "diagnostics.csv"  # per-layer diagnostics records
DATA = "data.json"  # Prepared.describe()
MODEL_DIR = "model"  # the chosen model: MODEL_DIR/MODEL_FILE and MODEL_DIR/WEIGHTS_FILE
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"
REPORT = "report.html"
EXPORT_DIR = "export"  # what `justenough export` writes by default (not the search; run/stale.py)

# The columns without which a leaderboard cannot be shown (every version writes them).
_LEADERBOARD_COLUMNS = ("key", "depth", "widths", "params", "val_mean")
# The columns without which restarts cannot be paired or drawn (every version writes them).
_RESULTS_COLUMNS = ("key", "restart", "val_score")
def layer_widths(cell: Any) -> tuple[int, ...]:
    """A ``widths`` cell as the hidden layers' widths: ``"32-16"`` -> ``(32, 16)``; a one-layer
    grid's column, which pandas reads as numbers (``64``, or ``64.0`` beside a linear model) ->
    ``(64,)``; the linear model's empty cell (NaN) or ``[]`` -> ``()``. Lists, and the ``"[32, 16]"``
    or ``"32,16"`` spellings of older files, read the same."""
    if isinstance(cell, (list, tuple)):
        return tuple(int(w) for w in cell)
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ()
    text = str(cell).strip().strip("[]()")
    for sep in ("-", ",", "x", " "):
        if sep in text:
            return tuple(int(float(w)) for w in text.split(sep) if w.strip())
    return (int(float(text)),) if text else ()


@dataclass(frozen=True)
class RunFiles:
    """What the report reads from a run directory; optional tables are None when absent.

    ``summary`` is ``summary.json``'s object as written (the form ``SearchResult.summary`` has);
    ``summary_fields`` is the same as a ``Summary``.
    """

    run_dir: Path
    summary: dict[str, Any]
    leaderboard: pd.DataFrame
    results: pd.DataFrame | None
    history: pd.DataFrame | None
    diagnostics: pd.DataFrame | None
    data: dict[str, Any] | None
    model: dict[str, Any] | None

    @cached_property
    def config_widths(self) -> dict[str, tuple[int, ...]]:
        """Each config's hidden-layer widths by key (``layer_widths`` of its leaderboard cell)."""
        return {str(k): layer_widths(w) for k, w in zip(self.leaderboard["key"], self.leaderboard["widths"])}

    @cached_property
    def summary_fields(self) -> Summary:
        """``summary.json`` as a ``Summary``: its keys as typed fields (defaults for keys an older run lacks)."""
        return Summary.from_json(self.summary)


def _not_finished(path: Path) -> ArtifactError:
    return ArtifactError(
        f"{path} is missing: {path.parent} is not a finished run; run the search to the end "
        "(or point to the right run directory)"
    )


def _read_json(path: Path, *, required: bool) -> dict[str, Any] | None:
    if not path.is_file():
        if required:
            raise _not_finished(path)
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc}); re-run the search to rewrite it") from exc
    if not isinstance(value, dict):
        raise ArtifactError(f"{path} should hold a JSON object, found {type(value).__name__}; re-run the search")
    return value


def _read_csv(path: Path, *, required: bool, columns: tuple[str, ...] = (),
              schema: dict[str, Kind] | None = None) -> pd.DataFrame | None:
    """A table of the run; with ``schema``, its declared columns in their kinds (run/table_schema.py)."""
    if not path.is_file():
        if required:
            raise _not_finished(path)
        return None
    try:
        df = pd.read_csv(path, dtype=text_columns(schema or {}))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if not required:
            log.info("report: skipping unreadable %s (%s)", path, exc)
            return None
        raise ArtifactError(f"{path} cannot be read as CSV ({exc}); re-run the search to rewrite it") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        if not required:
            log.info("report: skipping %s, it lacks columns %s", path, missing)
            return None
        raise ArtifactError(f"{path} lacks the columns {', '.join(missing)}; it is from another version or damaged")
    try:
        return typed(df, schema or {})
    except SchemaError as exc:
        if not required:
            log.info("report: skipping %s (%s)", path, exc)
            return None
        raise ArtifactError(f"{path}: {exc}; it is damaged, re-run the search to rewrite it") from exc


def read_summary(run_dir: Path) -> Summary:
    """``summary.json`` (of this version or an earlier one); raises ``ArtifactError`` when it is
    missing, unreadable or names no chosen config."""
    return Summary.from_json(_summary_object(run_dir))


def _summary_object(run_dir: Path) -> dict[str, Any]:
    """``summary.json``'s object as written, once it names a chosen config (see ``read_summary``)."""
    summary = _read_json(run_dir / SUMMARY, required=True)
    assert summary is not None
    if not isinstance(summary.get("chosen"), dict) or "key" not in summary["chosen"]:
        raise ArtifactError(f"{run_dir / SUMMARY} has no chosen config (chosen.key); re-run the search")
    return summary


def read_leaderboard(run_dir: Path) -> pd.DataFrame:
    """``leaderboard.csv`` in the file's order (best first), ``chosen`` and ``pruned`` as booleans;
    raises ``ArtifactError`` when it is missing, unreadable or empty."""
    board = _read_csv(run_dir / LEADERBOARD, required=True, columns=_LEADERBOARD_COLUMNS, schema=LEADERBOARD_SCHEMA)
    assert board is not None
    if board.empty:
        raise ArtifactError(f"{run_dir / LEADERBOARD} has no configs; re-run the search")
    return board


def read_results(run_dir: Path) -> pd.DataFrame:
    """``results.csv`` (one row per restart, ``diverged`` as booleans); raises ``ArtifactError`` when it is missing,
    unreadable or lacks the restart columns (``compare`` cannot pair restarts without it)."""
    path = run_dir / RESULTS
    if not path.is_file():
        raise ArtifactError(f"{path} is missing: the run has no per-restart results; re-run the search to write it")
    results = _read_csv(path, required=True, columns=_RESULTS_COLUMNS, schema=RESULTS_SCHEMA)
    assert results is not None
    return results


def read_evidence(run_dir: Path, results: pd.DataFrame, summary: Summary | None = None) -> Any:
    """The per-row evidence the search kept (``evidence/KEY.safetensors``), as the choice read it
    (``select.RowEvidence``): config key -> restart -> that restart's per-row shares of the
    validation score, a float32 array ``[N]`` over the same N validation rows for every restart;
    or, where ``summary.judged_by`` is "ensembles", each config's ensemble
    (``select.ensemble_noise.EnsembleEvidence``). Only the restarts of ``results``
    (``read_results``' table: ``diverged`` as booleans) that did not diverge; empty for a run from
    before the evidence was kept."""
    from justenough.study.weights import EvidenceStore

    diverged = results.loc[results["diverged"], ["key", "restart"]] if "diverged" in results.columns else results.iloc[:0]
    bad = set(diverged.itertuples(index=False, name=None))  # (key, restart): typed str and int by the schema
    ensembles_of = summary.task if summary is not None and summary.judged_by == "ensembles" else None
    return EvidenceStore(run_dir).for_choice(sorted(set(results["key"])), bad, ensembles_of)


def read_data(run_dir: Path) -> dict[str, Any] | None:
    """``data.json`` (what was read and how), or None when the run has none; raises
    ``ArtifactError`` when it is unreadable or not a JSON object."""
    return _read_json(run_dir / DATA, required=False)


def load_run(run_dir: str | Path) -> RunFiles:
    """Read a run directory's files for the report; raises ``ArtifactError`` when required ones are missing."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ArtifactError(f"no run directory at {run_dir}: pass the folder a search wrote (e.g. runs/NAME)")
    summary = _summary_object(run_dir)
    board = read_leaderboard(run_dir)
    model = None
    if (run_dir / MODEL_DIR / MODEL_FILE).is_file():
        try:
            model = _read_json(run_dir / MODEL_DIR / MODEL_FILE, required=False)
        except ArtifactError as exc:
            log.info("report: ignoring model/model.json (%s)", exc)
    return RunFiles(
        run_dir=run_dir,
        summary=summary,
        leaderboard=board,
        results=_read_csv(run_dir / RESULTS, required=False, columns=_RESULTS_COLUMNS, schema=RESULTS_SCHEMA),
        history=_read_csv(run_dir / HISTORY, required=False, columns=("key", "restart", "epoch", "train_loss", "val_loss")),
        diagnostics=_read_csv(run_dir / DIAGNOSTICS, required=False, columns=("key", "restart", "epoch", "layer")),
        data=read_data(run_dir),
        model=model,
    )


# --- writing: one writer per file, each atomic -------------------------------------------------


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    """``summary.json``: ``summary`` is ``SearchResult.summary`` (``Summary.to_json()``'s object)."""
    return write_json(run_dir / SUMMARY, summary)


def write_leaderboard(run_dir: Path, leaderboard: pd.DataFrame) -> Path:
    """``leaderboard.csv``: one row per config, best first, as ``SearchResult.leaderboard``; raises
    ``ArtifactError`` (writing nothing) when a column holds a value its kind in ``LEADERBOARD_SCHEMA`` does not allow."""
    _checked(leaderboard, LEADERBOARD_SCHEMA, LEADERBOARD)
    return write_csv(run_dir / LEADERBOARD, leaderboard)


def write_results(run_dir: Path, restarts: pd.DataFrame) -> Path:
    """``results.csv``: one row per restart (``SearchResult.restarts``), checked against ``RESULTS_SCHEMA``."""
    _checked(restarts, RESULTS_SCHEMA, RESULTS)
    return write_csv(run_dir / RESULTS, restarts)


def _checked(table: pd.DataFrame, schema: dict[str, Kind], name: str) -> None:
    try:
        check(table, schema)
    except SchemaError as exc:
        raise ArtifactError(f"{name} not written: {exc} (a bug: the table does not match run/table_schema.py)") from exc


def write_history(run_dir: Path, history: pd.DataFrame) -> Path:
    """``history.csv``: the per-epoch learning curves."""
    return write_csv(run_dir / HISTORY, history)


def write_diagnostics(run_dir: Path, diagnostics: pd.DataFrame) -> Path:
    """``diagnostics.csv``: the per-layer diagnostics records."""
    return write_csv(run_dir / DIAGNOSTICS, diagnostics)


def write_data(run_dir: Path, description: dict[str, Any]) -> Path:
    """``data.json``: ``Prepared.describe()``, what was read and how (``write_json`` makes it JSON-ready)."""
    return write_json(run_dir / DATA, description)
