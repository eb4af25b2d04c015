"""What a search returns: the choice, its scores and the tables; the same facts are in the run directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from justenough.run.model import Model

__all__ = ["SearchResult"]


@dataclass
class SearchResult:
    """What a search returns; the same facts are in the run directory."""

    chosen: dict[str, Any]
    explanation: str
    leaderboard: pd.DataFrame
    restarts: pd.DataFrame
    history: pd.DataFrame
    diagnostics: pd.DataFrame
    test_metric: str
    test_score: float
    test_metrics: dict[str, float]
    model: Model
    # summary.json's object, ``Summary.to_dict()``: a plain dict for the API's users, who index it
    # (``result.summary["baseline"]``); ``Summary.from_json(result.summary)`` gives the typed fields.
    summary: dict[str, Any]
    out: Path | None = None
    report_path: Path | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def baseline(self) -> dict[str, Any]:
        """What no network scores on validation (``summary["baseline"]``)."""
        return dict(self.summary.get("baseline") or {})

    @property
    def paired(self) -> dict[str, Any] | None:
        """The choice against its closest rival, restart by restart (``summary["paired"]``)."""
        paired = self.summary.get("paired")
        return dict(paired) if paired else None

