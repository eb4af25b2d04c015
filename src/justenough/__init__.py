"""justenough: find the just-enough neural network, by experiment.

How should the weights start, and how many layers and units do I need? justenough trains
every candidate from several seeds at once (as one stack of tensors), keeps the spread of the
restarts as evidence, picks the simplest network that is good enough on validation data, and
scores it once on a sealed test set.
"""

from __future__ import annotations

import sys
import types
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
    "SearchResult": ("justenough.run.result", "SearchResult"),
    "Space": ("justenough.search.space", "Space"),
    "load": ("justenough.run.model", "load"),
    "Model": ("justenough.run.model", "Model"),
    "MLPStack": ("justenough.nets.stack", "MLPStack"),
    "MLPClassifier": ("justenough.estimators", "MLPClassifier"),
    "MLPRegressor": ("justenough.estimators", "MLPRegressor"),
    "JustEnoughClassifier": ("justenough.estimators", "JustEnoughClassifier"),
    "JustEnoughRegressor": ("justenough.estimators", "JustEnoughRegressor"),
    "init_lab": ("justenough.diagnose.lab", "init_lab"),
}


# ``search`` is a function named like the submodule that defines it.
_FUNCTION_MODULES = {"search": "justenough.search"}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _FUNCTION_MODULES:
        value = getattr(importlib.import_module(_FUNCTION_MODULES[name]), name)
    else:
        raise AttributeError(f"module 'justenough' has no attribute {name!r}")
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The package's module type: importing the submodule ``justenough.search``
    must not rebind ``justenough.search`` from the function to the module.

    Python sets a package attribute to each submodule it imports, after loading it. That setattr
    is dropped for this name; the function is bound on first use by ``__getattr__``
    (``from justenough.search import X`` still finds the module through ``sys.modules``). Eager
    imports would do the same at the price of loading torch and optuna on ``import justenough``,
    about 1.2 s for every CLI call, ``--help`` included.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _FUNCTION_MODULES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "search",
    *_LAZY,
    "__version__",
    "JustEnoughError",
    "DataError",
    "ConfigError",
    "StorageError",
    "TrainingError",
    "ArtifactError",
]

