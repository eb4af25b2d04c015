"""The training settings every member of a stack shares, validated when they are made."""

from __future__ import annotations

from dataclasses import dataclass

from justenough.errors import ConfigError
from justenough.vocab import Monitor, Optimizer, Precision, Schedule

__all__ = ["TrainSettings"]


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
    by bfloat16's rounding (about 3 significant digits), so the stack-equals-loop invariant
    (invariant 1, docs/architecture.md) is a float32 one. ``callback_every=k`` calls the callback
    after every k-th epoch (0: only at epoch 0, before training). ``restore_best=False`` leaves the
    last weights in the stack and results.
    ``memory_fraction`` of the free RAM (or free GPU memory) is the default memory budget.
    ``schedule="cosine"`` decays every member's learning rate from its own ``lr`` to 0 over
    ``max_epochs`` (epoch e trains at ``lr * (1 + cos(pi * (e - 1) / max_epochs)) / 2``), as
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=max_epochs)`` stepped once per epoch
    does; ``"warmup_cosine"`` first rises linearly over ``warmup_epochs(max_epochs)`` epochs
    (``train/optimizer.py`` ``lr_factor``), then decays the same way over the rest.
    ``label_smoothing=eps`` (classification only, in ``[0, 1)``) trains on the target
    ``(1 - eps) * onehot + eps / C`` (``F.cross_entropy(..., label_smoothing=eps)``); the
    training loss recorded is that smoothed loss, while the validation loss that early stopping
    and the best weights follow stays the plain cross-entropy, so ``val_loss`` means one thing
    whatever the smoothing.
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
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        opt = str(self.optimizer).lower()
        if opt not in tuple(Optimizer):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}: use one of {', '.join(Optimizer)}")
        object.__setattr__(self, "optimizer", opt)
        if not 0.0 <= float(self.momentum) < 1.0:
            raise ConfigError(f"momentum must lie in [0, 1), got {self.momentum}")
        if self.nesterov and (opt != Optimizer.SGD or self.momentum <= 0):
            raise ConfigError("nesterov=True needs optimizer='sgd' and momentum > 0")
        for name in ("batch_size", "max_epochs"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"TrainSettings.{name} must be a positive integer, got {v!r}")
        if self.patience is not None and (isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1):
            raise ConfigError(f"patience must be a positive integer or None (no early stopping), got {self.patience!r}")
        if not float(self.min_delta) >= 0:
            raise ConfigError(f"min_delta must be >= 0, got {self.min_delta}")
        if self.monitor not in tuple(Monitor):
            raise ConfigError(f"unknown monitor {self.monitor!r}: use one of {', '.join(Monitor)}")
        if self.schedule not in tuple(Schedule):
            raise ConfigError(f"unknown schedule {self.schedule!r}: use one of {', '.join(Schedule)}")
        if isinstance(self.label_smoothing, bool) or not 0.0 <= float(self.label_smoothing) < 1.0:
            raise ConfigError(f"label_smoothing must lie in [0, 1), got {self.label_smoothing!r}")
        object.__setattr__(self, "label_smoothing", float(self.label_smoothing))
        if self.precision not in tuple(Precision):
            raise ConfigError(f"unknown precision {self.precision!r}: use one of {', '.join(Precision)}")
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
