"""Diagnostics: oracle tests against brute force, NumPy and plain PyTorch modules, and the facts
about initialization on real data (digits)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from justenough.data import load, prepare
from justenough.diagnose import (
    COLUMNS,
    DiagnosticsRecorder,
    cosine_stats,
    diagnose,
    effective_widths,
)
from justenough.errors import ConfigError, DataError
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train import TrainSettings, train


@pytest.fixture(scope="module")
def digits():
    return prepare(load("digits"), seed=0)


def _stack(prepared, inits, widths=(16, 16), activation="relu", seeds=None):
    seeds = seeds or list(range(len(inits)))
    members = [MemberSpec(widths=tuple(widths), init=s, seed=k) for s, k in zip(inits, seeds)]
    return MLPStack(prepared.n_features, prepared.n_outputs, members, activation=activation, init_data=prepared.X_train[:256])


# --- effective width and cosine: against brute force ----------------------------------------


def _brute_width(V: np.ndarray, rtol: float) -> int:
    """Union-find over all pairs, in float64 with explicit differences."""
    n = len(V)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            d = np.linalg.norm(V[i] - V[j])
            if d <= rtol * max(np.linalg.norm(V[i]), np.linalg.norm(V[j])):
                parent[find(i)] = find(j)
    return len({find(i) for i in range(n)})


def test_effective_width_matches_brute_force_union_find():
    g = torch.Generator().manual_seed(1)
    V = torch.randn(5, 12, 7, generator=g)
    V[1] = V[1, 0]  # one unit repeated: width 1
    V[2, 6:] = V[2, :6]  # six pairs: width 6
    V[3, 1] = V[3, 0] * (1 + 3e-7)  # within rtol 1e-6: the same unit
    V[3, 2] = V[3, 0] * (1 + 1e-4)  # beyond: a different unit
    V[4, 3] = 0.0
    V[4, 4] = 0.0  # two zero units are the same
    got = effective_widths(V).tolist()
    want = [_brute_width(V[m].double().numpy(), 1e-6) for m in range(5)]
    assert got == want
    assert got[1] == 1 and got[2] == 6 and got[3] == 11 and got[4] == 11


def test_effective_width_chains_are_one_component():
    # a ~ b and b ~ c but not a ~ c: still one unit (connected components, not cliques).
    base = torch.ones(1, 1, 4)
    V = torch.cat([base, base * (1 + 0.8e-6), base * (1 + 1.6e-6)], dim=1)  # [1, 3, 4]
    assert effective_widths(V).tolist() == [_brute_width(V[0].double().numpy(), 1e-6)] == [1]


def test_effective_width_counts_only_real_units():
    V = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(0))
    V[0, 3:] = 0.0  # padding
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    assert effective_widths(V, mask).tolist() == [3, 6]


def test_cosine_stats_match_numpy():
    g = torch.Generator().manual_seed(2)
    V = torch.randn(3, 9, 5, generator=g)
    V[1, 4] = V[1, 2] * 3.0  # a near-duplicate by direction, not by norm
    cmax, cmean = cosine_stats(V)
    for m in range(3):
        A = V[m].double().numpy()
        U = A / np.linalg.norm(A, axis=1, keepdims=True)
        C = U @ U.T
        off = C[~np.eye(9, dtype=bool)]
        assert cmax[m].item() == pytest.approx(off.max(), abs=1e-5)
        assert cmean[m].item() == pytest.approx(off.mean(), abs=1e-5)
    assert cmax[1].item() == pytest.approx(1.0, abs=1e-6)
    assert effective_widths(V)[1].item() == 9  # same direction, different norm: distinct units


# --- diagnose: against plain PyTorch modules --------------------------------------------------


def test_diagnose_matches_member_modules(digits):
    stack = _stack(digits, ["he_normal", "glorot_uniform", "normal(std=0.1)"], widths=(24, 24, 24), activation="tanh")
    X, y = digits.X_val[:200], digits.y_val[:200]
    df = diagnose(stack, X, y, task="classification")
    assert list(df.columns[:5]) == ["member", "epoch", "layer", "kind", "width"]
    assert set(COLUMNS) <= set(df.columns)
    assert len(df) == 3 * 4  # 3 members x (3 hidden + output)
    for i in range(3):
        net = stack.member(i)
        x = X.clone()
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        pres, acts = [], []
        h = x
        for k, lin in enumerate(linears):
            z = lin(h)
            h = torch.tanh(z) if k < len(linears) - 1 else z
            pres.append(z)
            acts.append(h)
        loss = F.cross_entropy(h, y)
        grads = torch.autograd.grad(loss, [lin.weight for lin in linears])
        rows = df[df["member"] == i].sort_values("layer")
        for k, row in enumerate(rows.itertuples()):
            assert row.layer == k + 1
            assert row.act_std == pytest.approx(acts[k].detach().double().std(unbiased=False).item(), rel=1e-4)
            assert row.act_mean == pytest.approx(acts[k].detach().double().mean().item(), rel=1e-4, abs=1e-6)
            assert row.preact_std == pytest.approx(pres[k].detach().double().std(unbiased=False).item(), rel=1e-4)
            assert row.grad_norm == pytest.approx(grads[k].double().norm().item(), rel=1e-4)
            assert row.effective_width == row.width == linears[k].weight.shape[0]
            if k < 3:
                sat = (acts[k].detach().abs() > 0.99).all(dim=0).double().mean().item()
                assert row.dead_fraction == pytest.approx(sat)
        ratio = rows.iloc[0].grad_norm / rows.iloc[-1].grad_norm
        assert rows.iloc[0].grad_ratio == pytest.approx(ratio, rel=1e-9)


def test_an_embedded_stack_is_measured_on_each_members_own_features(digits):
    """With a periodic embedding, layer 0 reads each member's own cosines of X: the diagnostics
    equal those of each member's plain module (its PeriodicEmbedding first), layer by layer."""
    members = [MemberSpec(widths=(12, 12), init="he_normal", seed=k) for k in range(3)]
    stack = MLPStack(digits.n_features, digits.n_outputs, members, activation="relu", embed="periodic")
    X, y = digits.X_val[:150], digits.y_val[:150]
    df = diagnose(stack, X, y, task="classification")
    assert len(df) == 3 * 3  # 3 members x (2 hidden + output)
    for i in range(3):
        net = stack.member(i)
        h = net[0](X.clone())  # the embedding: [B, n_in (1 + K)]
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        acts = []
        for k, lin in enumerate(linears):
            z = lin(h)
            h = torch.relu(z) if k < len(linears) - 1 else z
            acts.append(h)
        grads = torch.autograd.grad(F.cross_entropy(h, y), [lin.weight for lin in linears])
        rows = df[df["member"] == i].sort_values("layer")
        for k, row in enumerate(rows.itertuples()):
            assert row.act_std == pytest.approx(acts[k].detach().double().std(unbiased=False).item(), rel=1e-4)
            assert row.grad_norm == pytest.approx(grads[k].double().norm().item(), rel=1e-4)
    # The recorder measures an embedded stack through the trainer too (it skipped them before).
    recorder = DiagnosticsRecorder(digits.X_val, every=2)
    train(stack, digits, TrainSettings(max_epochs=3, patience=None, callback_every=1), callback=recorder)
    assert recorder.epochs == [0, 2] and len(recorder.records_for(0)) == 2 * 2


