"""The trainer: a stack's sub-stacks trained in lock-step, the callback, and the results."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import torch

from justenough.errors import ConfigError
from justenough.nets.stack import MLPStack
from justenough.train.allocator import keep_freed_memory
from justenough.train.stack_data import StackData, TrainData, check_data, stack_outputs
from justenough.train.memory import plan_substacks
from justenough.train.metrics import score
from justenough.train.results import MemberResult, StackResult, TrainState
from justenough.train.settings import TrainSettings
from justenough.train.substack import SubstackRun
from justenough.vocab import StopReason, Task

__all__ = ["train"]

log = logging.getLogger("justenough")


def train(
    stack: MLPStack,
    data: TrainData,
    settings: TrainSettings | None = None,
    *,
    callback: Callable[[int, MLPStack, TrainState], Iterable[int] | None] | None = None,
    memory_budget: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
    callback_bytes: int = 0,
) -> StackResult:
    """Train every member of ``stack`` at once; returns one ``MemberResult`` per member.

    ``data``: a ``TrainData`` (``train/stack_data.py``): ``X_train [N, F]``, ``y_train``, ``X_val``,
    ``y_val`` (int64 class indices for classification, float32 ``[N]`` or ``[N, n_outputs]`` for
    regression), ``task`` and ``n_outputs``; and, for cross-validation folds as members, ``member_rows [M, n]`` (each
    member's own training rows, indices into X_train) and ``val_mask [M, N_val]`` (its own
    validation rows): each member then draws its minibatches from its rows only and is validated,
    stopped and scored on its rows only. One gradient-descent process per member, as ever. ``callback(epoch, stack, state)`` runs at epoch 0 (before training) and
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
    d = check_data(data, stack)
    if settings.label_smoothing and d.task != Task.CLASSIFICATION:
        raise ConfigError(f"label_smoothing={settings.label_smoothing:g} smooths class targets: it is for classification, "
                          "not regression (set it to 0)")
    t_start = time.perf_counter()
    runs, notices = _start_runs(stack, d, settings, memory_budget, callback_bytes)
    whole = len(runs) == 1  # one run, on the stack itself
    if callback is not None:
        _call(callback, 0, stack, runs)
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
        if due and callback is not None:
            _call(callback, epoch, stack, runs)
        if on_epoch is not None:
            on_epoch(epoch)

    for r in runs:
        r.finish()
        if not whole:
            stack.load_subset_(r.stack, r.indices)
    results = _results(stack, runs, d, settings)
    wall = time.perf_counter() - t_start
    return StackResult(members=results, wall_time=wall, epochs=epochs, n_substacks=len(runs), device=str(stack.device), notices=notices)


def _start_runs(
    stack: MLPStack, d: StackData, settings: TrainSettings, memory_budget: int | None, callback_bytes: int
) -> tuple[list[SubstackRun], list[str]]:
    """The runs of the sub-stacks that fit the memory budget (one run on ``stack`` itself when it
    fits whole), each past epoch 0 (its initial weights evaluated); and the notices."""
    chunks, budget = plan_substacks(stack, settings, d.X_val.shape[0], memory_budget, callback_bytes)
    notices: list[str] = []
    if len(chunks) > 1:
        msg = f"{stack.M} members split into {len(chunks)} sub-stacks of up to {len(chunks[0])} to fit a memory budget of {budget / 2**20:.0f} MiB"
        notices.append(msg)
        log.info(msg)
    whole = len(chunks) == 1
    runs = [SubstackRun(stack if whole else stack.subset(idx), idx, d, settings) for idx in chunks]
    for r in runs:
        r.initial()
    return runs, notices


def _state(epoch: int, stack: MLPStack, runs: list[SubstackRun]) -> TrainState:
    """What the callback sees, over the whole stack; every run's weights are written back first."""
    whole = len(runs) == 1
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


def _call(callback: Callable[[int, MLPStack, TrainState], Iterable[int] | None], epoch: int, stack: MLPStack, runs: list[SubstackRun]) -> None:
    """Run the callback and stop ("pruned") the members it returns; its time is shared by all."""
    t0 = time.perf_counter()
    stop = callback(epoch, stack, _state(epoch, stack, runs))
    for i in sorted({int(i) for i in (stop or ())}):
        if not 0 <= i < stack.M:
            raise ConfigError(f"the callback returned member index {i}, outside 0..{stack.M - 1}")
        for r in runs:
            if i in r.indices:
                r.freeze([r.indices.index(i)], reason=StopReason.PRUNED)
    dt = time.perf_counter() - t0
    for r in runs:  # the callback's time, shared by every member
        r.share_time(dt * r.m / stack.M, range(r.m))


@torch.no_grad()
def _results(stack: MLPStack, runs: list[SubstackRun], d: StackData, settings: TrainSettings) -> list[MemberResult]:
    out_val: list[torch.Tensor] = []
    for r in runs:
        out_val.extend(stack_outputs(r.stack, d.X_val).cpu().unbind(0))  # [N, C] per member
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
            if r.val_mask is not None:  # folds as members: its metrics over its own validation rows
                own = r.val_mask[j].cpu().bool()
                met = {**score(d.task, y_val[own], out[own]), "val_loss": float(best["val_loss"])}
            else:
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
