"""Symmetry and signal diagnostics for every model of a stack, vectorized over members.

Why these numbers: units of a layer that start identical receive identical gradients and stay
identical, so a layer of 64 units is then worth one (its *effective width* is 1). Random initial
weights break that symmetry. Their scale decides whether the signal survives the depth: too
small and activations and gradients vanish layer by layer, too large and they saturate or
explode. The diagnostics below make both visible, per member and per layer:

- ``effective_width``: the number of distinct units. Two units are the same when their incoming
  vectors ``[w; b]`` are equal within a relative tolerance (``||v_i - v_j|| <= rtol * max(||v_i||,
  ||v_j||)``); the count is the number of connected components of that "same" relation.
- ``max_cosine``, ``mean_cosine``: the largest and the mean pairwise cosine similarity of the
  units' incoming vectors ``[w; b]`` (two all-zero units count as cosine 1: they are duplicates).
- ``dead_fraction``: the fraction of units that are zero (relu) or saturated (tanh ``|a| > 0.99``,
  sigmoid ``|2a - 1| > 0.99``) on every sample of the batch. For gelu, leaky_relu and selu a unit
  is dead when its pre-activation is ``<= 0`` on every sample (the flat side); identity units are
  never dead.
- ``preact_mean``, ``preact_std``, ``act_mean``, ``act_std``: the forward signal on the batch.
- ``grad_norm``: the Frobenius norm of the loss gradient with respect to the layer's weights
  (bias excluded). ``grad_ratio`` is the first hidden layer's over the output layer's; below
  ``1e-3`` the member is flagged ``vanishing``, above ``1e3`` ``exploding``.
- ``update_ratio``: ``||dW|| / ||W||`` for the weights of the layer, where ``dW`` is the last
  optimizer step of the epoch (the trainer's ``TrainState.update_norms``); ``diagnose`` gives it
  when passed ``previous``, the weights before an update. None at epoch 0.

Wide layers: the pairwise measures cost ``width^2`` memory, so above ``MAX_UNITS`` real units a
layer's symmetry is measured on a sample of ``MAX_UNITS`` units, drawn from a generator seeded
from the explicit ``seed`` (and the layer), never the global RNG: the same units at every epoch.
Each sampled unit is compared with *every* unit of the layer, block by block (memory bounded by
``_BLOCK_ELEMENTS`` pairs a member, whatever the width), which gives its number of duplicates ``c_i``
exactly; ``effective_width`` is then estimated as ``(n / s) * sum_i 1 / c_i`` over the ``s``
sampled units of ``n`` (unbiased; exact when every group of duplicates has the same size, as
for all-distinct or all-identical units). ``max_cosine`` is the largest cosine between a sampled
unit and any other unit; ``mean_cosine`` stays exact (it needs no matrix). ``symmetry_units``
records the sample size (None when every unit was used).

Layers are numbered from 1 (the first hidden layer); the output layer is ``depth + 1``.
Only real units count: a member narrower than the stack's padded width is measured on its own
units.

Two entry points: ``diagnose(stack, X, y)`` returns a DataFrame (one row per member and layer)
from one batch (one backward pass when ``y`` is given); ``DiagnosticsRecorder`` is a trainer
callback that records the same numbers at epoch 0 and every ``every`` epochs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pandas as pd
import torch
import torch.nn.functional as F

from justenough.errors import ConfigError, DataError

__all__ = [
    "COLUMNS",
    "VANISHING",
    "EXPLODING",
    "LayerView",
    "DiagnosticsRecorder",
    "diagnose",
    "effective_widths",
    "cosine_stats",
    "dead_fractions",
    "stack_layers",
    "MAX_UNITS",
    "diagnostics_bytes",
]

VANISHING = 1e-3  # grad_ratio below this: the gradient vanishes on its way to the first layer
EXPLODING = 1e3  # grad_ratio above this: it explodes
SATURATION = 0.99  # |a| above this (tanh; |2a - 1| for sigmoid) is saturated
DEFAULT_RTOL = 1e-6
MAX_ROWS = 256  # rows of the batch used by the recorder (a fixed prefix: cheap and seed-free)
# Above this many real units in a layer, its symmetry is measured on a sample of this many units
# (the exact pairwise measures need [M, n, n] matrices: 20,000 units would take 1.6 GB a member).
MAX_UNITS = 1024
# (sampled unit, unit) pairs compared at once per member: bounds the sampled path's temporaries
# (a few float32/float64 copies of [M, s, block]) to ~20 MB a member at any width.
_BLOCK_ELEMENTS = 1 << 19

# The per-layer keys of a record, in order (JSON-ready floats, None where not available).
COLUMNS: tuple[str, ...] = (
    "epoch",
    "layer",
    "effective_width",
    "dead_fraction",
    "act_mean",
    "act_std",
    "preact_mean",
    "preact_std",
    "grad_norm",
    "update_ratio",
    "max_cosine",
    "mean_cosine",
    "grad_ratio",
    "vanishing",
    "exploding",
    "symmetry_units",
)
_VALUES: tuple[str, ...] = COLUMNS[2:]  # the measured values, in the order of _measure's first axis


# ----------------------------------------------------------------------------------------------
# The stack, seen layer by layer
# ----------------------------------------------------------------------------------------------


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


def _activation_fn(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    fns: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "gelu": F.gelu,
        "leaky_relu": F.leaky_relu,
        "selu": F.selu,
        "identity": lambda z: z,
    }
    if name not in fns:
        raise ConfigError(f"unknown activation {name!r} in diagnose: use one of {', '.join(fns)}")
    return fns[name]


def _stack_activation(stack: Any) -> str:
    act = getattr(stack, "activation", "relu")
    return act if isinstance(act, str) else str(getattr(act, "name", act))


# ----------------------------------------------------------------------------------------------
# Symmetry: effective width and cosine similarity
# ----------------------------------------------------------------------------------------------


def _unit_vectors(view: LayerView) -> torch.Tensor:
    """Each unit's incoming vector [w; b]: [M, fan_out, fan_in + 1]."""
    return torch.cat([view.weight.transpose(1, 2), view.bias.unsqueeze(-1)], dim=-1)


