"""Minibatch orders: each member's own seeded permutation of the training rows, per epoch."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from justenough.train.seeds import order_seed

__all__ = ["epoch_orders"]


def epoch_orders(seeds: Sequence[int], n: int, epoch: int, *, device: str | torch.device = "cpu") -> torch.Tensor:
    """Each seed's permutation of ``0..n-1`` for ``epoch`` (1-based): ``[len(seeds), n]`` int64.

    Member i's order depends only on (its seed, epoch), so restarts are independent, and an
    oracle can replay exactly the batches a member saw: ``order[s : s + batch_size]``.
    """
    rows = [torch.randperm(n, generator=torch.Generator().manual_seed(order_seed(s, epoch))) for s in seeds]
    return torch.stack(rows).to(device)
