"""Which Optuna sampler a search asks its configs from."""

from __future__ import annotations

import optuna

from justenough.errors import ConfigError, option
from justenough.space.search_space import Space
from justenough.vocab import Sampler

__all__ = ["make_sampler", "GRID_AUTO_LIMIT"]

GRID_AUTO_LIMIT = 2000


def make_sampler(name: Sampler, space: Space, seed: int) -> tuple[optuna.samplers.BaseSampler, bool, list[str]]:
    """(sampler, is_grid, directions) for a sampler ``SearchSettings`` has read. Grid is enumerated
    by us (enqueue), so its sampler never samples."""
    if name == Sampler.AUTO:
        name = Sampler.GRID if space.is_finite and space.size <= GRID_AUTO_LIMIT else Sampler.TPE
    if name == Sampler.GRID:
        if not space.is_finite:
            raise ConfigError(f"the grid sampler needs a finite space: list values instead of ranges, or use {option('sampler', 'tpe')}")
        return optuna.samplers.RandomSampler(seed=seed), True, ["maximize"]
    if name == Sampler.RANDOM:
        return optuna.samplers.RandomSampler(seed=seed), False, ["maximize"]
    if name == Sampler.TPE:
        return optuna.samplers.TPESampler(seed=seed), False, ["maximize"]
    return optuna.samplers.NSGAIISampler(seed=seed), False, ["maximize", "minimize"]  # Sampler.NSGA2
