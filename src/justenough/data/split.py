"""Train/validation/test splits of a table: the shares from ``split``, then row positions,
stratified by class for classification, seeded."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from justenough.data.table import Table
from justenough.data.values import label_key, plain_scalar
from justenough.errors import ConfigError, DataError
from justenough.vocab import Task

def split_fractions(split: Any, *, has_test: bool, has_val: bool) -> dict[str, float]:
    """The shares of the main table that go to each split made from it (normalized to sum 1)."""
    try:
        parts = [float(f) for f in split]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"split must be three fractions (train, val, test) such as (0.6, 0.2, 0.2), got {split!r}") from exc
    if len(parts) == 2:
        parts.append(0.0 if has_test else -1.0)
    if len(parts) != 3 or any(not math.isfinite(p) or p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
        raise ConfigError(
            f"split must be three non-negative fractions (train, val, test) that sum to 1, such as (0.6, 0.2, 0.2); got {split!r}"
        )
    train, val, test = parts
    wanted = {"train": train}
    if not has_val:
        wanted["val"] = val
    if not has_test:
        wanted["test"] = test
    for name, share in wanted.items():
        if share <= 0:
            label = {"train": "train", "val": "validation", "test": "test"}[name]
            raise ConfigError(
                f"the {label} fraction of split={tuple(parts)} is 0; give it a positive share"
                + ("" if name == "train" else f", or pass a separate {label} table ({name}=...)")
            )
    total = sum(wanted.values())
    return {k: v / total for k, v in wanted.items()}


def check_enough_rows(table: Table, fractions: dict[str, float]) -> None:
    """Refuse a table with fewer rows than its split needs: 2 to train, 1 for each other split."""
    n = len(table)
    names = list(fractions)
    others = [s for s in names if s != "train"]
    needed = 2 + len(others)  # train keeps at least 2 rows, every other split 1
    if n < needed:
        roles = ", ".join(["2 to train", *({"val": "1 to validate", "test": "1 to test"}[s] for s in others)])
        raise DataError(
            f"{table.source} has {n} row(s), fewer than the split into {'/'.join(names)} needs (at least {needed}): "
            f"a search needs at least {needed} rows ({roles}); add rows, or pass separate validation/test tables"
        )


def split_positions(table: Table, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Row positions for each split: stratified by class for classification, seeded."""
    check_enough_rows(table, fractions)
    n = len(table)
    names = list(fractions)
    rng = np.random.default_rng(seed)
    if len(names) == 1:
        return {"train": np.arange(n)}
    if table.task == Task.CLASSIFICATION:
        labels = table.target.tolist()
        classes = sorted({plain_scalar(v) for v in labels}, key=label_key)
        groups: dict[Any, list[int]] = {c: [] for c in classes}
        for i, v in enumerate(labels):
            groups[plain_scalar(v)].append(i)
        for c in classes:
            if len(groups[c]) < len(names):
                raise DataError(
                    f"class {c!r} of target {table.target_name!r} has only {len(groups[c])} row(s); a stratified split "
                    f"into {'/'.join(names)} needs at least {len(names)} per class: add rows of that class, remove it, "
                    "or pass separate validation/test tables"
                )
        allocation = _allocate([len(groups[c]) for c in classes], [fractions[s] for s in names])
        parts: dict[str, list[int]] = {s: [] for s in names}
        for c, counts in zip(classes, allocation):
            order = rng.permutation(np.asarray(groups[c]))
            start = 0
            for s, k in zip(names, counts):
                parts[s].extend(order[start : start + k].tolist())
                start += k
        return {s: np.sort(np.asarray(parts[s], dtype=np.int64)) for s in names}
    sizes = _allocate([n], [fractions[s] for s in names], min_train=2)[0]
    order = rng.permutation(n)
    out, start = {}, 0
    for s, k in zip(names, sizes):
        out[s] = np.sort(order[start : start + k])
        start += k
    return out


def _allocate(counts: list[int], fractions: list[float], min_train: int = 1) -> list[list[int]]:
    """Split each group's count over the splits (train first) by cumulative rounding, so the totals
    follow the fractions closely, with at least one row per split and ``min_train`` in train."""
    cum_n = 0
    cum_given = [0] * len(fractions)
    result = []
    for c in counts:
        cum_n += c
        row = [0] * len(fractions)
        for s in range(1, len(fractions)):
            target = int(round(fractions[s] * cum_n))
            row[s] = max(1, target - cum_given[s])
        row[0] = c - sum(row[1:])
        while row[0] < min_train:  # give rows back to train from the largest other split
            s = max(range(1, len(row)), key=lambda j: row[j])
            if row[s] <= 1:
                break
            row[s] -= 1
            row[0] += 1
        for s in range(1, len(fractions)):
            cum_given[s] += row[s]
        result.append(row)
    return result
