"""Periodic numeric embeddings: each input feature also enters the network as K cosines.

For input feature ``j`` (of ``F``) a member holds K trainable frequencies ``c[j, k]`` and phases
``phi[j, k]``; the first layer sees the raw features and their periodic features::

    u[b, j, k] = 2 pi c[j, k] x[b, j] + phi[j, k]                  # [B, F, K]
    v[b, j, k] = cos(u[b, j, k])
    h0[b]      = concat(x[b, :], v[b, 0, :], v[b, 1, :], ..., v[b, F-1, :])   # [B, F + F K]

(feature-major: column ``F + j K + k`` is ``v[j, k]``). This is the periodic embedding of
Gorishniy, Rubachev & Babenko (2022), "On Embeddings for Numerical Features in Tabular Deep
Learning", in the form RealMLP (Holzmueller et al. 2024) calls PBLD: a cosine *with a phase*
("periodic, bias") instead of a (cos, sin) pair (a cosine with a free phase spans the same
functions: ``a cos(u) + b sin(u) = r cos(u - atan2(b, a))``), and the raw features kept beside it
(the "densenet" part), so a network can always fall back on the plain inputs. The embedding's
own per-feature linear layer of PLR is left out: the network's first layer mixes the features.

Defaults: ``K = 8`` frequencies per feature, ``c ~ N(0, sigma^2)`` with ``sigma = 0.1``
(RealMLP-TD's ``plr_sigma``; rtdl's PLR-lite starts at 0.01 but follows it with its own linear
layer, which this leaves out), ``phi ~ U(-pi, pi)``. On standardized inputs a frequency of 0.1
is a period of 10 standard deviations: the features start smooth and training sharpens them.

The backward pass (the trainer's, written out): with ``dv = dL/dv`` (the first layer's input
gradient ``dh0 = dz0 W0^T`` past its first F columns)::

    dL/dphi[j, k] = sum_b -sin(u[b, j, k]) dv[b, j, k]
    dL/dc[j, k]   = sum_b -sin(u[b, j, k]) dv[b, j, k] 2 pi x[b, j]
"""

from __future__ import annotations

import math

import torch
from torch import nn

from justenough.network_size import PERIODIC_FREQUENCIES

__all__ = [
    "PERIODIC_SIGMA",
    "PeriodicEmbedding",
    "draw_periodic",
    "periodic_backward",
    "periodic_forward",
]

PERIODIC_SIGMA = 0.1  # the standard deviation of the initial frequencies


def draw_periodic(n_in: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A member's initial frequencies and phases, each ``[n_in, K]`` float32 on the CPU, from its generator."""
    c = torch.randn(n_in, PERIODIC_FREQUENCIES, generator=generator, dtype=torch.float32) * PERIODIC_SIGMA
    u = torch.rand(n_in, PERIODIC_FREQUENCIES, generator=generator, dtype=torch.float32)  # U[0, 1)
    return c, (u * 2.0 - 1.0) * math.pi


def periodic_forward(x: torch.Tensor, c: torch.Tensor, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` ``[..., B, F]``, ``c`` and ``phi`` ``[..., F, K]`` (one set per member, or one set):
    ``(h0 [..., B, F + F K], u [..., B, F, K])``; ``u`` is what the backward pass needs."""
    u = torch.addcmul(phi.unsqueeze(-3), x.unsqueeze(-1), c.unsqueeze(-3), value=2.0 * math.pi)  # [..., B, F, K]
    v = torch.cos(u).flatten(-2)  # [..., B, F K]
    return torch.cat([x, v], dim=-1), u


def periodic_backward(dh0: torch.Tensor, x: torch.Tensor, u: torch.Tensor, dc: torch.Tensor, dphi: torch.Tensor) -> None:
    """Write the frequencies' and phases' gradients into ``dc`` and ``dphi`` (``[M, F, K]`` each).

    ``dh0`` ``[M, B, F + F K]``: the loss's gradient with respect to the first layer's input;
    ``x`` ``[M, B, F]`` and ``u`` ``[M, B, F, K]`` from ``periodic_forward``.
    """
    M, B, F, K = u.shape
    t = torch.sin(u).mul_(dh0[..., F:].reshape(M, B, F, K)).neg_()  # -sin(u) dv  [M, B, F, K]
    torch.sum(t, 1, out=dphi)  # [M, F, K]
    torch.sum(t.mul_(x.unsqueeze(-1)), 1, out=dc)  # sum_b -sin(u) dv x  [M, F, K]
    dc.mul_(2.0 * math.pi)


class PeriodicEmbedding(nn.Module):
    """One network's periodic embedding as a module: ``[..., F]`` -> ``[..., F + F K]``.

    ``frequencies`` and ``phases``: ``[F, K]`` parameters. It is the first module of an embedded
    member (``MLPStack.member(i)``), so the saved, exported and plain-PyTorch forms of a member
    compute what the stack computes.
    """

    def __init__(self, n_in: int, n_frequencies: int = PERIODIC_FREQUENCIES, *, device: str | torch.device | None = None) -> None:
        super().__init__()
        self.n_in, self.n_frequencies = int(n_in), int(n_frequencies)
        self.frequencies = nn.Parameter(torch.zeros(self.n_in, self.n_frequencies, device=device))  # [F, K]
        self.phases = nn.Parameter(torch.zeros(self.n_in, self.n_frequencies, device=device))  # [F, K]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return periodic_forward(x, self.frequencies, self.phases)[0]

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_frequencies={self.n_frequencies}"
