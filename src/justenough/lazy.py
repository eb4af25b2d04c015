"""Package attributes imported on first use (PEP 562's module ``__getattr__``).

``import justenough`` and the CLI's start must not load torch, optuna or pandas, so a package's
``__init__`` names where each public name lives instead of importing it. ``lazy_attributes``
builds the ``__getattr__`` that imports the home module the first time a name is read and keeps
the value in the package's namespace, so the next read is a plain lookup.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, namespace: dict[str, Any],
                    homes: Mapping[str, str | tuple[str, str]]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package`` (whose ``globals()`` is ``namespace``): ``homes`` maps a
    public name to its module, or to ``(module, attribute)`` where the attribute is named otherwise."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        home = homes[name]
        module, attribute = (home, name) if isinstance(home, str) else home
        value = getattr(importlib.import_module(module), attribute)
        namespace[name] = value
        return value

    return __getattr__
