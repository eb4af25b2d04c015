"""The data a stack task trains on: the train and validation splits, never the sealed test split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TrainingData", "TensorData"]


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
