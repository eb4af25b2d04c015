"""Initialization schemes: moments against their formulas, orthogonality, LSUV, seeds, registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from justenough.nets import init
from justenough.errors import ConfigError
from justenough.nets.stack import MemberSpec, MLPStack

FAN_IN, FAN_OUT = 400, 300  # 120,000 draws per layer
N = FAN_IN * FAN_OUT
RELU_GAIN = math.sqrt(2.0)
TANH_GAIN = 5.0 / 3.0


# (spec, activation, expected variance, uniform bound or None), each formula written out here.
RANDOM_CASES = [
    ("normal(std=0.02)", "relu", 0.02**2, None),
    ("uniform(a=0.3)", "relu", 0.3**2 / 3, 0.3),
    ("glorot_uniform", "relu", 2.0 / (FAN_IN + FAN_OUT), math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
    ("glorot_uniform(gain=2.0)", "relu", 4 * 2.0 / (FAN_IN + FAN_OUT), 2 * math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
    ("glorot_normal", "tanh", 2.0 / (FAN_IN + FAN_OUT), None),
    ("he_uniform", "relu", RELU_GAIN**2 / FAN_IN, RELU_GAIN * math.sqrt(3.0 / FAN_IN)),
    ("he_normal", "relu", 2.0 / FAN_IN, None),
    ("he_normal", "tanh", TANH_GAIN**2 / FAN_IN, None),
    ("he_normal", "selu", 0.75**2 / FAN_IN, None),
    ("lecun_uniform", "relu", 1.0 / FAN_IN, math.sqrt(3.0 / FAN_IN)),
    ("lecun_normal", "selu", 1.0 / FAN_IN, None),
    ("orthogonal", "identity", 1.0 / FAN_IN, None),  # Q^T Q = I: entries have variance 1/rows
    ("orthogonal(gain=3.0)", "identity", 9.0 / FAN_IN, None),
]


@pytest.mark.parametrize("spec,activation,var,bound", RANDOM_CASES)
def test_random_scheme_moments_match_formula(spec: str, activation: str, var: float, bound: float | None) -> None:
    w = init.initialize(spec, FAN_IN, FAN_OUT, activation=activation, generator=torch.Generator().manual_seed(0))
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == torch.float32
    x = w.double()
    # Mean: within 5 standard errors. Variance: within 5 standard errors of the sample
    # variance (var(s^2) = (mu4 - sigma^4) / n; mu4 = 3 sigma^4 normal, 9/5 sigma^4 uniform).
    assert abs(float(x.mean())) < 5 * math.sqrt(var / N)
    kurt = 1.8 if bound is not None else 3.0
    assert abs(float(x.var()) - var) < 5 * var * math.sqrt((kurt - 1) / N)
    if bound is not None:
        assert float(x.abs().max()) <= bound + 1e-7
        assert float(x.abs().max()) > 0.99 * bound


@pytest.mark.parametrize("fan_in,fan_out", [(50, 20), (20, 50), (30, 30)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_is_orthogonal(fan_in: int, fan_out: int, gain: float) -> None:
    w = init.initialize(f"orthogonal(gain={gain})", fan_in, fan_out, activation="relu", generator=torch.Generator().manual_seed(1)).double()
    if fan_in >= fan_out:
        gram = w.T @ w  # [out, out]
    else:
        gram = w @ w.T  # [in, in]
    torch.testing.assert_close(gram, gain**2 * torch.eye(gram.shape[0], dtype=torch.float64), rtol=0, atol=1e-5)


def test_orthogonal_default_gain_is_the_activation_gain() -> None:
    w = init.initialize("orthogonal", 40, 30, activation="relu", generator=torch.Generator().manual_seed(0)).double()
    torch.testing.assert_close(w.T @ w, 2.0 * torch.eye(30, dtype=torch.float64), rtol=0, atol=1e-5)


def test_deterministic_schemes() -> None:
    g = torch.Generator().manual_seed(0)
    assert torch.count_nonzero(init.initialize("zeros", 5, 4, activation="relu", generator=g)) == 0
    c = init.initialize("constant(value=0.25)", 5, 4, activation="relu", generator=g)
    assert torch.equal(c, torch.full((5, 4), 0.25))


def test_gains_follow_torch() -> None:
    for act, name in [("relu", "relu"), ("tanh", "tanh"), ("sigmoid", "sigmoid"), ("selu", "selu"), ("identity", "linear")]:
        assert init.activation_gain(act) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.activation_gain("leaky_relu") == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.01))
    assert init.activation_gain("gelu") == pytest.approx(math.sqrt(2))


def _digits_batch() -> torch.Tensor:
    X, _ = load_digits(return_X_y=True)
    return torch.from_numpy(StandardScaler().fit_transform(X[:512]).astype(np.float32))


@pytest.mark.parametrize("activation", ["relu", "tanh", "selu"])
def test_lsuv_gives_unit_output_variance(activation: str) -> None:
    X = _digits_batch()
    specs = [
        MemberSpec(widths=(50, 30, 20), init="lsuv", seed=0),
        MemberSpec(widths=(20, 30, 10), init="lsuv(tol=0.01)", seed=1),
        MemberSpec(widths=(50, 30, 20), init="he_normal", seed=2),
    ]
    stack = MLPStack(64, 10, specs, activation=activation, init_data=X)
    for i, tol in [(0, 0.05), (1, 0.01)]:
        net = stack.member(i)
        h = X
        with torch.no_grad():
            for mod in net:
                h = mod(h)
                if isinstance(mod, torch.nn.Linear):
                    assert abs(float(h.var(unbiased=False)) - 1.0) < tol
    # A non-LSUV stack-mate is left alone: equal to the same member in a stack of its own.
    alone = MLPStack(64, 10, [specs[2]], activation=activation)
    for k, v in alone.member(0).state_dict().items():
        assert torch.equal(stack.member(2).state_dict()[k], v)


def test_lsuv_needs_data() -> None:
    with pytest.raises(ConfigError, match="init_data"):
        MLPStack(64, 10, [MemberSpec(widths=(8,), init="lsuv", seed=0)])


def test_same_scheme_and_seed_give_same_weights_in_any_stack() -> None:
    spec = MemberSpec(widths=(12, 9), init="glorot_normal", seed=42, bias_init=0.1)
    alone = MLPStack(20, 3, [spec], activation="tanh")
    crowd = MLPStack(
        20,
        3,
        [MemberSpec(widths=(40, 40), init="he_normal", seed=1), spec, MemberSpec(widths=(3, 2), init="orthogonal", seed=42)],
        activation="tanh",
    )
    a, b = alone.member(0).state_dict(), crowd.member(1).state_dict()
    for k in a:
        assert torch.equal(a[k], b[k])
    assert torch.equal(a["0.bias"], torch.full((12,), 0.1))
    # The draw is a pure function of (scheme, seed, shape).
    g = torch.Generator().manual_seed(42)
    assert torch.equal(a["0.weight"], init.initialize("glorot_normal", 20, 12, activation="tanh", generator=g).T)


def test_parse_and_canonical_spec() -> None:
    s = init.parse(" normal( std = 0.01 ) ")
    assert s.name == "normal" and dict(s.params) == {"std": 0.01} and str(s) == "normal(std=0.01)"
    assert str(init.parse("HE_NORMAL")) == "he_normal"
    assert init.parse(str(init.parse("orthogonal(gain=1.0)"))) == init.parse("orthogonal(gain=1.0)")
    for bad, msg in [("nope", "unknown init scheme"), ("normal(sd=1)", "no parameter"), ("normal(std=x)", "not a number"),
                     ("normal(std=-1)", "positive"), ("he_normal(", "malformed"), ("lecun_normal(gain=2)", "no parameter")]:
        with pytest.raises(ConfigError, match=msg):
            init.parse(bad)


def test_register_a_scheme() -> None:
    scheme = init.InitScheme(
        name="test_halves",
        sample=lambda i, o, gain, g, p: torch.full((i, o), 0.5 * gain),
        formula="W = gain / 2",
        use="tests only",
        reference="this test",
        gain="one",
    )
    try:
        init.register(scheme)
        with pytest.raises(ConfigError, match="already registered"):
            init.register(scheme)
        stack = MLPStack(4, 2, [MemberSpec(widths=(3,), init="test_halves(gain=4)", seed=0)])
        assert torch.equal(stack.weights[0][0], torch.full((4, 3), 2.0))
    finally:
        init.SCHEMES.pop("test_halves", None)


def test_every_scheme_is_documented() -> None:
    rows = init.table()
    names = {r["name"] for r in rows}
    assert names >= {"zeros", "constant", "normal", "uniform", "glorot_uniform", "glorot_normal", "he_uniform",
                     "he_normal", "lecun_uniform", "lecun_normal", "orthogonal", "lsuv"}
    for r in rows:
        assert r["formula"] and r["use"] and r["reference"]
    assert "Glorot & Bengio (2010)" in init.SCHEMES["glorot_normal"].reference
    assert "He" in init.SCHEMES["he_normal"].reference and "2015" in init.SCHEMES["he_normal"].reference
    assert "Saxe" in init.SCHEMES["orthogonal"].reference and "Mishkin" in init.SCHEMES["lsuv"].reference
