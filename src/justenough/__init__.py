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

__all__ = [
    "__version__",
    "JustEnoughError",
    "DataError",
    "ConfigError",
    "StorageError",
    "TrainingError",
    "ArtifactError",
]
