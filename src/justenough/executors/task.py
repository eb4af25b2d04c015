"""One unit of work for an executor: train the restarts of some configs as one stack.

A ``StackTask`` is plain data (configs, restart indices, seeds), so it can cross a process or a
Ray boundary. ``run_stack_task`` is the stateless trainer every executor calls: it builds the
``MLPStack``, trains it with one gradient-descent process, and returns one ``RestartResult`` per
(config, restart), with the best weights as NumPy arrays (no torch objects cross boundaries).

Restart k of every config uses seed stream k (``train/seeds.py``: ``restart_seed(study_seed, k)``): the same initial
weight draws and the same minibatch order, so configs are compared pairwise (common random numbers).

With cross-validation (``TrainingData.fold_of_row``, K folds), every config x restart is K members of
the stack, member ``(c * R + r) * K + f`` trained on the rows outside fold f and validated on fold f
(one gradient-descent process each, the same seed for every fold). A restart's record is its K
members together: its validation score and per-row evidence are out-of-fold (every pooled row is
validated once, by the member that did not train on it), its ``best_epoch`` the median over the
folds (what the refit trains for), its weights, curves and diagnostics those of fold 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from justenough.engine.strategies.halving import halving_callback, halving_rungs
from justenough.study.record import RestartResult
from justenough.space.config import Config, member_and_settings
from justenough.executors.training_data import TrainingData, TensorData
from justenough.train.seeds import restart_seed
from justenough.vocab import StopReason

if TYPE_CHECKING:  # torch loads where a task trains, not where one is built
    from justenough.diagnose import DiagnosticsRecorder
    from justenough.nets.stack import MLPStack
    from justenough.train import StackResult

__all__ = ["StackTask", "run_stack_task", "EVIDENCE_ROWS"]

# The validation rows whose per-row evidence is kept (the first ones: the split is already a random
# draw). It bounds the evidence at 8 bytes x restarts x this per config; beyond it the rows' SE is
# below half a point of accuracy anyway.
EVIDENCE_ROWS = 10_000


@dataclass(frozen=True)
class StackTask:
    """Train ``configs`` x ``restarts`` as one stack. All configs share ``Config.group_key()``."""

    configs: tuple[Config, ...]
    restarts: tuple[int, ...]
    study_seed: int
    device: str = "cpu"  # as the settings read it ("cpu", "cuda", "cuda:1"): "auto" resolves in the driver, never here
    precision: str = "float32"  # the training step's matmuls: float32, or bfloat16 (mixed precision)
    halving: bool = False
    halving_eta: int = 3
    diagnose_every: int = 0
    task_id: str = ""
    memory_budget: int | None = None  # bytes one stack may use (None: the trainer's default)
    # Keep each restart's outputs on the validation rows as evidence: the choice then judges the
    # configs' ensembles (SearchSettings.judges_ensembles, the default with the ensemble; select/ensemble_noise.py).
    keep_outputs: bool = False


def run_stack_task(
    task: StackTask, training_data: TrainingData, on_epoch: Callable[[str, int, int], None] | None = None
) -> list[RestartResult]:
    """Train one stack task and return its restart results.

    ``on_epoch(task_id, epoch, max_epochs)``, when given, is called after every epoch: the
    executors forward it to the driver's progress display.

    Stateless: everything it needs is in ``task`` and ``data``; executors call it locally, in worker
    processes or as a Ray task. The result order is config-major, then restart.
    """
    from justenough.train import train

    if not task.configs:
        return []
    first = task.configs[0]
    group = first.group_key()
    for cfg in task.configs[1:]:
        if cfg.group_key() != group:
            raise ValueError(f"configs of one stack must share depth, activation and training: {cfg.key}")

    seeds = [restart_seed(task.study_seed, r) for r in task.restarts]
    data, stack = _build_stack(task, seeds, training_data)
    K = training_data.folds
    callbacks = _TaskCallbacks.for_task(task, data, K)
    # The configs share their training settings (group_key), so the first one's are the stack's.
    _, settings = member_and_settings(first, seeds[0], precision=task.precision, callback_every=callbacks.every)
    report = None
    if on_epoch is not None:
        task_id, max_epochs = task.task_id, first.max_epochs

        def report(epoch: int) -> None:
            on_epoch(task_id, epoch, max_epochs)

    recorder = callbacks.recorder
    result = train(
        stack, data, settings, callback=callbacks if callbacks.hooks else None, on_epoch=report, memory_budget=task.memory_budget,
        callback_bytes=recorder.member_bytes(stack.sizes) if recorder is not None else 0,
    )
    from justenough.train import row_evidence

    # Each validation row's share of each member's score, with the best weights the stack now holds:
    # the evidence of the noise model (select/noise.py), at most EVIDENCE_ROWS rows.
    n = min(int(data.X_val.shape[0]), EVIDENCE_ROWS)
    # With ``keep_outputs``, the outputs there too (``[M, n, C]``, when n x C is small enough:
    # train.stack_data.OUTPUT_VALUES) and the rows' targets: the choice can then judge a config's
    # ensemble of restarts (select/ensemble_noise.py).
    shares, losses, outputs = row_evidence(stack, data.X_val[:n], data.y_val[:n], data.task,
                                           keep_outputs=task.keep_outputs)  # [M, n] each
    evidence = _Evidence(shares.cpu().numpy(), losses.cpu().numpy(),
                         None if outputs is None else outputs.cpu().numpy(), data.y_val[:n].cpu().numpy())
    if training_data.fold_of_row is not None:
        return _fold_results(task, seeds, result, callbacks, evidence, training_data.fold_of_row[:n], K)
    return _restart_results(task, seeds, result, callbacks, evidence)


@dataclass(frozen=True)
class _Evidence:
    """The stack's per-row evidence on n validation rows: ``shares``, ``losses`` ``[M, n]``, the
    members' ``outputs`` ``[M, n, C]`` (None when not kept) and the rows' ``target`` (``[n]`` class
    indices, or ``[n]`` / ``[n, C]`` standardized targets)."""

    shares: np.ndarray
    losses: np.ndarray
    outputs: np.ndarray | None
    target: np.ndarray

    def of_member(self, i: int) -> dict[str, np.ndarray]:
        """Member i's evidence, as a ``RestartResult.rows``."""
        return self.rows(self.shares[i], self.losses[i], None if self.outputs is None else self.outputs[i])

    def out_of_fold(self, first: int, own: np.ndarray) -> dict[str, np.ndarray]:
        """The evidence of members ``first .. first + K - 1`` (one config x restart's K folds), each
        row's taken from the member that validated it (``own [K, n]``: fold f validates these rows)."""
        K = own.shape[0]
        outputs = None if self.outputs is None else (self.outputs[first : first + K] * own[:, :, None]).sum(0)
        return self.rows((self.shares[first : first + K] * own).sum(0), (self.losses[first : first + K] * own).sum(0),
                         outputs)

    def rows(self, share: np.ndarray, loss: np.ndarray, output: np.ndarray | None) -> dict[str, np.ndarray]:
        out = {"share": share.astype(np.float32).copy(), "loss": loss.astype(np.float32).copy()}
        if output is not None:
            out["output"] = output.astype(np.float32).copy()  # [n, C]
            out["target"] = self.target.copy()  # [n] or [n, C]: the same for every restart
        return out


