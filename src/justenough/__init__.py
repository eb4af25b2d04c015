"""justenough: find the just-enough neural network, by experiment.

How should the weights start, and how many layers and units do I need? justenough trains
every candidate from several seeds at once (as one stack of tensors), keeps the spread of the
restarts as evidence, picks the simplest network that is good enough on validation data, and
scores it once on a sealed test set.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("justenough")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from justenough.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    JustEnoughError,
    StorageError,
    TrainingError,
)

# The public API, imported on first use so that ``import justenough`` (and the CLI's --version)
# stays fast: torch, optuna and plotly load only when something needs them.
_LAZY = {
    "SearchResult": ("justenough.outcome", "SearchResult"),
    "Space": ("justenough.space", "Space"),
    "load": ("justenough.model", "load"),
    "Model": ("justenough.model", "Model"),
    "MLPStack": ("justenough.stack", "MLPStack"),
    "MLPClassifier": ("justenough.estimators", "MLPClassifier"),
    "MLPRegressor": ("justenough.estimators", "MLPRegressor"),
    "JustEnoughClassifier": ("justenough.estimators", "JustEnoughClassifier"),
    "JustEnoughRegressor": ("justenough.estimators", "JustEnoughRegressor"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'justenough' has no attribute {name!r}")


__all__ = [
    "search",
    "init_lab",
    *_LAZY,
    "__version__",
    "JustEnoughError",
    "DataError",
    "ConfigError",
    "StorageError",
    "TrainingError",
    "ArtifactError",
]

# ``search`` and ``init_lab`` are also submodule names: importing the submodule would rebind the
# package attribute to the module, so the functions are bound eagerly, after their modules load.
from justenough.search import search  # noqa: E402
from justenough.init_lab import init_lab  # noqa: E402
