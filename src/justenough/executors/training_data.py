"""The data a stack task trains on: the train and validation splits, never the sealed test split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TrainingData", "TensorData", "deal_folds"]


def deal_folds(y: np.ndarray, folds: int, seed: int, task: str) -> np.ndarray:
    """Each row's fold ``[N]`` in ``0..folds-1``: rows in a seeded random order, dealt round-robin
    (classification: class by class, continuing the deal, so each fold holds every class's share)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xF01D]))
    order = rng.permutation(len(y))
    if task == "classification":
        order = order[np.argsort(np.asarray(y)[order], kind="stable")]  # by class, random within a class
    fold = np.empty(len(y), dtype=np.int64)
    fold[order] = np.arange(len(y)) % folds
    return fold


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
    # Cross-validation (None: the single train/validation split). The train and validation rows
    # pooled, X_train and X_val both hold them, and fold_of_row [N] says which of K folds
    # validates each row: every config x restart trains K members, member f on the rows outside
    # fold f, validated on fold f (``task.py``).
    fold_of_row: np.ndarray | None = None

    @classmethod
    def from_prepared(cls, prepared: Any, folds: int = 1, seed: int = 0) -> "TrainingData":
        """The prepared splits; with ``folds`` K > 1 the train and validation rows pooled and dealt
        into K folds by a permutation drawn from ``seed`` (fold sizes differ by at most one row;
        classification: dealt class by class, so every fold holds each class's share)."""
        X_train, y_train = prepared.X_train.detach().cpu().numpy(), prepared.y_train.detach().cpu().numpy()
        X_val, y_val = prepared.X_val.detach().cpu().numpy(), prepared.y_val.detach().cpu().numpy()
        common = {"task": prepared.task, "n_features": int(prepared.n_features), "n_outputs": int(prepared.n_outputs)}
        if folds <= 1:
            return cls(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val, **common)
        X, y = np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val])
        return cls(X_train=X, y_train=y, X_val=X, y_val=y, fold_of_row=deal_folds(y, folds, seed, prepared.task),
                   **common)

    @property
    def folds(self) -> int:
        """K, or 1 for the single split."""
        return 1 if self.fold_of_row is None else int(self.fold_of_row.max()) + 1

    def on(self, device: str) -> "TensorData":
        import torch

        return TensorData(
            X_train=torch.from_numpy(self.X_train).to(device),
            y_train=torch.from_numpy(self.y_train).to(device),
            X_val=torch.from_numpy(self.X_val).to(device),
            y_val=torch.from_numpy(self.y_val).to(device),
            task=self.task,
            n_features=self.n_features,
            n_outputs=self.n_outputs,
        )


@dataclass(frozen=True)
class TensorData:
    """``TrainingData`` as tensors on one device: the object ``train()`` consumes."""

    X_train: Any
    y_train: Any
    X_val: Any
    y_val: Any
    task: str
    n_features: int
    n_outputs: int
    member_rows: Any = None  # [M, n] with folds as members (train/loop.py), set per stack task
    val_mask: Any = None  # [M, N_val]
