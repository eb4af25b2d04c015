"""The search estimators' data: ``fit(X, y)`` split as their parameters say, and said in their words.

The data layer describes a split in the words of ``search()`` (its ``val`` and ``test`` tables, its
seed). An estimator's user passed none of those: they gave ``X``, ``y``, ``validation_fraction``,
``test_fraction`` and ``random_state``. So the estimators prepare the data themselves, ask the data
layer not to describe the split, and describe it from the sizes it produced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from justenough.vocab import Task

if TYPE_CHECKING:
    from justenough.data import Prepared

__all__ = ["search_data", "split_notice"]


def split_notice(sizes: dict[str, int], *, validation_fraction: float, test_fraction: float, task: str) -> str:
    """How ``fit(X, y)``'s rows were split, in the estimator's parameters. Without a test split the
    validation rows stand in for it (``sizes["test"]`` counts them again)."""
    stratified = ", stratified by class" if task == Task.CLASSIFICATION else ""
    if test_fraction > 0:
        n = sizes["train"] + sizes["val"] + sizes["test"]
        return (f"fit(X, y): {n} rows split (seeded by random_state{stratified}): {sizes['train']} to train, "
                f"{sizes['val']} to validate (validation_fraction={validation_fraction:g}), {sizes['test']} to test "
                f"once (test_fraction={test_fraction:g}: test_score_)")
    n = sizes["train"] + sizes["val"]
    return (f"fit(X, y): {n} rows, {sizes['val']} held out to validate (validation_fraction={validation_fraction:g}, "
            f"seeded by random_state{stratified}), {sizes['train']} to train; no test split (test_fraction=0): "
            "the validation rows also serve as the test rows of the run, so test_score_ is None: score the model "
            "on data of your own")


def search_data(data: Any, held: Any, *, task: str, split: tuple[float, ...], seed: int, validation_fraction: float,
                test_fraction: float) -> "Prepared":
    """``data`` (``(frame, target)``) prepared for the search: split by ``split`` when ``held`` is
    None, else all of it trains and ``held`` validates and stands in for the test split."""
    from justenough.data import load, prepare

    table = load(data, target=None, task=task)
    held_table = load(held, target=table.target_name, task=table.task) if held is not None else None
    prepared = prepare(table, split=split, seed=seed, test=held_table, val=held_table, describe_split=False)
    prepared.notices.append(split_notice(prepared.split_sizes, validation_fraction=validation_fraction,
                                         test_fraction=test_fraction, task=prepared.task))
    return prepared
