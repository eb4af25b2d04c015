"""A ``Config``: one point of the search space, one network design plus its training settings.

Its ``key`` is a stable hash of those settings, so the same config has the same key in every
process, every run and every storage (results are keyed by it: invariant 5,
docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Mapping

from justenough.errors import ConfigError
from justenough.network_size import (
    embedding_flop_count,
    embedding_parameter_count,
    first_layer_inputs,
    flop_count,
    parameter_count,
)
from justenough.space.dims import AUTO, FUNNEL_MIN_WIDTH, check_number, check_str, resolve_init
from justenough.vocab import Activation, Embed, Monitor

if TYPE_CHECKING:  # torch loads where a config trains, not where one is read
    from justenough.nets.stack import MemberSpec
    from justenough.train.settings import TrainSettings

__all__ = ["LINEAR_ACTIVATION", "Config", "architecture_label", "member_and_settings", "canonical_json", "layer_widths"]


def _funnel(width: int, depth: int) -> tuple[int, ...]:
    """Width halves layer by layer, never below ``FUNNEL_MIN_WIDTH`` (nor below a smaller start)."""
    floor = min(width, FUNNEL_MIN_WIDTH)
    return tuple(max(floor, width >> i) for i in range(depth))


# The activation a depth-0 config records: it has no hidden layer to apply one to.
LINEAR_ACTIVATION = str(Activation.IDENTITY)


def layer_widths(width: int, depth: int, shape: str) -> tuple[int, ...]:
    return _funnel(width, depth) if shape == "funnel" else (width,) * depth


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def architecture_label(depth: int, widths: tuple[int, ...], embed: str = "none") -> str:
    """``"2x64"`` when every layer has one width, ``"3x[64,32,16]"`` otherwise, ``"linear"`` for
    depth 0 (no hidden layer: the inputs go straight to the outputs); ``"+periodic"`` after it
    when the inputs pass through the periodic embedding first (``"2x64+periodic"``)."""
    suffix = "" if embed == Embed.NONE else f"+{embed}"
    if depth == 0:
        return "linear" + suffix
    if len(set(widths)) == 1:
        return f"{depth}x{widths[0]}" + suffix
    return f"{depth}x[{','.join(str(w) for w in widths)}]" + suffix


# Settings added after 0.1 and their defaults (``Config.key`` leaves them out at these values).
_KEY_DEFAULTS: dict[str, Any] = {"monitor": "val_loss", "schedule": "constant", "embed": "none", "label_smoothing": 0.0}




@dataclass(frozen=True)
class Config:
    """One network design plus its training settings: one point of the search space.

    ``widths`` holds the hidden widths, one per layer (``len(widths) == depth``); ``init`` is a
    resolved scheme spec (never ``"auto"``). ``key`` is a stable 12-hex hash of the settings.

    The training settings' defaults are the recipe of the default space before 2026-12-07 (lr
    1e-3, patience 10 on the validation loss, a constant rate, no embedding), kept so that a key
    and a record written then read back the same; the default space now trains otherwise
    (``search_space.DEFAULT_SPACE_VALUES``), so its configs name every setting.
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
    embed: str = "none"  # the numeric inputs as they are, or with periodic features (nets/periodic.py)
    label_smoothing: float = 0.0  # classification's target smoothing (0: none, as before it existed)

    def __post_init__(self) -> None:
        # Normalize types so that equal settings give equal keys (1 vs 1.0, list vs tuple).
        widths = tuple(int(check_number("widths", w, self.widths)) for w in self.widths)  # type: ignore[arg-type]
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "depth", check_number("depth", self.depth, self.depth))
        if self.depth != len(widths):
            raise ConfigError(f"config has depth {self.depth} but {len(widths)} widths {list(widths)}: give one width per layer")
        object.__setattr__(self, "activation", check_str("activation", self.activation, self.activation))
        init = check_str("init", self.init, self.init)
        object.__setattr__(self, "init", resolve_init(init, self.activation))
        if self.depth == 0:
            # No hidden layer, so no activation: a linear model is the same whatever the space's
            # activation was (its init was resolved from it above, so "auto" still follows it).
            object.__setattr__(self, "activation", LINEAR_ACTIVATION)
        object.__setattr__(self, "optimizer", check_str("optimizer", self.optimizer, self.optimizer))
        object.__setattr__(self, "monitor", check_str("monitor", self.monitor, self.monitor))
        if self.monitor not in tuple(Monitor):
            raise ConfigError(f"unknown monitor {self.monitor!r}: use one of {', '.join(Monitor)}")
        object.__setattr__(self, "schedule", check_str("schedule", self.schedule, self.schedule))
        object.__setattr__(self, "embed", check_str("embed", self.embed, self.embed))
        if self.embed not in tuple(Embed):
            raise ConfigError(f"unknown embed {self.embed!r}: use one of {', '.join(Embed)}")
        if self.max_epochs == AUTO:
            raise ConfigError("a config trains a number of epochs, not 'auto': the space resolves 'auto' by the task "
                              "(Space.for_task) before it makes configs")
        if self.batch_size == AUTO:
            raise ConfigError("a config trains with a number of rows per batch, not 'auto': the space resolves 'auto' by "
                              "the training rows (Space.for_task(task, n_train=...)) before it makes configs")
        for name in ("lr", "weight_decay", "batch_size", "max_epochs", "patience", "label_smoothing"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), getattr(self, name)))

    @classmethod
    def create(cls, *, depth: int, width: int, shape: str = "same", **settings: Any) -> "Config":
        """A config from one width and a shape (``same``: every layer ``width``; ``funnel``: halving)."""
        shape = check_str("shape", shape, shape)
        return cls(depth=depth, widths=layer_widths(int(width), int(depth), shape), **settings)

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
            # Only when embedded: a plain config's record stays what it was before embeddings existed.
            **({"embed": self.embed} if self.embed != Embed.NONE else {}),
            # Only when smoothed: a plain config's record stays what it was before smoothing existed.
            **({"label_smoothing": self.label_smoothing} if self.label_smoothing else {}),
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
        return hashlib.sha256(canonical_json(d).encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        """The config's architecture in one word (``architecture_label``): ``"2x64"``, ``"3x[64,32,16]"``, ``"linear"``,
        ``"2x64+periodic"``."""
        return architecture_label(self.depth, self.widths, self.embed)

    def model_architecture(self, n_in: int, n_out: int) -> dict[str, Any]:
        """The saved model's architecture (``run/artifacts.py``): ``n_in``, ``widths``, ``n_out``,
        ``activation``, and ``embed`` only with an embedding, so a plain model's ``model.json``
        keeps the keys it always had."""
        arch: dict[str, Any] = {"n_in": int(n_in), "widths": list(self.widths), "n_out": int(n_out),
                                "activation": self.activation}
        if self.embed != Embed.NONE:
            arch["embed"] = str(self.embed)
        return arch

    def params(self, n_in: int, n_out: int) -> int:
        """Weights plus biases of the network for ``n_in`` features and ``n_out`` outputs, plus the
        periodic embedding's frequencies and phases (which also widen the first layer)."""
        return parameter_count([first_layer_inputs(n_in, self.embed), *self.widths, n_out]) + embedding_parameter_count(n_in, self.embed)

    def flops(self, n_in: int, n_out: int) -> int:
        """Floating-point operations of one forward pass per sample: 2 x multiply-adds, plus the embedding's."""
        return flop_count([first_layer_inputs(n_in, self.embed), *self.widths, n_out]) + embedding_flop_count(n_in, self.embed)

    def group_key(self) -> tuple[Any, ...]:
        """What every config trained in one stack must share: depth, activation, embedding and training settings."""
        return (self.depth, self.activation, self.optimizer, self.batch_size, self.max_epochs, self.patience, self.monitor,
                self.schedule, self.embed, self.label_smoothing)


def member_and_settings(cfg: Config, seed: int, **settings: Any) -> tuple["MemberSpec", "TrainSettings"]:
    """``cfg`` in the trainer's terms: its member from seed ``seed`` (widths, init, lr, weight decay)
    and the training settings its stack shares (optimizer, batch size, epochs, patience, monitor,
    schedule, label smoothing). ``settings`` are further ``TrainSettings`` fields, or replace one of cfg's (the refit
    trains with ``patience=None``). The search's stacks and the refit both train a config so."""
    from justenough.nets.stack import MemberSpec
    from justenough.train.settings import TrainSettings

    member = MemberSpec(widths=tuple(cfg.widths), init=cfg.init, seed=seed, lr=cfg.lr, weight_decay=cfg.weight_decay)
    own = {"optimizer": cfg.optimizer, "batch_size": cfg.batch_size, "max_epochs": cfg.max_epochs,
           "patience": cfg.patience, "monitor": cfg.monitor, "schedule": cfg.schedule,
           "label_smoothing": cfg.label_smoothing}
    return member, TrainSettings(**{**own, **settings})
