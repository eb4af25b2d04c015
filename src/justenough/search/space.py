"""The search space: which configs a search may try, and the configs themselves.

A ``Space`` has one ``Dim`` per setting. Each dimension is *fixed* (one value), *listed* (a few
values, all of which a grid tries) or *ranged* (``low..high``, which only a sampler such as TPE
can explore). The default space is depth 1 to 3 x widths 4 to 256 (powers of two), the same width
in every layer, ReLU with He-normal initialization, Adam at lr 1e-3, batch 64, up to 200 epochs
with early stopping on the validation loss after 10 epochs without improvement. That recipe, with
the chosen config refitted on train+validation (``refit.py``), won the quality suite against the
candidates measured (docs/training.md, "The default recipe, measured on the quality suite").

A ``Config`` is one point of the space: one network design plus its training settings. Its
``key`` is a stable hash of those settings, so the same config has the same key in every process,
every run and every storage (results are keyed by it: invariant 5).

The CLI forms (``parse_dim``)::

    depth   "2"   "1,3"   "1-3" (the integers 1, 2, 3)   "1..4" (a range for samplers)
    widths  "64"  "8,16,32"                              "8..256" (a log range)
    lr      "1e-3"  "1e-3,3e-3"                          "1e-4..1e-2" (a log range)
    activation / init / optimizer / shape: comma lists, e.g. "relu,tanh", "auto,orthogonal(gain=1.0)"
    patience  "10"  "none" (no early stopping)
    monitor   "val_loss" (the default) or "val_score": what early stopping and the best weights follow
    schedule  "constant" or "cosine" (each restart's lr decays to 0 over max_epochs), or both
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Mapping

from justenough.errors import ConfigError

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "SHAPES",
    "AUTO_INIT",
    "DEFAULT_N_INIT",
    "DEFAULT_SPACE_TEXT",
    "Dim",
    "Config",
    "Space",
    "parse_dim",
    "resolve_init",
]

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "selu", "identity")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")
SHAPES: tuple[str, ...] = ("same", "funnel")
MONITORS: tuple[str, ...] = ("val_loss", "val_score")  # as train.MONITORS
SCHEDULES: tuple[str, ...] = ("constant", "cosine")  # as train.SCHEDULES
# "auto" init: the scheme derived for each activation (He et al. 2015 for the ReLU family,
# Glorot & Bengio 2010 for saturating and linear units, LeCun for self-normalizing SELU).
AUTO_INIT: dict[str, str] = {
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "gelu": "he_normal",
    "tanh": "glorot_uniform",
    "sigmoid": "glorot_uniform",
    "identity": "glorot_uniform",
    "selu": "lecun_normal",
}
DEFAULT_N_INIT = 5
# A funnel halves the width layer by layer, but never below this.
FUNNEL_MIN_WIDTH = 4
_ACTIVATION_ALIASES = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu", "leaky-relu": "leaky_relu"}
# Above this many raw grid points, ``Space.size`` reports the product instead of enumerating.
_ENUMERATE_LIMIT = 50_000


# ----------------------------------------------------------------------------------------------
# Dimensions
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DimKind:
    """How one dimension is typed, checked and ranged."""

    kind: str  # "int", "float" or "str"
    param: str  # the Optuna parameter name
    example: str  # the CLI forms, for error messages
    minimum: float | None = None  # smallest allowed value (inclusive), numbers only
    log: bool = False  # ranges are sampled on a log scale
    choices: tuple[str, ...] | None = None
    nullable: bool = False  # "none" is a value (patience: no early stopping)


_KINDS: dict[str, _DimKind] = {
    "depth": _DimKind("int", "depth", '"2", "1,3", "1-3", "0-3" (0: no hidden layer) or "1..4" (a range for samplers)', minimum=0),
    "widths": _DimKind("int", "width", '"64", "8,16,32" or "8..256" (a log range)', minimum=1, log=True),
    "shape": _DimKind("str", "shape", '"same", "funnel" or "same,funnel"', choices=SHAPES),
    "activation": _DimKind("str", "activation", '"relu" or "relu,tanh"', choices=ACTIVATIONS),
    "init": _DimKind("str", "init", '"auto", "he_normal" or "auto,orthogonal(gain=1.0)"'),
    "optimizer": _DimKind("str", "optimizer", '"adam" or "adam,sgd"', choices=OPTIMIZERS),
    "lr": _DimKind("float", "lr", '"1e-3", "1e-3,3e-3" or "1e-4..1e-2" (a log range)', minimum=0.0, log=True),
    "weight_decay": _DimKind("float", "weight_decay", '"0", "0,1e-4" or "1e-5..1e-2" (a log range)', minimum=0.0, log=True),
    "batch_size": _DimKind("int", "batch_size", '"64", "32,128" or "16..256" (a log range)', minimum=1, log=True),
    "max_epochs": _DimKind("int", "max_epochs", '"200" or "50,200"', minimum=1),
    "patience": _DimKind("int", "patience", '"10", "5,20" or "none" (no early stopping)', minimum=1, nullable=True),
    "monitor": _DimKind("str", "monitor", '"val_loss" or "val_score"', choices=MONITORS),
    "schedule": _DimKind("str", "schedule", '"constant", "cosine" or "constant,cosine"', choices=SCHEDULES),
}
_ALIASES = {"width": "widths", "epochs": "max_epochs", "batch": "batch_size", "wd": "weight_decay"}
_POSITIVE = {"lr"}  # strictly positive (the minimum above is exclusive for these)


@dataclass(frozen=True)
class Dim:
    """One dimension of the space: fixed or listed (``values``) or a range (``low..high``).

    ``values`` holds a tuple of one value (fixed) or several (listed); a range has ``values=None``
    and ``low < high``, sampled on a log scale when ``log``. Build one with ``parse_dim``.
    """

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False

    @property
    def is_finite(self) -> bool:
        return self.values is not None

    @property
    def is_fixed(self) -> bool:
        return self.values is not None and len(self.values) == 1

    @property
    def param(self) -> str:
        """The Optuna parameter name of this dimension."""
        return _KINDS[self.name].param

    def text(self) -> str:
        """The CLI form, such that ``parse_dim(name, dim.text()) == dim``."""
        if self.values is None:
            return f"{_num_text(self.low)}..{_num_text(self.high)}"
        return ",".join("none" if v is None else _num_text(v) if not isinstance(v, str) else v for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        if self.values is not None:
            return {"values": list(self.values)}
        return {"low": self.low, "high": self.high, "log": self.log}

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> "Dim":
        name = _dim_name(name)
        if "values" in d:
            return _make_values(name, list(d["values"]))
        if "low" in d and "high" in d:
            return _make_range(name, d["low"], d["high"], log=d.get("log"))
        raise ConfigError(f"dimension {name!r}: expected 'values' or 'low'/'high', got {sorted(d)}")


def _num_text(x: Any) -> str:
    """Numbers as the CLI reads them back exactly: ints plainly, floats by ``repr``."""
    return str(x) if isinstance(x, int) else repr(float(x))


def _dim_name(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in _KINDS:
        raise ConfigError(f"unknown search-space option {name!r}: use one of {', '.join(_KINDS)}")
    return key


def _bad(name: str, text: Any, why: str) -> ConfigError:
    return ConfigError(f"cannot read {name} {text!r}: {why}; write e.g. {_KINDS[name].example}")


def _split_list(text: str) -> list[str]:
    """Split on commas outside parentheses: "auto,normal(std=0.1,mean=0)" -> 2 items."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _check_number(name: str, value: Any, text: Any) -> int | float | None:
    """Type and bounds of one numeric value; ``text`` is what the user wrote, for the message."""
    kind = _KINDS[name]
    if value is None:
        if kind.nullable:
            return None
        raise _bad(name, text, "a value is required")
    if isinstance(value, bool):
        raise _bad(name, text, "a number is required, not a boolean")
    if kind.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise _bad(name, text, "a whole number is required")
            value = int(value)
        if not isinstance(value, int):
            raise _bad(name, text, "a whole number is required")
    else:
        if not isinstance(value, (int, float)):
            raise _bad(name, text, "a number is required")
        value = float(value)
        if not math.isfinite(value):
            raise _bad(name, text, "the number must be finite")
    if kind.minimum is not None:
        if name in _POSITIVE and value <= kind.minimum:
            raise _bad(name, text, "it must be greater than 0")
        if value < kind.minimum:
            raise _bad(name, text, f"it must be at least {_num_text(kind.minimum)}")
    return value