def test_diagnose_update_ratio_and_no_y(digits):
    stack = _stack(digits, ["he_normal", "he_uniform"])
    before = [w.detach().clone() for w in stack.weights]
    with torch.no_grad():
        for w in stack.weights:
            w.mul_(1.01)
    df = diagnose(stack, digits.X_val, previous=before)
    assert df["grad_norm"].isna().all()  # no targets: no backward pass
    # ||W - W/1.01... the update was 1% of the old weights: ratio 0.01 / 1.01 of the new.
    assert np.allclose(df["update_ratio"].astype(float), 0.01 / 1.01, rtol=1e-4)


def test_dead_units_relu_and_sigmoid(digits):
    stack = _stack(digits, ["he_normal"], widths=(10,), activation="relu")
    with torch.no_grad():
        stack.biases[0][0, :4] = -1e4  # four units below zero on every sample
    row = diagnose(stack, digits.X_val).query("layer == 1").iloc[0]
    assert row.dead_fraction == pytest.approx(0.4)
    sig = _stack(digits, ["he_normal"], widths=(10,), activation="sigmoid")
    with torch.no_grad():
        sig.biases[0][0, :3] = 1e4  # saturated at 1
        sig.biases[0][0, 3:5] = -1e4  # saturated at 0
    assert diagnose(sig, digits.X_val).query("layer == 1").iloc[0].dead_fraction == pytest.approx(0.5)


