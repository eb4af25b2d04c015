"""The one activation table: per activation, its function, module, derivative, default init and gain.

The stack's forward pass calls ``function``; ``member(i)`` and the saved models hold ``module``
(leaky slope 0.01 and exact (erf) GELU, the torch module defaults, so a member computes what the
stack computes); the hand-written backward pass (train/backward.py) calls ``backward``; ``"auto"``
init resolves to ``default_init``; the init schemes' gain is ``torch.nn.init.calculate_gain(*gain)``.
The names and their aliases are ``vocab.Activation`` and ``vocab.ACTIVATION_ALIASES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from justenough.errors import ConfigError
from justenough.vocab import Activation, parse_activation

__all__ = [
    "ActivationParts",
    "ACTIVATIONS",
    "ACTIVATION_FUNCTIONS",
    "ACTIVATION_MODULES",
    "AUTO_INIT",
    "activation_name",
    "activation_module",
]

# (grad, z, act(z)) -> grad times d act / d z, elementwise.
Backward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@dataclass(frozen=True)
class ActivationParts:
    """One activation's parts. ``backward``: d act / d z times the incoming gradient, the same ATen
    kernels autograd calls, so the hand-written gradients equal autograd's. ``default_init``: the
    scheme ``init="auto"`` picks (He et al. 2015 for the ReLU family, Glorot & Bengio 2010 for
    saturating and linear units, LeCun for self-normalizing SELU). ``gain``: the arguments of
    ``torch.nn.init.calculate_gain`` (GELU, which torch does not list, takes ReLU's sqrt(2))."""

    function: Callable[[torch.Tensor], torch.Tensor]
    module: type[nn.Module]
    backward: Backward
    default_init: str
    gain: tuple[str, float | None]


# Keyed by the Activation members, which are their names: ACTIVATIONS["relu"] finds Activation.RELU's parts.
ACTIVATIONS: dict[str, ActivationParts] = {
    Activation.RELU: ActivationParts(
        torch.relu, nn.ReLU, lambda g, z, a: torch.ops.aten.threshold_backward(g, a, 0), "he_normal", ("relu", None)
    ),
    Activation.TANH: ActivationParts(
        torch.tanh, nn.Tanh, lambda g, z, a: torch.ops.aten.tanh_backward(g, a), "glorot_uniform", ("tanh", None)
    ),
    Activation.SIGMOID: ActivationParts(
        torch.sigmoid, nn.Sigmoid, lambda g, z, a: torch.ops.aten.sigmoid_backward(g, a), "glorot_uniform", ("sigmoid", None)
    ),
    Activation.GELU: ActivationParts(
        F.gelu, nn.GELU, lambda g, z, a: torch.ops.aten.gelu_backward(g, z, approximate="none"), "he_normal", ("relu", None)
    ),
    Activation.LEAKY_RELU: ActivationParts(
        lambda z: F.leaky_relu(z, 0.01),
        nn.LeakyReLU,  # negative slope 0.01, torch's default and the stack's
        lambda g, z, a: torch.ops.aten.leaky_relu_backward(g, z, 0.01, False),
        "he_normal",
        ("leaky_relu", 0.01),
    ),
    Activation.SELU: ActivationParts(
        F.selu,
        nn.SELU,
        lambda g, z, a: torch.ops.aten.elu_backward(g, _SELU_ALPHA, _SELU_SCALE, 1.0, False, z),
        "lecun_normal",
        ("selu", None),
    ),
    Activation.IDENTITY: ActivationParts(lambda z: z, nn.Identity, lambda g, z, a: g, "glorot_uniform", ("linear", None)),
}

# Views of the table by one part, for the code that needs only that part; keyed by plain names,
# so that a name read back from them (a module's activation) prints as the text it is.
ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {str(a): p.function for a, p in ACTIVATIONS.items()}
ACTIVATION_MODULES: dict[str, type[nn.Module]] = {str(a): p.module for a, p in ACTIVATIONS.items()}
AUTO_INIT: dict[str, str] = {str(a): p.default_init for a, p in ACTIVATIONS.items()}


def activation_name(name: str) -> Activation:
    """The activation ``name`` or one of its aliases names; ``ConfigError`` listing them if none."""
    found = parse_activation(name)
    if found is None:
        raise ConfigError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")
    return found


def activation_module(name: str) -> nn.Module:
    """A fresh ``torch.nn`` module for one of the stack's activation names."""
    return ACTIVATIONS[activation_name(name)].module()
