"""The robust and quantile scalings of numeric columns (``data/numeric_scaling.py``) as torch ops,
for ``RawInputNetwork``: an exported ONNX or TorchScript file scales raw columns itself.

Only ops that ONNX (onnxruntime, in float64) and TorchScript carry: comparisons, sums, gathers,
``where``, ``log`` and ``sqrt`` (onnxruntime has no float64 ``erf``, so no refining step). The math runs in float64 (the training quantiles of a column
such as an income lie close together relative to their size, and ``1 - 1e-7`` is not a float32
number), then the scaled features are float32 as the network takes them.

- robust: ``z = (x - center) / scale``, ``f(z) = z / sqrt(1 + (z/3)^2)`` (``robust_scaling.py``).
- quantile: ``p`` as ``quantile_scaling.py`` defines it, by counting the training quantiles at or
  below (and at or above) each value, which is where ``np.interp`` looks; then ``Phi^-1(p)``:
  ``normal_ppf``, Acklam's rational approximation: relative error below 1.15e-9, far below the
  float32 features' rounding (6e-8).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from justenough.data.quantile_scaling import BOUNDS_THRESHOLD, normal_clip
from justenough.data.robust_scaling import SMOOTH_CLIP_BOUND
from justenough.vocab import NumericScaling

__all__ = ["RawScaling", "normal_ppf", "smooth_clip_ops"]

# Acklam's coefficients for Phi^-1: the central region |p - 0.5| <= 0.5 - _P_LOW and the tails.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425
_Z_LIMIT = 1e150  # as robust_scaling: (z / 3)^2 stays finite


def _const(value: float) -> torch.Tensor:
    """A float64 constant []: the ONNX exporter writes a bare Python float as float32, which would
    round the coefficients and move the bounds (``1 - 1e-7`` is no float32 number)."""
    return torch.tensor(value, dtype=torch.float64)


def _poly(coefficients: tuple[float, ...], t: torch.Tensor) -> torch.Tensor:
    """Horner: ``c0 t^(n-1) + ... + c_(n-1)``."""
    out = torch.zeros_like(t) + _const(coefficients[0])
    for c in coefficients[1:]:
        out = out * t + _const(c)
    return out


def normal_ppf(p: torch.Tensor) -> torch.Tensor:
    """The standard normal quantile of ``p`` (float64, every entry strictly inside (0, 1))."""
    q = p - 0.5
    r = q * q
    central = _poly(_A, r) * q / (_poly(_B, r) * r + 1.0)
    tail_p = torch.minimum(p, 1.0 - p)  # the tail's own probability, from the nearer end
    t = torch.sqrt(-2.0 * torch.log(tail_p))
    tail = _poly(_C, t) / (_poly(_D, t) * t + 1.0)  # the lower tail's value: negative
    tail = torch.where(p > 0.5, -tail, tail)
    return torch.where(tail_p < _const(_P_LOW), tail, central)


def smooth_clip_ops(z: torch.Tensor) -> torch.Tensor:
    """``z / sqrt(1 + (z/3)^2)``, as ``robust_scaling.smooth_clip``."""
    z = torch.minimum(torch.maximum(z, _const(-_Z_LIMIT)), _const(_Z_LIMIT))
    return z / torch.sqrt(1.0 + (z / SMOOTH_CLIP_BOUND) ** 2)


class RawScaling(nn.Module):
    """Imputed raw columns ``[B, F]`` (float32) -> the scaled features ``[B, F]`` (float32), for
    ``numeric`` robust or quantile (the standard scaling stays in ``RawInputNetwork`` as it was)."""

    center: torch.Tensor  # robust: [F] float64
    scale: torch.Tensor
    quantiles: torch.Tensor  # quantile: [F, Q] float64
    references: torch.Tensor  # [Q]

    def __init__(self, numeric: NumericScaling, specs: list[dict[str, Any]]) -> None:
        super().__init__()
        self.numeric = NumericScaling(numeric)
        if self.numeric == NumericScaling.ROBUST:
            self.register_buffer("center", torch.tensor([s["center"] for s in specs], dtype=torch.float64))  # [F]
            self.register_buffer("scale", torch.tensor([s["scale"] for s in specs], dtype=torch.float64))  # [F]
        elif self.numeric == NumericScaling.QUANTILE:
            q = torch.tensor([s["quantiles"] for s in specs], dtype=torch.float64)  # [F, Q]: one Q per fit
            self.register_buffer("quantiles", q)
            self.register_buffer("references", torch.linspace(0.0, 1.0, q.shape[1], dtype=torch.float64))  # [Q]
            low, high = normal_clip()
            self.low, self.high = low, high
        else:
            raise ValueError(f"RawScaling takes robust or quantile, got {numeric!r}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)  # [B, F]
        if self.numeric == NumericScaling.ROBUST:
            return smooth_clip_ops((x - self.center) / self.scale).to(torch.float32)
        return self._quantile(x).to(torch.float32)

    def _quantile(self, x: torch.Tensor) -> torch.Tensor:
        q, r = self.quantiles, self.references  # [F, Q], [Q]
        n_q = q.shape[1]
        xe = x.unsqueeze(-1)  # [B, F, 1]
        qb = q.unsqueeze(0).expand(x.shape[0], -1, -1)  # [B, F, Q]
        # From below: j = the last quantile <= x (np.interp's interval [q_j, q_j+1]).
        j = (qb <= xe).sum(-1) - 1  # [B, F] in -1..Q-1
        j0 = torch.clamp(j, 0, n_q - 2)
        j1 = j0 + 1
        p_below = self._lerp(x, qb, r, j0, j1, toward_upper=True)
        # From above: i = the first quantile >= x (np.interp on the reversed, negated quantiles).
        i = n_q - (qb >= xe).sum(-1)  # [B, F] in 0..Q
        i1 = torch.clamp(i, 1, n_q - 1)
        i0 = i1 - 1
        p_above = self._lerp(x, qb, r, i0, i1, toward_upper=False)
        p = 0.5 * (p_below + p_above)  # [B, F]
        threshold = _const(BOUNDS_THRESHOLD)
        p = torch.where(x + threshold > q[:, -1], torch.ones_like(p), p)
        p = torch.where(x - threshold < q[:, 0], torch.zeros_like(p), p)
        # Clipping p before Phi^-1 is clipping after it (Phi^-1 increases), and keeps log(0) out.
        eps = BOUNDS_THRESHOLD - 2.220446049250313e-16  # np.spacing(1)
        p = torch.minimum(torch.maximum(p, _const(eps)), _const(1.0 - eps))
        return torch.minimum(torch.maximum(normal_ppf(p), _const(self.low)), _const(self.high))

    @staticmethod
    def _lerp(x: torch.Tensor, qb: torch.Tensor, r: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
              toward_upper: bool) -> torch.Tensor:
        """``r`` interpolated linearly at ``x`` between the quantiles ``lo`` and ``hi`` ``[B, F]``, from
        ``lo``'s end (``toward_upper``) or ``hi``'s; equal quantiles give that end's ``r``."""
        q_lo = torch.gather(qb, 2, lo.unsqueeze(-1)).squeeze(-1)  # [B, F]
        q_hi = torch.gather(qb, 2, hi.unsqueeze(-1)).squeeze(-1)
        r_lo, r_hi = r[lo], r[hi]  # [B, F]
        gap = q_hi - q_lo
        safe = torch.where(gap > 0, gap, torch.ones_like(gap))
        slope = torch.where(gap > 0, (r_hi - r_lo) / safe, torch.zeros_like(gap))
        if toward_upper:
            return r_lo + slope * (x - q_lo)
        return r_hi - slope * (q_hi - x)