def _build_stack(task: StackTask, seeds: list[int], training_data: TrainingData) -> tuple[TensorData, "MLPStack"]:
    """The task's data on its device, and its stack: members config-major (member = c * R + r)."""
    import torch

    from justenough.nets.stack import MLPStack

    first = task.configs[0]
    K = training_data.folds
    members = [member_and_settings(cfg, seed)[0] for cfg in task.configs for seed in seeds for _ in range(K)]
    device = str(torch.device(task.device))  # read by the driver's settings: "auto" resolved there, not here
    data = training_data.on(device)
    if training_data.fold_of_row is not None:
        data = _with_fold_members(data, training_data.fold_of_row, K, len(members))
    X_train = data.X_train
    # LSUV needs a batch of real data; the first 512 training rows (a fixed, seed-free choice).
    init_data = X_train[:512]
    stack = MLPStack(
        data.n_features, data.n_outputs, members, activation=first.activation, device=device, init_data=init_data,
        embed=first.embed,
    )
    return data, stack


def _with_fold_members(data: TensorData, fold_of_row: np.ndarray, K: int, M: int) -> TensorData:
    """``data`` with each member's own rows: member m is fold ``m % K``; it trains on the rows outside
    its fold (the first n of them, n the smallest such count, so every member trains on as many)
    and validates on its fold."""
    import dataclasses

    import torch

    fold = torch.from_numpy(np.asarray(fold_of_row)).to(data.X_train.device)
    n = int(min(int((fold != f).sum()) for f in range(K)))
    rows = torch.stack([torch.nonzero(fold != f).squeeze(1)[:n] for f in range(K)])  # [K, n]
    masks = torch.stack([(fold == f).to(torch.float32) for f in range(K)])  # [K, N]
    which = torch.arange(M, device=fold.device) % K  # [M]
    return dataclasses.replace(data, member_rows=rows[which], val_mask=masks[which])


