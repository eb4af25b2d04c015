"""One unit of work for an executor: train the restarts of some configs as one stack.

A ``StackTask`` is plain data (configs, restart indices, seeds), so it can cross a process or a
Ray boundary. ``run_stack_task`` is the stateless trainer every executor calls: it builds the
``MLPStack``, trains it with one gradient-descent process, and returns one ``RestartResult`` per
(config, restart), with the best weights as NumPy arrays (no torch objects cross boundaries).

Restart k of every config uses seed stream k (``restart_seed(study_seed, k)``): the same initial
weight draws and the same minibatch order, so configs are compared pairwise (common random numbers).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from justenough.numbers import finite_or_none
from justenough.space import Config

__all__ = [
    "TrainingData",
    "StackTask",
    "RestartResult",
    "restart_seed",
    "run_stack_task",
    "halving_rungs",
]


@dataclass(frozen=True)
class TrainingData:
    """The train and validation splits only: what a trainer may see (never the sealed test split).

    NumPy arrays so it pickles cheaply to worker processes and Ray's object store.
    X_*: float32 [N, F]; y_*: int64 [N] class indices, or float32 [N] standardized targets.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    task: str
    n_features: int
    n_outputs: int

    @classmethod
    def from_prepared(cls, prepared: Any) -> "TrainingData":
        return cls(
            X_train=prepared.X_train.detach().cpu().numpy(),
            y_train=prepared.y_train.detach().cpu().numpy(),
            X_val=prepared.X_val.detach().cpu().numpy(),
            y_val=prepared.y_val.detach().cpu().numpy(),
            task=prepared.task,
            n_features=int(prepared.n_features),
            n_outputs=int(prepared.n_outputs),
        )

    def on(self, device: str) -> "_TensorData":
        import torch

        return _TensorData(
            X_train=torch.from_numpy(self.X_train).to(device),
            y_train=torch.from_numpy(self.y_train).to(device),
            X_val=torch.from_numpy(self.X_val).to(device),
            y_val=torch.from_numpy(self.y_val).to(device),
            task=self.task,
            n_features=self.n_features,
            n_outputs=self.n_outputs,
        )


@dataclass(frozen=True)
class _TensorData:
    """``TrainingData`` as tensors on one device: the object ``train()`` consumes."""

    X_train: Any
    y_train: Any
    X_val: Any
    y_val: Any
    task: str
    n_features: int
    n_outputs: int


def restart_seed(study_seed: int, restart: int) -> int:
    """The seed of restart ``restart``: a pure function of (study seed, restart index)."""
    state = np.random.SeedSequence([int(study_seed), int(restart)]).generate_state(1, dtype=np.uint32)
    return int(state[0])


def halving_rungs(max_epochs: int, first: int = 8, eta: int = 3) -> tuple[int, ...]:
    """Epochs at which successive halving compares configs: first, first*eta, ... below max_epochs."""
    rungs = []
    r = first
    while r < max_epochs:
        rungs.append(r)
        r *= eta
    return tuple(rungs)


@dataclass(frozen=True)
class StackTask:
    """Train ``configs`` x ``restarts`` as one stack. All configs share ``Config.group_key()``."""

    configs: tuple[Config, ...]
    restarts: tuple[int, ...]
    study_seed: int
    device: str = "cpu"
    precision: str = "float32"  # the training step's matmuls: float32, or bfloat16 (mixed precision)
    halving: bool = False
    halving_eta: int = 3
    diagnose_every: int = 0
    task_id: str = ""
    memory_budget: int | None = None  # bytes one stack may use (None: the trainer's default)

    @property
    def n_members(self) -> int:
        return len(self.configs) * len(self.restarts)


@dataclass(frozen=True)
class RestartResult:
    """What one restart of one config produced. Keyed by (config key, restart): idempotent."""

    key: str
    restart: int
    seed: int
    val_score: float
    val_loss: float
    train_loss: float
    best_epoch: int
    epochs_run: int
    diverged: bool
    stopped_by: str
    train_time: float
    pruned_rung: int | None
    metrics: dict[str, float]
    history: dict[str, list[float]]
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    # The best weights as a ``member(i)`` state dict of NumPy arrays: {"0.weight": [out, in], ...}.
    state: dict[str, np.ndarray] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """JSON-ready summary (no weights, no history) for the study's trial attributes."""
        return {
            "key": self.key,
            "restart": self.restart,
            "seed": self.seed,
            "val_score": finite_or_none(self.val_score),
            "val_loss": finite_or_none(self.val_loss),
            "train_loss": finite_or_none(self.train_loss),
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "diverged": self.diverged,
            "stopped_by": self.stopped_by,
            "train_time": self.train_time,
            "pruned_rung": self.pruned_rung,
            "metrics": {k: finite_or_none(v) for k, v in self.metrics.items()},
        }


