"""The periodic embedding: its formula, its module, and the stack that carries it per member."""

from __future__ import annotations

import math

import pytest
import torch

from justenough.errors import ConfigError
from justenough.network_size import PERIODIC_FREQUENCIES, embedding_parameter_count, first_layer_inputs, parameter_count
from justenough.nets.periodic import PERIODIC_SIGMA, PeriodicEmbedding
from justenough.nets.stack import MemberSpec, MLPStack

K = PERIODIC_FREQUENCIES


def test_module_is_the_formula() -> None:
    g = torch.Generator().manual_seed(0)
    emb = PeriodicEmbedding(3)
    with torch.no_grad():
        emb.frequencies.copy_(torch.randn(3, K, generator=g))
        emb.phases.copy_(torch.randn(3, K, generator=g))
    x = torch.randn(5, 3, generator=g)
    out = emb(x)
    assert out.shape == (5, 3 + 3 * K)
    assert torch.equal(out[:, :3], x)  # the raw features first
    for j in range(3):
        for k in range(K):
            want = torch.cos(2 * math.pi * emb.frequencies[j, k] * x[:, j] + emb.phases[j, k])
            torch.testing.assert_close(out[:, 3 + j * K + k], want.detach(), rtol=1e-5, atol=1e-5)


def test_counts_include_the_embedding() -> None:
    specs = [MemberSpec(widths=(8,), init="he_normal", seed=0), MemberSpec(widths=(4,), init="he_normal", seed=1)]
    stack = MLPStack(5, 3, specs, embed="periodic")
    assert stack.sizes[0] == first_layer_inputs(5, "periodic") == 5 * (1 + K)
    assert embedding_parameter_count(5, "periodic") == 2 * 5 * K and embedding_parameter_count(5, "none") == 0
    for i in range(2):
        net = stack.member(i)
        assert stack.param_counts()[i] == sum(p.numel() for p in net.parameters())
        assert stack.param_counts()[i] == parameter_count([5 * (1 + K), *specs[i].widths, 3]) + 2 * 5 * K
    plain = MLPStack(5, 3, specs)
    assert plain.sizes[0] == 5 and plain.param_counts() == [parameter_count([5, w[0], 3]) for w in ((8,), (4,))]
    assert all(a > b for a, b in zip(stack.flop_counts(), plain.flop_counts()))


def test_member_init_depends_on_seed_only_and_follows_the_defaults() -> None:
    a = MLPStack(40, 2, [MemberSpec(widths=(8,), init="he_normal", seed=7)], embed="periodic")
    b = MLPStack(40, 2, [MemberSpec(widths=(32,), init="glorot_uniform", seed=3),
                         MemberSpec(widths=(8,), init="he_normal", seed=7)], embed="periodic")
    sa, sb = a.member(0).state_dict(), b.member(1).state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    c, phi = sa["0.frequencies"], sa["0.phases"]  # [40, K]
    assert c.shape == phi.shape == (40, K)
    assert 0.5 * PERIODIC_SIGMA < float(c.std()) < 2 * PERIODIC_SIGMA
    assert float(phi.min()) >= -math.pi and float(phi.max()) <= math.pi


def test_member_subset_and_from_members_carry_the_embedding() -> None:
    specs = [MemberSpec(widths=(6, 4), init="he_normal", seed=s) for s in range(3)]
    stack = MLPStack(4, 2, specs, activation="tanh", embed="periodic")
    x = torch.randn(9, 4)
    with torch.no_grad():
        out = stack(x)  # [3, 9, 2]
        for i in range(3):
            net = stack.member(i)
            assert isinstance(net[0], PeriodicEmbedding)
            torch.testing.assert_close(net(x), out[i], rtol=1e-5, atol=1e-6)
        again = MLPStack.from_members([stack.member(i) for i in range(3)])
        assert again.embed == "periodic"
        torch.testing.assert_close(again(x), out, rtol=1e-6, atol=1e-6)
        sub = stack.subset([2, 0])
        torch.testing.assert_close(sub(x), out[[2, 0]], rtol=1e-6, atol=1e-6)
        other = MLPStack(4, 2, [replace_seed(s, 10) for s in specs], activation="tanh", embed="periodic")
        other.load_subset_(sub, [0, 1])
        assert torch.equal(other.member_state(0)["0.phases"], stack.member_state(2)["0.phases"])


def replace_seed(spec: MemberSpec, offset: int) -> MemberSpec:
    return MemberSpec(widths=spec.widths, init=spec.init, seed=spec.seed + offset)


def test_bad_embed_and_mixed_modules_are_refused() -> None:
    spec = MemberSpec(widths=(4,), init="he_normal", seed=0)
    with pytest.raises(ConfigError, match="embed"):
        MLPStack(3, 2, [spec], embed="fourier")
    plain, emb = MLPStack(3, 2, [spec]), MLPStack(3, 2, [spec], embed="periodic")
    with pytest.raises(ConfigError, match="PeriodicEmbedding"):
        MLPStack.from_members([plain.member(0), emb.member(0)])


def test_lsuv_sees_the_embedded_inputs() -> None:
    X = torch.randn(256, 6, generator=torch.Generator().manual_seed(0))
    stack = MLPStack(6, 2, [MemberSpec(widths=(16,), init="lsuv(tol=0.02)", seed=0)], embed="periodic", init_data=X)
    with torch.no_grad():
        z = stack.first_layer_input(X.unsqueeze(0)) @ stack.weights[0] + stack.biases[0].unsqueeze(1)
    assert abs(float(z.var(unbiased=False)) - 1.0) < 0.05
