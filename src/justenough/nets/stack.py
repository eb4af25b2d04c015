"""MLPStack: M multilayer perceptrons held as stacked tensors and run as one.

Layer ``l`` of the stack holds ``weights[l]: [M, fan_in, fan_out]`` and ``biases[l]: [M, fan_out]``,
so the forward pass of all M members is one batched matmul per layer::

    h = torch.baddbmm(b[:, None, :], h, W)  # [M, B, fan_out]

Members share depth and activation, and may differ in width, init scheme, seed, learning rate
and weight decay. Narrower members are padded with zeros up to the widest one; a unit mask
(``unit_mask(l)``: ``[M, fan_out]``) zeros the padded units' activations, so padded units are
exactly zero and receive exactly zero gradient (their in- and out-going weights are zero, and
the mask kills the activation even where act(0) != 0, as for the sigmoid).

Each member is drawn at its real widths from its own ``torch.Generator(seed)`` and only then
padded, so its initial weights depend on (scheme, seed, shapes) only, never on its stack-mates.

``embed="periodic"`` puts a periodic embedding in front of layer 0 (``nets/periodic.py``): each
member holds ``frequencies`` and ``phases`` ``[M, F, K]`` (F = ``n_in``), drawn from the member's
generator after its layers, and layer 0 reads ``[x, cos(2 pi c x + phi)]``, ``F (1 + K)`` inputs::

    h0 = concat(x, cos(2 pi c x + phi))  # [M, B, F + F K]

A stack holds one embedding (all its members embedded or none), as it holds one activation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from justenough.errors import ConfigError
from justenough.network_size import (
    embedding_flop_count,
    embedding_parameter_count,
    first_layer_inputs,
    flop_count,
    parameter_count,
)
from justenough.nets import init as init_mod
from justenough.nets.activations import ACTIVATION_FUNCTIONS, ACTIVATION_MODULES, activation_module, activation_name
from justenough.nets.periodic import PeriodicEmbedding, draw_periodic, periodic_forward
from justenough.vocab import Embed, parse_choice, parse_device

__all__ = ["MemberSpec", "MLPStack", "plain_mlp"]


@dataclass(frozen=True)
class MemberSpec:
    """One member of a stack: its hidden widths, init scheme spec, seed and optimizer settings."""

    widths: tuple[int, ...]
    init: str
    seed: int
    lr: float = 1e-3
    weight_decay: float = 0.0
    bias_init: float = 0.0

    def __post_init__(self) -> None:
        widths = tuple(self.widths) if isinstance(self.widths, (list, tuple)) else self.widths
        if not isinstance(widths, tuple) or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ConfigError(f"MemberSpec.widths must be a tuple of positive integers, got {self.widths!r}")
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "init", str(init_mod.parse(self.init)))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"MemberSpec.seed must be a non-negative integer, got {self.seed!r}")
        if not (isinstance(self.lr, (int, float)) and 0 < float(self.lr) < float("inf")):
            raise ConfigError(f"MemberSpec.lr must be a positive finite number, got {self.lr!r}")
        if not (isinstance(self.weight_decay, (int, float)) and 0 <= float(self.weight_decay) < float("inf")):
            raise ConfigError(f"MemberSpec.weight_decay must be a non-negative number, got {self.weight_decay!r}")
        if not (isinstance(self.bias_init, (int, float)) and abs(float(self.bias_init)) < float("inf")):
            raise ConfigError(f"MemberSpec.bias_init must be a finite number, got {self.bias_init!r}")

    @property
    def depth(self) -> int:
        return len(self.widths)


# A member's drawn or read values: (W [fan_in, fan_out], b [fan_out]) per layer, and its
# embedding's (frequencies, phases), each [n_in, K] (None without an embedding).
_Drawn = tuple[list[tuple[torch.Tensor, torch.Tensor]], tuple[torch.Tensor, torch.Tensor] | None]


def _draw_member(spec: MemberSpec, n_in: int, n_out: int, activation: str, embed: str) -> _Drawn:
    """The member's layers at its real widths, then its embedding, from its own generator, on the CPU."""
    g = torch.Generator().manual_seed(spec.seed)
    sizes = [first_layer_inputs(n_in, embed), *spec.widths, n_out]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = init_mod.initialize(spec.init, fan_in, fan_out, activation=activation, generator=g)
        b = torch.full((fan_out,), float(spec.bias_init), dtype=torch.float32)
        layers.append((w, b))
    return layers, (draw_periodic(n_in, g) if embed == Embed.PERIODIC else None)


