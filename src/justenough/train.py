"""Training a stack: one gradient-descent process for all of its members at once.

Every step, each member gets its own minibatch (``[M, B, n_in]``, from its own seeded order),
the stack computes all M outputs, the per-member mean losses are *summed* (so member i's
gradient is exactly the gradient of its own loss), one hand-written backward pass (``_Step``:
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
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from justenough.allocator import keep_freed_memory
from justenough.errors import ConfigError, DataError
from justenough.metrics import score, stack_loss
from justenough.stack import MemberSpec, MLPStack

__all__ = [
    "TrainSettings",
    "TrainState",
    "MemberResult",
    "StackResult",
    "StackOptimizer",
    "train",
    "epoch_orders",
    "order_seed",
    "available_memory",
    "member_bytes",
    "lr_factor",
]

log = logging.getLogger("justenough")

OPTIMIZERS = ("sgd", "adam", "adamw")
MONITORS = ("val_loss", "val_score")  # what early stopping and the best weights follow
SCHEDULES = ("constant", "cosine")  # how each member's learning rate moves over the epochs
PRECISIONS = ("float32", "bfloat16")  # the training step's matmuls (see TrainSettings)
# bfloat16 matmuls pay for layers at least this big (fan_in x fan_out); smaller ones are bound by
# per-op overhead, which the casts add to (measured: break-even near 64 x 64 on a 2-core CPU).
_LOW_PRECISION_MIN = 64 * 64
_GATHER_MAX = 1 << 16  # flat buffers up to this size expand Adam's step sizes by a gather
_FUSED_ADAM = True  # use torch's fused Adam kernel where there is one (tests turn it off)
_EVAL_ROWS = 8192  # validation rows per forward pass (bounds the activation memory)


@dataclass(frozen=True)
class TrainSettings:
    """Training settings shared by every member of a stack.

    ``monitor`` is what early stopping and the best weights follow: ``"val_loss"`` (lower is
    better) or ``"val_score"`` (accuracy or R², higher is better; a plateau of the score ends
    training sooner than the slow creep of the loss, as scikit-learn's early stopping does).
    A member improves when the monitored value beats its best by more than ``min_delta``.
    ``patience=None`` turns early stopping off (the best weights by the monitored value are still
    kept). ``precision="bfloat16"`` runs the training step's matrix products in bfloat16 (mixed
    precision: weights, gradients, optimizer and everything else stay float32, and the products
    accumulate in float32) for layers of at least 64 x 64 weights; on CPUs with AVX-512 BF16
    (and on GPUs) those products are 2-4x faster. The numbers then differ from float32 training
    by bfloat16's rounding (about 3 significant digits), so the stack-equals-loop invariant is a
    float32 one. ``callback_every=k`` calls the callback after every k-th epoch (0: only at epoch 0,
    before training). ``restore_best=False`` leaves the last weights in the stack and results.
    ``memory_fraction`` of the free RAM (or free GPU memory) is the default memory budget.
    ``schedule="cosine"`` decays every member's learning rate from its own ``lr`` to 0 over
    ``max_epochs`` (epoch e trains at ``lr * (1 + cos(pi * (e - 1) / max_epochs)) / 2``), as
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=max_epochs)`` stepped once per epoch
    does; ``"constant"`` keeps ``lr``.
    """

    optimizer: str = "adam"
    momentum: float = 0.9
    nesterov: bool = False
    batch_size: int = 64
    max_epochs: int = 100
    patience: int | None = 10
    min_delta: float = 0.0
    monitor: str = "val_loss"
    precision: str = "float32"
    shared_order: bool = False
    callback_every: int = 0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    order_seed: int = 0
    restore_best: bool = True
    memory_fraction: float = 0.25
    schedule: str = "constant"

    def __post_init__(self) -> None:
        opt = str(self.optimizer).lower()
        if opt not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
        object.__setattr__(self, "optimizer", opt)
        if not 0.0 <= float(self.momentum) < 1.0:
            raise ConfigError(f"momentum must lie in [0, 1), got {self.momentum}")
        if self.nesterov and (opt != "sgd" or self.momentum <= 0):
            raise ConfigError("nesterov=True needs optimizer='sgd' and momentum > 0")
        for name in ("batch_size", "max_epochs"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"TrainSettings.{name} must be a positive integer, got {v!r}")
        if self.patience is not None and (isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1):
            raise ConfigError(f"patience must be a positive integer or None (no early stopping), got {self.patience!r}")
        if not float(self.min_delta) >= 0:
            raise ConfigError(f"min_delta must be >= 0, got {self.min_delta}")
        if self.monitor not in MONITORS:
            raise ConfigError(f"unknown monitor {self.monitor!r}: use one of {', '.join(MONITORS)}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}: use one of {', '.join(SCHEDULES)}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {self.precision!r}: use one of {', '.join(PRECISIONS)}")
        if isinstance(self.callback_every, bool) or not isinstance(self.callback_every, int) or self.callback_every < 0:
            raise ConfigError(f"callback_every must be an integer >= 0, got {self.callback_every!r}")
        b1, b2 = (float(b) for b in self.betas)
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ConfigError(f"betas must lie in [0, 1), got {self.betas}")
        object.__setattr__(self, "betas", (b1, b2))
        if not float(self.eps) > 0:
            raise ConfigError(f"eps must be positive, got {self.eps}")
        if not 0 < float(self.memory_fraction) <= 1:
            raise ConfigError(f"memory_fraction must lie in (0, 1], got {self.memory_fraction}")


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


@dataclass(frozen=True)
class MemberResult:
    """One member's training, with its best weights (by validation loss).

    ``val_score``, ``val_loss``, ``train_loss`` and ``metrics`` are those of the best epoch
    (epoch 0 is the initial weights); ``final`` holds the last epoch's ``train_loss``,
    ``val_loss``, ``val_score``. ``state`` is ``member(i).state_dict()`` of the returned
    weights (CPU). ``train_time`` is the member's share of the wall time.
    """

    spec: MemberSpec
    val_score: float
    val_loss: float
    train_loss: float
    best_epoch: int
    epochs_run: int
    diverged: bool
    stopped_by: str
    train_time: float
    history: dict[str, list[float]]
    metrics: dict[str, float]
    state: dict[str, torch.Tensor]
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
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


# --- minibatch orders -----------------------------------------------------------------------


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


# --- memory ---------------------------------------------------------------------------------


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


def member_bytes(sizes: Sequence[int], batch_size: int, optimizer: str, n_eval: int) -> int:
    """A member's working set in bytes (float32): weights, gradients, best copy, optimizer state,
    step temporaries, the activations of one training step and of one evaluation chunk."""
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    # p, grad, best, 2 temps, optimizer states, and the flat optimizer's member index and
    # per-element factors (learning rate or step size, weight decay).
    copies = 5 + (2 if optimizer in ("adam", "adamw") else 1) + 3
    units = sum(sizes)
    acts = batch_size * units * 4  # forward outputs, activations, their gradients
    evals = min(n_eval, _EVAL_ROWS) * max(sizes) * 3
    return 4 * (copies * params + acts + evals)


# --- the optimizer --------------------------------------------------------------------------


class StackOptimizer:
    """SGD (momentum, Nesterov), Adam and AdamW over stacked parameters, per-member lr and wd.

    The formulas and their order of operations follow ``torch.optim`` (single-tensor path), so a
    member's trajectory equals torch's for that member alone. ``active`` ``[M]`` bool: a frozen
    member gets learning rate 0 and does not move.

    ``flat`` (optional, 1-D): a buffer whose consecutive slices *are* ``params`` (each
    ``[M, ...]``, contiguous, in order), as ``_flatten_parameters`` makes. Then every update is a
    handful of elementwise ops on the whole buffer (no Python loop over layers), the per-member
    factors are expanded to one value per element (``[P]``, via a member index), and ``step``
    takes the gradients as one buffer laid out the same way. The arithmetic of every element is
    the same as without ``flat``.
    """

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        lr: torch.Tensor,
        weight_decay: torch.Tensor,
        settings: TrainSettings,
        *,
        flat: torch.Tensor | None = None,
    ) -> None:
        self.params = list(params)
        self.settings = settings
        self.kind = settings.optimizer
        self._lr64 = lr.to(torch.float64)  # [M]; torch keeps lr as a Python float (float64)
        self._base_lr64 = self._lr64  # [M]: the members' own lr, which a schedule scales
        self._lr_factor = 1.0
        self._wd64 = weight_decay.to(torch.float64)  # [M]
        self._flat = flat
        self._num: torch.Tensor | None = None  # [P]: Adam's numerator, reused (big flat buffers)
        self._num_views: list[torch.Tensor] = []
        self._m_views: list[torch.Tensor] = []
        self._member: torch.Tensor | None = None
        if flat is not None:
            self._member = _member_index(self.params, flat)  # [P] int32: each element's member
            self._tensors = [flat]
        else:
            self._tensors = self.params
        self._has_wd = bool((weight_decay > 0).any())
        # Only the per-member factors this optimizer uses (each is [P] with flat=).
        self._wd = self._expand(weight_decay) if self._has_wd and self.kind != "adamw" else []
        self.step_count = 0
        # The fused path: the step count as its kernel reads it, and (groups, gradient buffer,
        # per-group lists of views) built once for the groups and gradient buffer they serve.
        self._fused_step = torch.zeros((), dtype=torch.float32, device=self._tensors[0].device)
        self._fused_plan: tuple[Any, torch.Tensor, list[tuple[Any, ...]]] | None = None
        self.state: list[list[torch.Tensor | None]] = [[None, None] for _ in self._tensors]
        self.set_active(torch.ones(lr.shape[0], dtype=torch.bool, device=lr.device))

    @staticmethod
    def _shaped(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return v.reshape(-1, *([1] * (p.ndim - 1)))  # [M, 1, 1] for weights, [M, 1] for biases

    def _expand(self, v: torch.Tensor) -> list[torch.Tensor]:
        """A per-member vector ``[M]`` shaped to each update tensor: ``[P]`` (flat) or ``[M, 1, ...]``."""
        if self._member is not None:
            return [v.index_select(0, self._member)]  # [P]
        return [self._shaped(v, p) for p in self._tensors]

    def set_lr_factor(self, factor: float) -> None:
        """Train every member at ``factor`` times its own lr from now on (a schedule's epoch)."""
        if factor == self._lr_factor:
            return
        self._lr_factor = float(factor)
        # float64 as torch's schedulers keep a group's lr (a Python float).
        self._lr64 = self._base_lr64 * self._lr_factor
        self.set_active(self._active)

    def set_active(self, active: torch.Tensor) -> None:
        """Freeze the members whose ``active`` entry is False (zero learning rate)."""
        self._active = active
        self._fused = self._fused_groups(active)
        self._lr_eff64 = torch.where(active, self._lr64, torch.zeros_like(self._lr64))  # [M]
        lr32 = self._lr_eff64.to(torch.float32)
        self._neg_lr = self._expand(-lr32) if self.kind == "sgd" else []
        # AdamW's decoupled decay factor 1 - lr * wd, computed in float64 as torch does.
        decay = (1.0 - self._lr_eff64 * self._wd64).to(torch.float32)
        self._decay = self._expand(decay) if self.kind == "adamw" and self._has_wd else []

    @torch.no_grad()
    def take_state(self, previous: "StackOptimizer", keep: Sequence[int]) -> None:
        """Continue ``previous``'s run for its members ``keep`` (this optimizer's members, in order).

        The step count and each kept member's moments are copied, so the kept members' updates
        go on exactly as if ``previous`` had carried on with them.
        """
        if (self._flat is None) != (previous._flat is None):
            raise ConfigError("take_state needs two optimizers of the same layout (both flat or both per tensor)")
        self.step_count = previous.step_count
        self.set_lr_factor(previous._lr_factor)
        self._fused_plan = None  # the fused path's views of the (new) state, rebuilt on the next step
        idx = torch.tensor(list(keep), dtype=torch.long, device=self.params[0].device)
        for k, old in enumerate(previous.state):
            for s, t in enumerate(old):
                if t is None:
                    continue
                if self._flat is not None:  # [P_old] -> per parameter [M_old, ...] -> kept rows -> [P_new]
                    rows = [v.index_select(0, idx).reshape(-1) for v in _slices(t, previous.params)]
                    self.state[0][s] = torch.cat(rows)
                else:
                    self.state[k][s] = t.index_select(0, idx)

    @torch.no_grad()
    def reset_members(self, members: torch.Tensor) -> None:
        """Zero the optimizer state of the members where ``members`` [M] is True (after divergence)."""
        masks = self._expand(members)
        for st, mask in zip(self.state, masks):
            for t in st:
                if t is not None:
                    t.masked_fill_(mask, 0.0)

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor] | torch.Tensor) -> None:
        """One update. ``grads``: one gradient per parameter, or (with ``flat``) one flat buffer ``[P]``."""
        self.step_count += 1
        if self._flat is not None:
            if isinstance(grads, torch.Tensor):
                gs = [grads]
            else:
                gs = [torch.cat([g.reshape(-1) for g in grads])]  # [P], the flat layout
        else:
            gs = list(grads)
        if self.kind == "sgd":
            self._sgd(gs)
        else:
            self._adam(gs)

    def _sgd(self, grads: Sequence[torch.Tensor]) -> None:
        mom, nesterov = self.settings.momentum, self.settings.nesterov
        for k, (p, g) in enumerate(zip(self._tensors, grads)):
            d_p = g.addcmul(self._wd[k], p) if self._has_wd else g  # grad + wd * p
            if mom != 0:
                buf = self.state[k][0]
                if buf is None:
                    buf = d_p.clone()
                    self.state[k][0] = buf
                else:
                    buf.mul_(mom).add_(d_p)  # dampening 0
                d_p = d_p.add(buf, alpha=mom) if nesterov else buf
            p.addcmul_(self._neg_lr[k], d_p)  # p - lr * d_p

    def _fused_groups(self, active: torch.Tensor) -> list[tuple[float, float, list[int]]] | None:
        """The active members grouped by (lr, weight decay), for torch's fused Adam kernel.

        ``torch._fused_adam_`` (and ``_fused_adamw_``) does a whole update in one pass over
        memory, where the op-by-op update makes ten; it takes one learning rate and one weight
        decay per call, hence one call per group (usually one: the restarts of one config share
        them). Its arithmetic is torch.optim's ``fused=True``. None: no fused kernel here (SGD,
        or a device without one), so the op-by-op update runs.
        """
        if not _FUSED_ADAM or self.kind not in ("adam", "adamw") or self._tensors[0].device.type not in ("cpu", "cuda"):
            return None
        if getattr(torch, "_fused_adamw_" if self.kind == "adamw" else "_fused_adam_", None) is None:
            return None
        groups: dict[tuple[float, float], list[int]] = {}
        for i, (on, lr, wd) in enumerate(zip(active.tolist(), self._lr64.tolist(), self._wd64.tolist())):
            if on:
                groups.setdefault((lr, wd), []).append(i)
        return [(lr, wd, members) for (lr, wd), members in groups.items()]

    def _adam(self, grads: Sequence[torch.Tensor]) -> None:
        if self._fused is not None:
            self._adam_fused(grads, self._fused)
            return
        b1, b2 = self.settings.betas
        eps = self.settings.eps
        step = self.step_count
        bc1 = 1 - b1**step
        bc2_sqrt = math.sqrt(1 - b2**step)
        # step_size = lr / bias_correction1 in float64, then float32 (as torch's scalar argument).
        step32 = (self._lr_eff64 / bc1).to(torch.float32)  # [M]
        decoupled = self.kind == "adamw"
        for k, (p, g) in enumerate(zip(self._tensors, grads)):
            if decoupled:
                if self._has_wd:
                    p.mul_(self._decay[k])  # p *= 1 - lr * wd
            elif self._has_wd:
                g = g.addcmul(self._wd[k], p)  # L2: grad + wd * p
            st = self.state[k]
            if st[0] is None:
                st[0] = torch.zeros_like(p)
                st[1] = torch.zeros_like(p)
            m, v = st[0], st[1]
            assert m is not None and v is not None
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = v.sqrt().div_(bc2_sqrt).add_(eps)
            if self._flat is None:
                num = self._shaped(step32, p).mul(m)
            elif p.numel() <= _GATHER_MAX:
                num = self._expand(step32)[0].mul_(m)  # the step sizes per element [P], times m
            else:
                # Big buffers: (lr / bc1) * m layer by layer into one buffer; a broadcast
                # [M, 1, ...] multiply costs far less than gathering [P] step sizes every step.
                if self._num is None:
                    self._num = torch.empty_like(p)
                    self._num_views = _slices(self._num, self.params)
                    self._m_views = _slices(m, self.params)
                num = self._num
                for q, mk, nk in zip(self.params, self._m_views, self._num_views):
                    torch.mul(self._shaped(step32, q), mk, out=nk)
            p.sub_(num.div_(denom))  # p -= (lr / bc1) * m / denom


    def _adam_fused(self, grads: Sequence[torch.Tensor], groups: list[tuple[float, float, list[int]]]) -> None:
        """One Adam/AdamW step of the active members by torch's fused kernel (``_fused_groups``).

        The kernel gets one tensor per (parameter, member): it vectorizes each tensor and
        finishes its tail element by element, with slightly different rounding, so a member's
        numbers would otherwise depend on where its slice falls in the buffer, that is on its
        stack-mates. Per member, they do not.
        """
        for st, p in zip(self.state, self._tensors):
            if st[0] is None:
                st[0] = torch.zeros_like(p)
                st[1] = torch.zeros_like(p)
        plan = self._fused_plan
        if plan is None or plan[0] is not groups or plan[1] is not grads[0]:
            # Per group: its members' (param, grad, m, v) views, one list each.
            moments = [[t for t in st if t is not None] for st in self.state]  # [m, v] per update tensor
            params, gs, ms, vs = (
                self._per_member(t) for t in (self._tensors, grads, [mv[0] for mv in moments], [mv[1] for mv in moments])
            )
            pick = lambda views, members: [v[i] for v in views for i in members]  # noqa: E731
            per_group = [(lr, wd, pick(params, m), pick(gs, m), pick(ms, m), pick(vs, m)) for lr, wd, m in groups]
            plan = self._fused_plan = (groups, grads[0], per_group)
        self._fused_step.fill_(float(self.step_count))
        b1, b2 = self.settings.betas
        fn = torch._fused_adamw_ if self.kind == "adamw" else torch._fused_adam_
        for lr, wd, ps, gs, ms, vs in plan[2]:
            fn(
                ps,
                gs,
                ms,
                vs,
                [],
                [self._fused_step] * len(ps),
                lr=lr,
                beta1=b1,
                beta2=b2,
                weight_decay=wd,
                eps=self.settings.eps,
                amsgrad=False,
                maximize=False,
            )

    def _per_member(self, tensors: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        """Update tensors (the flat buffer, or one per parameter) as views ``[parameter][member]``."""
        shaped = _slices(tensors[0], self.params) if self._flat is not None else list(tensors)
        return [list(p.unbind(0)) for p in shaped]


def _slices(buf: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """``buf`` ``[P]`` (the flat layout of ``params``) as one view per parameter, shaped like it."""
    out, off = [], 0
    for q in params:
        out.append(buf[off : off + q.numel()].view(q.shape))
        off += q.numel()
    return out


def _member_index(params: Sequence[torch.Tensor], flat: torch.Tensor) -> torch.Tensor:
    """``[P]`` int32: the member of each element of ``flat``, whose slices are ``params`` ``[M, ...]``."""
    if flat.ndim != 1:
        raise ConfigError(f"StackOptimizer flat= must be a 1-D buffer, got shape {list(flat.shape)}")
    parts, off = [], 0
    for p in params:
        n = p.numel()
        ok = p.is_contiguous() and p.device == flat.device and p.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()
        if not ok or p.storage_offset() != flat.storage_offset() + off:
            raise ConfigError("StackOptimizer flat= must hold the parameters as consecutive contiguous slices, in order: use _flatten_parameters")
        M = p.shape[0]
        parts.append(torch.arange(M, dtype=torch.int32, device=flat.device).repeat_interleave(n // M))
        off += n
    if off != flat.numel():
        raise ConfigError(f"StackOptimizer flat= holds {flat.numel()} elements but the parameters {off}")
    return torch.cat(parts)


@torch.no_grad()
def _flatten_parameters(params: Sequence[torch.Tensor]) -> torch.Tensor:
    """Move ``params`` (each ``[M, ...]``) into one new 1-D buffer and return it.

    Each parameter keeps its identity, shape and values; its ``.data`` becomes a contiguous
    slice of the buffer, in order, so one elementwise op on the buffer touches every layer.
    """
    params = list(params)
    flat = torch.empty(sum(p.numel() for p in params), dtype=params[0].dtype, device=params[0].device)
    off = 0
    for p in params:
        n = p.numel()
        view = flat[off : off + n].view(p.shape)
        view.copy_(p)
        p.data = view
        off += n
    return flat


# --- data -----------------------------------------------------------------------------------


@dataclass
class _Data:
    task: str
    X_train: torch.Tensor  # [N, F]
    y_train: torch.Tensor  # [N] int64 or [N, C] float32
    X_val: torch.Tensor
    y_val: torch.Tensor


def _check_data(data: Any, stack: MLPStack) -> _Data:
    missing = [a for a in ("X_train", "y_train", "X_val", "y_val", "task", "n_outputs") if not hasattr(data, a)]
    if missing:
        raise DataError(f"train() needs data with X_train, y_train, X_val, y_val, task, n_outputs; missing {', '.join(missing)}")
    task = str(data.task)
    if task not in ("classification", "regression"):
        raise DataError(f"data.task must be 'classification' or 'regression', got {task!r}")
    if int(data.n_outputs) != stack.n_out:
        raise DataError(f"data.n_outputs is {data.n_outputs} but the stack has {stack.n_out} outputs: build the stack with n_out={data.n_outputs}")
    dev = stack.device
    out = {}
    for split in ("train", "val"):
        X = torch.as_tensor(getattr(data, f"X_{split}")).to(dev, torch.float32)
        y = torch.as_tensor(getattr(data, f"y_{split}")).to(dev)
        if X.ndim != 2 or X.shape[1] != stack.n_in:
            raise DataError(f"X_{split} must be [N, {stack.n_in}] (the stack's n_in), got {list(X.shape)}")
        if X.shape[0] < 1 or y.shape[0] != X.shape[0]:
            raise DataError(f"X_{split} and y_{split} must hold the same number (>= 1) of rows, got {X.shape[0]} and {y.shape[0]}")
        if not bool(torch.isfinite(X).all()):
            raise DataError(f"X_{split} holds NaN or infinite values: impute or drop them before training")
        if task == "classification":
            if y.ndim != 1 or y.dtype.is_floating_point:
                raise DataError(f"y_{split} must be int64 class indices [N] for classification, got {y.dtype} {list(y.shape)}")
            y = y.long()
            if int(y.min()) < 0 or int(y.max()) >= stack.n_out:
                raise DataError(f"y_{split} class indices must lie in 0..{stack.n_out - 1}, got {int(y.min())}..{int(y.max())}")
        else:
            y = y.to(torch.float32)
            if y.ndim == 1:
                y = y.unsqueeze(1)  # [N, 1]
            if y.ndim != 2 or y.shape[1] != stack.n_out:
                raise DataError(f"y_{split} must be [N] or [N, {stack.n_out}] for regression, got {list(y.shape)}")
            if not bool(torch.isfinite(y).all()):
                raise DataError(f"y_{split} holds NaN or infinite values: drop those rows before training")
        out[f"X_{split}"], out[f"y_{split}"] = X, y
    return _Data(task=task, **out)


@torch.no_grad()
def _evaluate(stack: MLPStack, X: torch.Tensor, y: torch.Tensor, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss ``[M]`` and score ``[M]`` (accuracy or R^2) over all rows, in row chunks."""
    N = X.shape[0]
    loss_sum = torch.zeros(stack.M, dtype=torch.float64, device=X.device)
    hit = torch.zeros(stack.M, dtype=torch.float64, device=X.device)
    sse = torch.zeros(stack.M, stack.n_out, dtype=torch.float64, device=X.device)
    for s in range(0, N, _EVAL_ROWS):
        xb, yb = X[s : s + _EVAL_ROWS], y[s : s + _EVAL_ROWS]
        out = stack(xb)  # [M, b, C]
        loss_sum += stack_loss(task, out, yb).to(torch.float64) * xb.shape[0]
        if task == "classification":
            hit += (out.argmax(-1) == yb).sum(1).to(torch.float64)
        else:
            sse += ((out.to(torch.float64) - yb.to(torch.float64)) ** 2).sum(1)  # [M, C]
    loss = loss_sum / N
    if task == "classification":
        return loss, hit / N
    y64 = y.to(torch.float64)
    sst = ((y64 - y64.mean(0)) ** 2).sum(0)  # [C]
    safe = torch.where(sst > 0, sst, torch.ones_like(sst))
    r2 = torch.where(sst > 0, 1.0 - sse / safe, (sse == 0).to(torch.float64))  # [M, C]
    return loss, r2.mean(1)


@torch.no_grad()
def _outputs(stack: MLPStack, X: torch.Tensor) -> torch.Tensor:
    """Outputs ``[M, N, C]`` over all rows, in row chunks."""
    return torch.cat([stack(X[s : s + _EVAL_ROWS]) for s in range(0, X.shape[0], _EVAL_ROWS)], dim=1)


# --- the training step: forward and hand-written backward -----------------------------------

# d act / d z times the incoming gradient, per activation: the same ATen kernels autograd calls,
# so the gradients equal autograd's. Arguments: (grad, z, act(z)).
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_ACT_BACKWARD: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "relu": lambda g, z, a: torch.ops.aten.threshold_backward(g, a, 0),
    "tanh": lambda g, z, a: torch.ops.aten.tanh_backward(g, a),
    "sigmoid": lambda g, z, a: torch.ops.aten.sigmoid_backward(g, a),
    "gelu": lambda g, z, a: torch.ops.aten.gelu_backward(g, z, approximate="none"),
    "leaky_relu": lambda g, z, a: torch.ops.aten.leaky_relu_backward(g, z, 0.01, False),
    "selu": lambda g, z, a: torch.ops.aten.elu_backward(g, _SELU_ALPHA, _SELU_SCALE, 1.0, False, z),
    "identity": lambda g, z, a: g,
}


class _Step:
    """Loss and gradients of one training step, without autograd.

    The forward pass is the stack's (``baddbmm``, activation, unit mask per layer); the backward
    pass is written out: ``dW = h^T dz`` and ``db = sum_B dz`` per layer, written straight into
    the flat gradient buffer, ``dh = dz W^T``, then the activation's derivative. The losses and
    their derivatives are the per-member means of cross-entropy (``(softmax - onehot) / B``) or
    squared error (``2 (out - y) / (B C)``). Every op is batched over members, so member i's
    numbers never depend on its stack-mates.
    """

    def __init__(self, stack: MLPStack, task: str, grad_views: Sequence[torch.Tensor], precision: str = "float32") -> None:
        L = stack.depth + 1
        self.task = task
        # Layers whose matmuls run in bfloat16 (mixed precision), by size; see TrainSettings.
        sizes = stack.sizes
        self.low = [precision == "bfloat16" and sizes[l] * sizes[l + 1] >= _LOW_PRECISION_MIN for l in range(L)]
        self.W = list(stack.weights)  # [M, in, out] each (avoids ParameterList lookups per step)
        self.b = [bias.unsqueeze(1) for bias in stack.biases]  # [M, 1, out] each (views)
        self.masks = [stack.unit_mask(l).unsqueeze(1) for l in range(stack.depth)] if stack.padded else None  # [M, 1, w]
        self.act = stack.activate
        self.act_backward = _ACT_BACKWARD[stack.activation]
        self.gW, self.gb = list(grad_views[:L]), list(grad_views[L:])
        self._neg_inv: dict[int, torch.Tensor] = {}
        self.softmax_transposed = stack.device.type == "cpu" and stack.n_out < 16

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """``xb`` ``[M, B, F]``, ``yb`` ``[M, B]`` or ``[M, B, C]``: losses ``[M]``; fills the gradients.

        Call it under ``torch.no_grad()`` (the training loop does, once per epoch rather than per step).
        """
        W, b, masks, low = self.W, self.b, self.masks, self.low
        depth = len(W) - 1
        # bfloat16 copies of the weights and layer inputs of the low-precision layers (this step's).
        W16 = [w.to(torch.bfloat16) if lo else None for w, lo in zip(W, low)]
        ins: list[torch.Tensor] = []  # each layer's input (bfloat16 for low-precision layers)
        zs: list[torch.Tensor] = []
        acts: list[torch.Tensor] = []
        h = xb
        for l in range(depth + 1):
            if low[l]:
                h = h.to(torch.bfloat16)
                z = torch.bmm(h, W16[l]).float().add_(b[l])  # type: ignore[arg-type]  # [M, B, width_l], float32
            else:
                z = torch.baddbmm(b[l], h, W[l])  # [M, B, width_l]
            ins.append(h)
            if l == depth:
                break
            a = self.act(z)
            h = a * masks[l] if masks is not None else a  # padded units exactly 0
            zs.append(z)
            acts.append(a)
        out = z  # [M, B, C]
        M, B, C = out.shape
        if self.task == "classification":
            if self.softmax_transposed:
                # The same numbers over a [M, C, B] view: on the CPU, torch's log_softmax over a
                # last dimension shorter than 16 is up to 10x slower than over a strided one.
                logp = torch.log_softmax(out.transpose(1, 2), dim=1).transpose(1, 2)  # [M, B, C]
            else:
                logp = torch.log_softmax(out, dim=2)  # [M, B, C]
            t = yb.unsqueeze(2)  # [M, B, 1]
            losses = logp.gather(2, t).squeeze(2).mean(1).neg_()  # [M]: mean of -log p(target)
            g = logp.exp_().mul_(1.0 / B)  # softmax / B
            neg = self._neg_inv.get(B)
            if neg is None:
                neg = self._neg_inv[B] = torch.full((1, 1, 1), -1.0 / B, dtype=out.dtype, device=out.device).expand(M, B, 1)
            g.scatter_add_(2, t, neg)  # (softmax - onehot) / B
        else:
            diff = out - yb  # [M, B, C]
            losses = diff.square().mean((1, 2))  # [M]
            g = diff.mul_(2.0 / (B * C))
        for l in range(depth, -1, -1):
            if low[l]:
                g16 = g.to(torch.bfloat16)
                self.gW[l].copy_(torch.bmm(ins[l].transpose(1, 2), g16))  # dW = h^T dz  [M, in, out]
            else:
                torch.bmm(ins[l].transpose(1, 2), g, out=self.gW[l])  # dW = h^T dz  [M, in, out]
            torch.sum(g, 1, out=self.gb[l])  # db  [M, out]
            if l == 0:
                break
            if low[l]:
                dh = torch.bmm(g16, W16[l].transpose(1, 2)).float()  # type: ignore[union-attr]  # [M, B, in]
            else:
                dh = torch.bmm(g, W[l].transpose(1, 2))  # [M, B, in]
            if masks is not None:
                dh.mul_(masks[l - 1])
            g = self.act_backward(dh, zs[l - 1], acts[l - 1])  # dz  [M, B, width]
        return losses


# --- one sub-stack --------------------------------------------------------------------------


class _Run:
    """The training of one (sub-)stack: members ``indices`` of the caller's stack.

    Members are numbered ``j = 0..m-1`` within the run's ``stack``. Only the members still
    training take part in the computation: they form the working stack ``work`` (members
    ``live``, in order), its own flat parameter buffer, gradients and optimizer. When members
    stop (early, pruned or diverged) the working stack is compacted: their last weights are
    written back to ``stack`` and a smaller working stack carries on, with the optimizer state of
    the remaining members, so the epochs of the slowest restart no longer pay for the finished
    ones. Every member's arithmetic is its own (batched matmuls), so compaction leaves the
    numbers unchanged.
    """

    def __init__(self, stack: MLPStack, indices: list[int], data: _Data, settings: TrainSettings) -> None:
        self.stack, self.indices, self.data, self.settings = stack, indices, data, settings
        self.m = stack.M
        self.params: list[torch.Tensor] = [*stack.weights, *stack.biases]
        # One flat buffer [P] behind all parameters, and one behind their gradients, laid out
        # alike: the optimizer then updates every layer with a few whole-buffer ops per step.
        self.flat = _flatten_parameters(self.params)
        self.live: list[int] = list(range(self.m))  # the members in the working stack, in order
        self._use_work(stack, self.flat)
        self.active_list = [True] * self.m
        self.diverged = [False] * self.m
        self.stopped_by: list[str | None] = [None] * self.m
        self.history: list[dict[str, list[float]]] = [{"train_loss": [], "val_loss": [], "val_score": []} for _ in range(self.m)]
        self.best = [p.detach().clone() for p in self.params]  # [m, ...] each
        # The monitored value, as "lower is better": the loss, or minus the score.
        self.best_monitored = [math.inf] * self.m
        self.best_epoch = [0] * self.m
        self.best_record: list[dict[str, float]] = [{} for _ in range(self.m)]
        self.wait = [0] * self.m
        self.time = [0.0] * self.m
        self.last_val_loss = [math.nan] * self.m
        self.last_val_score = [math.nan] * self.m
        self.stepped = False
        self._update_norms: list[torch.Tensor] | None = None  # [m_live] per layer, last recorded step
        self._update_live: list[int] = []
        self.seeds = [s.seed for s in stack.members]

    def _use_work(self, work: MLPStack, flat: torch.Tensor, previous: StackOptimizer | None = None, keep: list[int] | None = None) -> None:
        """Train ``work`` (whose parameters are slices of ``flat``) from now on."""
        self.work = work
        self.work_params: list[torch.Tensor] = [*work.weights, *work.biases]
        self.work_flat = flat
        self.grad_flat = torch.zeros_like(flat)  # [P_work]
        self.grad_views = _slices(self.grad_flat, self.work_params)  # dW per layer, then db per layer
        self.step_fn = _Step(work, self.data.task, self.grad_views, self.settings.precision)
        self.opt = StackOptimizer(self.work_params, work.lr, work.weight_decay, self.settings, flat=flat)
        if previous is not None and keep is not None:
            self.opt.take_state(previous, keep)

    def _positions(self, js: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Members ``js`` as indices into ``stack`` and into the working stack."""
        dev = self.stack.device
        where = {j: k for k, j in enumerate(self.live)}
        return (
            torch.tensor(list(js), dtype=torch.long, device=dev),
            torch.tensor([where[j] for j in js], dtype=torch.long, device=dev),
        )

    def sync(self) -> None:
        """Write the working stack's weights back into ``stack`` (its members ``live``)."""
        if self.work is not self.stack and self.live:
            self.stack.load_subset_(self.work, self.live)

    def _compact(self) -> None:
        """Drop the frozen members from the working stack."""
        keep = [k for k, j in enumerate(self.live) if self.active_list[j]]
        if len(keep) == len(self.live):
            return
        self.sync()  # the leaving members' last weights
        if keep:
            sub = self.work.subset(keep)
            flat = _flatten_parameters([*sub.weights, *sub.biases])
            self._use_work(sub, flat, previous=self.opt, keep=keep)
        self.live = [self.live[k] for k in keep]

    def grads(self) -> list[torch.Tensor] | None:
        """The last step's gradients ``[m, ...]`` per parameter; NaN for members not training."""
        if not self.stepped:
            return None
        if len(self.live) == self.m and self.work is self.stack:
            return self.grad_views
        j_idx, k_idx = self._positions(self.live)
        out = []
        for g, p in zip(self.grad_views, self.params):
            full = torch.full_like(p, math.nan)
            full.index_copy_(0, j_idx, g.index_select(0, k_idx))
            out.append(full)
        return out

    def update_norms(self) -> list[torch.Tensor] | None:
        """``||ΔW||`` ``[m]`` per layer of the last recorded step; 0 for members not training."""
        if self._update_norms is None:
            return None
        j_idx = torch.tensor(self._update_live, dtype=torch.long, device=self.stack.device)
        return [torch.zeros(self.m, device=u.device, dtype=u.dtype).index_copy_(0, j_idx, u) for u in self._update_norms]

    def share_time(self, dt: float, who: Sequence[int]) -> None:
        if who:
            for i in who:
                self.time[i] += dt / len(who)

    def initial(self) -> None:
        """Epoch 0: evaluate the initial weights; they are the best so far."""
        t0 = time.perf_counter()
        tl, _ = _evaluate(self.stack, self.data.X_train, self.data.y_train, self.data.task)
        vl, vs = _evaluate(self.stack, self.data.X_val, self.data.y_val, self.data.task)
        tl_l, vl_l, vs_l = tl.tolist(), vl.tolist(), vs.tolist()
        for i in range(self.m):
            v = self._monitored(vl_l[i], vs_l[i])
            self.best_monitored[i] = v if math.isfinite(v) else math.inf
            self.best_record[i] = {"train_loss": tl_l[i], "val_loss": vl_l[i], "val_score": vs_l[i]}
        self.last_val_loss, self.last_val_score = vl_l, vs_l
        self.share_time(time.perf_counter() - t0, range(self.m))

    def train_epoch(self, epoch: int, record_updates: bool) -> None:
        """One pass over the training data for every member still training, then bookkeeping."""
        t0 = time.perf_counter()
        who = list(self.live)  # every live member is active (frozen ones were compacted away)
        m = len(who)
        d, st, B = self.data, self.settings, self.settings.batch_size
        N = d.X_train.shape[0]
        dev = self.stack.device
        if st.shared_order:
            orders = epoch_orders([st.order_seed], N, epoch, device=dev)[0]  # [N]
        else:
            orders = epoch_orders([self.seeds[j] for j in who], N, epoch, device=dev)  # [m, N]
        batches = orders.split(B, dim=-1)  # [m, b] (or [b]) each
        loss_sum = torch.zeros(m, device=dev)
        last = len(batches) - 1
        X, y = d.X_train, d.y_train
        step, opt, grad_flat = self.step_fn, self.opt, self.grad_flat
        opt.set_lr_factor(lr_factor(st.schedule, epoch, st.max_epochs))
        with torch.no_grad():
            for k, idx in enumerate(batches):
                b = idx.shape[-1]
                flat_idx = idx.reshape(-1)  # [m * b] (or [b])
                xb = X.index_select(0, flat_idx)  # [m * b, F]
                yb = y.index_select(0, flat_idx)  # [m * b] (or [m * b, C])
                if idx.ndim == 1:  # one order shared by every member
                    xb = xb.expand(m, b, -1)
                    yb = yb.expand(m, *yb.shape)
                else:
                    xb = xb.view(m, b, -1)
                    yb = yb.view(m, b, *yb.shape[1:])
                losses = step(xb, yb)  # [m]; fills grad_flat
                before = self.work_flat.clone() if record_updates and k == last else None
                opt.step(grad_flat)
                loss_sum += losses * b
                if before is not None:
                    self._update_norms = [(p - q).flatten(1).norm(dim=1) for p, q in zip(self.work.weights, _slices(before, self.work_params))]
                    self._update_live = list(who)
        self.stepped = True
        train_loss = (loss_sum / N).tolist()
        vl, vs = _evaluate(self.work, d.X_val, d.y_val, d.task)
        self._bookkeep(epoch, who, train_loss, vl.tolist(), vs.tolist())
        self.share_time(time.perf_counter() - t0, who)

    @torch.no_grad()
    def _bookkeep(self, epoch: int, who: list[int], train_loss: list[float], vl: list[float], vs: list[float]) -> None:
        """Per member ``who[k]`` (the working stack's k-th): history, best weights, stopping."""
        finite = self._finite_members()
        improved, diverged, stopped = [], [], []
        st = self.settings
        for k, i in enumerate(who):
            h = self.history[i]
            h["train_loss"].append(train_loss[k])
            h["val_loss"].append(vl[k])
            h["val_score"].append(vs[k])
            self.last_val_loss[i], self.last_val_score[i] = vl[k], vs[k]
            if not (math.isfinite(train_loss[k]) and math.isfinite(vl[k]) and finite[k]):
                diverged.append(i)
                continue
            monitored = self._monitored(vl[k], vs[k])
            if monitored < self.best_monitored[i] - st.min_delta:
                self.best_monitored[i] = monitored
                self.best_epoch[i] = epoch
                self.best_record[i] = {"train_loss": train_loss[k], "val_loss": vl[k], "val_score": vs[k]}
                self.wait[i] = 0
                improved.append(i)
            else:
                self.wait[i] += 1
                if st.patience is not None and self.wait[i] >= st.patience:
                    stopped.append(i)
        if improved:
            j_idx, k_idx = self._positions(improved)
            for p, b in zip(self.work_params, self.best):
                b.index_copy_(0, j_idx, p.detach().index_select(0, k_idx))
        if diverged:
            # Back to the best (finite) weights, optimizer state zeroed, frozen: nothing
            # non-finite is left to flow through its slice of the stack.
            j_idx, k_idx = self._positions(diverged)
            for p, b in zip(self.work_params, self.best):
                p.detach().index_copy_(0, k_idx, b.index_select(0, j_idx))
            mask = torch.zeros(len(self.live), dtype=torch.bool, device=self.stack.device)
            mask[k_idx] = True
            self.opt.reset_members(mask)
            for i in diverged:
                self.diverged[i] = True
                self.stopped_by[i] = "diverged"
        for i in stopped:
            self.stopped_by[i] = "early"
        self.freeze(diverged + stopped)

    def _monitored(self, val_loss: float, val_score: float) -> float:
        """The value early stopping follows, lower is better."""
        return val_loss if self.settings.monitor == "val_loss" else -val_score

    def _finite_members(self) -> list[bool]:
        """Per member of the working stack: are all its weights finite?"""
        ok = torch.ones(len(self.live), dtype=torch.bool, device=self.stack.device)
        for p in self.work_params:
            ok &= torch.isfinite(p.detach()).flatten(1).all(1)
        return ok.tolist()

    def freeze(self, idx: Iterable[int], reason: str | None = None) -> None:
        """Stop members ``idx`` (numbered within the run's stack); they leave the working stack."""
        changed = False
        for i in idx:
            if self.active_list[i]:
                self.active_list[i] = False
                changed = True
                if reason is not None and self.stopped_by[i] is None:
                    self.stopped_by[i] = reason
        if changed:
            self._compact()

    @torch.no_grad()
    def finish(self) -> None:
        self.sync()
        for i in range(self.m):
            if self.stopped_by[i] is None:
                self.stopped_by[i] = "budget"
        if self.settings.restore_best:
            for p, b in zip(self.params, self.best):
                p.copy_(b)


# --- the trainer ----------------------------------------------------------------------------


def lr_factor(schedule: str, epoch: int, max_epochs: int) -> float:
    """What epoch ``epoch`` (1-based) multiplies each member's lr by under ``schedule``.

    Cosine: ``(1 + cos(pi * (epoch - 1) / max_epochs)) / 2``, from 1 at the first epoch towards 0
    at the last, as ``CosineAnnealingLR(T_max=max_epochs, eta_min=0)`` after ``epoch - 1`` steps.
    """
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / max_epochs))
    return 1.0


def _plan(
    stack: MLPStack, settings: TrainSettings, n_val: int, memory_budget: int | None, callback_bytes: int = 0
) -> tuple[list[list[int]], int]:
    """Split members into sub-stacks of at most ``budget // per-member bytes`` members.

    A member that does not fit even alone is refused (``ConfigError``) before anything trains.
    """
    budget = int(memory_budget) if memory_budget is not None else int(settings.memory_fraction * available_memory(stack.device))
    if budget <= 0:
        raise ConfigError(f"memory_budget must be a positive number of bytes, got {memory_budget}")
    per = member_bytes(stack.sizes, settings.batch_size, settings.optimizer, n_val) + max(0, int(callback_bytes))
    if per > budget:
        raise ConfigError(
            f"one member of layer sizes {list(stack.sizes)} needs about {per / 1e6:,.0f} MB to train, more than the memory "
            f"budget of {budget / 1e6:,.0f} MB: use narrower layers, a smaller batch_size or a larger memory_budget"
        )
    size = max(1, min(stack.M, budget // max(per, 1)))
    return [list(range(s, min(s + size, stack.M))) for s in range(0, stack.M, size)], budget


def train(
    stack: MLPStack,
    data: Any,
    settings: TrainSettings | None = None,
    *,
    callback: Callable[[int, MLPStack, TrainState], Iterable[int] | None] | None = None,
    memory_budget: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
    callback_bytes: int = 0,
) -> StackResult:
    """Train every member of ``stack`` at once; returns one ``MemberResult`` per member.

    ``data``: any object with ``X_train [N, F]``, ``y_train``, ``X_val``, ``y_val`` (int64 class
    indices for classification, float32 ``[N]`` or ``[N, n_outputs]`` for regression), ``task``
    and ``n_outputs``. ``callback(epoch, stack, state)`` runs at epoch 0 (before training) and
    after every ``settings.callback_every``-th epoch; it may return member indices to stop
    ("pruned"). ``on_epoch(epoch)`` is a light hook called after every epoch, for progress
    displays: unlike the callback it gets no state, so no update norms are recorded for it.
    ``memory_budget`` (bytes; default ``settings.memory_fraction`` of the free
    memory) caps the members trained together; bigger stacks run as sub-stacks in lock-step, and
    a stack whose single member does not fit is refused (``ConfigError``) before training.
    ``callback_bytes``: the extra bytes per member the callback needs at its peak (the diagnostics
    recorder's ``member_bytes(stack.sizes)``), counted in that plan.
    On return the stack holds each member's best weights (or last, with ``restore_best=False``).
    """
    settings = settings or TrainSettings()
    keep_freed_memory()  # fewer page faults from the tensors each step allocates and frees
    d = _check_data(data, stack)
    t_start = time.perf_counter()
    chunks, budget = _plan(stack, settings, d.X_val.shape[0], memory_budget, callback_bytes)
    notices: list[str] = []
    if len(chunks) > 1:
        msg = f"{stack.M} members split into {len(chunks)} sub-stacks of up to {len(chunks[0])} to fit a memory budget of {budget / 2**20:.0f} MiB"
        notices.append(msg)
        log.info(msg)
    whole = len(chunks) == 1
    runs = [_Run(stack if whole else stack.subset(idx), idx, d, settings) for idx in chunks]
    for r in runs:
        r.initial()

    def state(epoch: int) -> TrainState:
        for r in runs:
            r.sync()
            if not whole:
                stack.load_subset_(r.stack, r.indices)
        grads = None
        per_grads = [r.grads() for r in runs]
        if all(g is not None for g in per_grads):
            L = stack.depth + 1
            grads = [(torch.cat([g[l] for g in per_grads if g]), torch.cat([g[L + l] for g in per_grads if g])) for l in range(L)]  # type: ignore[index]
        upd = None
        per_upd = [r.update_norms() for r in runs]
        if all(u is not None for u in per_upd):
            upd = [torch.cat([u[l] for u in per_upd if u]) for l in range(stack.depth + 1)]
        cat = lambda name: [x for r in runs for x in getattr(r, name)]  # noqa: E731
        return TrainState(
            epoch=epoch,
            members=stack.members,
            active=cat("active_list"),
            diverged=cat("diverged"),
            stopped_by=cat("stopped_by"),
            best_epoch=cat("best_epoch"),
            history=cat("history"),
            val_loss=cat("last_val_loss"),
            val_score=cat("last_val_score"),
            grads=grads,
            update_norms=upd,
        )

    def call(epoch: int) -> None:
        assert callback is not None
        t0 = time.perf_counter()
        stop = callback(epoch, stack, state(epoch))
        for i in sorted({int(i) for i in (stop or ())}):
            if not 0 <= i < stack.M:
                raise ConfigError(f"the callback returned member index {i}, outside 0..{stack.M - 1}")
            for r in runs:
                if i in r.indices:
                    r.freeze([r.indices.index(i)], reason="pruned")
        dt = time.perf_counter() - t0
        for r in runs:  # the callback's time, shared by every member
            r.share_time(dt * r.m / stack.M, range(r.m))

    if callback is not None:
        call(0)
    every = settings.callback_every
    epochs = 0
    for epoch in range(1, settings.max_epochs + 1):
        if not any(any(r.active_list) for r in runs):
            break
        due = callback is not None and every > 0 and epoch % every == 0
        for r in runs:
            if any(r.active_list):
                r.train_epoch(epoch, record_updates=due)
        epochs = epoch
        if due:
            call(epoch)
        if on_epoch is not None:
            on_epoch(epoch)

    for r in runs:
        r.finish()
        if not whole:
            stack.load_subset_(r.stack, r.indices)
    results = _results(stack, runs, d, settings)
    wall = time.perf_counter() - t_start
    return StackResult(members=results, wall_time=wall, epochs=epochs, n_substacks=len(runs), device=str(stack.device), notices=notices)


@torch.no_grad()
def _results(stack: MLPStack, runs: list[_Run], d: _Data, settings: TrainSettings) -> list[MemberResult]:
    out_val: list[torch.Tensor] = []
    for r in runs:
        out_val.extend(_outputs(r.stack, d.X_val).cpu().unbind(0))  # [N, C] per member
    y_val = d.y_val.cpu()
    results: list[MemberResult] = []
    k = 0
    for r in runs:
        for j in range(r.m):
            i = r.indices[j]
            out = out_val[k]
            k += 1
            best = r.best_record[j]
            h = r.history[j]
            final = {"train_loss": h["train_loss"][-1], "val_loss": h["val_loss"][-1], "val_score": h["val_score"][-1]} if h["train_loss"] else dict(best)
            if not settings.restore_best:
                best = final
            met = {**score(d.task, y_val, out), "val_loss": float(best["val_loss"])}
            results.append(
                MemberResult(
                    spec=stack.members[i],
                    val_score=float(best["val_score"]),
                    val_loss=float(best["val_loss"]),
                    train_loss=float(best["train_loss"]),
                    best_epoch=int(r.best_epoch[j]) if settings.restore_best else len(h["train_loss"]),
                    epochs_run=len(h["train_loss"]),
                    diverged=bool(r.diverged[j]),
                    stopped_by=str(r.stopped_by[j]),
                    train_time=float(r.time[j]),
                    history={key: list(v) for key, v in h.items()},
                    metrics=met,
                    state=stack.member_state(i) if stack.device.type == "cpu" else {key: v.cpu() for key, v in stack.member_state(i).items()},
                    final=final,
                )
            )
    return results
