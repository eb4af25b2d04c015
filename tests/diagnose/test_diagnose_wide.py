"""Diagnostics of wide layers: above ``MAX_UNITS`` units the symmetry is measured on a sample of
units (drawn from the explicit seed), the estimate is right on layers of known structure, and the
memory of a measurement stays bounded whatever the width (the largest tensor it allocates)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from justenough.data import load, prepare
from justenough.diagnose import (
    MAX_UNITS,
    DiagnosticsRecorder,
    cosine_stats,
    diagnose,
    diagnostics_bytes,
    effective_widths,
)
from justenough.diagnose.symmetry import BLOCK_ELEMENTS
from justenough.errors import ConfigError
from justenough.nets.stack import MemberSpec, MLPStack


def _grouped(sizes: list[int], d: int, seed: int) -> torch.Tensor:
    """One member's units [1, sum(sizes), d]: group g holds sizes[g] exact copies of one random vector."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(len(sizes), d, generator=g)
    index = torch.cat([torch.full((s,), i) for i, s in enumerate(sizes)])
    return base[index].unsqueeze(0)


def test_sampled_width_is_exact_for_equal_groups_of_duplicates() -> None:
    # 50 distinct units, each repeated 12 times (600 units): any sample gives 50, as the exact count does.
    V = _grouped([12] * 50, d=9, seed=0).repeat(2, 1, 1)
    assert effective_widths(V).tolist() == [50, 50]  # 600 <= MAX_UNITS: every pair compared
    for seed in range(3):
        assert effective_widths(V, max_units=64, seed=seed).tolist() == [50, 50]
    distinct = torch.randn(1, 600, 9, generator=torch.Generator().manual_seed(1))
    assert effective_widths(distinct, max_units=64).tolist() == [600]
    assert effective_widths(torch.zeros(1, 600, 5), max_units=64).tolist() == [1]  # all-zero units: one


def test_sampled_width_is_unbiased_for_unequal_groups() -> None:
    # 100 singletons, 40 groups of 5 and 4 groups of 50: 144 distinct units among 500.
    V = _grouped([1] * 100 + [5] * 40 + [50] * 4, d=7, seed=2)
    assert effective_widths(V).tolist() == [144]
    estimates = [int(effective_widths(V, max_units=100, seed=s)) for s in range(40)]
    # One estimate: a sample of 100 of 500 units (standard error ~ 15); their mean over 40 seeds
    # has a standard error of ~2.5, so 10 is four of them.
    assert abs(np.mean(estimates) - 144) < 10
    assert min(estimates) < 144 < max(estimates)


def test_the_sample_comes_from_the_seed_not_the_global_generator() -> None:
    V = _grouped([1] * 100 + [5] * 40 + [50] * 4, d=7, seed=2)
    torch.manual_seed(123)
    a = [int(effective_widths(V, max_units=100, seed=s)) for s in range(6)]
    torch.manual_seed(456)
    b = [int(effective_widths(V, max_units=100, seed=s)) for s in range(6)]
    assert a == b
    assert len(set(a)) > 1  # the seed does choose the sample


def test_sampled_cosines_mean_exact_and_max_over_the_sample() -> None:
    g = torch.Generator().manual_seed(3)
    V = torch.randn(1, 300, 6, generator=g)
    V[0, 7] = V[0, 3] * 2.0  # same direction, another norm: cosine 1, distinct units
    V[0, 10] = 0.0
    V[0, 11] = 0.0  # two zero units: cosine 1 with each other, 0 with the rest
    A = V[0].double().numpy()
    norms = np.linalg.norm(A, axis=1)
    U = np.divide(A, norms[:, None], out=np.zeros_like(A), where=norms[:, None] > 0)
    C = U @ U.T
    C[10, 11] = C[11, 10] = 1.0
    off = ~np.eye(300, dtype=bool)
    cmax_all, cmean_all = cosine_stats(V)
    cmax, cmean = cosine_stats(V, max_units=40, seed=0)
    assert cmean_all.item() == pytest.approx(C[off].mean(), abs=1e-6)
    assert cmean.item() == pytest.approx(C[off].mean(), abs=1e-6)  # the mean needs no sample
    assert cmax_all.item() == pytest.approx(1.0, abs=1e-6)
    assert cmax.item() <= cmax_all.item() + 1e-6
    # The max over the sampled units' pairs with every unit, by NumPy.
    mask = torch.ones(1, 300, dtype=torch.bool)
    from justenough.diagnose.symmetry import sample_generator, sample_units

    idx, _ = sample_units(mask, 40, sample_generator(0, 0))
    rows = idx[0].numpy()
    pairs = C[rows].copy()
    pairs[np.arange(40), rows] = -np.inf
    assert cmax.item() == pytest.approx(pairs.max(), abs=1e-5)
    # 299 distinct units (the two zero ones are one): each sampled unit counts 1 / (its copies).
    k = int(np.isin(rows, [10, 11]).sum())
    assert effective_widths(V, max_units=40).item() == round(300 / 40 * (40 - k + k / 2))


