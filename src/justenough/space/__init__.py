"""The search space: what configs a search may train, and each config's name.

- ``dims.py``: one dimension of the space (``Dim``: a list, a range, a shape), parsed from text;
- ``config.py``: ``Config``, one network design plus its training settings, and its label
  (``architecture_label``);
- ``search_space.py``: ``Space``, the dimensions together: parsed, sampled, enumerated as a grid.

Torch-free and optuna-free: the CLI reads a space without loading either.
"""

from __future__ import annotations

from justenough.space.config import Config, architecture_label
from justenough.space.dims import Dim
from justenough.space.search_space import Space

__all__ = ["Config", "Dim", "Space", "architecture_label"]
