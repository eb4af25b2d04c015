"""The training settings a ``Config`` has when it is built without them (its dataclass defaults,
which are also what a record without a setting reads back as): Adam at lr 1e-3 for up to 200
epochs, stopping 10 epochs after the best validation loss, a constant rate, no embedding. That was
the default space's recipe before 2026-12-07; the default space now trains otherwise
(``space/search_space.py``'s ``DEFAULT_SPACE_VALUES``).

A test that builds ``Config(depth=..., widths=...)`` and asks a space whether it holds it, or whose
subject is not the recipe (grid order, the architectures a space lists), gives its space these
options, so that its configs are those ``Config``s.
"""

from __future__ import annotations

CONFIG_RECIPE: dict[str, str] = {
    "lr": "1e-3",
    "max_epochs": "200",
    "patience": "10",
    "monitor": "val_loss",
    "schedule": "constant",
    "embed": "none",
}