class _LargestAllocation(TorchDispatchMode):
    """Records the largest storage (bytes) of any tensor an op returns while active."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.untyped_storage().nbytes())
        return out


def _largest_allocation(V: torch.Tensor) -> int:
    with _LargestAllocation() as probe:
        effective_widths(V)
        cosine_stats(V)
    return probe.largest


def test_memory_of_a_wide_layer_is_bounded_whatever_the_width() -> None:
    g = torch.Generator().manual_seed(4)
    M, d = 2, 9
    narrow = _largest_allocation(torch.randn(M, 5_000, d, generator=g))
    wide = _largest_allocation(torch.randn(M, 20_000, d, generator=g))
    # The exact path would need [M, n, n] float32 cosines: 3.2 GB at 20,000 units.
    assert wide < M * 20_000 * 20_000 * 4 / 40
    # Bounded by the block of (sampled unit, unit) pairs, not by the width.
    assert wide <= 8 * M * BLOCK_ELEMENTS
    assert wide == narrow
    assert 2 * 20_000 > MAX_UNITS


@pytest.fixture(scope="module")
def digits():
    return prepare(load("digits"), seed=0)


def test_diagnose_says_which_layers_were_sampled(digits) -> None:
    members = [MemberSpec(widths=(100, 20), init=init, seed=k) for k, init in enumerate(["zeros", "he_normal"])]
    stack = MLPStack(digits.n_features, digits.n_outputs, members, activation="relu")
    df = diagnose(stack, digits.X_val[:128], max_units=32, seed=5)
    wide = df[df["layer"] == 1].set_index("member")
    narrow = df[df["layer"] == 2].set_index("member")
    assert wide["symmetry_units"].tolist() == [32, 32]
    assert narrow["symmetry_units"].isna().all()  # 20 units: every pair
    assert wide.loc[0, "effective_width"] == 1  # zeros: one unit repeated 100 times
    assert wide.loc[1, "effective_width"] == 100  # random: all distinct
    again = diagnose(stack, digits.X_val[:128], max_units=32, seed=5)
    assert again.fillna(-1).equals(df.fillna(-1))
    # Below the cap: the same numbers as before sampling existed (symmetry_units None).
    full = diagnose(stack, digits.X_val[:128])
    assert full["symmetry_units"].isna().all()
    assert full.loc[full["layer"] == 1, "effective_width"].tolist() == [1, 100]


def test_recorder_records_the_sample_size(digits) -> None:
    stack = MLPStack(digits.n_features, digits.n_outputs, [MemberSpec(widths=(80,), init="he_normal", seed=0)])
    recorder = DiagnosticsRecorder(digits.X_val, every=1, seed=3, max_units=16)
    recorder(0, stack)
    (record,) = recorder.records_for(0)
    assert record["symmetry_units"] == 16 and record["effective_width"] == 80
    with pytest.raises(ConfigError, match="max_units"):
        DiagnosticsRecorder(digits.X_val, max_units=1)


def test_diagnostics_bytes_grows_linearly_above_the_cap() -> None:
    # Below the cap the pairwise matrices grow with width^2; above it, with the width only.
    small, at_cap = diagnostics_bytes([64, 256, 10]), diagnostics_bytes([64, MAX_UNITS, 10])
    assert at_cap > 10 * small
    wide, wider = diagnostics_bytes([64, 20_000, 10]), diagnostics_bytes([64, 40_000, 10])
    assert wider < 2.2 * wide
    assert wide < 20_000 * 20_000 * 4  # far below one exact float32 cosine matrix