def _gram(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Gram matrix [M, n, n] and squared norms [M, n] in float64.

    float32 inputs multiply exactly in float64, so ``|v_i|^2 + |v_j|^2 - 2 v_i.v_j`` is accurate to
    about ``d * 1e-16`` of the squared norms: far below the ``rtol^2 = 1e-12`` it is compared with.
    """
    v = vectors.double()
    G = torch.bmm(v, v.transpose(1, 2))  # [M, n, n]
    return G, torch.diagonal(G, dim1=1, dim2=2)  # [M, n, n], [M, n]


def _components(same: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Connected components among real units of the symmetric relation ``same`` [M, n, n]: int64 [M]."""
    M, n, _ = same.shape
    ids = torch.arange(n, device=same.device)
    if int(same.sum()) == int(mask.sum()):  # only the diagonal: every unit is its own component
        return mask.sum(dim=1)
    labels = ids.expand(M, n).clone()  # [M, n]
    big = torch.full((M, n, n), n, dtype=torch.long, device=same.device)
    for _ in range(n + 1):
        # Each unit takes the smallest label among its "same" neighbours, then labels jump to
        # their label's label; converges in O(log n) rounds for the usual cluster shapes.
        neighbour_min = torch.where(same, labels.unsqueeze(1).expand(M, n, n), big).min(dim=-1).values  # [M, n]
        new = torch.minimum(labels, neighbour_min)
        new = new.gather(1, new)
        if torch.equal(new, labels):
            break
        labels = new
    return ((labels == ids) & mask).sum(dim=1)


_CANDIDATE_COS = 1.0 - 1e-3  # float32 cosine above this: maybe the same unit, check in float64


def _symmetry(
    vectors: torch.Tensor, mask: torch.Tensor, rtol: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(effective width int64 [M], max cosine [M], mean cosine [M]).

    vectors: [M, n, d]; mask: bool [M, n], the real units. The cosines come from a float32 Gram
    matrix (accurate to ~1e-5, plenty for a diagnostic). Two units can only be the same within
    ``rtol`` if their cosine is ~1, so the exact float64 test runs only when some pair of real
    units has a float32 cosine above ``1 - 1e-3`` or two units are all zero; with random weights
    no pair does, and every real unit is distinct.
    """
    M, n, _ = vectors.shape
    dev = vectors.device
    v = vectors.float()
    all_real = bool(mask.all())
    sq = v.square().sum(dim=2)  # [M, n]
    zero = sq == 0  # [M, n]
    if all_real and n > 1 and not bool(zero.any()):
        # The common case, in fewer passes over the [M, n, n] cosines: unit vectors u, their
        # Gram matrix (the cosines), the diagonal set aside for the max; the mean of the
        # off-diagonal cosines is (|sum_i u_i|^2 - n) / (n (n - 1)), without the matrix.
        u = v * sq.rsqrt().unsqueeze(2)  # [M, n, d]
        cos = torch.bmm(u, u.transpose(1, 2))  # [M, n, n]
        cos.diagonal(dim1=1, dim2=2).fill_(-math.inf)
        cmax = cos.amax(dim=(1, 2)).clamp_(-1.0, 1.0).double()  # [M]
        total = u.sum(dim=1).double().square().sum(dim=1)  # [M]: sum over all pairs, diagonal included
        cmean = ((total - n) / (n * (n - 1))).clamp_(-1.0, 1.0)
        if not bool((cmax > _CANDIDATE_COS).any()):
            return mask.sum(dim=1), cmax, cmean
        return _exact_width(vectors, mask, rtol), cmax, cmean
    G = torch.bmm(v, v.transpose(1, 2))  # [M, n, n]
    sq = torch.diagonal(G, dim1=1, dim2=2)  # [M, n]
    zero = sq == 0  # [M, n]
    inv = torch.where(zero, torch.zeros_like(sq), sq.rsqrt())  # [M, n]
    cos = (G * inv.unsqueeze(2) * inv.unsqueeze(1)).clamp_(-1.0, 1.0)  # [M, n, n]; 0 against a zero unit
    eye = torch.eye(n, dtype=torch.bool, device=dev)
    any_zero = bool((zero & mask).any())
    if any_zero:
        cos = torch.where(zero.unsqueeze(2) & zero.unsqueeze(1), torch.ones_like(cos), cos)  # two zero units: duplicates
    if all_real:
        # No padding: the distinct pairs are the off-diagonal entries.
        count = torch.full((M,), n * (n - 1), dtype=torch.long, device=dev)
        off = cos.masked_fill(eye, -math.inf)  # [M, n, n]
        cmax = off.amax(dim=(1, 2))
        cmean = (cos.sum(dim=(1, 2)) - torch.diagonal(cos, dim1=1, dim2=2).sum(dim=1)) / max(n * (n - 1), 1)
        pair = ~eye  # broadcasts over members
    else:
        pair = mask.unsqueeze(2) & mask.unsqueeze(1) & ~eye  # [M, n, n]
        count = pair.sum(dim=(1, 2))  # [M]
        cmax = torch.where(pair, cos, torch.full_like(cos, -math.inf)).amax(dim=(1, 2))
        cmean = torch.where(pair, cos, torch.zeros_like(cos)).sum(dim=(1, 2)) / count.clamp_min(1)
    nan = torch.full((M,), math.nan, dtype=torch.float64, device=dev)
    cmax = torch.where(count > 0, cmax.double(), nan)
    cmean = torch.where(count > 0, cmean.double(), nan)

    candidates = any_zero or bool(((cos > _CANDIDATE_COS) & pair).any())
    if not candidates:
        return mask.sum(dim=1), cmax, cmean
    return _exact_width(vectors, mask, rtol), cmax, cmean


def _exact_width(vectors: torch.Tensor, mask: torch.Tensor, rtol: float) -> torch.Tensor:
    """Distinct real units per member, by the exact float64 test: int64 [M]."""
    n = vectors.shape[1]
    eye = torch.eye(n, dtype=torch.bool, device=vectors.device)
    # The exact test, in float64 (products of float32 numbers are exact there, so
    # |v_i|^2 + |v_j|^2 - 2 v_i.v_j is accurate to ~d * 1e-16 of the squared norms, far below
    # the rtol^2 = 1e-12 it is compared with).
    G64, sq64 = _gram(vectors)
    real = mask.unsqueeze(2) & mask.unsqueeze(1)  # [M, n, n]
    big_sq = torch.maximum(sq64.unsqueeze(2), sq64.unsqueeze(1))  # max(|v_i|^2, |v_j|^2)
    dist_sq = (sq64.unsqueeze(2) + sq64.unsqueeze(1) - 2 * G64).clamp_min(0)  # |v_i - v_j|^2
    # Diagonal forced: a real unit is always the same as itself (the rounding never decides that).
    same = ((dist_sq <= (rtol * rtol) * big_sq) | eye) & real  # [M, n, n]
    return _components(same, mask)


def _sample_generator(seed: int, layer: int) -> torch.Generator:
    """The sample's generator: from the explicit seed and the layer only (never the global RNG)."""
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(layer)) % (2**63))


