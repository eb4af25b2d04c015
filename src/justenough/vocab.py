"""The words justenough's settings and results are made of, each defined once.

Each vocabulary is a ``StrEnum``: a member equals its text (``Task.CLASSIFICATION ==
"classification"``) and ``json.dumps`` writes that text, so the run directory, the study's
attributes and the CLI's options read and write exactly the strings they always did.

``parse_device`` is the one reader of a device (``cpu``, ``cuda``, ``cuda:N``, ``auto``): the CLI,
``search()``, ``init_lab``, the estimators, the data and the stack all ask it.

This module imports no torch at import time: the CLI reads it before it knows whether it will train.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Mapping, TypeVar

from justenough.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "Task",
    "Monitor",
    "Optimizer",
    "Precision",
    "NumericScaling",
    "Schedule",
    "Embed",
    "StopReason",
    "Activation",
    "Sampler",
    "SAMPLER_ALIASES",
    "Strategy",
    "ExecutorKind",
    "parse_choice",
    "ACTIVATION_ALIASES",
    "SKLEARN_ACTIVATION_NAMES",
    "parse_activation",
    "parse_device",
    "validation_metric",
]


class Task(StrEnum):
    """What the target is: classes or numbers."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


def validation_metric(task: object) -> str:
    """The name of the validation score, higher is better: ``accuracy`` for classification, ``r2``
    (R²) for regression, which is also what a run that recorded no task is read as."""
    return "accuracy" if task == Task.CLASSIFICATION else "r2"


class Monitor(StrEnum):
    """What early stopping and the best weights follow."""

    VAL_LOSS = "val_loss"  # lower is better
    VAL_SCORE = "val_score"  # accuracy or R², higher is better


class Optimizer(StrEnum):
    """The optimizers the hand-written training step implements (train/optimizer.py)."""

    ADAM = "adam"
    ADAMW = "adamw"
    SGD = "sgd"


class Precision(StrEnum):
    """The training step's matmuls (see ``TrainSettings``)."""

    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"


class NumericScaling(StrEnum):
    """How the preprocessing scales numeric columns, fitted on the training rows (``data/numeric_scaling.py``)."""

    STANDARD = "standard"  # (x - mean) / std
    ROBUST = "robust"  # (x - median) / IQR, then a smooth clip to (-3, 3)
    QUANTILE = "quantile"  # the training quantiles mapped to a standard normal


class Schedule(StrEnum):
    """How each member's learning rate moves over the epochs."""

    CONSTANT = "constant"
    COSINE = "cosine"
    WARMUP_COSINE = "warmup_cosine"  # a linear warmup over the first epochs, then cosine (train/optimizer.py)


class Embed(StrEnum):
    """How the numeric inputs enter the network: as they are, or with periodic features
    beside them (``nets/periodic.py``)."""

    NONE = "none"
    PERIODIC = "periodic"


class StopReason(StrEnum):
    """Why a restart stopped training: the text of its ``stopped_by``."""

    EARLY = "early"  # no improvement for ``patience`` epochs
    BUDGET = "budget"  # reached ``max_epochs``
    PRUNED = "pruned"  # stopped by the search (halving) or a callback
    DIVERGED = "diverged"  # its weights stopped being finite


class Activation(StrEnum):
    """The hidden layers' activations; ``nets/activations.py`` gives each its torch parts."""

    RELU = "relu"
    TANH = "tanh"
    SIGMOID = "sigmoid"
    GELU = "gelu"
    LEAKY_RELU = "leaky_relu"
    SELU = "selu"
    IDENTITY = "identity"


