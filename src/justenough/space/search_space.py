"""The search space: which configs a search may try.

A ``Space`` has one ``Dim`` (``dims.py``) per setting; its points are ``Config``s (``config.py``).
The default space is depth 0 to 3 (0: the linear model) x widths 4 to 256 (powers of two), the
same width in every layer, ReLU with He-normal initialization, each architecture also with the
periodic numeric embedding where the encoded inputs are at most 16 (``embed="auto"``, resolved by
``Space.for_task`` once the data is read), Adam at lr 1e-2 with a linear warmup over the first 10
epochs and a cosine decay over the rest of 200, batch 64, stopping 30 epochs after the best
validation score. That recipe (RealMLP-TD's way of training with early stopping kept), the
chosen config's restarts averaged and refitted on train+validation (``refit.py``), met issue 26's
targets against RealMLP-TD on the quality suite (docs/training.md, "The default recipe with the
embedding where the inputs are few"). ``max_epochs="auto"`` (200 for classification, 400 for
regression: ``DEFAULT_MAX_EPOCHS``) was the budget of the recipe before it (docs/training.md, "The
epoch budget, by task").
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Mapping

from justenough.errors import ConfigError
from justenough.space.config import Config, canonical_json, layer_widths
from justenough.space.dims import KINDS, AUTO, SHAPES, Dim, dim_name, parse_dim, resolve_init
from justenough.vocab import Activation, Embed, Monitor, Optimizer, Schedule, Task

__all__ = ["AUTO_EMBED_MAX_INPUTS", "DEFAULT_MAX_EPOCHS", "DEFAULT_SPACE_VALUES", "DEFAULT_SPACE_TEXT", "Space",
           "auto_batch_size", "auto_embed", "auto_embed_notice", "resolve_embed"]


# Above this many raw grid points, ``Space.size`` reports the product instead of enumerating.
_ENUMERATE_LIMIT = 50_000


def _first_value(dim: "Dim") -> Any:
    """The first listed value of a dimension, or the low end of its range."""
    return dim.values[0] if dim.values else dim.low



_UNSET: Any = object()
# The default space, as typed values: each dimension's values as ``parse_dim`` reads them (the
# ``Dim.values`` of ``Space.default()``). ``search()``'s search-space keywords and the search
# estimators default to these very objects. Each is a tuple object of its own, so that
# ``search()`` tells a keyword left at its default from one given by identity (``space=`` and a
# keyword conflict): a number or a name could be the very object a caller writes (small ints and
# short strings are shared), a tuple built here cannot.
DEFAULT_SPACE_VALUES: Mapping[str, tuple[Any, ...]] = MappingProxyType({
    "depth": (0, 1, 2, 3),  # 0: the linear model (docs/training.md, "The default recipe, measured")
    "widths": (4, 8, 16, 32, 64, 128, 256),
    "shape": ("same",),
    "activation": (Activation.RELU,),
    "init": ("auto",),  # the scheme each activation starts best with (nets/activations.py AUTO_INIT)
    "optimizer": (Optimizer.ADAM,),
    # RealMLP-TD's way of training, with early stopping kept (docs/training.md, "The default recipe
    # with the embedding where the inputs are few"): a warmup then cosine decay from lr 1e-2 over
    # 200 epochs, stopping 30 epochs after the best validation score.
    "lr": (1e-2,),
    "weight_decay": (0.0,),
    "batch_size": (64,),
    "max_epochs": (200,),
    "patience": (30,),
    "monitor": (Monitor.VAL_SCORE,),
    "schedule": (Schedule.WARMUP_COSINE,),
    "embed": (AUTO,),  # both where the encoded inputs are few (auto_embed)
    "label_smoothing": (0.0,),
})
# The same defaults as the CLI's options write them (its text, which it reads into the values
# above; a test checks that both read as ``Space.default()``).
DEFAULT_SPACE_TEXT: Mapping[str, str] = MappingProxyType({
    "depth": "0-3",
    "widths": "4,8,16,32,64,128,256",
    "shape": "same",
    "activation": "relu",
    "init": "auto",
    "optimizer": "adam",
    "lr": "1e-2",
    "weight_decay": "0",
    "batch_size": "64",
    "max_epochs": "200",
    "patience": "30",
    "monitor": "val_score",
    "schedule": "warmup_cosine",
    "embed": "auto",
    "label_smoothing": "0",
})


# Dimensions added after fingerprints were first written, with the default ``to_dict`` leaves out.
_LATER_DIMS: Mapping[str, tuple[Any, ...]] = MappingProxyType({"embed": (Embed.NONE,), "label_smoothing": (0.0,)})


# What ``max_epochs="auto"`` becomes, per task. Regression trains twice as long: its validation
# loss is its score (R² = 1 - MSE / variance), so a restart still improving at epoch 200 is
# improving the score, and on the quality suite the budget was binding there (friedman1,
# diabetes, sine_signal gained 1.4-8 points at 400). Classification's cross-entropy keeps falling
# after the accuracy stops moving: at 400 no classification dataset gained and digits and wine
# lost (docs/training.md, "The epoch budget, by task").
DEFAULT_MAX_EPOCHS: dict[Task, int] = {Task.CLASSIFICATION: 200, Task.REGRESSION: 400}

# What ``batch_size="auto"`` becomes: about this many steps per epoch, as a power of two within
# these bounds (docs/training.md, "Batch size by the rows").
_AUTO_BATCH_STEPS = 128
_AUTO_BATCH_MIN, _AUTO_BATCH_MAX = 64, 1024


def auto_batch_size(n_train: int) -> int:
    """``batch_size="auto"`` for ``n_train`` training rows (each restart's, per fold with folds):
    the power of two nearest ``n_train / 128`` (on a log scale), at least 64 and at most 1,024.

    64 (the default batch) below about 11,600 rows; then about 128 steps per epoch: 128 from
    about 11,600 rows, 256 from 23,200, 512 from 46,300 and 1,024 from 92,700 (the sizes TabM
    uses, growing with the dataset; RealMLP-TD trains with 256): 500 rows -> 64, 5,000 -> 64,
    50,000 -> 512, 500,000 -> 1,024.
    """
    if isinstance(n_train, bool) or not isinstance(n_train, int) or n_train < 1:
        raise ConfigError(f"batch_size='auto' needs a positive number of training rows, got {n_train!r}")
    # n_train / 128 is never exactly halfway between two powers of two on a log scale (that
    # would be an odd power of sqrt(2)), so the rounding has no ties.
    nearest = 2 ** round(math.log2(n_train / _AUTO_BATCH_STEPS))
    return int(min(_AUTO_BATCH_MAX, max(_AUTO_BATCH_MIN, nearest)))


# What ``embed="auto"`` becomes: the periodic embedding beside the plain inputs where the encoded
# inputs are at most this many, the plain inputs alone above it. Each input becomes 1 + 8 columns
# of layer 0, so a wide table pays 9x for layer 0 (ames, 302 inputs: 30x the search's time), and
# on the quality suite the embeddings paid only on narrow tables (sine_signal, 6 inputs, +24
# points; concrete, 8; friedman1, 10); docs/training.md, "Periodic embeddings where the inputs
# are few".
AUTO_EMBED_MAX_INPUTS = 16


def auto_embed(n_features: int) -> tuple[Embed, ...]:
    """``embed="auto"`` for ``n_features`` encoded inputs: none and periodic where there are at most
    ``AUTO_EMBED_MAX_INPUTS``, none alone above."""
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ConfigError(f"embed='auto' needs a positive number of inputs, got {n_features!r}")
    return (Embed.NONE, Embed.PERIODIC) if n_features <= AUTO_EMBED_MAX_INPUTS else (Embed.NONE,)


def resolve_embed(values: tuple[Any, ...], n_features: int) -> tuple[Any, ...]:
    """An ``embed`` dimension's listed ``values`` with ``"auto"`` replaced by ``auto_embed(n_features)``,
    each value once, in order (``"auto,periodic"`` on a wide table: none, periodic)."""
    return tuple(dict.fromkeys(e for v in values for e in (auto_embed(n_features) if v == AUTO else (v,))))


def auto_embed_notice(n_features: int) -> str:
    """What a search says once ``embed="auto"`` is resolved for ``n_features`` encoded inputs."""
    if Embed.PERIODIC in auto_embed(n_features):
        return (f"embed auto: every architecture with and without periodic embeddings ({n_features} inputs, "
                f"at most {AUTO_EMBED_MAX_INPUTS})")
    return (f"embed auto: no periodic embeddings ({n_features} inputs, more than {AUTO_EMBED_MAX_INPUTS}: each input "
            "would widen layer 0 ninefold); --embed none,periodic tries them anyway")


def _rows_for_batch(batch_size: int) -> int | None:
    """A row count whose ``auto_batch_size`` is ``batch_size``, or None when no count gives it."""
    rows = batch_size * _AUTO_BATCH_STEPS
    return rows if auto_batch_size(rows) == batch_size else None


def _default_dim(name: str) -> Any:
    """A field whose default is the default space's dimension ``name`` (``DEFAULT_SPACE_VALUES``)."""
    return field(default_factory=lambda: parse_dim(name, DEFAULT_SPACE_VALUES[name]))


@dataclass(frozen=True)
class Space:
    """Every dimension of the search, each fixed, listed or ranged (see ``parse_dim``)."""

    depth: Dim = _default_dim("depth")
    widths: Dim = _default_dim("widths")
    shape: Dim = _default_dim("shape")
    activation: Dim = _default_dim("activation")
    init: Dim = _default_dim("init")
    optimizer: Dim = _default_dim("optimizer")
    lr: Dim = _default_dim("lr")
    weight_decay: Dim = _default_dim("weight_decay")
    batch_size: Dim = _default_dim("batch_size")
    max_epochs: Dim = _default_dim("max_epochs")
    patience: Dim = _default_dim("patience")
    monitor: Dim = _default_dim("monitor")
    schedule: Dim = _default_dim("schedule")
    embed: Dim = _default_dim("embed")
    label_smoothing: Dim = _default_dim("label_smoothing")

    def __post_init__(self) -> None:
        for f in fields(self):
            dim = getattr(self, f.name)
            if not isinstance(dim, Dim) or dim.name != f.name:
                raise ConfigError(f"Space.{f.name} must be a Dim named {f.name!r} (use parse_dim), got {dim!r}")

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def default(cls) -> "Space":
        """Depth 0-3 (0: the linear model) x widths 4..256, same width per layer, ReLU + He normal, the periodic
        embedding beside the plain inputs where they are few (``embed="auto"``, ``for_task``), Adam at lr 1e-2 with
        warmup then cosine over 200 epochs, batch 64, stopping 30 epochs after the best validation score."""
        return cls()

    def for_task(self, task: str, n_train: int | None = None, n_features: int | None = None) -> "Space":
        """This space with its ``"auto"`` values replaced: ``max_epochs`` by the task's budget
        (``DEFAULT_MAX_EPOCHS``), ``batch_size`` by the training rows (``auto_batch_size`` of
        ``n_train``, each restart's training rows; left ``"auto"`` while ``n_train`` is None),
        ``embed`` by the encoded inputs (``auto_embed`` of ``n_features``; left ``"auto"`` while
        ``n_features`` is None).

        A search calls it once the data is read (the task may be detected from the target); a
        space without ``"auto"`` comes back unchanged. Label smoothing other than 0 is refused for
        regression (``ConfigError``): it smooths class targets.
        """
        task = Task(task)
        if task == Task.REGRESSION and any(v != 0 for v in self.label_smoothing.values or (1.0,)):
            raise ConfigError(f"label_smoothing {self.label_smoothing.text()} smooths class targets: it is for "
                              "classification, and this task is regression (leave it at 0)")
        if self.is_resolved:
            return self
        changes: dict[str, Dim] = {}
        # "auto" is a listed value, never a range's end.
        if AUTO in (self.max_epochs.values or ()):
            budget = DEFAULT_MAX_EPOCHS[task]
            changes["max_epochs"] = parse_dim("max_epochs", [budget if v == AUTO else v for v in self.max_epochs.values or ()])
        if AUTO in (self.batch_size.values or ()) and n_train is not None:
            batch = auto_batch_size(n_train)
            changes["batch_size"] = parse_dim("batch_size", [batch if v == AUTO else v for v in self.batch_size.values or ()])
        if AUTO in (self.embed.values or ()) and n_features is not None:
            changes["embed"] = parse_dim("embed", list(resolve_embed(self.embed.values or (), n_features)))
        return replace(self, **changes)

    @property
    def is_resolved(self) -> bool:
        """No dimension waits for the data (``for_task``): the space's configs can be made."""
        return all(AUTO not in (d.values or ()) for d in (self.max_epochs, self.batch_size, self.embed))

    def _check_resolved(self, doing: str) -> None:
        """Configs hold numbers: a space still holding ``"auto"`` makes or enqueues none."""
        if AUTO in (self.max_epochs.values or ()):
            raise ConfigError(f"max_epochs is 'auto', which the task decides: call space.for_task(task) before {doing} "
                              "(a search does this once the data is read)")
        if AUTO in (self.batch_size.values or ()):
            raise ConfigError(f"batch_size is 'auto', which the training rows decide: call space.for_task(task, n_train=rows) "
                              f"before {doing} (a search does this once the data is read)")
        if AUTO in (self.embed.values or ()):
            raise ConfigError(f"embed is 'auto', which the inputs decide: call space.for_task(task, n_features=inputs) "
                              f"before {doing} (a search does this once the data is read)")

    @classmethod
    def from_options(cls, **options: Any) -> "Space":
        """A space from CLI-style options; unnamed dimensions keep their defaults.

        Each option is CLI text (``depth="1-3"``, ``lr="1e-4..1e-2"``), a value, a list, or a ``Dim``.
        ``None`` keeps the default, except for ``patience``, where ``None`` turns early stopping
        off. Aliases: ``width`` (widths), ``epochs`` (max_epochs), ``batch`` (batch_size).
        """
        dims: dict[str, Dim] = {}
        for raw_name, value in options.items():
            name = dim_name(raw_name)
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
        if raw > _ENUMERATE_LIMIT:
            return raw
        # "auto" counts as one budget or batch (listed next to the number it becomes, both count once);
        # an "auto" embedding counts as both (a narrow table's), the most configs it can become.
        return len((self if self.is_resolved else self.for_task(Task.CLASSIFICATION, n_train=1, n_features=1)).configs())

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
            embed=chosen["embed"],
            label_smoothing=chosen["label_smoothing"],
        )

    def configs(self, task: str | None = None) -> list[Config]:
        """The grid, in a stable order: by depth, then width, then the other dimensions as listed.

        Configs that come out identical (a depth-1 funnel, ``auto`` next to the scheme it
        resolves to) appear once. Raises ``ConfigError`` for a space with a range, and for one
        with ``max_epochs="auto"`` unless ``task`` says which budget it is (``for_task``).
        """
        if task is not None:
            return self.for_task(task).configs()
        if not self.is_finite:
            ranged = [d.name for d in self.dims() if not d.is_finite]
            raise ConfigError(
                f"the space has ranges ({', '.join(ranged)}), so it has no grid: list values instead "
                "(e.g. lr 1e-3,3e-3) or use a sampler such as tpe"
            )
        self._check_resolved("making configs")
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
        """Whether ``config`` is a point of the space (of either task's, while ``max_epochs`` is ``"auto"``)."""
        if not isinstance(config, Config):
            return False
        if not self.is_resolved:
            # An "auto" batch can be the config's own: the rows that give it stand in for the data's.
            rows = _rows_for_batch(config.batch_size) or 1
            return any(config in space for space in self._task_spaces(rows))
        try:
            self.grid_params(config)
        except ConfigError:
            return False
        return True

    def _task_spaces(self, n_train: int) -> list["Space"]:
        """This space resolved for each task that takes it (label smoothing: classification only)."""
        spaces = []
        for task in Task:
            try:
                spaces.append(self.for_task(task, n_train=n_train, n_features=1))  # "auto" embed: both
            except ConfigError:  # this task refuses a setting of the space
                continue
        return spaces

    # --- Optuna -------------------------------------------------------------------------------

    def suggest(self, trial: Any) -> Config:
        """The config an Optuna trial proposes (fixed dimensions are not suggested).

        Listed dimensions use ``suggest_categorical``, integer ranges ``suggest_int`` and float
        ranges ``suggest_float`` (log scale where the dimension is logarithmic).
        """
        self._check_resolved("suggesting configs")
        chosen: dict[str, Any] = {}
        for dim in self.dims():
            if dim.is_fixed:
                chosen[dim.name] = dim.values[0]  # type: ignore[index]
            elif dim.values is not None:
                chosen[dim.name] = trial.suggest_categorical(dim.param, list(dim.values))
            elif KINDS[dim.name].kind == "int":
                chosen[dim.name] = trial.suggest_int(dim.param, int(dim.low), int(dim.high), log=dim.log)  # type: ignore[arg-type]
            else:
                chosen[dim.name] = trial.suggest_float(dim.param, float(dim.low), float(dim.high), log=dim.log)  # type: ignore[arg-type]
        return self._config_from(chosen)

    def grid_params(self, config: Config) -> dict[str, Any]:
        """The Optuna params that make ``suggest`` return ``config`` (for ``study.enqueue_trial``).

        Only the dimensions that vary appear. Raises ``ConfigError`` when ``config`` is not in the space,
        or when the space waits for the task (``for_task``).
        """
        self._check_resolved("enqueueing configs")
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
            "embed": config.embed,
            "label_smoothing": config.label_smoothing,
        }
        # Shape and init are many-to-one (a depth-1 funnel is a same-width net; "auto" resolves
        # by activation): the first listed value that reproduces the config is the one enqueued.
        shapes = [s for s in (self.shape.values or SHAPES) if layer_widths(values["widths"], config.depth, s) == config.widths]
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
        """JSON-ready: ``{"version": 1, "dims": {name: {"values": [...]} | {"low", "high", "log"}}}``.

        A dimension added later (``_LATER_DIMS``) is left out at its default, so a space that does
        not use it keeps the JSON and fingerprint it had before (a study made then still resumes).
        """
        dims = {d.name: d.to_dict() for d in self.dims() if not (d.name in _LATER_DIMS and d.values == _LATER_DIMS[d.name])}
        return {"version": 1, "dims": dims}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Space":
        if not isinstance(d, Mapping) or d.get("version") != 1 or not isinstance(d.get("dims"), Mapping):
            raise ConfigError("cannot read the search space: expected {'version': 1, 'dims': {...}} as Space.to_dict writes")
        return cls(**{dim_name(n): Dim.from_dict(n, v) for n, v in d["dims"].items()})

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the space: equal spaces, equal fingerprints."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    def describe(self) -> dict[str, str]:
        """Each dimension in its CLI form, e.g. ``{"depth": "1,2,3", "widths": "4,8,...", ...}``."""
        return {d.name: d.text() for d in self.dims()}