def test_padded_members_are_measured_on_their_real_units(digits):
    members = [MemberSpec(widths=(8, 8), init="he_normal", seed=3), MemberSpec(widths=(20, 20), init="he_normal", seed=4)]
    stack = MLPStack(digits.n_features, digits.n_outputs, members)
    alone = MLPStack(digits.n_features, digits.n_outputs, members[:1])
    X, y = digits.X_val[:100], digits.y_val[:100]
    both = diagnose(stack, X, y).query("member == 0").reset_index(drop=True)
    single = diagnose(alone, X, y).query("member == 0").reset_index(drop=True)
    assert both["width"].tolist() == [8, 8, 10]
    assert both["effective_width"].tolist() == [8, 8, 10]
    for col in ("act_std", "act_mean", "preact_std", "grad_norm", "max_cosine", "mean_cosine", "dead_fraction"):
        assert np.allclose(both[col].astype(float), single[col].astype(float), rtol=1e-5, equal_nan=True), col


def test_diagnose_rejects_bad_input(digits):
    stack = _stack(digits, ["he_normal"])
    with pytest.raises(DataError, match="shape"):
        diagnose(stack, torch.zeros(5, 3))
    with pytest.raises(DataError, match="rows"):
        diagnose(stack, digits.X_val[:10], digits.y_val[:5])
    with pytest.raises(ConfigError, match="task"):
        diagnose(stack, digits.X_val, task="ranking")
    with pytest.raises(ConfigError, match="every"):
        DiagnosticsRecorder(digits.X_val, every=0)


# --- the recorder as the trainer's hook ------------------------------------------------------


def test_recorder_through_the_trainer(digits):
    stack = _stack(digits, ["he_normal", "zeros", "glorot_uniform"], widths=(16, 16))
    recorder = DiagnosticsRecorder(digits.X_val, every=2)
    seen = {}

    def callback(epoch, stk, state):
        out = recorder(epoch, stk, state)
        assert out == []
        if epoch > 0 and epoch % 2 == 0:
            seen[epoch] = ([g.flatten(1).norm(dim=1) for g, _ in state.grads], [u.clone() for u in state.update_norms],
                           [w.detach().flatten(1).double().norm(dim=1) for w in stk.weights])
        return out

    train(stack, digits, TrainSettings(max_epochs=5, patience=None, callback_every=1), callback=callback)
    assert recorder.epochs == [0, 2, 4]
    recs = recorder.records_for(0)
    assert len(recs) == 3 * 2  # 3 records x 2 hidden layers
    assert all(set(r) == set(COLUMNS) for r in recs)
    json.dumps(recs, allow_nan=False)  # JSON-ready: no NaN, None where not available
    first = [r for r in recs if r["epoch"] == 0]
    assert all(r["grad_norm"] is None and r["update_ratio"] is None for r in first)
    for r in recs:
        if r["epoch"] == 0:
            continue
        grads, updates, norms = seen[r["epoch"]]
        l = r["layer"] - 1
        assert r["grad_norm"] == pytest.approx(grads[l][0].item(), rel=1e-5)
        assert r["update_ratio"] == pytest.approx(updates[l][0].item() / norms[l][0].item(), rel=1e-5)
    # the zero-init member: one unit per layer, all dead (relu of 0)
    zeros = recorder.records_for(1)
    assert all(r["effective_width"] == 1 and r["dead_fraction"] == 1.0 for r in zeros)
    assert recorder.records_for(7) == []
    assert len(recorder.table()) == 3 * 3 * 2


# --- fact 4 at initialization: the signal through 6 relu layers of 64 on digits --------------


def test_small_normal_vanishes_and_he_normal_keeps_the_signal(digits):
    stack = _stack(digits, ["normal(std=0.01)", "he_normal"], widths=(64,) * 6, activation="relu", seeds=[0, 0])
    df = diagnose(stack, digits.X_val, digits.y_val)
    small = df[(df["member"] == 0) & (df["kind"] == "hidden")].sort_values("layer")["act_std"].to_numpy()
    he = df[(df["member"] == 1) & (df["kind"] == "hidden")].sort_values("layer")["act_std"].to_numpy()
    assert small[0] / small[-1] > 100  # orders of magnitude smaller at the last layer
    assert 1 / 3 < he[-1] / he[0] < 3  # He keeps it within a factor of 3
    assert df[df["member"] == 0]["effective_width"].iloc[0] == 64
