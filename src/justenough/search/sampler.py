"""Which Optuna sampler a search asks its configs from."""

from __future__ import annotations

import optuna

from justenough.errors import ConfigError, option
from justenough.search.space import Space

__all__ = ["make_sampler", "GRID_AUTO_LIMIT"]

GRID_AUTO_LIMIT = 2000


def make_sampler(name: str, space: Space, seed: int) -> tuple[optuna.samplers.BaseSampler, bool, list[str]]:
    """(sampler, is_grid, directions). Grid is enumerated by us (enqueue), so its sampler never samples."""
    name = name.lower()
    if name == "auto":
        name = "grid" if space.is_finite and space.size <= GRID_AUTO_LIMIT else "tpe"
    if name == "grid":
        if not space.is_finite:
            raise ConfigError(f"the grid sampler needs a finite space: list values instead of ranges, or use {option('sampler', 'tpe')}")
        return optuna.samplers.RandomSampler(seed=seed), True, ["maximize"]
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed), False, ["maximize"]
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed), False, ["maximize"]
    if name in ("nsga2", "nsgaii", "nsga-ii"):
        return optuna.samplers.NSGAIISampler(seed=seed), False, ["maximize", "minimize"]
    raise ConfigError(f"unknown sampler {name!r}: use auto, grid, random, tpe or nsga2")
