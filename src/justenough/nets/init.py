"""Initialization schemes: one registry, each scheme with its formula, its use and its reference.

A scheme draws one weight matrix ``W: [fan_in, fan_out]`` (the stack's layout: ``h @ W``; a
``torch.nn.Linear`` holds the transpose). Randomness comes only from the explicit
``torch.Generator`` passed in, so the same (scheme, seed, shapes) give the same weights wherever
they are drawn. Draws happen on the CPU in float32 and are then moved, so CPU and CUDA stacks
start from identical weights.

A spec is a string ``name`` or ``name(key=value, ...)``: ``he_normal``, ``normal(std=0.01)``,
``constant(value=0.5)``, ``orthogonal(gain=1.0)``. ``parse`` turns it into an :class:`InitSpec`.

Gains follow ``torch.nn.init.calculate_gain`` (GELU, which torch does not list, takes ReLU's
gain sqrt(2)). ``he_*`` and ``orthogonal`` use the activation's gain unless a ``gain`` is given;
``glorot_*`` use gain 1 unless given; ``lecun_*`` use no gain (var = 1 / fan_in).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import nn

from justenough.errors import ConfigError
from justenough.nets.activations import ACTIVATIONS

__all__ = [
    "InitScheme",
    "InitSpec",
    "SCHEMES",
    "activation_gain",
    "register",
    "parse",
    "initialize",
    "lsuv_",
    "LayeredStack",
    "table",
]

# A sampler: (fan_in, fan_out, gain, generator, params) -> W [fan_in, fan_out] float32.
Sampler = Callable[[int, int, float, torch.Generator, Mapping[str, float]], torch.Tensor]


@dataclass(frozen=True)
class InitScheme:
    """One initialization scheme and its documentation (the docs and report print these).

    ``gain``: ``"activation"`` (default gain is the activation's), ``"one"`` (gain 1 unless a
    ``gain`` param is given) or ``"none"`` (the scheme takes no gain). ``params``: the accepted
    parameters and their defaults. ``random``: whether the scheme draws from the generator.
    ``data_dependent``: it needs a batch of real data (LSUV).
    """

    name: str
    sample: Sampler
    formula: str
    use: str
    reference: str
    params: Mapping[str, float] = field(default_factory=dict)
    gain: str = "none"
    random: bool = True
    data_dependent: bool = False


SCHEMES: dict[str, InitScheme] = {}


def register(scheme: InitScheme, *, overwrite: bool = False) -> InitScheme:
    """Add a scheme to the registry (``SCHEMES``); returns it.

    Raises ConfigError when the name is taken (pass ``overwrite=True`` to replace it) or malformed.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", scheme.name):
        raise ConfigError(f"init scheme name {scheme.name!r} is invalid: use lower-case letters, digits and _")
    if scheme.gain not in ("activation", "one", "none"):
        raise ConfigError(f"init scheme {scheme.name!r}: gain must be 'activation', 'one' or 'none', got {scheme.gain!r}")
    if scheme.name in SCHEMES and not overwrite:
        raise ConfigError(f"init scheme {scheme.name!r} is already registered: pick another name or pass overwrite=True")
    SCHEMES[scheme.name] = scheme
    return scheme


def activation_gain(activation: str) -> float:
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain`` gives it.

    GELU is not in torch's table; it takes ReLU's sqrt(2) (it behaves like ReLU away from 0).
    """
    if activation not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    name, param = ACTIVATIONS[activation].gain
    if param is not None:
        return float(torch.nn.init.calculate_gain(name, param))  # type: ignore[arg-type]  # a name from the table
    return float(torch.nn.init.calculate_gain(name))  # type: ignore[arg-type]  # a name from the table


@dataclass(frozen=True)
class InitSpec:
    """A parsed scheme spec: the scheme's ``name`` and its explicit ``params``.

    ``str(spec)`` gives the canonical spec back (params in sorted order).
    """

    name: str
    params: tuple[tuple[str, float], ...] = ()

    @property
    def scheme(self) -> InitScheme:
        return SCHEMES[self.name]

    def param_dict(self) -> dict[str, float]:
        """The scheme's defaults, overridden by the explicit params."""
        out = dict(self.scheme.params)
        out.update(self.params)
        return out

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={_fmt(v)}' for k, v in self.params)})"


def _fmt(v: float) -> str:
    return repr(float(v))


