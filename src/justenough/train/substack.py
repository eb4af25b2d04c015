"""The training of one (sub-)stack: its working stack, epochs, bookkeeping and stopping."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence

import torch

from justenough.nets.stack import MLPStack
from justenough.train.backward import Step
from justenough.train.batches import epoch_orders
from justenough.train.stack_data import StackData, evaluate_stack
from justenough.train.optimizer import StackOptimizer, flatten_parameters, parameter_views, lr_factor
from justenough.train.settings import TrainSettings
from justenough.vocab import Monitor, StopReason


class SubstackRun:
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

    def __init__(self, stack: MLPStack, indices: list[int], data: StackData, settings: TrainSettings) -> None:
        self.stack, self.indices, self.data, self.settings = stack, indices, data, settings
        self.m = stack.M
        self.params: list[torch.Tensor] = list(stack.trained_parameters())
        # One flat buffer [P] behind all parameters, and one behind their gradients, laid out
        # alike: the optimizer then updates every layer with a few whole-buffer ops per step.
        self.flat = flatten_parameters(self.params)
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
        # Folds as members (data.member_rows): this run's members' own training rows [m, n] and
        # validation masks [m, N_val]; their training-row masks [m, N_train] for the epoch-0 loss.
        self.rows = self.val_mask = self.train_mask = None
        if data.member_rows is not None and data.val_mask is not None:
            at = torch.tensor(indices, dtype=torch.long, device=data.member_rows.device)
            self.rows = data.member_rows.index_select(0, at)
            self.val_mask = data.val_mask.index_select(0, at)
            self.train_mask = torch.zeros(self.m, data.X_train.shape[0], device=self.rows.device).scatter_(1, self.rows, 1.0)

    def _use_work(self, work: MLPStack, flat: torch.Tensor, previous: StackOptimizer | None = None, keep: list[int] | None = None) -> None:
        """Train ``work`` (whose parameters are slices of ``flat``) from now on."""
        self.work = work
        self.work_params: list[torch.Tensor] = list(work.trained_parameters())
        self.work_flat = flat
        self.grad_flat = torch.zeros_like(flat)  # [P_work]
        self.grad_views = parameter_views(self.grad_flat, self.work_params)  # dW per layer, db per layer, then the embedding's
        self.step_fn = Step(work, self.data.task, self.grad_views, self.settings.precision, self.settings.label_smoothing)
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
            flat = flatten_parameters(sub.trained_parameters())
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
        tl, _ = evaluate_stack(self.stack, self.data.X_train, self.data.y_train, self.data.task, self.train_mask)
        vl, vs = evaluate_stack(self.stack, self.data.X_val, self.data.y_val, self.data.task, self.val_mask)
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
        N = d.X_train.shape[0] if self.rows is None else self.rows.shape[1]  # rows each member trains on
        dev = self.stack.device
        if st.shared_order:
            orders = epoch_orders([st.order_seed], N, epoch, device=dev)[0]  # [N]
        else:
            orders = epoch_orders([self.seeds[j] for j in who], N, epoch, device=dev)  # [m, N]
        if self.rows is not None:
            # Each member's order is over its own rows: positions in its row list -> rows of X_train.
            own = self.rows.index_select(0, torch.tensor(who, dtype=torch.long, device=dev))  # [m, N]
            orders = own.gather(1, orders) if orders.ndim == 2 else own[:, orders]  # [m, N]
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
                    self._update_norms = [(p - q).flatten(1).norm(dim=1) for p, q in zip(self.work.weights, parameter_views(before, self.work_params))]
                    self._update_live = list(who)
        self.stepped = True
        train_loss = (loss_sum / N).tolist()
        mask = None if self.val_mask is None else self.val_mask.index_select(0, torch.tensor(who, dtype=torch.long, device=dev))
        vl, vs = evaluate_stack(self.work, d.X_val, d.y_val, d.task, mask)
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
                self.stopped_by[i] = StopReason.DIVERGED
        for i in stopped:
            self.stopped_by[i] = StopReason.EARLY
        self.freeze(diverged + stopped)

    def _monitored(self, val_loss: float, val_score: float) -> float:
        """The value early stopping follows, lower is better."""
        return val_loss if self.settings.monitor == Monitor.VAL_LOSS else -val_score

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
                self.stopped_by[i] = StopReason.BUDGET
        if self.settings.restore_best:
            for p, b in zip(self.params, self.best):
                p.copy_(b)
