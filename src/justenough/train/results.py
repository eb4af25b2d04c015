"""What training reports: the callback's view of a stack (``TrainState``) and the results."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from justenough.nets.stack import MemberSpec
from justenough.train.outcome import TrainedOutcome

__all__ = ["TrainState", "TrainedOutcome", "MemberResult", "StackResult"]


@dataclass
class TrainState:
    """What the callback sees (global member indices ``0..M-1``).

    ``active[i]``: member i is still training. ``history[i]``: its ``train_loss``, ``val_loss``,
    ``val_score`` lists (one per epoch run). ``grads[l]``: ``(dW [M, in, out], db [M, out])`` of
    the last step (None before training). ``update_norms[l]``: ``||ΔW||`` per member ``[M]`` of
    the last step of the epoch. ``val_loss``/``val_score``: the latest values ``[M]``.
    """

    epoch: int
    members: tuple[MemberSpec, ...]
    active: list[bool]
    diverged: list[bool]
    stopped_by: list[str | None]
    best_epoch: list[int]
    history: list[dict[str, list[float]]]
    val_loss: list[float]
    val_score: list[float]
    grads: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    update_norms: list[torch.Tensor] | None = None

    def grad_norms(self) -> list[torch.Tensor]:
        """``||dW||`` per layer per member (``[M]`` each) of the last step; empty before training."""
        if self.grads is None:
            return []
        return [g.flatten(1).norm(dim=1) for g, _ in self.grads]


@dataclass(frozen=True, kw_only=True)
class MemberResult(TrainedOutcome):
    """One member's training (``TrainedOutcome``), with its best weights (by validation loss).

    ``final`` holds the last epoch's ``train_loss``, ``val_loss``, ``val_score``. ``state`` is
    ``member(i).state_dict()`` of the returned weights (CPU).
    """

    spec: MemberSpec
    state: dict[str, torch.Tensor]
    final: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StackResult:
    """All members' results, in the stack's order, and how the work was split."""

    members: list[MemberResult]
    wall_time: float
    epochs: int
    n_substacks: int
    device: str
    notices: list[str] = field(default_factory=list)