def parse(spec: str | InitSpec) -> InitSpec:
    """Parse ``name`` or ``name(key=value, ...)``; raises ConfigError naming the problem."""
    if isinstance(spec, InitSpec):
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"an init spec must be a string like 'he_normal' or 'normal(std=0.01)', got {spec!r}")
    text = spec.strip()
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", text, flags=re.S)
    if not m:
        raise ConfigError(f"init spec {spec!r} is malformed: write name or name(key=value, ...), e.g. normal(std=0.01)")
    name = m.group(1).lower()
    if name not in SCHEMES:
        raise ConfigError(f"unknown init scheme {name!r} in {spec!r}: use one of {', '.join(sorted(SCHEMES))}")
    scheme = SCHEMES[name]
    allowed = set(scheme.params) | ({"gain"} if scheme.gain != "none" else set())
    params: dict[str, float] = {}
    body = (m.group(2) or "").strip()
    if body:
        for part in body.split(","):
            kv = part.split("=")
            if len(kv) != 2 or not kv[0].strip():
                raise ConfigError(f"init spec {spec!r}: {part.strip()!r} is not key=value")
            key, raw = kv[0].strip(), kv[1].strip()
            if key not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise ConfigError(f"init scheme {name!r} has no parameter {key!r} (in {spec!r}); its parameters: {known}")
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"init spec {spec!r}: {key}={raw!r} is not a number") from None
            if not math.isfinite(value):
                raise ConfigError(f"init spec {spec!r}: {key} must be finite, got {raw}")
            params[key] = value
    for key in ("std", "a", "gain", "max_iter"):
        if key in params and params[key] <= 0:
            raise ConfigError(f"init spec {spec!r}: {key} must be positive, got {params[key]}")
    if "tol" in params and not 0 < params["tol"] < 1:
        raise ConfigError(f"init spec {spec!r}: tol must lie in (0, 1), got {params['tol']}")
    return InitSpec(name=name, params=tuple(sorted(params.items())))


def _gain_for(spec: InitSpec, activation: str) -> float:
    params = spec.param_dict()
    if "gain" in params:
        return float(params["gain"])
    if spec.scheme.gain == "activation":
        return activation_gain(activation)
    return 1.0


def initialize(
    spec: str | InitSpec, fan_in: int, fan_out: int, *, activation: str, generator: torch.Generator
) -> torch.Tensor:
    """Draw one weight matrix ``[fan_in, fan_out]`` (float32, CPU) from ``generator``.

    ``activation`` is the nonlinearity that follows the layer's input side (it sets the gain).
    ``lsuv`` returns its orthogonal start; the rescaling on data is ``lsuv_``.
    """
    s = parse(spec)
    if fan_in < 1 or fan_out < 1:
        raise ConfigError(f"cannot initialize a [{fan_in}, {fan_out}] layer: both sizes must be at least 1")
    gain = _gain_for(s, activation)
    w = s.scheme.sample(int(fan_in), int(fan_out), gain, generator, s.param_dict())
    if tuple(w.shape) != (fan_in, fan_out):
        raise ConfigError(f"init scheme {s.name!r} returned shape {tuple(w.shape)}, expected ({fan_in}, {fan_out})")
    return w.to(torch.float32)


# --- the samplers ---------------------------------------------------------------------------


def _normal(fan_in: int, fan_out: int, std: float, g: torch.Generator) -> torch.Tensor:
    return torch.randn(fan_in, fan_out, generator=g, dtype=torch.float32) * std  # [in, out]


def _uniform(fan_in: int, fan_out: int, a: float, g: torch.Generator) -> torch.Tensor:
    u = torch.rand(fan_in, fan_out, generator=g, dtype=torch.float32)  # U[0, 1)
    return (u * 2.0 - 1.0) * a  # U[-a, a)


def _orthogonal(fan_in: int, fan_out: int, gain: float, g: torch.Generator) -> torch.Tensor:
    """A (semi-)orthogonal matrix times gain: W^T W = gain^2 I if fan_in >= fan_out, else W W^T."""
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    a = torch.randn(rows, cols, generator=g, dtype=torch.float64)
    q, r = torch.linalg.qr(a)  # q: [rows, cols], orthonormal columns
    # Fix the signs so Q is uniformly (Haar) distributed, as torch.nn.init.orthogonal_ does.
    d = torch.sign(torch.diagonal(r))
    d[d == 0] = 1.0
    q = q * d  # [rows, cols]
    w = q if fan_in >= fan_out else q.T  # [fan_in, fan_out]
    return (w * gain).to(torch.float32).contiguous()


