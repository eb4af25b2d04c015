"""Prediction from a fitted estimator's ``coefs_`` and ``intercepts_``: NumPy arrays, run on the
CPU in float64 with the stack's own activation functions.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from justenough.nets.activations import ACTIVATION_FUNCTIONS

__all__ = ["forward", "state_to_layers", "FORWARD"]

# Forward functions for prediction from ``coefs_`` (CPU, float64): the stack's own, so that
# prediction computes what the trained ``MLPStack.member(i)`` computes (tests check it).
FORWARD: dict[str, Callable[[torch.Tensor], torch.Tensor]] = dict(ACTIVATION_FUNCTIONS)


def state_to_layers(state: dict[str, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A ``member(i)`` state dict ({"0.weight": [out, in], "0.bias": [out], ...}) -> coefs, intercepts.

    coefs are ``[fan_in, fan_out]`` per layer, as in scikit-learn.
    """
    layer_ids = sorted({int(k.split(".")[0]) for k in state if k.endswith(".weight")})
    coefs = [np.ascontiguousarray(np.asarray(_to_numpy(state[f"{i}.weight"]), dtype=np.float32).T) for i in layer_ids]
    intercepts = [np.asarray(_to_numpy(state[f"{i}.bias"]), dtype=np.float32).copy() for i in layer_ids]
    return coefs, intercepts


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@torch.no_grad()
def forward(X: np.ndarray, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], activation: str) -> np.ndarray:
    """``X [N, F]`` -> outputs ``[N, n_out]``: hidden layers with ``activation``, linear output."""
    act = FORWARD[activation]
    # float64: a row's prediction must not depend on the other rows of the batch (sklearn's
    # check_methods_subset_invariance); float32 matmul blocking changes the last bits.
    h = torch.tensor(np.asarray(X, dtype=np.float64))  # a copy: X may be a read-only memmap
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        W64 = torch.tensor(np.asarray(W, dtype=np.float64))
        b64 = torch.tensor(np.asarray(b, dtype=np.float64))
        h = torch.addmm(b64, h, W64)  # [N, fan_out]
        if i < last:
            h = act(h)
    return h.numpy()
