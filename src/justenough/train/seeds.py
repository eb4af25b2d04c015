"""The seed derivations: every random stream of a training run, derived from one number.

Restart k of every config uses seed stream k (``restart_seed(study_seed, k)``): the same initial
weight draws and the same minibatch orders, so configs are compared pairwise (common random
numbers). The search, the refit, the estimators and the init lab all train with these seeds, which
is why they live here, below all of them. Each member's epoch order is a hash of its seed and the
epoch (``order_seed``), apart from the stream its initial weights are drawn from.
"""

from __future__ import annotations

import numpy as np

__all__ = ["restart_seed", "order_seed"]


def restart_seed(study_seed: int, restart: int) -> int:
    """The seed of restart ``restart``: a pure function of (study seed, restart index)."""
    state = np.random.SeedSequence([int(study_seed), int(restart)]).generate_state(1, dtype=np.uint32)
    return int(state[0])


def order_seed(seed: int, epoch: int) -> int:
    """The seed of a member's epoch order: a hash of (seed, epoch), apart from its init stream."""
    state = np.random.SeedSequence([int(seed), int(epoch), 0x0D3E]).generate_state(2, np.uint32)
    return int(state[0]) | (int(state[1] & 0x7FFFFFFF) << 32)