# 103 lines: the built-in schemes as one list of registry entries (data, one per scheme), in the order the docs print them
def _builtin() -> list[InitScheme]:
    return [
        InitScheme(
            "zeros",
            lambda i, o, gain, g, p: torch.zeros(i, o),
            "W = 0",
            "Never for hidden layers: every unit stays identical (ReLU/tanh units get no gradient at all). "
            "Shown to make the symmetry problem visible.",
            "Goodfellow, Bengio & Courville (2016), Deep Learning, section 8.4",
            random=False,
        ),
        InitScheme(
            "constant",
            lambda i, o, gain, g, p: torch.full((i, o), float(p["value"])),
            "W = c",
            "Never for hidden layers: units start and stay identical (symmetry is not broken).",
            "Goodfellow, Bengio & Courville (2016), Deep Learning, section 8.4",
            params={"value": 0.1},
            random=False,
        ),
        InitScheme(
            "normal",
            lambda i, o, gain, g, p: _normal(i, o, float(p["std"]), g),
            "W ~ N(0, std^2)",
            "A fixed scale that ignores the layer size: fine for small, shallow nets; the signal "
            "shrinks or grows with depth unless std matches 1/sqrt(fan_in).",
            "Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors",
            params={"std": 0.01},
        ),
        InitScheme(
            "uniform",
            lambda i, o, gain, g, p: _uniform(i, o, float(p["a"]), g),
            "W ~ U(-a, a), var = a^2 / 3",
            "Like normal: a fixed scale, independent of the layer size.",
            "Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors",
            params={"a": 0.05},
        ),
        InitScheme(
            "glorot_uniform",
            lambda i, o, gain, g, p: _uniform(i, o, gain * math.sqrt(6.0 / (i + o)), g),
            "W ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)); var = 2 gain^2 / (fan_in + fan_out)",
            "tanh, sigmoid and linear layers: keeps the variance of both activations and gradients.",
            "Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks",
            gain="one",
        ),
        InitScheme(
            "glorot_normal",
            lambda i, o, gain, g, p: _normal(i, o, gain * math.sqrt(2.0 / (i + o)), g),
            "W ~ N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))",
            "tanh, sigmoid and linear layers (as glorot_uniform, Gaussian).",
            "Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks",
            gain="one",
        ),
        InitScheme(
            "he_uniform",
            lambda i, o, gain, g, p: _uniform(i, o, gain * math.sqrt(3.0 / i), g),
            "W ~ U(-a, a), a = gain * sqrt(3 / fan_in); var = gain^2 / fan_in (gain sqrt(2) for ReLU)",
            "ReLU-family layers: keeps the forward signal's variance through depth.",
            "He, Zhang, Ren & Sun (2015), Delving deep into rectifiers",
            gain="activation",
        ),
        InitScheme(
            "he_normal",
            lambda i, o, gain, g, p: _normal(i, o, gain / math.sqrt(i), g),
            "W ~ N(0, std^2), std = gain / sqrt(fan_in) (gain sqrt(2) for ReLU)",
            "ReLU-family layers (the usual default for ReLU nets).",
            "He, Zhang, Ren & Sun (2015), Delving deep into rectifiers",
            gain="activation",
        ),
        InitScheme(
            "lecun_uniform",
            lambda i, o, gain, g, p: _uniform(i, o, math.sqrt(3.0 / i), g),
            "W ~ U(-a, a), a = sqrt(3 / fan_in); var = 1 / fan_in",
            "SELU (self-normalizing nets) and linear/tanh layers of moderate depth.",
            "LeCun, Bottou, Orr & Mueller (1998), Efficient BackProp",
        ),
        InitScheme(
            "lecun_normal",
            lambda i, o, gain, g, p: _normal(i, o, 1.0 / math.sqrt(i), g),
            "W ~ N(0, std^2), std = 1 / sqrt(fan_in)",
            "SELU (self-normalizing nets; Klambauer et al. 2017 prescribe it).",
            "LeCun, Bottou, Orr & Mueller (1998), Efficient BackProp",
        ),
        InitScheme(
            "orthogonal",
            lambda i, o, gain, g, p: _orthogonal(i, o, gain, g),
            "W = gain * Q, Q (semi-)orthogonal: Q^T Q = I (fan_in >= fan_out) or Q Q^T = I",
            "Deep nets, linear and tanh especially: all singular values equal gain, so signals "
            "keep their norm through depth (dynamical isometry).",
            "Saxe, McClelland & Ganguli (2013), Exact solutions to the nonlinear dynamics of learning in deep linear networks",
            gain="activation",
        ),
        InitScheme(
            "lsuv",
            lambda i, o, gain, g, p: _orthogonal(i, o, 1.0, g),
            "W = Q (orthogonal), then per layer in order W <- W / sqrt(Var(h W + b)) on a data batch "
            "until abs(Var - 1) < tol (at most max_iter rounds)",
            "Any activation, deep nets: fixes each layer's output variance on real data; needs a batch of data.",
            "Mishkin & Matas (2015), All you need is a good init",
            params={"tol": 0.05, "max_iter": 10.0},
            data_dependent=True,
        ),
    ]


