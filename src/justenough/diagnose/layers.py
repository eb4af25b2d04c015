"""The stack, seen layer by layer: each layer's weights, biases and real units as plain tensors.

Layers are numbered from 1 (the first hidden layer); the output layer is ``depth + 1``.
Only real units count: a member narrower than the stack's padded width is measured on its own
units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from justenough.errors import ConfigError
from justenough.nets.activations import ACTIVATION_FUNCTIONS

__all__ = ["LayerView", "stack_layers", "stack_activation", "activation_fn"]


@dataclass(frozen=True)
class LayerView:
    """One layer of a stack as plain tensors (detached, on the stack's device).

    weight: [M, fan_in, fan_out]; bias: [M, fan_out]; mask: bool [M, fan_out], True for the
    members' real units (all True without padding).
    """

    weight: torch.Tensor
    bias: torch.Tensor
    mask: torch.Tensor


def _param_list(stack: Any, name: str) -> list[torch.Tensor]:
    params = getattr(stack, name, None)
    if params is None:
        raise ConfigError(f"diagnose needs an MLPStack with `{name}` (a list of stacked tensors); got {type(stack).__name__}")
    return list(params)


def stack_layers(stack: Any) -> list[LayerView]:
    """The stack's layers (hidden layers, then the output layer) as ``LayerView``s."""
    weights = _param_list(stack, "weights")
    biases = _param_list(stack, "biases")
    views = []
    for l, (w, b) in enumerate(zip(weights, biases)):
        if hasattr(stack, "unit_mask"):
            mask = stack.unit_mask(l).to(w.device) > 0  # [M, fan_out]
        else:
            mask = torch.ones(w.shape[0], w.shape[-1], dtype=torch.bool, device=w.device)
        views.append(LayerView(weight=w.detach(), bias=b.detach(), mask=mask))
    return views


def activation_fn(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The elementwise function of activation ``name``; an unknown name is a ConfigError that says where."""
    if name not in ACTIVATION_FUNCTIONS:
        raise ConfigError(f"unknown activation {name!r} in diagnose: use one of {', '.join(ACTIVATION_FUNCTIONS)}")
    return ACTIVATION_FUNCTIONS[name]


def stack_activation(stack: Any) -> str:
    act = getattr(stack, "activation", "relu")
    return act if isinstance(act, str) else str(getattr(act, "name", act))
