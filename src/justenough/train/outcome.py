"""What training produced for one member, defined once: ``TrainedOutcome``.

Its own module, free of torch, because the search's records (``study/record.py``) are built on
it, and reading a study (``show``, ``compare``, a report) must not load torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["TrainedOutcome"]


@dataclass(frozen=True, kw_only=True)
class TrainedOutcome:
    """What training produced for one member: its scores, its stop and its curves, defined once.

    ``MemberResult`` adds the member and its weights; the search's ``RestartRecord`` adds which
    restart of which config it was (``study/record.py``). ``val_score``, ``val_loss``,
    ``train_loss`` and ``metrics`` are those of the best epoch (epoch 0 is the initial weights).
    """

    val_score: float
    val_loss: float
    train_loss: float
    best_epoch: int
    epochs_run: int
    diverged: bool
    stopped_by: str
    train_time: float  # seconds: the member's share of the wall time
    history: dict[str, list[float]]  # train_loss, val_loss, val_score: one per epoch run
    metrics: dict[str, float]  # on validation
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    def outcome_fields(self) -> dict[str, Any]:
        """These fields by name, a subclass's own left out: what a record of this training copies."""
        return {f.name: getattr(self, f.name) for f in fields(TrainedOutcome)}