for _scheme in _builtin():
    register(_scheme)


def table() -> list[dict[str, str]]:
    """One row per registered scheme: ``name, params, formula, use, reference`` (for docs and report)."""
    rows = []
    for name in sorted(SCHEMES):
        s = SCHEMES[name]
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in s.params.items())
        if s.gain != "none":
            params = ", ".join(x for x in (params, "gain=" + ("activation" if s.gain == "activation" else "1.0")) if x)
        rows.append({"name": name, "params": params, "formula": s.formula, "use": s.use, "reference": s.reference})
    return rows


# --- LSUV -----------------------------------------------------------------------------------


class LayeredStack(Protocol):
    """What ``lsuv_`` reads and rescales of a stack (``MLPStack`` is one). A protocol rather than
    the class, because ``stack.py`` imports this module: the imports go one way."""

    @property
    def n_in(self) -> int: ...

    @property
    def M(self) -> int: ...

    @property
    def depth(self) -> int: ...

    @property
    def device(self) -> torch.device: ...

    @property
    def weights(self) -> nn.ParameterList: ...

    @property
    def biases(self) -> nn.ParameterList: ...

    def unit_mask(self, layer: int) -> torch.Tensor: ...

    def activate(self, z: torch.Tensor) -> torch.Tensor: ...

    def first_layer_input(self, x: torch.Tensor) -> torch.Tensor: ...


@torch.no_grad()
def lsuv_(
    stack: LayeredStack,
    X: torch.Tensor | None,
    members: Sequence[int] | None = None,
    tol: float = 0.05,
    max_iter: int = 10,
) -> list[list[float]]:
    """Layer-sequential unit-variance rescaling (Mishkin & Matas 2015), in place.

    For layer 1, 2, ... in order, the chosen members' weights are scaled by 1/sqrt(var) until the
    variance of the layer's output ``h W + b`` over the batch ``X: [B, n_in]`` and the member's
    real units is 1 within ``tol`` (at most ``max_iter`` rounds). Returns, per member, each
    layer's final output variance. Raises ConfigError without data.
    """
    if X is None:
        raise ConfigError(
            "lsuv init needs a batch of real data: pass init_data=X (e.g. the first 512 training rows) to MLPStack"
        )
    X = torch.as_tensor(X, dtype=torch.float32, device=stack.device)
    if X.ndim != 2 or X.shape[1] != stack.n_in or X.shape[0] < 2:
        raise ConfigError(f"lsuv init data must be [B >= 2, {stack.n_in}], got {list(X.shape)}")
    idx = list(range(stack.M)) if members is None else [int(i) for i in members]
    if not idx:
        return []
    sel = torch.zeros(stack.M, dtype=torch.bool, device=stack.device)
    sel[idx] = True
    finals = torch.zeros(stack.M, stack.depth + 1, dtype=torch.float64)
    h = stack.first_layer_input(X.unsqueeze(0).expand(stack.M, -1, -1))  # [M, B, fan_in_0]: the inputs (and periodic features)
    for layer in range(stack.depth + 1):
        w, b = stack.weights[layer], stack.biases[layer]
        out_mask = stack.unit_mask(layer).to(torch.float32)  # [M, out]; 1 for real units
        n_real = out_mask.sum(1) * X.shape[0]  # [M]
        for _ in range(int(max_iter)):
            z = torch.baddbmm(b.unsqueeze(1), h, w)  # [M, B, out]
            mean = (z * out_mask[:, None, :]).sum((1, 2)) / n_real  # [M]
            var = (((z - mean[:, None, None]) * out_mask[:, None, :]) ** 2).sum((1, 2)) / n_real  # [M]
            done = ((var - 1.0).abs() < tol) | ~sel | ~(var > 0) | ~torch.isfinite(var)
            if bool(done.all()):
                break
            scale = torch.where(done, torch.ones_like(var), var.rsqrt())  # [M]
            w.mul_(scale[:, None, None])
        z = torch.baddbmm(b.unsqueeze(1), h, w)  # [M, B, out]
        mean = (z * out_mask[:, None, :]).sum((1, 2)) / n_real
        var = (((z - mean[:, None, None]) * out_mask[:, None, :]) ** 2).sum((1, 2)) / n_real
        finals[:, layer] = var.double().cpu()
        if layer < stack.depth:
            h = stack.activate(z) * out_mask[:, None, :]  # [M, B, out]; padded units exactly 0
    return [finals[i].tolist() for i in idx]