class MLPStack(nn.Module):
    """M MLPs of one depth and activation as stacked, zero-padded tensors.

    ``weights[l]``: ``[M, fan_in_max, fan_out_max]``, ``biases[l]``: ``[M, fan_out_max]``.
    ``init_data``: a batch ``[B, n_in]`` of real inputs, needed by ``lsuv`` members.
    ``embed``: ``"none"`` or ``"periodic"`` (``frequencies`` and ``phases`` ``[M, n_in, K]``).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        members: Sequence[MemberSpec],
        activation: str = "relu",
        *,
        device: str | torch.device = "cpu",
        init_data: Any = None,
        embed: str = "none",
    ) -> None:
        super().__init__()
        members = tuple(members)
        self._setup(n_in, n_out, members, activation, device, pad=None, embed=embed)
        drawn = [_draw_member(s, self.n_in, self.n_out, self.activation, self.embed) for s in members]
        self._fill(drawn)
        lsuv = [i for i, s in enumerate(members) if init_mod.parse(s.init).name == "lsuv"]
        groups: dict[tuple[float, int], list[int]] = {}
        for i in lsuv:
            p = init_mod.parse(members[i].init).param_dict()
            groups.setdefault((float(p["tol"]), int(p["max_iter"])), []).append(i)
        for (tol, max_iter), idx in groups.items():
            if init_data is None:
                raise ConfigError(
                    f"member(s) {idx} use lsuv init, which needs a batch of real data: pass init_data=X "
                    "(e.g. the first 512 training rows) to MLPStack, or pick another init scheme"
                )
            init_mod.lsuv_(self, init_data, members=idx, tol=tol, max_iter=max_iter)

    # --- construction -----------------------------------------------------------------------

    def _setup(
        self,
        n_in: int,
        n_out: int,
        members: tuple[MemberSpec, ...],
        activation: str,
        device: str | torch.device,
        pad: Sequence[int] | None,
        embed: str = "none",
    ) -> None:
        if not members:
            raise ConfigError("a stack needs at least one member (MemberSpec)")
        for name, v in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"MLPStack {name} must be a positive integer, got {v!r}")
        bad = [m for m in members if not isinstance(m, MemberSpec)]
        if bad:
            raise ConfigError(f"MLPStack members must be MemberSpec objects, got {type(bad[0]).__name__}")
        depths = {m.depth for m in members}
        if len(depths) != 1:
            raise ConfigError(
                f"the members of one stack must share their depth, got depths {sorted(depths)}: "
                "group members by depth and activation, one stack per group"
            )
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.members: tuple[MemberSpec, ...] = members
        self.activation = activation_name(activation).value
        self.embed = parse_choice(Embed, embed, "embed").value
        self._act = ACTIVATION_FUNCTIONS[self.activation]
        self.depth = depths.pop()
        self.M = len(members)
        self._device = parse_device(device)
        widest = [max(m.widths[l] for m in members) for l in range(self.depth)]
        if pad is not None:
            widest = [max(a, int(b)) for a, b in zip(widest, pad)]
        self.sizes = [first_layer_inputs(self.n_in, self.embed), *widest, self.n_out]  # sizes[0]: layer 0's fan-in
        self.padded = any(m.widths[l] != widest[l] for m in members for l in range(self.depth))
        dev = self._device
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.zeros(self.M, a, b, device=dev)) for a, b in zip(self.sizes[:-1], self.sizes[1:])]
        )
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(self.M, b, device=dev)) for b in self.sizes[1:]])
        # The periodic embedding's frequencies and phases, [M, n_in, K] each; empty without one.
        k = (self.sizes[0] - self.n_in) // self.n_in
        self.embedding = nn.ParameterList(
            [nn.Parameter(torch.zeros(self.M, self.n_in, k, device=dev)) for _ in range(2)] if k else []
        )
        # Unit masks of the hidden layers: [M, width_max], 1 for a member's real units.
        masks = []
        for l in range(self.depth):
            m = torch.zeros(self.M, self.sizes[l + 1], device=dev)
            for i, spec in enumerate(members):
                m[i, : spec.widths[l]] = 1.0
            masks.append(m)
        self._masks = masks
        self.lr = torch.tensor([m.lr for m in members], dtype=torch.float32, device=dev)  # [M]
        self.weight_decay = torch.tensor([m.weight_decay for m in members], dtype=torch.float32, device=dev)  # [M]

    @torch.no_grad()
    def _fill(self, drawn: Sequence[_Drawn]) -> None:
        """Write each member's real-width (W, b) per layer, and its embedding, into the stack tensors."""
        for i, (layers, emb) in enumerate(drawn):
            for l, (w, b) in enumerate(layers):
                fi, fo = w.shape
                self.weights[l][i, :fi, :fo] = w.to(self._device)
                self.biases[l][i, :fo] = b.to(self._device)
            if emb is not None:
                for p, v in zip(self.embedding, emb):
                    p[i] = v.to(self._device)

    def trained_parameters(self) -> list[nn.Parameter]:
        """Every trained tensor, in the trainer's flat order: weights per layer, biases per layer,
        then the embedding's frequencies and phases (if any)."""
        return [*self.weights, *self.biases, *self.embedding]

    @classmethod
    def from_members(
        cls,
        modules: Sequence[nn.Sequential],
        activation: str | None = None,
        *,
        specs: Sequence[MemberSpec] | None = None,
        device: str | torch.device = "cpu",
    ) -> "MLPStack":
        """A stack holding the weights of plain ``nn.Sequential`` MLPs (Linear and activation modules,
        optionally a ``PeriodicEmbedding`` first: then every module must have one).

        ``activation`` is read from the modules when not given. ``specs`` give each member's
        seed, lr and weight decay (default: init ``zeros``, seed i, lr 1e-3): the weights come from
        the modules, whatever the spec's init names.
        """
        if not modules:
            raise ConfigError("from_members needs at least one module")
        parsed = [_read_sequential(m) for m in modules]
        embs = [e for _, _, e in parsed]
        if len({e is None for e in embs}) > 1:
            raise ConfigError("some modules start with a PeriodicEmbedding and some do not: one stack holds one embedding")
        embed = Embed.NONE if embs[0] is None else Embed.PERIODIC
        acts = {a for _, a, _ in parsed if a is not None}
        if activation is None:
            if len(acts) > 1:
                raise ConfigError(f"the modules use different activations {sorted(acts)}: one stack holds one activation")
            activation = acts.pop() if acts else "identity"
        else:
            activation = activation_name(activation).value
            if acts and acts != {activation}:
                raise ConfigError(f"activation={activation!r} but the modules use {sorted(acts)}")
        shapes = [[lin.weight.shape for lin in lins] for lins, _, _ in parsed]
        n_in = {s[0][1] for s in shapes} if embed == Embed.NONE else {e.n_in for e in embs if e is not None}
        n_out = {s[-1][0] for s in shapes}
        if len(n_in) != 1 or len(n_out) != 1:
            raise ConfigError(f"the modules must share input and output sizes, got inputs {sorted(n_in)}, outputs {sorted(n_out)}")
        widths = [tuple(int(w[0]) for w in s[:-1]) for s in shapes]
        if specs is None:
            specs = [MemberSpec(widths=w, init="zeros", seed=i) for i, w in enumerate(widths)]
        elif len(specs) != len(modules) or any(s.widths != w for s, w in zip(specs, widths)):
            raise ConfigError("specs must give one MemberSpec per module, with the module's widths")
        stack = cls.__new__(cls)
        nn.Module.__init__(stack)
        stack._setup(n_in.pop(), n_out.pop(), tuple(specs), activation, device, pad=None, embed=embed)
        if any(s[0][1] != stack.sizes[0] for s in shapes) or any(
            e is not None and e.n_frequencies != stack.embedding[0].shape[2] for e in embs
        ):
            raise ConfigError(f"a module's first Linear layer or embedding does not match {stack.sizes[0]} embedded inputs")
        cpu = lambda t: t.detach().to("cpu", torch.float32)  # noqa: E731
        drawn: list[_Drawn] = [
            ([(cpu(lin.weight).T, cpu(lin.bias)) for lin in lins], None if e is None else (cpu(e.frequencies), cpu(e.phases)))
            for lins, _, e in parsed
        ]
        stack._fill(drawn)
        return stack

    def subset(self, indices: Sequence[int]) -> "MLPStack":
        """A new stack holding copies of the chosen members, padded to this stack's widths."""
        idx = [int(i) for i in indices]
        if not idx or any(not 0 <= i < self.M for i in idx):
            raise ConfigError(f"subset indices must lie in 0..{self.M - 1}, got {indices!r}")
        sub = type(self).__new__(type(self))
        nn.Module.__init__(sub)
        sub._setup(self.n_in, self.n_out, tuple(self.members[i] for i in idx), self.activation, self._device,
                   pad=self.sizes[1:-1], embed=self.embed)
        it = torch.tensor(idx, device=self._device)
        with torch.no_grad():
            for mine, theirs in zip(self.trained_parameters(), sub.trained_parameters()):
                theirs.copy_(mine.index_select(0, it))
        return sub

    @torch.no_grad()
    def load_subset_(self, sub: "MLPStack", indices: Sequence[int]) -> None:
        """Copy a ``subset(indices)`` stack's weights back into this stack's members ``indices``."""
        it = torch.tensor([int(i) for i in indices], device=self._device)
        for mine, theirs in zip(self.trained_parameters(), sub.trained_parameters()):
            mine.index_copy_(0, it, theirs.to(self._device))

    # --- computation ------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self._device

    def unit_mask(self, layer: int) -> torch.Tensor:
        """``[M, fan_out]`` of layer ``layer``: 1.0 for each member's real output units."""
        if layer < self.depth:
            return self._masks[layer]
        return torch.ones(self.M, self.n_out, device=self._device)

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        """The stack's activation function, elementwise."""
        return self._act(z)

    def first_layer_input(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[M, B, n_in]`` as layer 0 reads it: itself, or with its periodic features
        (``[M, B, n_in (1 + K)]``)."""
        if not len(self.embedding):
            return x
        return periodic_forward(x, self.embedding[0], self.embedding[1])[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[M, B, n_in]`` (each member its own batch) or ``[B, n_in]`` (shared) -> ``[M, B, n_out]``."""
        if x.ndim == 2:
            x = x.unsqueeze(0).expand(self.M, -1, -1)  # [M, B, n_in], no copy
        if x.ndim != 3 or x.shape[0] != self.M or x.shape[2] != self.n_in:
            raise ConfigError(f"stack input must be [B, {self.n_in}] or [{self.M}, B, {self.n_in}], got {list(x.shape)}")
        h = self.first_layer_input(x)  # [M, B, sizes[0]]
        for l in range(self.depth):
            h = torch.baddbmm(self.biases[l].unsqueeze(1), h, self.weights[l])  # [M, B, width_l]
            h = self._act(h)
            if self.padded:
                h = h * self._masks[l].unsqueeze(1)  # padded units exactly 0 (sigmoid(0) = 0.5)
        return torch.baddbmm(self.biases[-1].unsqueeze(1), h, self.weights[-1])  # [M, B, n_out]

    # --- members as plain modules -----------------------------------------------------------

    def real_sizes(self, i: int) -> list[int]:
        """Member i's layer sizes ``[fan_in_0, w1, ..., wL, n_out]`` (real, not padded; ``fan_in_0``
        is ``n_in``, or ``n_in (1 + K)`` behind a periodic embedding)."""
        return [self.sizes[0], *self.members[i].widths, self.n_out]

    @torch.no_grad()
    def member(self, i: int) -> nn.Sequential:
        """Member i as ``Sequential(Linear, act, ..., Linear)`` at its real widths (a copy), with
        its ``PeriodicEmbedding`` first when the stack has one."""
        if not 0 <= int(i) < self.M:
            raise ConfigError(f"member index {i} is out of range 0..{self.M - 1}")
        net = plain_mlp(self.real_sizes(i), self.activation, device=self._device)
        if len(self.embedding):
            emb = PeriodicEmbedding(self.n_in, self.embedding[0].shape[2], device=self._device)
            emb.frequencies.copy_(self.embedding[0][i])
            emb.phases.copy_(self.embedding[1][i])
            net = nn.Sequential(emb, *net)
        for l, lin in enumerate(m for m in net if isinstance(m, nn.Linear)):
            fi, fo = lin.in_features, lin.out_features
            lin.weight.copy_(self.weights[l][i, :fi, :fo].T)  # nn.Linear holds [out, in]
            lin.bias.copy_(self.biases[l][i, :fo])
        return net

    def member_state(self, i: int) -> dict[str, torch.Tensor]:
        """Member i's weights as ``member(i).state_dict()`` (``{"0.weight": [out, in], ...}``)."""
        return {k: v.detach().clone() for k, v in self.member(i).state_dict().items()}

    def param_counts(self) -> list[int]:
        """Weights plus biases per member, at its real widths, plus its embedding's parameters."""
        extra = embedding_parameter_count(self.n_in, self.embed)
        return [parameter_count(self.real_sizes(i)) + extra for i in range(self.M)]

    def flop_counts(self) -> list[int]:
        """Forward FLOPs per sample per member: 2 x multiply-adds at its real widths, plus the embedding's."""
        extra = embedding_flop_count(self.n_in, self.embed)
        return [flop_count(self.real_sizes(i)) + extra for i in range(self.M)]

    def extra_repr(self) -> str:
        return f"M={self.M}, sizes={self.sizes}, activation={self.activation!r}, embed={self.embed!r}, padded={self.padded}"


def plain_mlp(sizes: Sequence[int], activation: str, *, device: str | torch.device | None = None) -> nn.Sequential:
    """``Linear(sizes[0], sizes[1]), act, ..., Linear(sizes[-2], sizes[-1])``: one member as a plain
    module, an activation after every hidden layer (none after the output: logits or raw targets).

    ``sizes`` is ``[n_in, w1, ..., wL, n_out]``; the weights are torch's defaults (load a state dict,
    or copy a member's, to give it trained ones). ``member(i)`` and the saved models are built here,
    so state dicts move freely between them.
    """
    layers: list[nn.Module] = []
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(fan_in), int(fan_out), device=device))
        if l < len(sizes) - 2:  # hidden layers only
            layers.append(activation_module(activation))
    return nn.Sequential(*layers)