def _halving_callback(
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


def run_stack_task(
    task: StackTask, training_data: TrainingData, on_epoch: Callable[[str, int, int], None] | None = None
) -> list[RestartResult]:
    """Train one stack task and return its restart results.

    ``on_epoch(task_id, epoch, max_epochs)``, when given, is called after every epoch: the
    executors forward it to the driver's progress display.

    Stateless: everything it needs is in ``task`` and ``data``; executors call it locally, in worker
    processes or as a Ray task. The result order is config-major, then restart.
    """
    from justenough.stack import MemberSpec, MLPStack
    from justenough.train import TrainSettings, train

    if not task.configs:
        return []
    first = task.configs[0]
    group = first.group_key()
    for cfg in task.configs[1:]:
        if cfg.group_key() != group:
            raise ValueError(f"configs of one stack must share depth, activation and training: {cfg.key}")

    seeds = [restart_seed(task.study_seed, r) for r in task.restarts]
    members = [
        MemberSpec(widths=tuple(cfg.widths), init=cfg.init, seed=seed, lr=cfg.lr, weight_decay=cfg.weight_decay)
        for cfg in task.configs
        for seed in seeds
    ]
    device = _resolve_device(task.device)
    data = training_data.on(device)
    X_train = data.X_train
    # LSUV needs a batch of real data; the first 512 training rows (a fixed, seed-free choice).
    init_data = X_train[:512]
    stack = MLPStack(
        data.n_features, data.n_outputs, members, activation=first.activation, device=device, init_data=init_data
    )

    callbacks: list[Callable[..., Any]] = []
    pruned_at: dict[int, int] = {}
    callback_every = 0
    if task.halving and len(task.configs) > 1:
        rungs = halving_rungs(first.max_epochs, eta=task.halving_eta)
        halving_cb, pruned_at = _halving_callback(task.configs, task.restarts, task.halving_eta, rungs)
        callbacks.append(halving_cb)
        # Rungs are first * eta^k epochs: calling back every ``first`` epochs reaches each one.
        callback_every = math.gcd(*rungs) if rungs else 0
    recorder = None
    if task.diagnose_every > 0:
        from justenough.diagnose import DiagnosticsRecorder

        # Wide layers' symmetry is measured on a sample of units drawn from the study seed.
        recorder = DiagnosticsRecorder(data.X_val, every=task.diagnose_every, seed=task.study_seed)
        callbacks.append(recorder)
        # The trainer calls back every ``callback_every`` epochs (the gcd of what halving and the
        # recorder need); each keeps only its own epochs.
        callback_every = math.gcd(callback_every, task.diagnose_every) if callback_every else task.diagnose_every

    def callback(epoch: int, stk: Any, state: Any) -> list[int]:
        stop: list[int] = []
        for cb in callbacks:
            out = cb(epoch, stk, state)
            if out:
                stop.extend(out)
        return stop

    settings = TrainSettings(
        optimizer=first.optimizer,
        batch_size=first.batch_size,
        max_epochs=first.max_epochs,
        patience=first.patience,
        monitor=first.monitor,
        schedule=first.schedule,
        precision=task.precision,
        callback_every=callback_every,
    )
    t0 = time.perf_counter()
    report = None
    if on_epoch is not None:
        task_id, max_epochs = task.task_id, first.max_epochs

        def report(epoch: int) -> None:
            on_epoch(task_id, epoch, max_epochs)

    result = train(
        stack, data, settings, callback=callback if callbacks else None, on_epoch=report, memory_budget=task.memory_budget,
        callback_bytes=recorder.member_bytes(stack.sizes) if recorder is not None else 0,
    )
    wall = time.perf_counter() - t0

    R = len(task.restarts)
    out: list[RestartResult] = []
    for i, member in enumerate(result.members):
        c, r = divmod(i, R)
        cfg = task.configs[c]
        diags = recorder.records_for(i) if recorder is not None else []
        out.append(
            RestartResult(
                key=cfg.key,
                restart=task.restarts[r],
                seed=seeds[r],
                val_score=float(member.val_score),
                val_loss=float(member.val_loss),
                train_loss=float(member.train_loss),
                best_epoch=int(member.best_epoch),
                epochs_run=int(member.epochs_run),
                diverged=bool(member.diverged),
                stopped_by="pruned" if c in pruned_at else str(member.stopped_by),
                train_time=float(member.train_time) if member.train_time is not None else wall / len(result.members),
                pruned_rung=pruned_at.get(c),
                metrics={k: float(v) for k, v in member.metrics.items()},
                history={k: [float(x) for x in v] for k, v in member.history.items()},
                diagnostics=diags,
                state={k: v.detach().cpu().numpy().copy() for k, v in member.state.items()},
            )
        )
    return out


def _resolve_device(device: str) -> str:
    """``auto`` means CUDA when available, else CPU."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
