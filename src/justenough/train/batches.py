"""Minibatch orders: each member's own seeded permutation of the training rows, per epoch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["order_seed", "epoch_orders"]


def order_seed(seed: int, epoch: int) -> int:
    """The seed of a member's epoch order: a hash of (seed, epoch), apart from its init stream."""
    state = np.random.SeedSequence([int(seed), int(epoch), 0x0D3E]).generate_state(2, np.uint32)
    return int(state[0]) | (int(state[1] & 0x7FFFFFFF) << 32)


def epoch_orders(seeds: Sequence[int], n: int, epoch: int, *, device: str | torch.device = "cpu") -> torch.Tensor:
    """Each seed's permutation of ``0..n-1`` for ``epoch`` (1-based): ``[len(seeds), n]`` int64.

    Member i's order depends only on (its seed, epoch), so restarts are independent, and an
    oracle can replay exactly the batches a member saw: ``order[s : s + batch_size]``.
    """
    rows = [torch.randperm(n, generator=torch.Generator().manual_seed(order_seed(s, epoch))) for s in seeds]
    return torch.stack(rows).to(device)
