"""Every setting of a search, validated once: ``SearchSettings``.

``search()`` builds it from its keywords (``SearchSettings.from_keywords``: the search-space
keywords or a whole ``Space``; each setting a typed value, or text that is read here), the CLI
from its options' text, the search estimators from their parameters; the checks run in the constructor,
in the order the messages were always given, before any data is loaded or anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from numbers import Integral
from typing import TYPE_CHECKING, Any, Mapping

from justenough.errors import ConfigError, option
from justenough.durations import parse_duration
from justenough.space.search_space import DEFAULT_SPACE_VALUES, Space
from justenough.vocab import SAMPLER_ALIASES, ExecutorKind, NumericScaling, Precision, Sampler, Strategy, Task, parse_choice

if TYPE_CHECKING:
    import torch

    from justenough.executors import Executor
    from justenough.select.rules import Rule

__all__ = ["SearchSettings", "CV_AUTO_ROWS", "CV_AUTO_FOLDS", "read_cv", "read_task", "whole_number", "switch"]

# cv="auto": this many folds when fewer rows than CV_AUTO_ROWS lie outside the test split, else the
# single train/validation split. Below it one validation split is too few rows to tell configs
# apart (docs/selection.md has the measurements that chose it).
CV_AUTO_FOLDS = 5
CV_AUTO_ROWS = 1000


class _ReadDevice(str):
    """A device the settings have read: ``"auto"`` resolved to ``"cuda"`` or ``"cpu"``, marked so that
    a copy of the settings (``dataclasses.replace``) does not read it again. It crosses to worker
    processes as plain text."""

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (str, (str(self),))


def _one_se() -> Rule:
    """The default rule, built when a settings object needs it: the rules import pandas, which
    ``import justenough`` (and so this module) must not load."""
    from justenough.select.rules import parse_rule

    return parse_rule("one-se")


@dataclass(frozen=True)
class SearchSettings:
    """The settings of one search, as ``search()`` documents its keywords.

    ``time_budget`` (seconds; text such as ``"10m"`` is read), ``max_latency_ms`` (a number is
    milliseconds; text is a duration such as ``"1ms"``), ``memory_budget`` (bytes; text such as
    ``"2GB"`` is read; None: a share of the free memory, ``stack_memory_budget``), ``out`` (a
    ``Path``) and ``rule`` (a ``select.Rule``; text such as ``"target=0.95"`` is read) hold their read
    values after construction, as do ``sampler``, ``strategy`` and ``executor`` (``vocab``'s
    ``Sampler``, ``Strategy`` and ``ExecutorKind``; an ``Executor`` object is kept as it is),
    ``precision`` (a ``Precision``), ``numeric`` (a ``NumericScaling``: how the preprocessing scales
    numeric columns), ``task`` (a ``Task``, or ``"auto"`` until the data says), and
    ``device`` (the device read, as text: ``"auto"`` resolved here to ``"cuda"`` or ``"cpu"``;
    ``torch_device`` is it as a ``torch.device``): everything downstream takes them as they are
    and reads nothing again.
    """

    space: Space
    task: "Task | str" = "auto"
    rule: Rule = field(default_factory=_one_se)
    n_init: int = 5
    storage: str | None = None
    out: Path | None = None
    sampler: Sampler = Sampler.AUTO
    n_trials: int | None = None
    time_budget: float | None = None
    halving: bool = False
    seed: int = 0
    device: str = "cpu"
    precision: Precision = Precision.FLOAT32
    executor: "ExecutorKind | Executor" = ExecutorKind.LOCAL
    workers: int | None = None
    ray_address: str | None = None
    max_params: int | None = None
    max_latency_ms: float | None = None
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    diagnose_every: int = 10
    report: bool = True
    delimiter: str | None = None
    decimal: str | None = None
    max_categories: int = 50
    encoding: str | None = None
    dates: str | None = None
    memory_budget: int | None = None
    refit: bool = True
    ensemble: bool = True  # the mean of the chosen config's restarts (docs/training.md, "Ensembles of restarts")
    lr_per_config: bool = False
    # The rule compares the configs as the model is built: their ensembles with the ensemble, their
    # restarts without or with a shared ``storage`` (None, the default; select/ensemble_noise.py;
    # docs/selection.md, "Judging ensembles"). True with ensemble=False is refused.
    judge_ensembles: bool | None = None
    strategy: Strategy = Strategy.GRID
    grow_patience: int = 2
    cv: int | str = "auto"
    numeric: NumericScaling = NumericScaling.STANDARD

    def __post_init__(self) -> None:
        strategy, sampler = self._check_choices(self.n_init, self.strategy, self.halving, self.sampler, self.grow_patience,
                                                self.precision)
        self._set("strategy", strategy)
        self._set("sampler", sampler)
        self._set("precision", Precision(self.precision))  # checked (exactly spelled) by _check_choices
        self._check_values()
        if isinstance(self.executor, str):  # else an Executor object, used as it is
            self._set("executor", parse_choice(ExecutorKind, self.executor, "executor"))
        self._set("cv", read_cv(self.cv))
        from justenough.data.numeric_scaling import read_numeric_scaling

        self._set("numeric", read_numeric_scaling(self.numeric))
        self._set("time_budget", parse_duration(self.time_budget))
        self._set("max_latency_ms", _latency_ms(self.max_latency_ms))
        if not isinstance(self.space, Space):
            raise ConfigError(f"space must be a justenough.Space, got {type(self.space).__name__}; or pass the keywords (depth=..., widths=...)")
        if self.task == Task.REGRESSION:
            # Label smoothing for regression is refused now (for_task refuses it too), not once the
            # data is read; with task "auto" the data says, before anything is written.
            self.space.for_task(Task.REGRESSION)
        # The rule is read here, not when the search has trained and comes to choose: a typo in
        # it (or a target above 1) costs nothing and leaves no run directory behind.
        from justenough.select.rules import parse_rule

        self._set("rule", parse_rule(self.rule))
        # Refused before anything is loaded or created: a device this torch cannot use, an ``out``
        # that is a file (preflight.py).
        from justenough.engine.preflight import check_out_dir, parse_bytes
        from justenough.vocab import parse_device

        # Read once, here: "auto" resolves in this (the driver's) process, and everything downstream,
        # the worker processes' tasks included, takes the device as read.
        if not isinstance(self.device, _ReadDevice):
            self._set("device", _ReadDevice(parse_device(self.device)))
        from justenough.data.dates import parse_dates

        self._set("dates", parse_dates(self.dates))
        if self.out is not None:
            self._set("out", check_out_dir(self.out, "out"))
        if self.memory_budget is not None:
            self._set("memory_budget", parse_bytes(self.memory_budget))

    @classmethod
    def from_keywords(cls, *, space: Space | None, space_options: Mapping[str, Any], **settings: Any) -> "SearchSettings":
        """The settings from ``search()``'s keywords: ``space`` or the search-space keywords
        (``space_options``, each the very ``DEFAULT_SPACE_VALUES`` object unless given), not both; every
        other setting by its field name (``max_latency`` for ``max_latency_ms``)."""
        settings["max_latency_ms"] = settings.pop("max_latency", None)
        # The checks that came before the space's, first (the constructor runs them again, as no-ops).
        cls._check_choices(*(settings.get(name, cls.__dataclass_fields__[name].default)
                             for name in ("n_init", "strategy", "halving", "sampler", "grow_patience", "precision")))
        parse_duration(settings.get("time_budget"))
        _latency_ms(settings["max_latency_ms"])
        given = [name for name, value in space_options.items() if value is not DEFAULT_SPACE_VALUES[name]]
        if space is not None and given:
            raise ConfigError(
                f"pass either a whole space (space=Space(...)) or the search-space keywords ({', '.join(given)}), not both: "
                "put these settings into the Space, or drop space="
            )
        if space is None:
            space = Space.from_options(**space_options)
        return cls(space=space, **settings)

    def _check_values(self) -> None:
        """The counts, the switches, the task and the storage: each refused here, before anything
        is read, created or trained, rather than wherever it is first used (a bad ``workers`` used
        to surface once the run directory and the study existed, a ``halving="no"`` never)."""
        self._set("task", read_task(self.task))
        for name, minimum in (("n_trials", 1), ("workers", 1), ("max_params", 1)):
            self._set(name, None if getattr(self, name) is None else whole_number(name, getattr(self, name), minimum))
        for name, minimum in (("seed", 0), ("diagnose_every", 0), ("max_categories", 2)):
            self._set(name, whole_number(name, getattr(self, name), minimum))
        for name in ("halving", "report", "refit", "ensemble", "lr_per_config"):
            self._set(name, switch(name, getattr(self, name)))
        # Not given: the rule judges what the search returns, the ensemble or the one network; but
        # in a study given by ``storage``, which other drivers may share, the restarts: the outputs
        # an ensemble is judged by stay in the run directory of the driver that trained them, and
        # drivers of one study must walk and choose alike.
        self._set("judge_ensembles", self.ensemble and self.storage is None if self.judge_ensembles is None
                  else switch("judge_ensembles", self.judge_ensembles))
        if self.judge_ensembles and not self.ensemble:
            # Nothing would be judged as an ensemble: the model is one network.
            raise ConfigError(f"{option('judge_ensembles', True)} compares the configs' ensembles, but "
                              f"{option('ensemble', False)} predicts with one network: drop one of them")
        if self.ray_address is not None and self.executor == ExecutorKind.LOCAL:
            # The local executor would ignore it: a search meant for a cluster would run here.
            raise ConfigError(f"{option('ray_address', self.ray_address)} is a Ray cluster's address: use it with "
                              f"{option('executor', 'ray')}, or drop it")
        if self.storage is not None:
            from justenough.study.storage import check_storage

            check_storage(self.storage)

    @staticmethod
    def _check_choices(n_init: int, strategy: str, halving: bool, sampler: str, grow_patience: int,
                       precision: str) -> tuple[Strategy, Sampler]:
        """The counts and the choices among names, and the combinations that do not go together;
        returns the strategy and the sampler read."""
        whole_number("n_init", n_init, 1)
        strategy = parse_choice(Strategy, strategy, "strategy")
        sampler = parse_choice(Sampler, sampler, "sampler", SAMPLER_ALIASES)
        if strategy == Strategy.GROW and halving:
            raise ConfigError(f"the grow strategy and successive halving do not combine: drop {option('halving', True)} "
                              f"or use {option('strategy', 'grid')}")
        if strategy == Strategy.GROW and sampler not in (Sampler.AUTO, Sampler.GRID):
            raise ConfigError(f"the grow strategy walks the grid itself: drop {option('sampler', sampler)} or use {option('strategy', 'grid')}")
        whole_number("grow_patience", grow_patience, 1)
        if precision not in tuple(Precision):
            raise ConfigError(f"unknown precision {precision!r}: use one of {', '.join(Precision)}")
        return strategy, sampler

    @property
    def judges_ensembles(self) -> bool:
        """Whether the rule compares the configs' ensembles: asked for, and the model is an
        ensemble of more than one restart."""
        return bool(self.judge_ensembles and self.ensemble and self.n_init > 1)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # a read value replaces the text given (frozen otherwise)

    @property
    def reading(self) -> dict[str, Any]:
        """How files are read, as ``justenough.data.load`` takes it (also for ``test`` and ``val``)."""
        return {"delimiter": self.delimiter, "decimal": self.decimal, "encoding": self.encoding,
                "max_categories": self.max_categories, "dates": self.dates}

    def folds_for(self, n_rows: int, own_val: bool, test_is_val: bool = False) -> int:
        """How many folds validate: 1 (the single split) or K. ``n_rows``: the rows outside the
        test split; ``own_val``: a validation table was given, whose rows then validate alone;
        ``test_is_val``: the validation rows also stand in for the test split (no independent one,
        as the search estimators' ``test_fraction=0``): ``auto`` keeps the one split there, and
        an explicit K folds the training and validation rows together (the refit then trains on
        every row, the stand-in test rows included)."""
        if own_val:
            if isinstance(self.cv, int) and self.cv > 1:
                raise ConfigError(f"{option('cv', self.cv)} and a validation table (val=) do not combine: the folds are "
                                  f"dealt from the training rows; drop one, or use {option('cv', 1)}")
            return 1
        if self.cv == "auto":
            # Fewer rows than folds would leave a fold empty: one split then (a search needs 4 rows).
            return CV_AUTO_FOLDS if CV_AUTO_FOLDS <= n_rows < CV_AUTO_ROWS and not test_is_val else 1
        folds = int(self.cv)
        if folds > n_rows:
            raise ConfigError(f"{option('cv', folds)} needs at least {folds} rows outside the test split, got {n_rows}")
        return folds

    @property
    def torch_device(self) -> "torch.device":
        """The device read (``device``), as a ``torch.device``."""
        import torch

        return torch.device(self.device)

    def stack_memory_budget(self) -> int:
        """What one stack may use, in bytes: the budget given, else a share of the free memory now."""
        from justenough.engine.preflight import default_memory_budget

        return self.memory_budget if self.memory_budget is not None else default_memory_budget(self.torch_device)


def read_task(task: Any) -> "Task | str":
    """``task`` as a ``Task``, or ``"auto"`` (the data decides)."""
    text = str(task).strip().lower() if isinstance(task, str) else None
    if text == "auto":
        return "auto"
    if text in tuple(Task):
        return Task(text)
    raise ConfigError(f"unknown task {task!r}: use auto, classification or regression")


def whole_number(name: str, value: Any, minimum: int) -> int:
    """A count or a seed: a whole number (numpy's too) of at least ``minimum``, as a Python int."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def switch(name: str, value: Any) -> bool:
    """A switch: True or False (numpy's too); text such as ``"no"`` would count as True."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def read_cv(cv: Any) -> int | str:
    """``cv`` as a number of folds (1: the single split) or ``"auto"``; text from the command line is read."""
    if isinstance(cv, str):
        text = cv.strip().lower()
        if text == "auto":
            return "auto"
        if text in ("none", "off", "no"):
            return 1
        try:
            cv = int(text)
        except ValueError:
            raise ConfigError(f"cannot read {option('cv', cv)}: write auto, a number of folds such as 5, or 1 (one validation split)") from None
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 1:
        raise ConfigError(f"{option('cv', cv)} is not a number of folds: write auto, 2 or more folds, or 1 (one validation split)")
    return cv


def _latency_ms(max_latency: str | float | None) -> float | None:
    """The latency limit in milliseconds: a number is milliseconds; text is a duration ("1ms", "0.5ms")."""
    if max_latency is None:
        return None
    if isinstance(max_latency, (int, float)):
        parse_duration(max_latency / 1000.0, latency=True)  # refuses a zero, negative, infinite or NaN limit
        return float(max_latency)
    return parse_duration(max_latency, latency=True) * 1000.0  # type: ignore[operator]
