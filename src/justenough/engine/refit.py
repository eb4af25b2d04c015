"""Refitting the chosen config on train+validation, as GridSearchCV's ``refit`` does.

The search trains every restart on the training rows (60% of the data by default) and keeps its
best epoch by validation. Once the config is chosen, the validation rows have done their job, so
``search(refit=True)`` (``--refit``) trains the chosen config once more on train+validation: from
its best restart's seed (the same initial weights and data-order stream), with its training
settings (optimizer, lr, schedule over ``max_epochs``, batch size), for a fixed number of epochs,
the median best epoch of its restarts (there is no validation left to stop on), and keeps the
last weights. The sealed test split then scores that refitted model.

With ``ensemble=True`` every restart of the chosen config that did not diverge is refit, each
from its own seed and for the same number of epochs, as the members of one stack
(``refit_members``): one training run, not a loop over the restarts.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from justenough.space.config import Config, member_and_settings

if TYPE_CHECKING:  # torch is imported where a refit trains, not where refit_epochs counts its epochs
    import torch

__all__ = ["refit_epochs", "refit", "refit_members"]


@dataclass(frozen=True)
class _Rows:
    """What ``train.train`` reads: train+validation to fit on; the validation rows are still
    evaluated each epoch (the trainer's bookkeeping) but decide nothing."""

    X_train: torch.Tensor  # [N_train + N_val, F]
    y_train: torch.Tensor  # [N_train + N_val]
    X_val: torch.Tensor  # [N_val, F]
    y_val: torch.Tensor
    task: str
    n_outputs: int


def refit_epochs(restarts: pd.DataFrame) -> int:
    """The median best epoch of a config's restarts (diverged ones left out), at least 1.

    ``restarts``: the config's rows of the restarts table (``best_epoch``, ``diverged``).
    """
    ok = restarts[~restarts["diverged"].astype(bool)] if "diverged" in restarts.columns else restarts
    epochs = pd.to_numeric(ok["best_epoch"], errors="coerce").dropna().tolist()
    if not epochs:
        return 1
    return max(1, int(round(statistics.median(epochs))))


def refit(cfg: Config, seed: int, prepared: Any, epochs: int, *, device: str = "cpu", precision: str = "float32") -> dict[str, np.ndarray]:
    """Train ``cfg`` from member seed ``seed`` on train+validation for ``epochs`` epochs (at most
    ``cfg.max_epochs``); returns the last weights as the ``member(0)`` state dict (NumPy)."""
    (state,) = refit_members(cfg, [seed], prepared, epochs, device=device, precision=precision)
    return state


def refit_members(cfg: Config, seeds: list[int], prepared: Any, epochs: int, *, device: str = "cpu",
                  precision: str = "float32") -> list[dict[str, np.ndarray]]:
    """``refit`` for every member seed in ``seeds`` at once, as the members of one stack (the
    ensemble's restarts); returns their last weights in the order of ``seeds``."""
    import torch

    from justenough.nets.stack import MLPStack
    from justenough.train import train

    epochs = max(1, min(int(epochs), cfg.max_epochs))
    X_train, y_train = prepared.X_train.to(device), prepared.y_train.to(device)
    X_val, y_val = prepared.X_val.to(device), prepared.y_val.to(device)
    rows = _Rows(torch.cat([X_train, X_val]), torch.cat([y_train, y_val]), X_val, y_val, prepared.task, int(prepared.n_outputs))
    # max_epochs stays the config's own, so a schedule decays over the same horizon as in the
    # search; a callback ends training after ``epochs`` epochs, and the last weights are kept.
    specs = [member_and_settings(cfg, seed, patience=None, precision=precision, restore_best=False,
                                 callback_every=epochs) for seed in seeds]
    members, settings = [member for member, _ in specs], specs[0][1]
    # LSUV (a data-dependent init) sees the first 512 training rows, as in the search.
    stack = MLPStack(int(prepared.n_features), int(prepared.n_outputs), members, activation=cfg.activation,
                     device=device, init_data=X_train[:512], embed=cfg.embed)

    def stop_after(epoch: int, _stack: Any, _state: Any) -> list[int]:
        return list(range(len(members))) if epoch >= epochs else []

    result = train(stack, rows, settings, callback=stop_after)
    return [{k: v.detach().cpu().numpy() for k, v in m.state.items()} for m in result.members]
