"""A network that takes raw rows: the fitted preprocessing and target decoding as torch ops.

``export --inputs raw`` wraps the chosen network in ``RawInputNetwork`` so that the exported
ONNX or TorchScript file needs nothing from justenough: it takes the raw numeric columns and
returns logits (classification) or predictions in the target's own units (regression).

Only numeric columns can be expressed this way: a missing value (NaN) becomes the training
median, then ``(x - mean) / std``, exactly as ``Preprocessor.transform`` does (there in float64,
here in float32: the features agree to about 1e-7 relative); with ``numeric`` robust or quantile,
that scaling instead (``raw_scaling.py``, in float64). Text columns are one-hot encoded
from strings, which a float tensor cannot carry, so a model with any text column is refused
with a clear message; its network can still be exported on preprocessed features.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from justenough.errors import ArtifactError
from justenough.nets.raw_scaling import RawScaling
from justenough.vocab import NumericScaling, Task

__all__ = ["RawInputNetwork", "raw_input_columns"]


def raw_input_columns(preprocessor: Any) -> list[str]:
    """The raw columns a raw-input network takes, in order; ``ArtifactError`` if any is text."""
    text = [spec["name"] for spec in preprocessor.columns if spec["kind"] != "numeric"]
    if text:
        shown = ", ".join(repr(n) for n in text[:5]) + (", …" if len(text) > 5 else "")
        raise ArtifactError(
            f"the model one-hot encodes text column(s) {shown}, which a float input cannot carry: "
            "export with --inputs preprocessed (the default) and encode rows with justenough.load(RUN).transform"
        )
    return [spec["name"] for spec in preprocessor.columns]


class RawInputNetwork(nn.Module):
    """Raw numeric columns ``[B, n_columns]`` -> the network's output, preprocessing included.

    Classification: logits ``[B, K]`` (argmax is the class index). Regression: ``[B, 1]`` in the
    target's units (the standardized output times the target's std, plus its mean).
    """

    median: torch.Tensor  # [F] buffers, float32
    mean: torch.Tensor
    std: torch.Tensor
    target_scale: torch.Tensor  # []
    target_shift: torch.Tensor

    def __init__(self, network: nn.Module, preprocessor: Any, target_encoder: Any, task: str) -> None:
        super().__init__()
        self.columns = raw_input_columns(preprocessor)
        specs = preprocessor.columns
        self.network = network
        self.register_buffer("median", torch.tensor([s["median"] for s in specs], dtype=torch.float32))  # [F]
        numeric = NumericScaling(getattr(preprocessor, "numeric", NumericScaling.STANDARD))
        # standard: the mean and std as buffers, as always; robust, quantile: their own module.
        self.scaling = None if numeric == NumericScaling.STANDARD else RawScaling(numeric, specs)
        if self.scaling is None:
            self.register_buffer("mean", torch.tensor([s["mean"] for s in specs], dtype=torch.float32))  # [F]
            self.register_buffer("std", torch.tensor([s["std"] for s in specs], dtype=torch.float32))  # [F]
        self.regression = task == Task.REGRESSION
        scale, shift = (target_encoder.std, target_encoder.mean) if self.regression else (1.0, 0.0)
        self.register_buffer("target_scale", torch.tensor(float(scale), dtype=torch.float32))  # []
        self.register_buffer("target_shift", torch.tensor(float(shift), dtype=torch.float32))  # []

    @property
    def n_in(self) -> int:
        return len(self.columns)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.where(torch.isnan(x), self.median, x)  # [B, F]: missing -> the training median
        # [B, F]: scaled as in training
        z = (x - self.mean) / self.std if self.scaling is None else self.scaling(x)
        out = self.network(z)  # [B, K] logits, or [B, 1] standardized target
        if self.regression:
            out = out * self.target_scale + self.target_shift  # [B, 1] in the target's units
        return out
