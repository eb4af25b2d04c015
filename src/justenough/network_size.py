"""The size of a plain MLP from its layer sizes ``[n_in, w1, ..., wL, n_out]``: parameters and FLOPs;
and of the periodic embedding in front of it (``nets/periodic.py``), which widens the first layer.

Torch-free, so that a ``Config`` (space/config.py) counts its network without loading torch; the
stack (nets/stack.py) counts each member at its real widths with the same two functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from justenough.vocab import Embed

__all__ = [
    "PERIODIC_FREQUENCIES",
    "parameter_count",
    "flop_count",
    "first_layer_inputs",
    "embedding_parameter_count",
    "embedding_flop_count",
]

PERIODIC_FREQUENCIES = 8  # K: the periodic embedding's cosines per input feature (nets/periodic.py)


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights plus biases: ``fan_in * fan_out + fan_out`` summed over the layers."""
    return sum(int(fi) * int(fo) + int(fo) for fi, fo in zip(sizes[:-1], sizes[1:]))


def flop_count(sizes: Sequence[int]) -> int:
    """Floating-point operations of one forward pass per sample: 2 x multiply-adds."""
    return sum(2 * int(fi) * int(fo) for fi, fo in zip(sizes[:-1], sizes[1:]))


def first_layer_inputs(n_in: int, embed: str) -> int:
    """The first layer's fan-in for ``n_in`` features: ``n_in``, or ``n_in (1 + K)`` with the
    periodic embedding (the raw features and K cosines of each)."""
    return int(n_in) * (1 + PERIODIC_FREQUENCIES) if embed == Embed.PERIODIC else int(n_in)


def embedding_parameter_count(n_in: int, embed: str) -> int:
    """The embedding's own parameters: a frequency and a phase per (feature, cosine), ``2 n_in K``."""
    return 2 * int(n_in) * PERIODIC_FREQUENCIES if embed == Embed.PERIODIC else 0


def embedding_flop_count(n_in: int, embed: str) -> int:
    """The embedding's operations per sample: per (feature, cosine) a multiply-add (2) and a cosine (1)."""
    return 3 * int(n_in) * PERIODIC_FREQUENCIES if embed == Embed.PERIODIC else 0