def _read_sequential(module: nn.Module) -> tuple[list[nn.Linear], str | None, PeriodicEmbedding | None]:
    """The Linear layers, the activation name and the periodic embedding (first, or None) of a plain MLP module."""
    if not isinstance(module, nn.Sequential):
        raise ConfigError(f"from_members takes torch.nn.Sequential modules, got {type(module).__name__}")
    lins: list[nn.Linear] = []
    acts: set[str] = set()
    by_type = {cls: name for name, cls in ACTIVATION_MODULES.items()}
    emb = module[0] if len(module) and isinstance(module[0], PeriodicEmbedding) else None
    for m in list(module)[1 if emb is not None else 0 :]:
        if isinstance(m, nn.Linear):
            if m.bias is None:
                raise ConfigError("from_members needs Linear layers with a bias (bias=True)")
            lins.append(m)
        elif type(m) in by_type:
            if isinstance(m, nn.LeakyReLU) and m.negative_slope != 0.01:
                raise ConfigError(f"LeakyReLU(negative_slope={m.negative_slope}) is not supported: the stack uses 0.01")
            if isinstance(m, nn.GELU) and m.approximate != "none":
                raise ConfigError("GELU(approximate='tanh') is not supported: the stack uses the exact GELU")
            acts.add(by_type[type(m)])
        else:
            raise ConfigError(f"from_members cannot read a {type(m).__name__} module: only Linear and activations")
    if not lins:
        raise ConfigError("from_members: a module holds no Linear layer")
    if len(acts) > 1:
        raise ConfigError(f"a module mixes activations {sorted(acts)}: one stack holds one activation")
    return lins, (acts.pop() if acts else None), emb
