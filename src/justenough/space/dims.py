"""The dimensions of the search space: each setting fixed, listed or ranged, read from the CLI forms.

Each dimension is *fixed* (one value), *listed* (a few values, all of which a grid tries) or
*ranged* (``low..high``, which only a sampler such as TPE can explore).

The CLI forms (``parse_dim``)::

    depth   "2"   "1,3"   "1-3" (the integers 1, 2, 3)   "1..4" (a range for samplers)
    widths  "64"  "8,16,32"                              "8..256" (a log range)
    lr      "1e-3"  "1e-3,3e-3"                          "1e-4..1e-2" (a log range)
    activation / init / optimizer / shape: comma lists, e.g. "relu,tanh", "auto,orthogonal(gain=1.0)"
    max_epochs  "auto" (the task's budget: 400 for regression, 200 for classification)  "200"  "50,200"
    patience  "10"  "none" (no early stopping)
    monitor   "val_loss" (the default) or "val_score": what early stopping and the best weights follow
    schedule  "constant", "cosine" (each restart's lr decays to 0 over max_epochs) or "warmup_cosine"
              (a linear rise over the first max_epochs/20 epochs, then cosine), or a list
    batch_size  "64"  "32,128"  "auto" (by the training rows: ``search_space.auto_batch_size``)
    label_smoothing  "0" (the default)  "0.1"  "0,0.1" (classification only; each in [0, 1))
    embed     "none" or "periodic" (periodic features of each input before the first layer), or both,
              or "auto" (both where the encoded inputs are few: ``search_space.auto_embed``)
"""

from __future__ import annotations

import math
import re
from numbers import Integral, Real
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from justenough.errors import ConfigError
from justenough.vocab import ACTIVATION_ALIASES, Activation, Embed, Monitor, Optimizer, Schedule

__all__ = [
    "AUTO",
    "SHAPES",
    "DEFAULT_N_INIT",
    "FUNNEL_MIN_WIDTH",
    "Dim",
    "parse_dim",
    "resolve_init",
    "KINDS",
    "check_number",
    "check_str",
    "dim_name",
    "split_list",
]


SHAPES: tuple[str, ...] = ("same", "funnel")
DEFAULT_N_INIT = 5
# The value of a dimension that the task decides (max_epochs: ``Space.for_task``).
AUTO = "auto"
# A funnel halves the width layer by layer, but never below this.
FUNNEL_MIN_WIDTH = 4


@dataclass(frozen=True)
class _DimKind:
    """How one dimension is typed, checked and ranged."""

    kind: str  # "int", "float" or "str"
    param: str  # the Optuna parameter name
    example: str  # the CLI forms, for error messages
    minimum: float | None = None  # smallest allowed value (inclusive), numbers only
    below: float | None = None  # every value must be smaller than this (exclusive), numbers only
    log: bool = False  # ranges are sampled on a log scale
    choices: tuple[str, ...] | None = None
    nullable: bool = False  # "none" is a value (patience: no early stopping)
    auto: bool = False  # "auto" is a value, resolved by the task once the data is read (``Space.for_task``)


