"""The optimizer over stacked parameters (one flat buffer), and the learning-rate schedule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from justenough.errors import ConfigError
from justenough.train.settings import TrainSettings
from justenough.vocab import Optimizer, Schedule

__all__ = ["StackOptimizer", "lr_factor", "warmup_epochs", "flatten_parameters", "parameter_views"]

_GATHER_MAX = 1 << 16  # flat buffers up to this size expand Adam's step sizes by a gather
_FUSED_ADAM = True  # use torch's fused Adam kernel where there is one (tests turn it off)


def warmup_epochs(max_epochs: int) -> int:
    """The warmup epochs W of ``warmup_cosine``: ``max_epochs / 20`` rounded half up, at least 1,
    and short of ``max_epochs`` (one epoch trains no warmup): 10 of 200, 20 of 400, 1 of 10."""
    return min(max(1, (max_epochs + 10) // 20), max_epochs - 1)


def lr_factor(schedule: str, epoch: int, max_epochs: int) -> float:
    """What epoch ``epoch`` (1-based) multiplies each member's lr by under ``schedule``.

    Cosine: ``(1 + cos(pi * (epoch - 1) / max_epochs)) / 2``, from 1 at the first epoch towards 0
    at the last, as ``CosineAnnealingLR(T_max=max_epochs, eta_min=0)`` after ``epoch - 1`` steps.

    Warmup then cosine, with ``W = warmup_epochs(max_epochs)``: epoch ``e <= W`` trains at
    ``e / (W + 1)`` (a linear rise, as ``LinearLR(start_factor=1 / (W + 1), total_iters=W)``),
    then epoch ``e > W`` at ``(1 + cos(pi * (e - 1 - W) / (max_epochs - W))) / 2``, the cosine
    over the remaining epochs (``CosineAnnealingLR(T_max=max_epochs - W)``): the two chained by
    ``SequentialLR(milestones=[W])``, stepped once per epoch.
    """
    if schedule == Schedule.COSINE:
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / max_epochs))
    if schedule == Schedule.WARMUP_COSINE:
        warm = warmup_epochs(max_epochs)
        if epoch <= warm:
            return epoch / (warm + 1)
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - 1 - warm) / (max_epochs - warm)))
    return 1.0


class StackOptimizer:
    """SGD (momentum, Nesterov), Adam and AdamW over stacked parameters, per-member lr and wd.

    The formulas and their order of operations follow ``torch.optim`` (single-tensor path), so a
    member's trajectory equals torch's for that member alone. ``active`` ``[M]`` bool: a frozen
    member gets learning rate 0 and does not move.

    ``flat`` (optional, 1-D): a buffer whose consecutive slices *are* ``params`` (each
    ``[M, ...]``, contiguous, in order), as ``flatten_parameters`` makes. Then every update is a
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
        self._wd = self._expand(weight_decay) if self._has_wd and self.kind != Optimizer.ADAMW else []
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
        self._neg_lr = self._expand(-lr32) if self.kind == Optimizer.SGD else []
        # AdamW's decoupled decay factor 1 - lr * wd, computed in float64 as torch does.
        decay = (1.0 - self._lr_eff64 * self._wd64).to(torch.float32)
        self._decay = self._expand(decay) if self.kind == Optimizer.ADAMW and self._has_wd else []

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
                    rows = [v.index_select(0, idx).reshape(-1) for v in parameter_views(t, previous.params)]
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
        if self.kind == Optimizer.SGD:
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
        if not _FUSED_ADAM or self.kind not in (Optimizer.ADAM, Optimizer.ADAMW) or self._tensors[0].device.type not in ("cpu", "cuda"):
            return None
        if getattr(torch, "_fused_adamw_" if self.kind == Optimizer.ADAMW else "_fused_adam_", None) is None:
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
        decoupled = self.kind == Optimizer.ADAMW
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
                    self._num_views = parameter_views(self._num, self.params)
                    self._m_views = parameter_views(m, self.params)
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
        fn = torch._fused_adamw_ if self.kind == Optimizer.ADAMW else torch._fused_adam_
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
        shaped = parameter_views(tensors[0], self.params) if self._flat is not None else list(tensors)
        return [list(p.unbind(0)) for p in shaped]


def parameter_views(buf: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
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
            raise ConfigError("StackOptimizer flat= must hold the parameters as consecutive contiguous slices, in order: use flatten_parameters")
        M = p.shape[0]
        parts.append(torch.arange(M, dtype=torch.int32, device=flat.device).repeat_interleave(n // M))
        off += n
    if off != flat.numel():
        raise ConfigError(f"StackOptimizer flat= holds {flat.numel()} elements but the parameters {off}")
    return torch.cat(parts)


@torch.no_grad()
def flatten_parameters(params: Sequence[torch.Tensor]) -> torch.Tensor:
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
