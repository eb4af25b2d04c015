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


def split_notice(sizes: dict[str, int], *, validation_fraction: float, test_fraction: float, task: str,
                 folds: int | None = None) -> str:
    """How ``fit(X, y)``'s rows were split, in the estimator's parameters. Without a test split the
    validation rows stand in for it (``sizes["test"]`` counts them again); ``folds`` > 1 (only then):
    every row is validated out of fold instead, and the choice refit on all of them."""
    stratified = ", stratified by class" if task == Task.CLASSIFICATION else ""
    if test_fraction > 0:
        n = sizes["train"] + sizes["val"] + sizes["test"]
        return (f"fit(X, y): {n} rows split (seeded by random_state{stratified}): {sizes['train']} to train, "
                f"{sizes['val']} to validate (validation_fraction={validation_fraction:g}), {sizes['test']} to test "
                f"once (test_fraction={test_fraction:g}: test_score_)")
    n = sizes["train"] + sizes["val"]
    if folds is not None and folds > 1:
        return (f"fit(X, y): {n} rows validated by {folds}-fold cross-validation (cv, folds seeded by random_state"
                f"{stratified}), then the chosen config refit on all of them; no test split (test_fraction=0), so "
                "test_score_ is None: score the model on data of your own")
    return (f"fit(X, y): {n} rows, {sizes['val']} held out to validate (validation_fraction={validation_fraction:g}, "
            f"seeded by random_state{stratified}), {sizes['train']} to train; no test split (test_fraction=0): "
            "the validation rows also serve as the test rows of the run, so test_score_ is None: score the model "
            "on data of your own")


def search_data(data: Any, held: Any, *, task: str, split: tuple[float, ...], seed: int, validation_fraction: float,
                test_fraction: float, folds: Any = None) -> "Prepared":
    """``data`` (``(frame, target)``) prepared for the search: split by ``split`` when ``held`` is
    None, else all of it trains and ``held`` validates and stands in for the test split.
    ``folds``: the folds the search validates ``data`` and ``held`` by together (with ``held``;
    None or 1: the single split), for the notice."""
    from justenough.data import load, prepare

    table = load(data, target=None, task=task)
    held_table = load(held, target=table.target_name, task=table.task) if held is not None else None
    prepared = prepare(table, split=split, seed=seed, test=held_table, val=held_table, describe_split=False)
    prepared.notices.append(split_notice(prepared.split_sizes, validation_fraction=validation_fraction,
                                         test_fraction=test_fraction, task=prepared.task,
                                         folds=folds if isinstance(folds, int) else None))
    return prepared
