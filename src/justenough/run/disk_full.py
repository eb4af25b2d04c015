"""A disk that fills up during a search, as one answer instead of a database's traceback.

The failure surfaces in many forms: ``OSError`` ENOSPC from the weights store or a run file,
SQLite's "database or disk is full" wrapped by SQLAlchemy and then by Optuna's
``StorageInternalError``. ``disk_full_error`` recognizes all of them (it walks the exception's
causes) and says, in one line, which run directory filled, how much more the search needs, and
that the same command resumes once there is room: every finished config is in the study, whose
SQLite writes are transactions (a write that did not fit is rolled back, never half kept), and the
configs in flight are retried on resume (``StudyHandle.fail_dead_trials``).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from justenough.errors import DiskFullError, option

__all__ = ["disk_full_error", "is_disk_full", "space_needed"]

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_FULL_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")
# The least a message asks for: a few configs' records.
_MIN_NEEDED = 1_000_000
# What the files written at the end take beyond the study: report.html embeds plotly.js (about
# 4.9 MB measured on iris), the tables and the model far less.
_FINAL_FILES_BYTES = 5_000_000


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` or any exception that caused it says the disk (or the quota) is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if any(text in str(current).lower() for text in _FULL_TEXTS):
            return True
        current = current.__cause__ or current.__context__
    return False


def _used_bytes(out: Path) -> int:
    total = 0
    for path in out.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _trial_counts(db: Path) -> tuple[int, int]:
    """(finished, left) trials of the study in ``db``, read-only; (0, 0) when it cannot be read.

    Left: the trials waiting (the grid's enqueued configs) or running when the disk filled.
    """
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = dict(conn.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return 0, 0
    return int(rows.get("COMPLETE", 0)) + int(rows.get("PRUNED", 0)), int(rows.get("WAITING", 0)) + int(rows.get("RUNNING", 0))


def space_needed(out: Path) -> tuple[int, int, int]:
    """(bytes needed, finished configs, configs left): an estimate of the room the rest of the search
    takes, from what its finished configs took so far (study and weights) per config, plus the run
    files written at the end (``_FINAL_FILES_BYTES``)."""
    used = _used_bytes(out) if out.is_dir() else 0
    done, left = _trial_counts(out / "study.db")
    per_config = used / max(done, 1)
    return max(_MIN_NEEDED, int(per_config * left)) + _FINAL_FILES_BYTES, done, left


def _size(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def disk_full_error(out: Path | None) -> DiskFullError:
    """The one-line answer to a full disk under the run directory ``out`` (None: no run directory)."""
    if out is None:
        return DiskFullError(
            "the disk is full: the study storage could not be written; free space where it lives, then run the same search again"
        )
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(existing).free
    needed, done, left = space_needed(out)
    kept = f"the {done} finished config(s) are kept in its study" if done else "nothing finished is lost"
    configs_left = f" ({left} config(s) left)" if left else ""
    return DiskFullError(
        f"the disk is full: the run directory {out} has {_size(free)} free and the search needs about {_size(needed)} more"
        f"{configs_left}; free space there (or give another {option('out')}), then run the same command again to "
        f"resume: {kept}"
    )