KINDS: dict[str, _DimKind] = {
    "depth": _DimKind("int", "depth", '"2", "1,3", "1-3", "0-3" (0: no hidden layer) or "1..4" (a range for samplers)', minimum=0),
    "widths": _DimKind("int", "width", '"64", "8,16,32" or "8..256" (a log range)', minimum=1, log=True),
    "shape": _DimKind("str", "shape", '"same", "funnel" or "same,funnel"', choices=SHAPES),
    "activation": _DimKind("str", "activation", '"relu" or "relu,tanh"', choices=tuple(Activation)),
    "init": _DimKind("str", "init", '"auto", "he_normal" or "auto,orthogonal(gain=1.0)"'),
    "optimizer": _DimKind("str", "optimizer", '"adam" or "adam,sgd"', choices=tuple(Optimizer)),
    "lr": _DimKind("float", "lr", '"1e-3", "1e-3,3e-3" or "1e-4..1e-2" (a log range)', minimum=0.0, log=True),
    "weight_decay": _DimKind("float", "weight_decay", '"0", "0,1e-4" or "1e-5..1e-2" (a log range)', minimum=0.0, log=True),
    "batch_size": _DimKind("int", "batch_size", '"64", "32,128", "16..256" (a log range) or "auto" (by the training rows)',
                           minimum=1, log=True, auto=True),
    "max_epochs": _DimKind("int", "max_epochs", '"auto" (400 for regression, 200 for classification), "200" or "50,200"',
                           minimum=1, auto=True),
    "patience": _DimKind("int", "patience", '"10", "5,20" or "none" (no early stopping)', minimum=1, nullable=True),
    "monitor": _DimKind("str", "monitor", '"val_loss" or "val_score"', choices=tuple(Monitor)),
    "schedule": _DimKind("str", "schedule", '"constant", "cosine", "warmup_cosine" or "constant,cosine"', choices=tuple(Schedule)),
    "embed": _DimKind("str", "embed", '"none", "periodic", "none,periodic" or "auto" (both where the inputs are few)',
                      choices=(*Embed, AUTO)),
    "label_smoothing": _DimKind("float", "label_smoothing", '"0", "0.1" or "0,0.1" (classification; below 1)', minimum=0.0, below=1.0),
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
        return KINDS[self.name].param

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
        name = dim_name(name)
        if "values" in d:
            return _make_values(name, list(d["values"]))
        if "low" in d and "high" in d:
            return _make_range(name, d["low"], d["high"], log=d.get("log"))
        raise ConfigError(f"dimension {name!r}: expected 'values' or 'low'/'high', got {sorted(d)}")


def _num_text(x: Any) -> str:
    """Numbers as the CLI reads them back exactly: ints plainly, floats by ``repr``."""
    return str(x) if isinstance(x, int) else repr(float(x))


def dim_name(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in KINDS:
        raise ConfigError(f"unknown search-space option {name!r}: use one of {', '.join(KINDS)}")
    return key


def _bad(name: str, text: Any, why: str) -> ConfigError:
    return ConfigError(f"cannot read {name} {text!r}: {why}; write e.g. {KINDS[name].example}")


def split_list(text: str) -> list[str]:
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


def check_number(name: str, value: Any, text: Any) -> int | float | None:
    """Type and bounds of one numeric value; ``text`` is what the user wrote, for the message."""
    kind = KINDS[name]
    if kind.auto and isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO  # type: ignore[return-value]  # a placeholder the task replaces (Space.for_task)
    if value is None:
        if kind.nullable:
            return None
        raise _bad(name, text, "a value is required")
    if isinstance(value, bool):
        raise _bad(name, text, "a number is required, not a boolean")
    # numbers.Integral and Real: numpy's numbers too (a typed value from an array or a parameter
    # grid), kept as Python's int and float, which the study and the run directory write.
    if kind.kind == "int":
        if isinstance(value, Real) and not isinstance(value, Integral):
            if not float(value).is_integer():
                raise _bad(name, text, "a whole number is required")
            value = int(float(value))
        if not isinstance(value, Integral):
            raise _bad(name, text, "a whole number is required")
        value = int(value)
    else:
        if not isinstance(value, Real):
            raise _bad(name, text, "a number is required")
        value = float(value)
        if not math.isfinite(value):
            raise _bad(name, text, "the number must be finite")
    if kind.minimum is not None:
        if name in _POSITIVE and value <= kind.minimum:
            raise _bad(name, text, "it must be greater than 0")
        if value < kind.minimum:
            raise _bad(name, text, f"it must be at least {_num_text(kind.minimum)}")
    if kind.below is not None and value >= kind.below:
        raise _bad(name, text, f"it must be below {_num_text(kind.below)}")
    return value


def _read_number(name: str, token: str, text: str) -> int | float | None:
    token = token.strip()
    kind = KINDS[name]
    if kind.nullable and token.lower() in ("none", "off", "null", ""):
        return None
    if kind.auto and token.lower() == AUTO:
        return AUTO  # type: ignore[return-value]
    try:
        value: Any = int(token) if kind.kind == "int" and re.fullmatch(r"[+-]?\d+", token) else float(token)
    except ValueError:
        raise _bad(name, text, f"{token!r} is not a number") from None
    return check_number(name, value, text)


def _canonical_init(spec: str, text: Any) -> str:
    """Canonical scheme spec; checked against ``justenough.nets.init`` when that module is present."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))?", spec.strip())
    if match is None:
        raise _bad("init", text, f"{spec!r} is not a scheme spec (name or name(key=value, ...))")
    # Names are case-insensitive; blanks inside the arguments carry no meaning.
    spec = match.group(1).lower() + re.sub(r"\s+", "", match.group(2) or "")
    if spec == "auto":
        return spec
    try:
        from justenough.nets import init as init_mod
    except ImportError:  # the registry is optional for reading a space; training checks again
        return spec
    try:
        return str(init_mod.parse(spec))
    except ConfigError:
        raise
    except Exception as exc:  # a registry that reports bad specs another way
        raise _bad("init", text, str(exc)) from None


def check_str(name: str, value: Any, text: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, text, "a name is required")
    kind = KINDS[name]
    if name == "init":
        return _canonical_init(value, text)
    v = value.strip().lower()
    if name == "activation":
        v = str(ACTIVATION_ALIASES.get(v, v))
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
    kind = KINDS[name]
    if kind.kind == "str":
        checked = _dedupe(check_str(name, v, text) for v in values)
    else:
        checked = _dedupe(check_number(name, v, text) for v in values)
        if name in ("depth", "widths"):
            checked.sort()  # the grid goes by depth, then width, from small to large
    return Dim(name, values=tuple(checked))


def _make_range(name: str, low: Any, high: Any, *, log: bool | None = None, text: Any = None) -> Dim:
    text = f"{low}..{high}" if text is None else text
    kind = KINDS[name]
    if kind.kind == "str":
        raise _bad(name, text, "names cannot form a range; list them")
    lo, hi = check_number(name, low, text), check_number(name, high, text)
    if AUTO in (lo, hi):
        raise _bad(name, text, "auto cannot bound a range")
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
    """Read one dimension from its CLI text, or from a typed value: a number or name, a list,
    tuple, range or array of them, or a ``Dim``.

    Forms: ``"2"`` (fixed), ``"1,3"`` (listed), ``"1-3"`` (the integers 1 to 3, integer settings
    only), ``"1e-4..1e-2"`` (a range; log scale for lr, weight decay, widths and batch size).
    Bad text raises ``ConfigError`` with an example of the right form.
    """
    name = dim_name(name)
    kind = KINDS[name]
    if isinstance(text, Dim):
        if dim_name(text.name) != name:
            raise ConfigError(f"a {text.name!r} dimension was given for {name!r}")
        return Dim.from_dict(name, text.to_dict())
    if text is None:
        if kind.nullable:
            return Dim(name, values=(None,))
        raise _bad(name, text, "a value is required")
    if isinstance(text, Iterable) and not isinstance(text, (str, Mapping)):  # a list, tuple, range, array
        return _make_values(name, list(text), text)
    if not isinstance(text, str):
        return _make_values(name, [text], text)
    raw = text.strip()
    if not raw:
        raise _bad(name, text, "the text is empty")
    if kind.kind == "str":
        return _make_values(name, split_list(raw), text)
    if ".." in raw:
        parts = raw.split("..")
        if len(parts) != 2:
            raise _bad(name, text, "a range is low..high")
        return _make_range(name, _read_number(name, parts[0], text), _read_number(name, parts[1], text), text=text)
    items = split_list(raw)
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
    """``"auto"`` -> the scheme for ``activation`` (its ``default_init``); anything else unchanged."""
    if init != "auto":
        return init
    from justenough.nets.activations import AUTO_INIT  # torch: not on the CLI's import path

    return AUTO_INIT[activation]
