"""Training a stack: one gradient-descent process for all of its members at once.

Every step, each member gets its own minibatch (``[M, B, n_in]``, from its own seeded order),
the stack computes all M outputs, the per-member mean losses are *summed* (so member i's
gradient is exactly the gradient of its own loss), one hand-written backward pass (``Step``:
batched matmuls, no autograd) gives every gradient of every layer into one flat buffer, and one
vectorized optimizer step over the flat parameter buffer updates every member with its own
learning rate and weight decay (no Python loop over members, nor over layers).

Per member, once per epoch: validation loss and score, early stopping (patience, min_delta) on
the monitored one of the two (``monitor``: the loss by default, or the score),
divergence (a non-finite loss or weight freezes the member and marks it diverged), and the
best weights so far. A frozen member (stopped, pruned or diverged) gets a zero learning rate, so
its weights no longer move, while its stack-mates carry on unaffected. The loop ends when the
epoch budget is spent or every member is frozen, and each member's best weights are restored.

Big grids are split into sub-stacks that fit a memory budget and trained in lock-step; every
member's mathematics is independent of its stack-mates, so the results are the same either way.

Names are imported on first use (``lazy.py``), so that ``outcome.py``, on which the search's
restart records are built, is imported without loading torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justenough.lazy import lazy_attributes
from justenough.train.outcome import TrainedOutcome

if TYPE_CHECKING:  # the names of _LAZY, for the type checker
    from justenough.train.batches import epoch_orders
    from justenough.train.seeds import order_seed, restart_seed
    from justenough.train.stack_data import TrainData, row_evidence
    from justenough.train.loop import train
    from justenough.train.memory import available_memory, member_bytes
    from justenough.train.optimizer import StackOptimizer, lr_factor
    from justenough.train.results import MemberResult, StackResult, TrainState
    from justenough.train.settings import TrainSettings

__all__ = [
    "TrainSettings",
    "TrainState",
    "TrainedOutcome",
    "MemberResult",
    "StackResult",
    "StackOptimizer",
    "train",
    "epoch_orders",
    "order_seed",
    "restart_seed",
    "available_memory",
    "member_bytes",
    "lr_factor",
    "row_evidence",
    "TrainData",
]

# Names whose modules import torch: imported on first use.
_LAZY = {
    "TrainSettings": "justenough.train.settings",
    "TrainState": "justenough.train.results",
    "MemberResult": "justenough.train.results",
    "StackResult": "justenough.train.results",
    "StackOptimizer": "justenough.train.optimizer",
    "train": "justenough.train.loop",
    "epoch_orders": "justenough.train.batches",
    "order_seed": "justenough.train.seeds",
    "restart_seed": "justenough.train.seeds",
    "available_memory": "justenough.train.memory",
    "member_bytes": "justenough.train.memory",
    "lr_factor": "justenough.train.optimizer",
    "row_evidence": "justenough.train.stack_data",
    "TrainData": "justenough.train.stack_data",
}

__getattr__ = lazy_attributes("justenough.train", globals(), _LAZY)
