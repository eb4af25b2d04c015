"""justenough: find the just-enough neural network, by experiment.

How should the weights start, and how many layers and units do I need? justenough trains
every candidate from several seeds at once (as one stack of tensors), keeps the spread of the
restarts as evidence, picks the simplest network that is good enough on validation data, and
scores it once on a sealed test set.
"""

from __future__ import annotations

from justenough.version import __version__
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
    "Space": ("justenough.space.search_space", "Space"),
    "load": ("justenough.run.model", "load"),
    "Model": ("justenough.run.model", "Model"),
    "MLPStack": ("justenough.nets.stack", "MLPStack"),
    "MLPClassifier": ("justenough.estimators", "MLPClassifier"),
    "MLPRegressor": ("justenough.estimators", "MLPRegressor"),
    "JustEnoughClassifier": ("justenough.estimators", "JustEnoughClassifier"),
    "JustEnoughRegressor": ("justenough.estimators", "JustEnoughRegressor"),
    "init_lab": ("justenough.diagnose.lab", "init_lab"),
}


# ``search``, the function: no subpackage shares its name (the engine is ``justenough.engine``).
from justenough.api import search
from justenough.lazy import lazy_attributes


__getattr__ = lazy_attributes("justenough", globals(), _LAZY)


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
