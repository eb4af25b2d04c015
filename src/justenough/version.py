"""The package's version, from its installed metadata: ``justenough.__version__`` and the
``versions`` of ``summary.json`` (``engine/finalize.py``) read it here, so that nothing below the
package's ``__init__`` imports the package itself."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("justenough")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
