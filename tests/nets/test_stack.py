"""MLPStack: forward equals each member's plain module, padding, counts, from_members."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from justenough.errors import ConfigError
from justenough.nets.stack import MemberSpec, MLPStack

ACTS = ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "selu", "identity"]
SPECS = [
    MemberSpec(widths=(7, 5), init="he_normal", seed=0),
    MemberSpec(widths=(16, 3), init="glorot_uniform", seed=1, bias_init=0.2),
    MemberSpec(widths=(2, 9), init="orthogonal", seed=2),
]


@pytest.mark.parametrize("activation", ACTS)
def test_forward_equals_member_modules(activation: str) -> None:
    stack = MLPStack(6, 4, SPECS, activation=activation)
    g = torch.Generator().manual_seed(0)
    x_shared = torch.randn(11, 6, generator=g)  # [B, n_in]
    x_each = torch.randn(3, 11, 6, generator=g)  # [M, B, n_in]
    with torch.no_grad():
        out_shared, out_each = stack(x_shared), stack(x_each)
        assert out_shared.shape == (3, 11, 4)
        for i in range(3):
            net = stack.member(i)
            torch.testing.assert_close(out_shared[i], net(x_shared), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(out_each[i], net(x_each[i]), rtol=1e-5, atol=1e-6)


def test_member_is_a_plain_sequential_at_real_widths() -> None:
    stack = MLPStack(6, 4, SPECS, activation="leaky_relu")
    net = stack.member(2)
    assert isinstance(net, nn.Sequential)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.Linear]
    assert [tuple(m.weight.shape) for m in net if isinstance(m, nn.Linear)] == [(2, 6), (9, 2), (4, 9)]
    # A copy: changing it leaves the stack alone.
    with torch.no_grad():
        net[0].weight.fill_(7.0)
    assert not torch.equal(stack.member(2)[0].weight, net[0].weight)


def test_layout_and_padding_is_zero() -> None:
    stack = MLPStack(6, 4, SPECS, activation="sigmoid")
    assert stack.M == 3 and stack.depth == 2 and stack.sizes == [6, 16, 9, 4] and stack.padded
    assert [tuple(w.shape) for w in stack.weights] == [(3, 6, 16), (3, 16, 9), (3, 9, 4)]
    assert [tuple(b.shape) for b in stack.biases] == [(3, 16), (3, 9), (3, 4)]
    assert torch.count_nonzero(stack.weights[0][0, :, 7:]) == 0 and torch.count_nonzero(stack.weights[1][0, 7:]) == 0
    assert torch.equal(stack.unit_mask(0)[0], torch.tensor([1.0] * 7 + [0.0] * 9))
    # Padded units are exactly zero even though sigmoid(0) = 0.5, and get no gradient.
    x = torch.randn(3, 5, 6)
    out = stack(x)
    out.sum().backward()
    for l, spec_w in enumerate([(7, 16, 2), (5, 3, 9)]):
        w_real = [s for s in spec_w]
        for i, wr in enumerate(w_real):
            assert torch.count_nonzero(stack.weights[l].grad[i, :, wr:]) == 0
            assert torch.count_nonzero(stack.biases[l].grad[i, wr:]) == 0
            assert torch.count_nonzero(stack.weights[l + 1].grad[i, wr:, :]) == 0


def test_counts_use_real_widths() -> None:
    stack = MLPStack(6, 4, SPECS)
    assert stack.param_counts() == [6 * 7 + 7 + 7 * 5 + 5 + 5 * 4 + 4, 6 * 16 + 16 + 16 * 3 + 3 + 3 * 4 + 4, 6 * 2 + 2 + 2 * 9 + 9 + 9 * 4 + 4]
    assert stack.flop_counts() == [2 * (42 + 35 + 20), 2 * (96 + 48 + 12), 2 * (12 + 18 + 36)]
    for i, n in enumerate(stack.param_counts()):
        assert n == sum(p.numel() for p in stack.member(i).parameters())


@pytest.mark.parametrize("activation", ["relu", "gelu", "identity"])
def test_from_members_round_trip(activation: str) -> None:
    stack = MLPStack(6, 4, SPECS, activation=activation)
    modules = [stack.member(i) for i in range(3)]
    again = MLPStack.from_members(modules)
    assert again.activation == activation and [m.widths for m in again.members] == [s.widths for s in SPECS]
    x = torch.randn(8, 6)
    with torch.no_grad():
        torch.testing.assert_close(again(x), stack(x), rtol=0, atol=0)


def test_from_members_rejects_mismatch() -> None:
    a = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ConfigError, match="activations"):
        MLPStack.from_members([a, nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))])
    with pytest.raises(ConfigError, match="depth"):
        MLPStack.from_members([a, nn.Sequential(nn.Linear(3, 2))], activation="relu")
    with pytest.raises(ConfigError, match="cannot read"):
        MLPStack.from_members([nn.Sequential(nn.Linear(3, 4), nn.Dropout(), nn.Linear(4, 2))])


def test_subset_and_load_back() -> None:
    stack = MLPStack(6, 4, SPECS)
    sub = stack.subset([2, 0])
    assert sub.sizes == stack.sizes and [m.seed for m in sub.members] == [2, 0]
    with torch.no_grad():
        sub.weights[0].add_(1.0 * stack.unit_mask(0)[[2, 0]].unsqueeze(1))
    stack.load_subset_(sub, [2, 0])
    assert torch.equal(stack.weights[0][2], sub.weights[0][0])


def test_bad_specs_raise() -> None:
    with pytest.raises(ConfigError, match="widths"):
        MemberSpec(widths=(0,), init="he_normal", seed=0)
    with pytest.raises(ConfigError, match="seed"):
        MemberSpec(widths=(3,), init="he_normal", seed=-1)
    with pytest.raises(ConfigError, match="lr"):
        MemberSpec(widths=(3,), init="he_normal", seed=0, lr=0.0)
    with pytest.raises(ConfigError, match="unknown init"):
        MemberSpec(widths=(3,), init="magic", seed=0)
    with pytest.raises(ConfigError, match="depth"):
        MLPStack(3, 2, [MemberSpec(widths=(3,), init="he_normal", seed=0), MemberSpec(widths=(3, 3), init="he_normal", seed=0)])
    with pytest.raises(ConfigError, match="activation"):
        MLPStack(3, 2, [MemberSpec(widths=(3,), init="he_normal", seed=0)], activation="swish")
    with pytest.raises(ConfigError, match="input"):
        MLPStack(3, 2, [MemberSpec(widths=(3,), init="he_normal", seed=0)])(torch.zeros(2, 4))
    assert MemberSpec(widths=[4, 2], init="normal( std=0.1 )", seed=0).init == "normal(std=0.1)"
