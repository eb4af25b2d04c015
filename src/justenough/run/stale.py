"""Files an earlier run left in a run directory that a rerun does not rewrite, set aside.

A rerun into the same run directory (another rule, a resumed search) rewrites the study's tables,
the summary and the model, but not ``export/`` (written by ``justenough export``) nor, with
``report=False``, ``report.html``. When the rerun chose another model, those files describe the
earlier one and would sit beside the new results as if they were theirs. They are moved, not
deleted (an export may be in use), into ``previous-N/`` (N = 1, 2, ...: one folder per rerun that
set files aside), and a notice says so. When the model is the same (the same weights, byte for
byte), they are still right and stay where they are.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from justenough.run.files import EXPORT_DIR, MODEL_DIR, REPORT, WEIGHTS_FILE

__all__ = ["model_digest", "set_aside_stale", "PREVIOUS_PREFIX"]

log = logging.getLogger("justenough")

PREVIOUS_PREFIX = "previous-"  # previous-1/, previous-2/, ...: what each rerun set aside


def model_digest(run_dir: Path) -> str | None:
    """The SHA-256 of the run's model weights, tensor by tensor in name order (None when it has no
    readable model). Not of the file: safetensors writes its metadata in no fixed order."""
    path = run_dir / MODEL_DIR / WEIGHTS_FILE
    if not path.is_file():
        return None
    from safetensors.numpy import load_file

    try:
        tensors = load_file(str(path))
    except Exception:  # a damaged file: any model written now differs from it
        return "unreadable"
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _next_previous(run_dir: Path) -> Path:
    n = 1
    while (run_dir / f"{PREVIOUS_PREFIX}{n}").exists():
        n += 1
    return run_dir / f"{PREVIOUS_PREFIX}{n}"


def set_aside_stale(run_dir: Path, earlier_model: str | None, *, report_rewritten: bool) -> list[str]:
    """Move what an earlier run left and this run did not rewrite into ``previous-N/``, when this
    run's model differs from ``earlier_model`` (``model_digest`` before the run wrote its model);
    returns the notice that says so (none when nothing was moved)."""
    if earlier_model is None or model_digest(run_dir) == earlier_model:
        return []
    names = [EXPORT_DIR] + ([] if report_rewritten else [REPORT])
    stale = [name for name in names if (run_dir / name).exists()]
    if not stale:
        return []
    previous = _next_previous(run_dir)
    previous.mkdir()
    for name in stale:
        os.replace(run_dir / name, previous / name)  # one file system: a rename, never a copy
    notice = (
        f"this run chose another model than the earlier run in {run_dir}: its {' and '.join(stale)}, which "
        f"describe the earlier model, were moved to {previous}"
    )
    log.info(notice)
    return [notice]
