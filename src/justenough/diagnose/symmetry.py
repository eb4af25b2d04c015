"""Symmetry: effective width and cosine similarity of the units of a layer, vectorized over members.

What the numbers mean: ``justenough.diagnose.measures`` (the list of every diagnostic).

Wide layers: the pairwise measures cost ``width^2`` memory, so above ``MAX_UNITS`` real units a
layer's symmetry is measured on a sample of ``MAX_UNITS`` units, drawn from a generator seeded
from the explicit ``seed`` (and the layer), never the global RNG: the same units at every epoch.
Each sampled unit is compared with *every* unit of the layer, block by block (memory bounded by
``BLOCK_ELEMENTS`` pairs a member, whatever the width), which gives its number of duplicates ``c_i``
exactly; ``effective_width`` is then estimated as ``(n / s) * sum_i 1 / c_i`` over the ``s``
sampled units of ``n`` (unbiased; exact when every group of duplicates has the same size, as
for all-distinct or all-identical units). ``max_cosine`` is the largest cosine between a sampled
unit and any other unit; ``mean_cosine`` stays exact (it needs no matrix). ``symmetry_units``
records the sample size (None when every unit was used).
"""

from __future__ import annotations

import math

import torch

from justenough.diagnose.layers import LayerView
from justenough.errors import ConfigError

__all__ = ["DEFAULT_RTOL", "MAX_UNITS", "effective_widths", "cosine_stats", "BLOCK_ELEMENTS", "layer_symmetry", "sample_generator", "sample_units", "unit_vectors"]

DEFAULT_RTOL = 1e-6
# Above this many real units in a layer, its symmetry is measured on a sample of this many units
# (the exact pairwise measures need [M, n, n] matrices: 20,000 units would take 1.6 GB a member).
MAX_UNITS = 1024
# (sampled unit, unit) pairs compared at once per member: bounds the sampled path's temporaries
# (a few float32/float64 copies of [M, s, block]) to ~20 MB a member at any width.
BLOCK_ELEMENTS = 1 << 19


def unit_vectors(view: LayerView) -> torch.Tensor:
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


def sample_generator(seed: int, layer: int) -> torch.Generator:
    """The sample's generator: from the explicit seed and the layer only (never the global RNG)."""
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(layer)) % (2**63))


def sample_units(mask: torch.Tensor, max_units: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
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
    compared with every real unit, ``BLOCK_ELEMENTS // s`` units at a time, so the
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

    idx, valid = sample_units(mask, max_units, generator)  # [M, s] each
    s = idx.shape[1]
    vs = torch.gather(v, 1, idx.unsqueeze(2).expand(M, s, v.shape[2]))  # [M, s, d]
    inv_s = torch.gather(inv, 1, idx)  # [M, s]
    zero_s = torch.gather(zero, 1, idx) & valid  # [M, s]
    vs64 = None
    sq_s64 = None
    same_count = torch.ones(M, s, dtype=torch.float64, device=dev)  # c_i, itself included
    cmax = torch.full((M,), -math.inf, dtype=torch.float32, device=dev)
    block = max(1, BLOCK_ELEMENTS // max(s, 1))
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


def layer_symmetry(
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
    return _sampled_symmetry(vectors, mask, rtol, max_units, sample_generator(seed, layer))


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
    return layer_symmetry(vectors, _all_real(vectors, mask), rtol, max_units=max_units, seed=seed)[0]


def cosine_stats(
    vectors: torch.Tensor, mask: torch.Tensor | None = None, *, max_units: int = MAX_UNITS, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(max, mean) pairwise cosine similarity over distinct pairs of real units: float64 [M] each.

    Two all-zero vectors have cosine 1 (duplicates); a zero and a non-zero vector have cosine 0.
    NaN where a member has fewer than two real units. Above ``max_units`` real units the max is
    over the pairs of a sample of units with every unit (the mean stays exact).
    """
    _, cmax, cmean, _ = layer_symmetry(vectors, _all_real(vectors, mask), DEFAULT_RTOL, max_units=max_units, seed=seed)
    return cmax, cmean