@dataclass
class _TaskCallbacks:
    """The trainer callbacks of one task (successive halving, the diagnostics recorder), called
    as one every ``every`` epochs."""

    hooks: list[Callable[..., Any]] = field(default_factory=list)
    every: int = 0
    pruned_at: dict[int, int] = field(default_factory=dict)  # config index -> the rung it was dropped at
    recorder: "DiagnosticsRecorder | None" = None

    @classmethod
    def for_task(cls, task: StackTask, data: TensorData, folds: int = 1) -> "_TaskCallbacks":
        out = cls()
        first = task.configs[0]
        if task.halving and len(task.configs) > 1:
            rungs = halving_rungs(first.max_epochs, eta=task.halving_eta)
            # A config's members are its restarts x folds, config-major: halving averages them all.
            members_per_config = tuple(range(len(task.restarts) * folds))
            halving_cb, out.pruned_at = halving_callback(task.configs, members_per_config, task.halving_eta, rungs)
            out.hooks.append(halving_cb)
            # Rungs are first * eta^k epochs: calling back every ``first`` epochs reaches each one.
            out.every = math.gcd(*rungs) if rungs else 0
        if task.diagnose_every > 0:
            from justenough.diagnose import DiagnosticsRecorder

            # Wide layers' symmetry is measured on a sample of units drawn from the study seed.
            out.recorder = DiagnosticsRecorder(data.X_val, every=task.diagnose_every, seed=task.study_seed)
            out.hooks.append(out.recorder)
            # The trainer calls back every ``callback_every`` epochs (the gcd of what halving and the
            # recorder need); each keeps only its own epochs.
            out.every = math.gcd(out.every, task.diagnose_every) if out.every else task.diagnose_every
        return out

    def __call__(self, epoch: int, stk: Any, state: Any) -> list[int]:
        stop: list[int] = []
        for cb in self.hooks:
            out = cb(epoch, stk, state)
            if out:
                stop.extend(out)
        return stop


def _restart_results(
    task: StackTask, seeds: list[int], result: "StackResult", callbacks: _TaskCallbacks, evidence: _Evidence,
) -> list[RestartResult]:
    """One ``RestartResult`` per member of the trained stack, config-major, then restart, with its
    per-row ``evidence``."""
    R = len(task.restarts)
    recorder, pruned_at = callbacks.recorder, callbacks.pruned_at
    out: list[RestartResult] = []
    for i, member in enumerate(result.members):
        c, r = divmod(i, R)
        diags = recorder.records_for(i) if recorder is not None else []
        trained = {
            **member.outcome_fields(),
            # Halving pruned the whole config: each of its restarts says so, whatever stopped it in the trainer.
            "stopped_by": str(StopReason.PRUNED) if c in pruned_at else member.stopped_by,
            "diagnostics": diags,  # the recorder's, not the trainer's
        }
        out.append(_restart_result(task, seeds, c, r, pruned_at, member.state, evidence.of_member(i), trained))
    return out


def _restart_result(task: StackTask, seeds: list[int], c: int, r: int, pruned_at: dict[int, int], state: Any,
                    rows: dict[str, np.ndarray], trained: dict[str, Any]) -> RestartResult:
    """Restart ``r`` of config ``c``: which restart it is, what training produced (``trained``), its
    best weights (a state dict of tensors, copied to NumPy) and its per-row evidence."""
    return RestartResult(
        key=task.configs[c].key,
        restart=task.restarts[r],
        seed=seeds[r],
        pruned_rung=pruned_at.get(c),
        **trained,
        state={k: v.detach().cpu().numpy().copy() for k, v in state.items()},
        rows=rows,
    )


def _fold_results(
    task: StackTask, seeds: list[int], result: "StackResult", callbacks: _TaskCallbacks, evidence: _Evidence,
    fold_of_row: np.ndarray, K: int,
) -> list[RestartResult]:
    """One ``RestartResult`` per config x restart from its K fold members (see the module doc):
    ``evidence`` over the pooled rows, ``fold_of_row [n]``."""
    R = len(task.restarts)
    recorder, pruned_at = callbacks.recorder, callbacks.pruned_at
    own = fold_of_row[None, :] == np.arange(K)[:, None]  # [K, n]: fold f validates these rows
    out: list[RestartResult] = []
    for c in range(len(task.configs)):
        for r in range(R):
            first = (c * R + r) * K
            members = result.members[first : first + K]
            rows = evidence.out_of_fold(first, own)  # every pooled row validated once
            diverged = any(m.diverged for m in members)
            stops = [m.stopped_by for m in members]
            metric_names = set.intersection(*(set(m.metrics) for m in members))
            trained = dict(
                val_score=float(rows["share"].mean()),
                val_loss=float(rows["loss"].mean()),
                train_loss=float(np.mean([m.train_loss for m in members])),
                best_epoch=int(np.median([m.best_epoch for m in members])),
                epochs_run=int(max(m.epochs_run for m in members)),
                diverged=diverged,
                stopped_by=str(StopReason.PRUNED) if c in pruned_at else (
                    str(StopReason.DIVERGED) if diverged else max(stops, key=stops.count)),  # ties: the first fold's
                train_time=float(sum(m.train_time for m in members)),
                history=members[0].history,
                metrics={k: float(np.mean([m.metrics[k] for m in members])) for k in sorted(metric_names)},
                diagnostics=recorder.records_for(first) if recorder is not None else [],
            )
            out.append(_restart_result(task, seeds, c, r, pruned_at, members[0].state, rows, trained))
    return out