def _read_number(name: str, token: str, text: str) -> int | float | None:
    token = token.strip()
    kind = _KINDS[name]
    if kind.nullable and token.lower() in ("none", "off", "null", ""):
        return None
    try:
        value: Any = int(token) if kind.kind == "int" and re.fullmatch(r"[+-]?\d+", token) else float(token)
    except ValueError:
        raise _bad(name, text, f"{token!r} is not a number") from None
    return _check_number(name, value, text)


def _canonical_init(spec: str, text: Any) -> str:
    """Canonical scheme spec; checked against ``justenough.init`` when that module is present."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))?", spec.strip())
    if match is None:
        raise _bad("init", text, f"{spec!r} is not a scheme spec (name or name(key=value, ...))")
    # Names are case-insensitive; blanks inside the arguments carry no meaning.
    spec = match.group(1).lower() + re.sub(r"\s+", "", match.group(2) or "")
    if spec == "auto":
        return spec
    try:
        from justenough import init as init_mod
    except ImportError:  # the registry is optional for reading a space; training checks again
        return spec
    try:
        return str(init_mod.parse(spec))
    except ConfigError:
        raise
    except Exception as exc:  # a registry that reports bad specs another way
        raise _bad("init", text, str(exc)) from None


def _check_str(name: str, value: Any, text: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, text, "a name is required")
    kind = _KINDS[name]
    if name == "init":
        return _canonical_init(value, text)
    v = value.strip().lower()
    if name == "activation":
        v = _ACTIVATION_ALIASES.get(v, v)
    if kind.choices is not None and v not in kind.choices:
        raise _bad(name, text, f"{value!r} is not one of {', '.join(kind.choices)}")
    return v


def _dedupe(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _make_values(name: str, values: list[Any], text: Any = None) -> Dim:
    text = values if text is None else text
    if not values:
        raise _bad(name, text, "at least one value is required")
    kind = _KINDS[name]
    if kind.kind == "str":
        checked = _dedupe(_check_str(name, v, text) for v in values)
    else:
        checked = _dedupe(_check_number(name, v, text) for v in values)
        if name in ("depth", "widths"):
            checked.sort()  # the grid goes by depth, then width, from small to large
    return Dim(name, values=tuple(checked))


def _make_range(name: str, low: Any, high: Any, *, log: bool | None = None, text: Any = None) -> Dim:
    text = f"{low}..{high}" if text is None else text
    kind = _KINDS[name]
    if kind.kind == "str":
        raise _bad(name, text, "names cannot form a range; list them")
    lo, hi = _check_number(name, low, text), _check_number(name, high, text)
    if lo is None or hi is None:
        raise _bad(name, text, "a range needs two numbers")
    if lo > hi:
        raise _bad(name, text, "the low end must not exceed the high end")
    if lo == hi:
        return Dim(name, values=(lo,))
    use_log = kind.log and lo > 0 if log is None else bool(log)
    if use_log and lo <= 0:
        raise _bad(name, text, "a log range must start above 0")
    return Dim(name, values=None, low=lo, high=hi, log=use_log)


def parse_dim(name: str, text: Any) -> Dim:
    """Read one dimension from its CLI text (or a Python value, list, tuple, range or ``Dim``).

    Forms: ``"2"`` (fixed), ``"1,3"`` (listed), ``"1-3"`` (the integers 1 to 3, integer settings
    only), ``"1e-4..1e-2"`` (a range; log scale for lr, weight decay, widths and batch size).
    Bad text raises ``ConfigError`` with an example of the right form.
    """
    name = _dim_name(name)
    kind = _KINDS[name]
    if isinstance(text, Dim):
        if _dim_name(text.name) != name:
            raise ConfigError(f"a {text.name!r} dimension was given for {name!r}")
        return Dim.from_dict(name, text.to_dict())
    if text is None:
        if kind.nullable:
            return Dim(name, values=(None,))
        raise _bad(name, text, "a value is required")
    if isinstance(text, (list, tuple, range)):
        return _make_values(name, list(text), text)
    if not isinstance(text, str):
        return _make_values(name, [text], text)
    raw = text.strip()
    if not raw:
        raise _bad(name, text, "the text is empty")
    if kind.kind == "str":
        return _make_values(name, _split_list(raw), text)
    if ".." in raw:
        parts = raw.split("..")
        if len(parts) != 2:
            raise _bad(name, text, "a range is low..high")
        return _make_range(name, _read_number(name, parts[0], text), _read_number(name, parts[1], text), text=text)
    items = _split_list(raw)
    if kind.kind == "int" and len(items) == 1 and re.fullmatch(r"\d+\s*-\s*\d+", items[0]):
        lo_s, hi_s = items[0].split("-")
        lo, hi = _read_number(name, lo_s, text), _read_number(name, hi_s, text)
        assert isinstance(lo, int) and isinstance(hi, int)
        if lo > hi:
            raise _bad(name, text, "the low end must not exceed the high end")
        if hi - lo >= 10_000:
            raise _bad(name, text, "that lists over 10,000 values; use low..high for a sampled range")
        return _make_values(name, list(range(lo, hi + 1)), text)
    return _make_values(name, [_read_number(name, item, text) for item in items], text)


def resolve_init(init: str, activation: str) -> str:
    """``"auto"`` -> the scheme for ``activation`` (``AUTO_INIT``); anything else unchanged."""
    return AUTO_INIT[activation] if init == "auto" else init


def _funnel(width: int, depth: int) -> tuple[int, ...]:
    """Width halves layer by layer, never below ``FUNNEL_MIN_WIDTH`` (nor below a smaller start)."""
    floor = min(width, FUNNEL_MIN_WIDTH)
    return tuple(max(floor, width >> i) for i in range(depth))


# The activation a depth-0 config records: it has no hidden layer to apply one to.
LINEAR_ACTIVATION = "identity"


def _first_value(dim: "Dim") -> Any:
    """The first listed value of a dimension, or the low end of its range."""
    return dim.values[0] if dim.values else dim.low


def _layer_widths(width: int, depth: int, shape: str) -> tuple[int, ...]:
    return _funnel(width, depth) if shape == "funnel" else (width,) * depth


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One network design plus its training settings: one point of the search space.

    ``widths`` holds the hidden widths, one per layer (``len(widths) == depth``); ``init`` is a
    resolved scheme spec (never ``"auto"``). ``key`` is a stable 12-hex hash of the settings.
    """

    depth: int
    widths: tuple[int, ...]
    activation: str = "relu"
    init: str = "auto"
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    max_epochs: int = 200
    patience: int | None = 10
    monitor: str = "val_loss"
    schedule: str = "constant"  # a record from before schedules existed trained at a constant lr

    def __post_init__(self) -> None:
        # Normalize types so that equal settings give equal keys (1 vs 1.0, list vs tuple).
        widths = tuple(int(_check_number("widths", w, self.widths)) for w in self.widths)  # type: ignore[arg-type]
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "depth", _check_number("depth", self.depth, self.depth))
        if self.depth != len(widths):
            raise ConfigError(f"config has depth {self.depth} but {len(widths)} widths {list(widths)}: give one width per layer")
        object.__setattr__(self, "activation", _check_str("activation", self.activation, self.activation))
        init = _check_str("init", self.init, self.init)
        object.__setattr__(self, "init", resolve_init(init, self.activation))
        if self.depth == 0:
            # No hidden layer, so no activation: a linear model is the same whatever the space's
            # activation was (its init was resolved from it above, so "auto" still follows it).
            object.__setattr__(self, "activation", LINEAR_ACTIVATION)
        object.__setattr__(self, "optimizer", _check_str("optimizer", self.optimizer, self.optimizer))
        object.__setattr__(self, "monitor", _check_str("monitor", self.monitor, self.monitor))
        if self.monitor not in MONITORS:
            raise ConfigError(f"unknown monitor {self.monitor!r}: use one of {', '.join(MONITORS)}")
        object.__setattr__(self, "schedule", _check_str("schedule", self.schedule, self.schedule))
        for name in ("lr", "weight_decay", "batch_size", "max_epochs", "patience"):
            object.__setattr__(self, name, _check_number(name, getattr(self, name), getattr(self, name)))

    @classmethod
    def create(cls, *, depth: int, width: int, shape: str = "same", **settings: Any) -> "Config":
        """A config from one width and a shape (``same``: every layer ``width``; ``funnel``: halving)."""
        shape = _check_str("shape", shape, shape)
        return cls(depth=depth, widths=_layer_widths(int(width), int(depth), shape), **settings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (no key: it is derived)."""
        return {
            "depth": self.depth,
            "widths": list(self.widths),
            "activation": self.activation,
            "init": self.init,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "patience": self.patience,
            "monitor": self.monitor,
            "schedule": self.schedule,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Config":
        """The inverse of ``to_dict``; extra entries such as ``key`` or ``label`` are checked or ignored."""
        try:
            names = [f.name for f in fields(cls)]
            missing = [n for n in ("depth", "widths") if n not in d]
            if missing:
                raise ConfigError(f"config {dict(d)!r} lacks {', '.join(missing)}")
            values: dict[str, Any] = {n: (tuple(d[n]) if n == "widths" else d[n]) for n in names if n in d}
            cfg = cls(**values)
        except TypeError as exc:
            raise ConfigError(f"cannot read config {dict(d)!r}: {exc}") from None
        if "key" in d and d["key"] != cfg.key:
            raise ConfigError(f"config key {d['key']!r} does not match its settings (key {cfg.key!r}): the record was edited")
        return cfg

    @property
    def key(self) -> str:
        """A stable short hash: the first 12 hex digits of sha256 of the canonical settings JSON.

        Settings added after 0.1 are left out at their defaults, so a config's key stays the one
        it had before they existed.
        """
        d = self.to_dict()
        for name, default in _KEY_DEFAULTS.items():
            if d.get(name) == default:
                del d[name]
        return hashlib.sha256(_canonical_json(d).encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        """``"2x64"`` when every layer has one width, ``"3x[64,32,16]"`` otherwise, ``"linear"``
        for depth 0 (no hidden layer: the inputs go straight to the outputs)."""
        if self.depth == 0:
            return "linear"
        if len(set(self.widths)) == 1:
            return f"{self.depth}x{self.widths[0]}"
        return f"{self.depth}x[{','.join(str(w) for w in self.widths)}]"

    def _layer_sizes(self, n_in: int, n_out: int) -> list[tuple[int, int]]:
        sizes = [int(n_in), *self.widths, int(n_out)]
        return list(zip(sizes[:-1], sizes[1:]))

    def params(self, n_in: int, n_out: int) -> int:
        """Weights plus biases of the network for ``n_in`` features and ``n_out`` outputs."""
        return sum(fi * fo + fo for fi, fo in self._layer_sizes(n_in, n_out))

    def flops(self, n_in: int, n_out: int) -> int:
        """Floating-point operations of one forward pass per sample: 2 x multiply-adds."""
        return sum(2 * fi * fo for fi, fo in self._layer_sizes(n_in, n_out))

    def group_key(self) -> tuple[Any, ...]:
        """What every config trained in one stack must share: depth, activation and training settings."""
        return (self.depth, self.activation, self.optimizer, self.batch_size, self.max_epochs, self.patience, self.monitor,
                self.schedule)


# ----------------------------------------------------------------------------------------------
# Space
# ----------------------------------------------------------------------------------------------

# Settings added after 0.1 and their defaults (``Config.key`` leaves them out at these values).
_KEY_DEFAULTS: dict[str, Any] = {"monitor": "val_loss", "schedule": "constant"}

_UNSET: Any = object()
DEFAULT_SPACE_TEXT: dict[str, Any] = {
    "depth": "1-3",
    "widths": "4,8,16,32,64,128,256",
    "shape": "same",
    "activation": "relu",
    "init": "auto",
    "optimizer": "adam",
    "lr": "1e-3",
    "weight_decay": "0",
    "batch_size": "64",
    "max_epochs": "200",
    "patience": "10",
    "monitor": "val_loss",
    "schedule": "constant",
}


@dataclass(frozen=True)
class Space:
    """Every dimension of the search, each fixed, listed or ranged (see ``parse_dim``)."""

    depth: Dim = field(default_factory=lambda: parse_dim("depth", DEFAULT_SPACE_TEXT["depth"]))
    widths: Dim = field(default_factory=lambda: parse_dim("widths", DEFAULT_SPACE_TEXT["widths"]))
    shape: Dim = field(default_factory=lambda: parse_dim("shape", DEFAULT_SPACE_TEXT["shape"]))
    activation: Dim = field(default_factory=lambda: parse_dim("activation", DEFAULT_SPACE_TEXT["activation"]))
    init: Dim = field(default_factory=lambda: parse_dim("init", DEFAULT_SPACE_TEXT["init"]))
    optimizer: Dim = field(default_factory=lambda: parse_dim("optimizer", DEFAULT_SPACE_TEXT["optimizer"]))
    lr: Dim = field(default_factory=lambda: parse_dim("lr", DEFAULT_SPACE_TEXT["lr"]))
    weight_decay: Dim = field(default_factory=lambda: parse_dim("weight_decay", DEFAULT_SPACE_TEXT["weight_decay"]))
    batch_size: Dim = field(default_factory=lambda: parse_dim("batch_size", DEFAULT_SPACE_TEXT["batch_size"]))
    max_epochs: Dim = field(default_factory=lambda: parse_dim("max_epochs", DEFAULT_SPACE_TEXT["max_epochs"]))
    patience: Dim = field(default_factory=lambda: parse_dim("patience", DEFAULT_SPACE_TEXT["patience"]))
    monitor: Dim = field(default_factory=lambda: parse_dim("monitor", DEFAULT_SPACE_TEXT["monitor"]))
    schedule: Dim = field(default_factory=lambda: parse_dim("schedule", DEFAULT_SPACE_TEXT["schedule"]))

    def __post_init__(self) -> None:
        for f in fields(self):
            dim = getattr(self, f.name)
            if not isinstance(dim, Dim) or dim.name != f.name:
                raise ConfigError(f"Space.{f.name} must be a Dim named {f.name!r} (use parse_dim), got {dim!r}")

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def default(cls) -> "Space":
        """Depth 1-3 x widths 4..256, same width per layer, ReLU + He normal, Adam 1e-3, batch 64,
        up to 200 epochs, stopping on the validation loss after 10 epochs without improvement."""
        return cls()

    @classmethod
    def from_options(cls, **options: Any) -> "Space":
        """A space from CLI-style options; unnamed dimensions keep their defaults.

        Each option is CLI text (``depth="1-3"``, ``lr="1e-4..1e-2"``), a value, a list, or a ``Dim``.
        ``None`` keeps the default, except for ``patience``, where ``None`` turns early stopping
        off. Aliases: ``width`` (widths), ``epochs`` (max_epochs), ``batch`` (batch_size).
        """
        dims: dict[str, Dim] = {}
        for raw_name, value in options.items():
            name = _dim_name(raw_name)
            if name in dims:
                raise ConfigError(f"the search-space option {name!r} is given twice (as {raw_name!r} too)")
            if value is _UNSET or (value is None and name != "patience"):
                continue
            dims[name] = parse_dim(name, value)
        return cls(**dims)

    # --- size and enumeration ---------------------------------------------------------------

    def dims(self) -> list[Dim]:
        """The dimensions in grid order: depth, widths, shape, then the training settings."""
        return [getattr(self, f.name) for f in fields(self)]

    @property
    def is_finite(self) -> bool:
        """Every dimension fixed or listed: the grid can be enumerated."""
        return all(d.is_finite for d in self.dims())

    @property
    def size(self) -> float:
        """The number of distinct configs (``math.inf`` with a range).

        Above 50,000 raw grid points it is the product of the dimension sizes (an upper bound:
        a funnel of depth 1 equals the same-width config and is counted once by ``configs``).
        """
        if not self.is_finite:
            return math.inf
        raw = math.prod(len(d.values or ()) for d in self.dims())
        return raw if raw > _ENUMERATE_LIMIT else len(self.configs())

    def _config_from(self, chosen: Mapping[str, Any]) -> Config:
        return Config.create(
            depth=chosen["depth"],
            width=chosen["widths"],
            shape=chosen["shape"],
            activation=chosen["activation"],
            init=resolve_init(chosen["init"], chosen["activation"]),
            optimizer=chosen["optimizer"],
            lr=chosen["lr"],
            weight_decay=chosen["weight_decay"],
            batch_size=chosen["batch_size"],
            max_epochs=chosen["max_epochs"],
            patience=chosen["patience"],
            monitor=chosen["monitor"],
            schedule=chosen["schedule"],
        )

    def configs(self) -> list[Config]:
        """The grid, in a stable order: by depth, then width, then the other dimensions as listed.

        Configs that come out identical (a depth-1 funnel, ``auto`` next to the scheme it
        resolves to) appear once. Raises ``ConfigError`` for a space with a range.
        """
        if not self.is_finite:
            ranged = [d.name for d in self.dims() if not d.is_finite]
            raise ConfigError(
                f"the space has ranges ({', '.join(ranged)}), so it has no grid: list values instead "
                "(e.g. lr 1e-3,3e-3) or use a sampler such as tpe"
            )
        names = [f.name for f in fields(self)]
        seen: set[str] = set()
        out: list[Config] = []
        for combo in itertools.product(*(d.values or () for d in self.dims())):
            cfg = self._config_from(dict(zip(names, combo)))
            if cfg.key not in seen:
                seen.add(cfg.key)
                out.append(cfg)
        return out

    def __contains__(self, config: object) -> bool:
        if not isinstance(config, Config):
            return False
        try:
            self.grid_params(config)
        except ConfigError:
            return False
        return True

    # --- Optuna -------------------------------------------------------------------------------

    def suggest(self, trial: Any) -> Config:
        """The config an Optuna trial proposes (fixed dimensions are not suggested).

        Listed dimensions use ``suggest_categorical``, integer ranges ``suggest_int`` and float
        ranges ``suggest_float`` (log scale where the dimension is logarithmic).
        """
        chosen: dict[str, Any] = {}
        for dim in self.dims():
            if dim.is_fixed:
                chosen[dim.name] = dim.values[0]  # type: ignore[index]
            elif dim.values is not None:
                chosen[dim.name] = trial.suggest_categorical(dim.param, list(dim.values))
            elif _KINDS[dim.name].kind == "int":
                chosen[dim.name] = trial.suggest_int(dim.param, int(dim.low), int(dim.high), log=dim.log)  # type: ignore[arg-type]
            else:
                chosen[dim.name] = trial.suggest_float(dim.param, float(dim.low), float(dim.high), log=dim.log)  # type: ignore[arg-type]
        return self._config_from(chosen)

    def grid_params(self, config: Config) -> dict[str, Any]:
        """The Optuna params that make ``suggest`` return ``config`` (for ``study.enqueue_trial``).

        Only the dimensions that vary appear. Raises ``ConfigError`` when ``config`` is not in the space.
        """
        values: dict[str, Any] = {
            "depth": config.depth,
            # Depth 0 has no hidden width: any width of the space makes it; the first is enqueued.
            "widths": config.widths[0] if config.widths else _first_value(self.widths),
            "activation": config.activation,
            "optimizer": config.optimizer,
            "lr": config.lr,
            "weight_decay": config.weight_decay,
            "batch_size": config.batch_size,
            "max_epochs": config.max_epochs,
            "patience": config.patience,
            "monitor": config.monitor,
            "schedule": config.schedule,
        }
        # Shape and init are many-to-one (a depth-1 funnel is a same-width net; "auto" resolves
        # by activation): the first listed value that reproduces the config is the one enqueued.
        shapes = [s for s in (self.shape.values or SHAPES) if _layer_widths(values["widths"], config.depth, s) == config.widths]
        if config.depth == 0:
            # Any listed activation makes the linear model, as long as a listed init resolves
            # with it to the config's init: the first such pair is the one enqueued.
            pairs = [(a, i) for a in (self.activation.values or ()) for i in (self.init.values or ())
                     if resolve_init(i, a) == config.init]
            if pairs:
                values["activation"] = pairs[0][0]
        inits = [i for i in (self.init.values or ()) if resolve_init(i, values["activation"]) == config.init]
        if not shapes:
            raise ConfigError(f"config {config.label} has widths {list(config.widths)}, which no shape of this space makes")
        if not inits:
            raise ConfigError(f"config {config.label} has init {config.init!r}, which this space does not list")
        values["shape"], values["init"] = shapes[0], inits[0]
        params: dict[str, Any] = {}
        for dim in self.dims():
            v = values[dim.name]
            inside = v in dim.values if dim.values is not None else (v is not None and dim.low <= v <= dim.high)  # type: ignore[operator]
            if not inside:
                raise ConfigError(f"config {config.label} has {dim.name} {v!r}, outside this space ({dim.text()})")
            if not dim.is_fixed:
                params[dim.param] = v
        return params

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"version": 1, "dims": {name: {"values": [...]} | {"low", "high", "log"}}}``."""
        return {"version": 1, "dims": {d.name: d.to_dict() for d in self.dims()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Space":
        if not isinstance(d, Mapping) or d.get("version") != 1 or not isinstance(d.get("dims"), Mapping):
            raise ConfigError("cannot read the search space: expected {'version': 1, 'dims': {...}} as Space.to_dict writes")
        return cls(**{_dim_name(n): Dim.from_dict(n, v) for n, v in d["dims"].items()})

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the space: equal spaces, equal fingerprints."""
        return hashlib.sha256(_canonical_json(self.to_dict()).encode()).hexdigest()

    def describe(self) -> dict[str, str]:
        """Each dimension in its CLI form, e.g. ``{"depth": "1,2,3", "widths": "4,8,...", ...}``."""
        return {d.name: d.text() for d in self.dims()}