def _sample_units(mask: torch.Tensor, max_units: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Per member, up to ``max_units`` of its real units: (indices int64 [M, s], valid bool [M, s]).

    A member with at most ``max_units`` real units keeps them all; others get a uniform sample
    without replacement (sorted). Members draw one after the other from ``generator``.
    """
    rows = []
    for m in range(mask.shape[0]):
        real = torch.nonzero(mask[m].cpu(), as_tuple=False).flatten()  # [r_m]
        if real.numel() > max_units:
            real = real[torch.randperm(real.numel(), generator=generator)[:max_units]].sort().values
        rows.append(real)
    s = max(1, max(r.numel() for r in rows))
    idx = torch.zeros(mask.shape[0], s, dtype=torch.long)
    valid = torch.zeros(mask.shape[0], s, dtype=torch.bool)
    for m, real in enumerate(rows):
        idx[m, : real.numel()] = real
        valid[m, : real.numel()] = True
    return idx.to(mask.device), valid.to(mask.device)


def _sampled_symmetry(
    vectors: torch.Tensor, mask: torch.Tensor, rtol: float, max_units: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(estimated effective width int64 [M], max cosine [M], mean cosine [M], units sampled [M]).

    vectors: [M, n, d]; mask: bool [M, n]. Each of ``s <= max_units`` sampled units per member is
    compared with every real unit, ``_BLOCK_ELEMENTS // s`` units at a time, so the
    temporaries are [M, s, block] whatever n is. For sampled unit i, ``c_i`` counts the real units
    that are the same as it (itself included, by the float64 test of ``_exact_width``, run only
    on blocks with a float32 cosine above ``1 - 1e-3`` or two zero units); the width is estimated
    as ``(r / s) * sum_i 1 / c_i`` with r real units. The mean cosine over all pairs of real units
    is exact: the sum of the unit vectors gives it without any pair matrix.
    """
    M, n, _ = vectors.shape
    dev = vectors.device
    v = vectors.float()  # [M, n, d] (no copy for float32 weights)
    norm = torch.linalg.vector_norm(v, dim=2)  # [M, n]
    zero = (norm == 0) & mask  # [M, n]
    inv = torch.where(norm > 0, 1.0 / norm.clamp_min(torch.finfo(torch.float32).tiny), torch.zeros_like(norm))  # [M, n]
    real_n = mask.sum(dim=1)  # [M]
    nonzero_w = (inv * (mask & ~zero)).unsqueeze(1)  # [M, 1, n]: weights of the unit vectors' sum
    total = torch.bmm(nonzero_w, v).squeeze(1).double().square().sum(dim=1)  # [M]: |sum_i u_i|^2
    nz = (mask & ~zero).sum(dim=1).double()
    z = zero.sum(dim=1).double()
    pairs = (real_n * (real_n - 1)).double()
    nan = torch.full((M,), math.nan, dtype=torch.float64, device=dev)
    # Pairs of non-zero units: |sum u|^2 minus the diagonal; two zero units count as cosine 1.
    cmean = torch.where(pairs > 0, ((total - nz + z * (z - 1)) / pairs.clamp_min(1)).clamp(-1.0, 1.0), nan)

    idx, valid = _sample_units(mask, max_units, generator)  # [M, s] each
    s = idx.shape[1]
    vs = torch.gather(v, 1, idx.unsqueeze(2).expand(M, s, v.shape[2]))  # [M, s, d]
    inv_s = torch.gather(inv, 1, idx)  # [M, s]
    zero_s = torch.gather(zero, 1, idx) & valid  # [M, s]
    vs64 = None
    sq_s64 = None
    same_count = torch.ones(M, s, dtype=torch.float64, device=dev)  # c_i, itself included
    cmax = torch.full((M,), -math.inf, dtype=torch.float32, device=dev)
    block = max(1, _BLOCK_ELEMENTS // max(s, 1))
    for j0 in range(0, n, block):
        j1 = min(n, j0 + block)
        vb = v[:, j0:j1]  # [M, b, d]
        cols = torch.arange(j0, j1, device=dev)
        pair = valid.unsqueeze(2) & mask[:, j0:j1].unsqueeze(1) & (idx.unsqueeze(2) != cols.view(1, 1, -1))  # [M, s, b]
        cos = torch.bmm(vs, vb.transpose(1, 2)).mul_(inv_s.unsqueeze(2)).mul_(inv[:, j0:j1].unsqueeze(1)).clamp_(-1.0, 1.0)
        both_zero = zero_s.unsqueeze(2) & zero[:, j0:j1].unsqueeze(1)  # [M, s, b]
        cos = torch.where(both_zero, torch.ones_like(cos), cos)
        cmax = torch.maximum(cmax, cos.masked_fill(~pair, -math.inf).amax(dim=(1, 2)))
        if not bool(((cos > _CANDIDATE_COS) & pair).any()):
            continue
        # The exact test (as _exact_width), on this block only.
        if vs64 is None:
            vs64 = vs.double()
            sq_s64 = vs64.square().sum(dim=2)  # [M, s]
        vb64 = vb.double()
        sq_b64 = vb64.square().sum(dim=2)  # [M, b]
        G = torch.bmm(vs64, vb64.transpose(1, 2))  # [M, s, b]
        big_sq = torch.maximum(sq_s64.unsqueeze(2), sq_b64.unsqueeze(1))  # type: ignore[union-attr]
        dist_sq = (sq_s64.unsqueeze(2) + sq_b64.unsqueeze(1) - 2 * G).clamp_min(0)  # type: ignore[union-attr]
        same = (dist_sq <= (rtol * rtol) * big_sq) & pair
        same_count += same.sum(dim=2).double()
    count = valid.sum(dim=1)  # [M]
    cmax64 = torch.where(pairs > 0, cmax.double().clamp(-1.0, 1.0), nan)
    per_unit = torch.where(valid, 1.0 / same_count, torch.zeros_like(same_count)).sum(dim=1)  # [M]
    width = torch.round(real_n.double() / count.clamp_min(1).double() * per_unit).long()
    width = torch.where(real_n > 0, width.clamp_min(1), torch.zeros_like(width))
    sampled = torch.where(real_n > max_units, count.double(), nan)
    return width, cmax64, cmean, sampled


def _layer_symmetry(
    vectors: torch.Tensor, mask: torch.Tensor, rtol: float, *, max_units: int = MAX_UNITS, seed: int = 0, layer: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(effective width int64 [M], max cosine [M], mean cosine [M], units sampled float64 [M]).

    Every unit when no member has more than ``max_units`` real units (``_symmetry``, exact; units
    sampled NaN); else the sampled estimate of ``_sampled_symmetry``, its sample drawn from
    ``seed`` and ``layer``.
    """
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 2:
        raise ConfigError(f"max_units must be an integer of at least 2 units, got {max_units!r}")
    if int(mask.sum(dim=1).max()) <= max_units:
        widths, cmax, cmean = _symmetry(vectors, mask, rtol)
        return widths, cmax, cmean, torch.full((vectors.shape[0],), math.nan, dtype=torch.float64, device=vectors.device)
    return _sampled_symmetry(vectors, mask, rtol, max_units, _sample_generator(seed, layer))


def diagnostics_bytes(sizes: Sequence[int], *, rows: int = MAX_ROWS, max_units: int = MAX_UNITS) -> int:
    """One member's peak memory, in bytes, while the recorder measures a stack of layer ``sizes``
    (``[n_in, w_1, ..., n_out]``), on top of what training holds.

    Counted: copies of the weights (the unit vectors [n, fan_in + 1], the previous weights), the
    forward pass on ``rows`` rows (pre-activations, activations and their stacked copy), and the
    largest layer's pairwise temporaries: about 40 bytes a pair (float32 cosines, float64 Gram and
    distances, the int64 labels of the components) over ``n^2`` pairs up to ``max_units`` units,
    over at most ``_BLOCK_ELEMENTS`` pairs (plus the sample's float64 vectors) above it.
    """
    layers = list(zip(sizes[:-1], sizes[1:]))
    params = sum(a * b + b for a, b in layers)
    widest = max((a + 1) * b for a, b in layers)
    forward = rows * sum(sizes[1:]) * 4 * 4
    pairwise = 0
    for fan_in, n in layers:
        if n <= max_units:
            pairwise = max(pairwise, 40 * n * n)
        else:
            pairwise = max(pairwise, 40 * min(max_units * n, _BLOCK_ELEMENTS) + 12 * max_units * (fan_in + 1))
    return 4 * (2 * params + widest) + forward + pairwise


def _all_real(vectors: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return torch.ones(vectors.shape[0], vectors.shape[1], dtype=torch.bool, device=vectors.device)
    return mask.to(device=vectors.device, dtype=torch.bool)


def effective_widths(
    vectors: torch.Tensor, mask: torch.Tensor | None = None, rtol: float = DEFAULT_RTOL, *, max_units: int = MAX_UNITS, seed: int = 0
) -> torch.Tensor:
    """Distinct units per member: int64 [M].

    vectors: [M, n, d], one incoming vector per unit; mask: bool [M, n], the real units.
    Units i and j are "the same" when ``||v_i - v_j|| <= rtol * max(||v_i||, ||v_j||)``; the
    count is the number of connected components of that relation (min-label propagation, all
    members at once). Above ``max_units`` real units, an estimate from a sample of that many units
    drawn from ``seed`` (the module's docstring).
    """
    return _layer_symmetry(vectors, _all_real(vectors, mask), rtol, max_units=max_units, seed=seed)[0]


def cosine_stats(
    vectors: torch.Tensor, mask: torch.Tensor | None = None, *, max_units: int = MAX_UNITS, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(max, mean) pairwise cosine similarity over distinct pairs of real units: float64 [M] each.

    Two all-zero vectors have cosine 1 (duplicates); a zero and a non-zero vector have cosine 0.
    NaN where a member has fewer than two real units. Above ``max_units`` real units the max is
    over the pairs of a sample of units with every unit (the mean stays exact).
    """
    _, cmax, cmean, _ = _layer_symmetry(vectors, _all_real(vectors, mask), DEFAULT_RTOL, max_units=max_units, seed=seed)
    return cmax, cmean


# ----------------------------------------------------------------------------------------------
# Forward signal and dead units
# ----------------------------------------------------------------------------------------------


def dead_fractions(pre: torch.Tensor, act: torch.Tensor, activation: str, mask: torch.Tensor) -> torch.Tensor:
    """Fraction of real units dead on every sample: float [M].

    pre, act: [M, B, n] pre-activations and activations; mask: bool [M, n].
    """
    # One reduction over the batch per unit (cheaper than an elementwise test and all()).
    if activation == "relu":
        dead = act.amax(dim=1) == 0  # [M, n]: zero on every sample (relu >= 0)
    elif activation == "tanh":
        dead = act.abs().amin(dim=1) > SATURATION
    elif activation == "sigmoid":
        dead = (2 * act - 1).abs().amin(dim=1) > SATURATION
    elif activation in ("gelu", "leaky_relu", "selu"):
        dead = pre.amax(dim=1) <= 0
    else:
        dead = torch.zeros(act.shape[0], act.shape[2], dtype=torch.bool, device=act.device)
    unit_dead = dead & mask  # [M, n]
    return unit_dead.sum(dim=1).double() / mask.sum(dim=1).clamp_min(1).double()


def _masked_mean_std(t: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) std over samples and real units: t [..., M, B, n], mask [M, n] -> [..., M] twice.

    Two passes per unit in t's dtype (well conditioned), then the pooled variance over real units
    in float64: var = mean_u(within_u + (mean_u - mean)^2). (torch.var_mean over the sample
    dimension was 3x slower on the CPU.)
    """
    unit_mean = t.mean(dim=-2)  # [..., M, n]
    within = (t - unit_mean.unsqueeze(-2)).square_().mean(dim=-2)  # [..., M, n]
    m = mask.to(torch.float64)  # [M, n]
    units = m.sum(dim=1).clamp_min(1)  # [M]
    um = unit_mean.double()
    mean = (um * m).sum(dim=-1) / units  # [..., M]
    var = ((within.double() + (um - mean.unsqueeze(-1)).square()) * m).sum(dim=-1) / units
    return mean, var.sqrt()


def _forward(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    masks: Sequence[torch.Tensor],
    X: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    *,
    last_is_output: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Pre-activations and activations of every layer: lists of [M, B, n_l] (output: act = pre).

    The same computation as ``MLPStack.forward``: padded units are exactly zero.
    ``last_is_output=False``: the layers given are all hidden ones (the activation applies).
    """
    M = weights[0].shape[0]
    h = X.unsqueeze(0).expand(M, *X.shape)  # [M, B, n_in], no copy
    pres, acts = [], []
    last = len(weights) - 1 if last_is_output else -1
    for i, (w, b, m) in enumerate(zip(weights, biases, masks)):
        z = torch.baddbmm(b.unsqueeze(1), h, w)  # [M, B, fan_out]
        h = z if i == last else act(z) * m.unsqueeze(1).to(z.dtype)
        pres.append(z)
        acts.append(h)
    return pres, acts


def _loss(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    """Sum over members of each member's mean loss (so each member's gradient is its own)."""
    M, B, K = out.shape
    if task == "classification":
        per = F.cross_entropy(out.reshape(M * B, K), y.long().repeat(M), reduction="none").view(M, B)
    else:
        target = y.to(out.dtype).view(1, B, -1).expand(M, B, out.shape[2])
        per = ((out - target) ** 2).mean(dim=2)
    return per.mean(dim=1).sum()


# ----------------------------------------------------------------------------------------------
# All diagnostics of a stack on one batch
# ----------------------------------------------------------------------------------------------


def _measure(
    views: Sequence[LayerView],
    activation: str,
    X: torch.Tensor,
    *,
    y: torch.Tensor | None,
    task: str,
    grads: Sequence[torch.Tensor] | None,
    previous: Sequence[torch.Tensor] | None,
    update_norms: Sequence[torch.Tensor] | None,
    rtol: float,
    activate: Callable[[torch.Tensor], torch.Tensor] | None = None,
    output_stats: bool = True,
    seed: int = 0,
    max_units: int = MAX_UNITS,
) -> torch.Tensor:
    """Every diagnostic as one float64 tensor [K, M, L] (K = ``_VALUES``, NaN where not available),
    L = layers including the output layer.

    ``output_stats=False`` measures only the output layer's gradient norm (the gradient ratio
    needs it) and leaves its other entries NaN: the recorder does not keep them by default.

    grads: dW per layer [M, fan_in, fan_out] (used when ``y`` is None); previous: the weights
    before the update per layer; update_norms: ``||dW||`` per layer [M] (wins over ``previous``).
    seed, max_units: layers wider than ``max_units`` are measured on a sample drawn from ``seed``.
    """
    M = views[0].weight.shape[0]
    L = len(views)
    dev = views[0].weight.device
    act = activate or _activation_fn(activation)
    X = X.to(device=dev, dtype=views[0].weight.dtype)
    masks = [v.mask for v in views]

    if y is not None:
        # One backward pass on (X, y), on detached copies: the trainer's state is untouched.
        ws = [v.weight.clone().requires_grad_(True) for v in views]
        bs = [v.bias.clone() for v in views]
        with torch.enable_grad():
            pres, acts = _forward(ws, bs, masks, X, act)
            loss = _loss(acts[-1], y.to(dev), task)
            grads = list(torch.autograd.grad(loss, ws, allow_unused=True))
        pres = [p.detach() for p in pres]
        acts = [a.detach() for a in acts]
    else:
        # Without targets the output layer's outputs are needed only for its own statistics.
        upto = L if output_stats else L - 1
        with torch.no_grad():
            pres, acts = _forward([v.weight for v in views[:upto]], [v.bias for v in views[:upto]], masks[:upto], X, act, last_is_output=output_stats)

    nan = torch.full((M,), math.nan, dtype=torch.float64, device=dev)
    cols: dict[str, list[torch.Tensor]] = {k: [] for k in _VALUES}  # per key: L tensors [M]
    with torch.no_grad():
        for l, view in enumerate(views):
            if l == L - 1 and not output_stats:
                for key in _VALUES:
                    cols[key].append(nan)
                g = grads[l] if grads is not None else None
                cols["grad_norm"][-1] = _norm(g.detach()) if g is not None else nan
                continue
            vec = _unit_vectors(view)  # [M, n, fan_in + 1]
            widths, cmax, cmean, sampled = _layer_symmetry(vec, view.mask, rtol, max_units=max_units, seed=seed, layer=l + 1)
            cols["effective_width"].append(widths.double())
            cols["symmetry_units"].append(sampled)
            cols["max_cosine"].append(cmax)
            cols["mean_cosine"].append(cmean)
            # Pre-activations and activations in one pass of the same ops: [2, M, B, n].
            mean, std = _masked_mean_std(torch.stack([pres[l], acts[l]]), view.mask)  # [2, M] each
            for i, key in enumerate(("preact", "act")):
                cols[f"{key}_mean"].append(mean[i])
                cols[f"{key}_std"].append(std[i])
            hidden = l < L - 1
            cols["dead_fraction"].append(dead_fractions(pres[l], acts[l], activation, view.mask) if hidden else nan)
            # Padded weights are exactly zero and get exactly zero gradient: plain norms are the
            # norms over the real weights.
            g = grads[l] if grads is not None else None
            cols["grad_norm"].append(_norm(g.detach()) if g is not None else nan)
            wn = _norm(view.weight)  # [M]
            if update_norms is not None:
                cols["update_ratio"].append(update_norms[l].to(dev).double() / wn)  # inf/NaN where ||W|| = 0
            elif previous is not None:
                cols["update_ratio"].append(_norm(view.weight - previous[l].to(dev)) / wn)
            else:
                cols["update_ratio"].append(nan)
        grad = torch.stack(cols["grad_norm"], dim=1)  # [M, L]
        ratio = grad[:, 0] / grad[:, L - 1]  # [M]: first hidden layer over output layer
        known = torch.isfinite(ratio)
        flags = {
            "grad_ratio": ratio,
            "vanishing": torch.where(known, (ratio < VANISHING).double(), nan),
            "exploding": torch.where(known, (ratio > EXPLODING).double(), nan),
        }
        for k, v in flags.items():
            cols[k] = [v] * L
        return torch.stack([torch.stack(cols[k], dim=1) for k in _VALUES])  # [K, M, L]


def _norm(t: torch.Tensor) -> torch.Tensor:
    """Frobenius norm per member, accumulated in float64: [M, ...] -> [M]."""
    return torch.linalg.vector_norm(t.flatten(1), dim=1, dtype=torch.float64)


def _rows(values: torch.Tensor, epoch: int, layers: int) -> list[list[dict[str, Any]]]:
    """Records per member from ``_measure``'s [K, M, L]: one JSON-ready dict per layer (from layer 1)."""
    table = values[:, :, :layers].permute(1, 2, 0).cpu().tolist()  # [M][layers][K]
    ints = {i for i, k in enumerate(_VALUES) if k in ("effective_width", "symmetry_units")}
    flags = {i for i, k in enumerate(_VALUES) if k in ("vanishing", "exploding")}
    out = []
    for member in table:
        rows = []
        for l, vals in enumerate(member):
            row: dict[str, Any] = {"epoch": int(epoch), "layer": l + 1}
            for i, (k, x) in enumerate(zip(_VALUES, vals)):
                if not math.isfinite(x):
                    row[k] = None
                elif i in ints:
                    row[k] = int(x)
                elif i in flags:
                    row[k] = bool(x)
                else:
                    row[k] = x
            rows.append(row)
        out.append(rows)
    return out


def _check_batch(X: Any, n_in: int, where: str) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        try:
            X = torch.as_tensor(X, dtype=torch.float32)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where}: X must be a 2-D array of numbers [N, {n_in}]: {exc}") from None
    if X.dim() != 2 or X.shape[1] != n_in or X.shape[0] == 0:
        raise DataError(
            f"{where}: X must have shape [N, {n_in}] with N >= 1 (the stack's input width), got {tuple(X.shape)}; "
            "pass preprocessed features (Prepared.X_val)"
        )
    return X


def diagnose(
    stack: Any,
    X: Any,
    y: Any = None,
    task: str = "classification",
    *,
    rtol: float = DEFAULT_RTOL,
    epoch: int = 0,
    previous: Sequence[torch.Tensor] | None = None,
    include_output: bool = True,
    seed: int = 0,
    max_units: int = MAX_UNITS,
) -> pd.DataFrame:
    """Every diagnostic of every member and layer of ``stack`` on the batch ``X``.

    X: [N, n_in] preprocessed features. With ``y`` (class indices [N] for classification, targets
    [N] or [N, n_out] for regression) one backward pass gives the gradient norms; without it they
    are None. ``previous`` (the weights of each layer before an update, [M, fan_in, fan_out] each)
    gives the update ratios. Returns one row per member and layer: ``member``, ``layer`` (1-based;
    the output layer is ``depth + 1``), ``kind`` ("hidden" or "output"), ``width`` (real units)
    and the ``COLUMNS``. Layers wider than ``max_units`` have their symmetry measured on a sample
    of that many units drawn from ``seed`` (``symmetry_units`` says how many; None: all).
    """
    if task not in ("classification", "regression"):
        raise ConfigError(f"diagnose: task must be 'classification' or 'regression', got {task!r}")
    views = stack_layers(stack)
    X = _check_batch(X, int(views[0].weight.shape[1]), "diagnose")
    yt = None
    if y is not None:
        yt = torch.as_tensor(y)
        if yt.shape[0] != X.shape[0]:
            raise DataError(f"diagnose: y has {yt.shape[0]} rows but X has {X.shape[0]}; pass matching rows")
    values = _measure(
        views, _stack_activation(stack), X, y=yt, task=task, grads=None, previous=previous, update_norms=None, rtol=rtol,
        activate=getattr(stack, "activate", None), seed=seed, max_units=max_units,
    )
    L = len(views) if include_output else len(views) - 1
    rows = []
    for m, member_rows in enumerate(_rows(values, epoch, L)):
        for l, row in enumerate(member_rows):
            row = {"member": m, **row}
            row["kind"] = "output" if l == len(views) - 1 else "hidden"
            row["width"] = int(views[l].mask[m].sum())
            rows.append(row)
    front = ["member", "epoch", "layer", "kind", "width"]
    return pd.DataFrame(rows, columns=front + [c for c in COLUMNS if c not in front])


# ----------------------------------------------------------------------------------------------
# The trainer's hook
# ----------------------------------------------------------------------------------------------


class DiagnosticsRecorder:
    """A trainer callback that records diagnostics at epoch 0 and every ``every`` epochs.

    ``recorder = DiagnosticsRecorder(X_val, every=k)``; pass it as ``callback`` to ``train``
    (it returns ``[]``: it never stops a member). ``records_for(i)`` gives member i's records,
    one JSON-ready dict per (epoch, hidden layer) with the ``COLUMNS`` keys.

    X: [N, n_in] a batch of preprocessed features (the first ``max_rows`` rows are used).
    y: optional targets of X; with them each record's ``grad_norm`` comes from one backward pass
    on (X, y), at every record including epoch 0. Without them the recorder reads the gradients
    of the trainer's last step (``TrainState.grads``), and ``grad_norm`` is None at epoch 0.
    ``update_ratio`` is the trainer's last step (``TrainState.update_norms``) over the weights'
    norm; None at epoch 0. Called without a state, it compares with the previous record's weights.
    include_output: also record the output layer (as layer ``depth + 1``).
    seed, max_units: a layer of more than ``max_units`` real units has its symmetry measured on a
    sample of that many units, drawn from ``seed`` and the layer (the same units at every epoch);
    its records say so in ``symmetry_units``.
    """

    def __init__(
        self,
        X: Any,
        every: int = 1,
        *,
        y: Any = None,
        task: str = "classification",
        rtol: float = DEFAULT_RTOL,
        max_rows: int = MAX_ROWS,
        include_output: bool = False,
        seed: int = 0,
        max_units: int = MAX_UNITS,
    ) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ConfigError(f"DiagnosticsRecorder: every must be a positive integer of epochs, got {every!r}")
        if task not in ("classification", "regression"):
            raise ConfigError(f"DiagnosticsRecorder: task must be 'classification' or 'regression', got {task!r}")
        if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 2:
            raise ConfigError(f"DiagnosticsRecorder: max_units must be an integer of at least 2 units, got {max_units!r}")
        X = X if isinstance(X, torch.Tensor) else torch.as_tensor(X, dtype=torch.float32)
        self.X = X[:max_rows]
        self.y = None if y is None else torch.as_tensor(y)[:max_rows]
        self.every = every
        self.task = task
        self.rtol = rtol
        self.include_output = include_output
        self.seed = int(seed)
        self.max_units = max_units
        self.epochs: list[int] = []
        self._values: list[tuple[int, torch.Tensor]] = []  # (epoch, [K, M, layers] on the CPU)
        self._records: list[list[dict[str, Any]]] | None = None  # built on first read
        self._previous: list[torch.Tensor] | None = None
        self.seconds = 0.0  # time spent measuring, for the overhead benchmark

    def __call__(self, epoch: int, stack: Any, state: Any = None) -> list[int]:
        if epoch % self.every != 0 or epoch in self.epochs:
            return []
        if getattr(stack, "depth", 1) == 0 and not self.include_output:
            return []  # no hidden layer (a linear model): no units whose symmetry or signal to follow
        t0 = time.perf_counter()
        views = stack_layers(stack)
        X = _check_batch(self.X, int(views[0].weight.shape[1]), "DiagnosticsRecorder")
        grads = None
        if self.y is None and getattr(state, "grads", None) is not None:
            grads = [dW for dW, _ in state.grads]  # the trainer's last step: [M, fan_in, fan_out] each
        update_norms = getattr(state, "update_norms", None) if epoch > 0 else None
        values = _measure(
            views,
            _stack_activation(stack),
            X,
            y=self.y,
            task=self.task,
            grads=grads,
            previous=self._previous if update_norms is None and epoch > 0 else None,
            update_norms=update_norms,
            rtol=self.rtol,
            activate=getattr(stack, "activate", None),
            output_stats=self.include_output,
            seed=self.seed,
            max_units=self.max_units,
        )
        layers = len(views) if self.include_output else len(views) - 1
        # Keep the numbers; the JSON-ready dicts are built once, when first read (cheaper in bulk).
        self._values.append((int(epoch), values[:, :, :layers].cpu()))
        self._records = None
        self._previous = None if update_norms is not None else [v.weight.clone() for v in views]
        self.epochs.append(int(epoch))
        self.seconds += time.perf_counter() - t0
        return []

    def member_bytes(self, sizes: Sequence[int]) -> int:
        """Peak bytes a member of layer ``sizes`` needs while this recorder measures it (``diagnostics_bytes``)."""
        return diagnostics_bytes(sizes, rows=int(self.X.shape[0]), max_units=self.max_units)

    def _all_records(self) -> list[list[dict[str, Any]]]:
        if self._records is None:
            per_member: list[list[dict[str, Any]]] = []
            for epoch, values in self._values:
                layers = values.shape[2]
                for m, rows in enumerate(_rows(values, epoch, layers)):
                    if m == len(per_member):
                        per_member.append([])
                    per_member[m].extend(rows)
            self._records = per_member
        return self._records

    def records_for(self, member: int) -> list[dict[str, Any]]:
        """Member ``member``'s records (copies), in epoch then layer order; [] for an unknown member."""
        records = self._all_records()
        m = int(member)
        return [dict(r) for r in records[m]] if 0 <= m < len(records) else []

    def table(self) -> pd.DataFrame:
        """All records as one DataFrame with a ``member`` column."""
        rows = [{"member": m, **r} for m, recs in enumerate(self._all_records()) for r in recs]
        return pd.DataFrame(rows, columns=["member", *COLUMNS])
