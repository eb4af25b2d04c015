"""The size of a plain MLP from its layer sizes ``[n_in, w1, ..., wL, n_out]``: parameters and FLOPs.

Torch-free, so that a ``Config`` (space/config.py) counts its network without loading torch; the
stack (nets/stack.py) counts each member at its real widths with the same two functions.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["parameter_count", "flop_count"]


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights plus biases: ``fan_in * fan_out + fan_out`` summed over the layers."""
    return sum(int(fi) * int(fo) + int(fo) for fi, fo in zip(sizes[:-1], sizes[1:]))


def flop_count(sizes: Sequence[int]) -> int:
    """Floating-point operations of one forward pass per sample: 2 x multiply-adds."""
    return sum(2 * int(fi) * int(fo) for fi, fo in zip(sizes[:-1], sizes[1:]))
