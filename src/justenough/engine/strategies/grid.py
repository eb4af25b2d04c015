"""The grid strategy's decisions: which configs to enqueue, in which order, and how many to claim.

Pure ordering logic over the space's configs; the driver (``driver.py``) runs it: it enqueues
what ``enqueue`` is given, claims ``claims_for`` trials at a time, and groups them into stacks by
its own ``stack_key`` (passed in here, since how configs share a stack is the driver's).

The order. Without a time budget the costliest stacks (most parameters) go first: longest jobs
first keeps the workers evenly busy to the end. With a time budget the simplest stacks go first,
so that a budget that runs out leaves out the biggest configs, never the simple ones the rule
would prefer (the explanation then names what was not trained: docs/selection.md, "A time
budget"). Either way the configs of one stack stay next to each other, in grid order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Hashable, Sequence

from optuna.trial import FrozenTrial, TrialState

from justenough.space.config import Config
from justenough.study.storage import DONE_STATES

if TYPE_CHECKING:
    from justenough.space.search_space import Space
    from justenough.study.storage import StudyHandle

__all__ = ["StackKey", "largest_stacks_first", "training_order", "enqueue", "params_id", "configs_by_params",
           "claims_for"]

StackKey = Callable[[Config], Hashable]  # what the configs of one stack share (``Driver._stack_key``)


def _stacks(configs: Sequence[Config], stack_key: StackKey) -> list[list[Config]]:
    """The configs grouped by stack, the groups in order of first appearance, each in grid order."""
    groups: dict[Hashable, list[Config]] = {}
    for cfg in configs:
        groups.setdefault(stack_key(cfg), []).append(cfg)
    return list(groups.values())


def largest_stacks_first(configs: Sequence[Config], stack_key: StackKey, n_in: int, n_out: int) -> list[Config]:
    """The configs in the order their stacks should train: the costliest (most parameters) first.

    Longest jobs first keeps the workers evenly busy to the end (the last stacks to start are the
    quick ones). The configs of one stack stay next to each other, in grid order.
    """
    groups = _stacks(configs, stack_key)
    ordered = sorted(groups, key=lambda g: -sum(c.params(n_in, n_out) for c in g))  # stable
    return [cfg for group in ordered for cfg in group]


def training_order(configs: Sequence[Config], stack_key: StackKey, n_in: int, n_out: int,
                   time_budget: float | None) -> list[Config]:
    """The grid's order: the costliest stacks first, but with a time budget the simplest first,
    so that a budget that runs out leaves out the biggest configs, never the simple ones the
    rule would prefer (the explanation then names what was not trained)."""
    ordered = largest_stacks_first(configs, stack_key, n_in, n_out)
    if time_budget is None:
        return ordered
    groups = _stacks(ordered, stack_key)
    cheapest = sorted(groups, key=lambda g: sum(c.params(n_in, n_out) for c in g))  # stable
    return [cfg for group in cheapest for cfg in group]


def enqueue(handle: "StudyHandle", space: "Space", configs: Sequence[Config]) -> None:
    """Enqueue, in the order given, every config that is neither done nor claimed nor waiting."""
    taken = handle.keys_in(DONE_STATES + (TrialState.RUNNING, TrialState.WAITING))
    waiting_params = [t.system_attrs.get("fixed_params") for t in handle.trials((TrialState.WAITING,))]
    for cfg in configs:
        params = space.grid_params(cfg)
        if cfg.key in taken or params in waiting_params:
            continue
        handle.study.enqueue_trial(params)
        waiting_params.append(params)


def params_id(params: dict[str, Any]) -> str:
    """A grid point's parameters as a comparable string."""
    return repr(sorted(params.items()))


def configs_by_params(space: "Space") -> dict[str, Config]:
    """The grid's configs by their enqueued parameters (``params_id``)."""
    return {params_id(space.grid_params(c)): c for c in space.configs()}


def claims_for(limit: int, waiting: Sequence[FrozenTrial], by_params: dict[str, Config], stack_key: StackKey) -> int:
    """How many trials to claim to fill ``limit`` stacks.

    The ``waiting`` trials are asked in order, so count those of the next ``limit`` stack keys
    (another driver claiming at the same time only makes some stacks smaller). ``by_params`` is
    ``configs_by_params(space)``.
    """
    keys: list[Hashable] = []
    n = 0
    for t in sorted(waiting, key=lambda t: t.number):
        cfg = by_params.get(params_id(t.system_attrs.get("fixed_params") or {}))
        key = stack_key(cfg) if cfg is not None else ("unknown", t.number)
        if key not in keys:
            if len(keys) == limit:
                break
            keys.append(key)
        n += 1
    return n