# Other names of the activations, in lower case: the stack and the search space accept each.
ACTIVATION_ALIASES: dict[str, Activation] = {
    "logistic": Activation.SIGMOID,
    "linear": Activation.IDENTITY,
    "none": Activation.IDENTITY,
    "leakyrelu": Activation.LEAKY_RELU,
    "leaky-relu": Activation.LEAKY_RELU,
}
# scikit-learn's MLP names for the activations it shares with justenough; the estimators accept
# these (spelled exactly) beside the canonical names, and nothing else.
SKLEARN_ACTIVATION_NAMES: dict[str, Activation] = {
    "identity": Activation.IDENTITY,
    "logistic": Activation.SIGMOID,
    "tanh": Activation.TANH,
    "relu": Activation.RELU,
}


def parse_activation(name: object) -> Activation | None:
    """The activation ``name`` (any case, surrounding blanks or an alias) names; None if none."""
    text = str(name).strip().lower()
    if text in ACTIVATION_ALIASES:
        return ACTIVATION_ALIASES[text]
    try:
        return Activation(text)
    except ValueError:
        return None


class Sampler(StrEnum):
    """How a search asks for its configs (``engine/strategies/sampler.py``)."""

    AUTO = "auto"  # grid when the space is finite and small enough, else tpe
    GRID = "grid"  # every config, enumerated by the search itself
    RANDOM = "random"
    TPE = "tpe"
    NSGA2 = "nsga2"  # two objectives: the score up, the parameters down


# Other spellings of the samplers, in lower case: search() and the estimators accept each.
SAMPLER_ALIASES: dict[str, Sampler] = {"nsgaii": Sampler.NSGA2, "nsga-ii": Sampler.NSGA2}


class Strategy(StrEnum):
    """Which configs a search trains."""

    GRID = "grid"  # every config the sampler gives
    GROW = "grow"  # from the simplest config up, while bigger keeps paying (engine/strategies/grow.py)


class ExecutorKind(StrEnum):
    """Where a search trains its stacks (``executors/``)."""

    LOCAL = "local"  # worker processes on this machine
    RAY = "ray"  # a Ray cluster (the 'ray' extra)


_Choice = TypeVar("_Choice", bound=StrEnum)


def parse_choice(vocabulary: type[_Choice], value: object, what: str, aliases: Mapping[str, _Choice] | None = None) -> _Choice:
    """The member of ``vocabulary`` that ``value`` names (any case, surrounding blanks, or one of
    ``aliases``); a ``ConfigError`` naming ``what`` and listing the members otherwise."""
    text = str(value).strip().lower()
    if aliases and text in aliases:
        return aliases[text]
    try:
        return vocabulary(text)
    except ValueError:
        names = [str(member) for member in vocabulary]
        listed = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        raise ConfigError(f"unknown {what} {value!r}: use {listed}") from None


def parse_device(device: object, *, flag: str | None = None) -> "torch.device":
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when available, else CPU) as a ``torch.device``.

    Refused with a ``ConfigError``: anything else (``mps`` included: the trainer and its tests run on
    the CPU and CUDA only), and CUDA where this torch has none or fewer GPUs. ``flag`` (the CLI's
    ``"--device"``) words the messages as the command line spells the option.
    """
    import torch

    text = str(device).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    said = f"{flag} {device}" if flag else f"device {device!r}"
    use = f"use {flag} cpu or {flag} auto" if flag else "use 'cpu' or 'auto'"
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"{said} is not a device justenough trains on: use cpu, cuda, cuda:N or auto")
    if dev.type == "cuda" and not torch.cuda.is_available():
        why = f"this torch ({torch.__version__}) was built without CUDA" if torch.version.cuda is None else "torch finds no CUDA GPU"
        if flag:
            raise ConfigError(f"{said}: CUDA is not available here ({why}): {use}, "
                              "or install a CUDA build of torch (README, Quickstart)")
        raise ConfigError(f"{said} was asked for but CUDA is not available here ({why}): {use}")
    count = torch.cuda.device_count() if dev.type == "cuda" else 0
    if dev.type == "cuda" and dev.index is not None and dev.index >= count:
        raise ConfigError(f"{said} was asked for but there are {count} CUDA GPUs (cuda:0 to cuda:{count - 1})")
    return dev
