"""Successive halving inside one stack: at each rung, the worst configs of the stack stop."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from justenough.space.config import Config

__all__ = ["MIN_FIRST_RUNG", "first_rung", "halving_rungs", "halving_callback"]

# No config is judged before this many epochs, however short its budget.
MIN_FIRST_RUNG = 8


def first_rung(max_epochs: int, eta: int = 3) -> int:
    """The first epoch at which halving compares configs: a 1/eta^2 part of the recipe's budget
    (23 of 200 epochs at eta 3, 45 of 400), and never before ``MIN_FIRST_RUNG``.

    A fixed early rung judged every recipe alike: at epoch 8 of a 200-epoch budget, small networks
    have barely started to learn and lose to big ones that learn faster at first. Tied to the
    budget, the rungs fall at the same fractions of training whatever ``max_epochs`` is, and
    with eta 3 there are two: a ninth and a third of the budget.
    """
    return max(MIN_FIRST_RUNG, math.ceil(max_epochs / eta**2))


def halving_rungs(max_epochs: int, first: int | None = None, eta: int = 3) -> tuple[int, ...]:
    """Epochs at which successive halving compares configs: first, first*eta, ... below
    max_epochs; ``first`` defaults to ``first_rung(max_epochs, eta)``."""
    rungs = []
    r = first_rung(max_epochs, eta) if first is None else first
    while r < max_epochs:
        rungs.append(r)
        r *= eta
    return tuple(rungs)


def halving_callback(
    configs: Sequence[Config], restarts: Sequence[int], eta: int, rungs: Iterable[int]
) -> tuple[Callable[..., list[int]], dict[int, int]]:
    """A trainer callback that drops the worst configs of the stack at each rung.

    Members are laid out config-major: member = c * R + r. At a rung, each surviving config's
    score is the mean over its restarts of the best validation score so far (diverged: -inf);
    the worst ``1 - 1/eta`` of the survivors are stopped. Returns (callback, pruned_at) where
    ``pruned_at[c]`` is the rung at which config c was dropped.
    """
    R = len(restarts)
    rung_set = set(rungs)
    alive = set(range(len(configs)))
    pruned_at: dict[int, int] = {}

    def callback(epoch: int, stack: Any, state: Any) -> list[int]:
        if epoch not in rung_set or len(alive) <= 1:
            return []
        scores = {}
        for c in alive:
            vals = []
            for r in range(R):
                hist = state.history[c * R + r]["val_score"]
                finite = [v for v in hist if v is not None and math.isfinite(v)]
                vals.append(max(finite) if finite else -math.inf)
            scores[c] = float(np.mean(vals)) if vals else -math.inf
        keep = max(1, int(math.ceil(len(alive) / eta)))
        ranked = sorted(alive, key=lambda c: (-scores[c], c))
        drop = ranked[keep:]
        stop: list[int] = []
        for c in drop:
            alive.discard(c)
            pruned_at[c] = epoch
            stop.extend(c * R + r for r in range(R))
        return stop

    return callback, pruned_at
