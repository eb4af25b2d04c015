"""One learning rate per config, chosen by validation before the rule (``lr_per_config``).

With several learning rates in the space (``--lr 1e-3,3e-3,1e-2``), every architecture is
trained at each of them. Configs that differ only in ``lr`` share a stack already (``lr`` is a
member setting, not part of ``Config.group_key``), so the extra rates cost a wider stack, not
another search. Without ``lr_per_config`` each (architecture, lr) is a config of its own and the
rule may choose any of them. With it, each *family* (the configs equal in every setting but
``lr``) keeps only its best learning rate, by the mean validation score over its restarts (the
leaderboard's ``val_mean``; a tie keeps the lower rate), and the rule then compares families,
each at its own best rate. The others stay in the leaderboard with ``lr_kept`` False, like
pruned configs: shown, never chosen.

Choosing the rate on the same validation rows the rule reads flatters every family by the
maximum of a few noisy means, but every family gets the same number of rates, so the comparison
between families stays even; the noise model's SE is that of the kept rate's restarts.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, Protocol

import pandas as pd

from justenough.select.order import numeric_column

__all__ = ["Configured", "family_of", "kept_lrs", "lr_choice_of"]


class Configured(Protocol):
    """What this module reads of a config (``space.config.Config`` is one; ``select`` sits below
    ``space`` in the layers, so it names the shape, not the class)."""

    @property
    def lr(self) -> float: ...

    def to_dict(self) -> dict[str, Any]: ...


def family_of(cfg: Configured) -> str:
    """The settings of ``cfg`` but its learning rate, as sorted JSON: configs with equal families
    differ only in ``lr``."""
    settings = cfg.to_dict()
    del settings["lr"]
    return json.dumps(settings, sort_keys=True)


def kept_lrs(board: pd.DataFrame, configs: Mapping[str, Configured]) -> pd.Series:
    """``lr_kept`` for each leaderboard row (aligned with ``board``'s index): True for the config
    with the best ``val_mean`` of its family (ties, and families whose every mean is NaN: the
    lowest rate), False for the others. Pruned configs compete like the rest (halving ranks
    within a stack, and the rates of one family share it)."""
    means = numeric_column(board, "val_mean")
    best: dict[str, tuple[float, float, Any]] = {}  # family -> (-mean, lr, index): min is the keeper
    for index, key in board["key"].items():
        cfg = configs[str(key)]
        mean = float(means.loc[index])
        rank = (-mean if math.isfinite(mean) else math.inf, float(cfg.lr), index)
        family = family_of(cfg)
        if family not in best or rank[:2] < best[family][:2]:
            best[family] = rank
    keepers = {index for _, _, index in best.values()}
    return pd.Series([index in keepers for index in board.index], index=board.index, dtype=bool, name="lr_kept")


def lr_choice_of(board: pd.DataFrame, configs: Mapping[str, Configured], key: str) -> dict[str, Any]:
    """The chosen config's family's rates and their validation means, for ``summary.json``:
    ``{"lr": kept rate, "val_means": {"0.001": mean, ...}}`` (rates as text keys, lowest first; a
    mean is None where every restart diverged)."""
    mine = family_of(configs[key])
    means = numeric_column(board, "val_mean")
    rates: dict[float, float | None] = {}
    for index, other in board["key"].items():
        cfg = configs[str(other)]
        if family_of(cfg) == mine:
            mean = float(means.loc[index])
            rates[float(cfg.lr)] = mean if math.isfinite(mean) else None
    return {"lr": float(configs[key].lr), "val_means": {f"{lr:g}": rates[lr] for lr in sorted(rates)}}
