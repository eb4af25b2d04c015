"""Memory planning: a member's working set, the free memory, and the sub-stacks that fit."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from justenough.errors import ConfigError
from justenough.nets.stack import MLPStack
from justenough.train.stack_data import EVAL_ROWS
from justenough.train.settings import TrainSettings
from justenough.vocab import Optimizer

__all__ = ["available_memory", "member_bytes", "plan_substacks"]


def available_memory(device: torch.device) -> int:
    """Free bytes: free GPU memory for CUDA, else MemAvailable from /proc/meminfo (or sysconf)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2 * 1024**3


def member_bytes(sizes: Sequence[int], batch_size: int, optimizer: str, n_eval: int, embedding_params: int = 0) -> int:
    """A member's working set in bytes (float32): weights, gradients, best copy, optimizer state,
    step temporaries, the activations of one training step and of one evaluation chunk.

    ``embedding_params``: a periodic embedding's frequencies and phases before layer 0 (``2 n_in K``;
    ``network_size.embedding_parameter_count``), 0 without one. ``sizes[0]`` is then layer 0's
    wider fan-in (its cosines are counted there as layer 0's input); the embedding adds its own
    parameters' copies and, per training row, the cosines' argument ``c x + phi`` ``[F, K]`` and that
    argument's gradient, which together are ``2 F K = embedding_params`` numbers.
    """
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])) + int(embedding_params)
    # p, grad, best, 2 temps, optimizer states, and the flat optimizer's member index and
    # per-element factors (learning rate or step size, weight decay).
    copies = 5 + (2 if optimizer in (Optimizer.ADAM, Optimizer.ADAMW) else 1) + 3
    units = sum(sizes)
    acts = batch_size * (units * 4 + int(embedding_params))  # forward outputs, activations, their gradients
    evals = min(n_eval, EVAL_ROWS) * max(sizes) * 3
    return 4 * (copies * params + acts + evals)


def plan_substacks(
    stack: MLPStack, settings: TrainSettings, n_val: int, memory_budget: int | None, callback_bytes: int = 0
) -> tuple[list[list[int]], int]:
    """Split members into sub-stacks of at most ``budget // per-member bytes`` members.

    A member that does not fit even alone is refused (``ConfigError``) before anything trains.
    """
    budget = int(memory_budget) if memory_budget is not None else int(settings.memory_fraction * available_memory(stack.device))
    if budget <= 0:
        raise ConfigError(f"memory_budget must be a positive number of bytes, got {memory_budget}")
    embedding = sum(int(p[0].numel()) for p in stack.embedding)  # one member's frequencies and phases (0 without)
    per = member_bytes(stack.sizes, settings.batch_size, settings.optimizer, n_val, embedding) + max(0, int(callback_bytes))
    if per > budget:
        raise ConfigError(
            f"one member of layer sizes {list(stack.sizes)} needs about {per / 1e6:,.0f} MB to train, more than the memory "
            f"budget of {budget / 1e6:,.0f} MB: use narrower layers, a smaller batch_size or a larger memory_budget"
        )
    size = max(1, min(stack.M, budget // max(per, 1)))
    return [list(range(s, min(s + size, stack.M))) for s in range(0, stack.M, size)], budget
