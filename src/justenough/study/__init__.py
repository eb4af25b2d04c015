"""The study: one search, persisted and resumable, and what it holds.

- ``storage.py``: open or resume the study (an Optuna study), its fingerprint, claims, heartbeats;
- ``record.py``: ``RestartRecord``, one restart's outcome as the study keeps it, and ``RestartResult``;
- ``weights.py``: the per-restart arrays kept beside the study (``WeightsStore``, ``EvidenceStore``);
- ``tables.py``: the study read back as tables (restarts, history, diagnostics).

Names are imported on first use: the storage imports optuna.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justenough.lazy import lazy_attributes

if TYPE_CHECKING:
    from justenough.study.record import RestartRecord, RestartResult
    from justenough.study.storage import StudyHandle, open_study
    from justenough.study.weights import EvidenceStore, WeightsStore

__all__ = ["EvidenceStore", "RestartRecord", "RestartResult", "StudyHandle", "WeightsStore", "open_study"]

_MODULE_OF = {
    "RestartRecord": "justenough.study.record",
    "RestartResult": "justenough.study.record",
    "StudyHandle": "justenough.study.storage",
    "open_study": "justenough.study.storage",
    "WeightsStore": "justenough.study.weights",
    "EvidenceStore": "justenough.study.weights",
}


__getattr__ = lazy_attributes("justenough.study", globals(), _MODULE_OF)
