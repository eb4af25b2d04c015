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
    from justenough.settings import SearchSettings

__all__ = ["search_data", "split_notice"]


def split_notice(sizes: dict[str, int], *, validation_fraction: float, test_fraction: float, task: str,
                 folds: int = 1) -> str:
    """How ``fit(X, y)``'s rows were split, in the estimator's parameters. Without a test split the
    validation rows stand in for it (``sizes["test"]`` counts them again). ``folds`` > 1: the rows
    outside the test split are validated out of fold instead (``validation_fraction`` unused), and
    the choice refit on all of them."""
    stratified = ", stratified by class" if task == Task.CLASSIFICATION else ""
    if folds > 1:
        pooled = sizes["train"] + sizes["val"]
        folded = (f"validated by {folds}-fold cross-validation (cv, folds seeded by random_state{stratified}; "
                  f"validation_fraction={validation_fraction:g} unused), then the chosen config refit on all of them")
        if test_fraction > 0:
            return (f"fit(X, y): {pooled + sizes['test']} rows: {sizes['test']} to test once (test_fraction="
                    f"{test_fraction:g}: test_score_), the other {pooled} {folded}")
        return (f"fit(X, y): {pooled} rows {folded}; no test split (test_fraction=0), so test_score_ is None: "
                "score the model on data of your own")
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


def search_data(data: Any, held: Any, *, task: str, settings: "SearchSettings", seed: int,
                validation_fraction: float, test_fraction: float) -> "Prepared":
    """``data`` (``(frame, target)``) prepared for the search: split by ``settings.split`` when
    ``held`` is None, else all of it trains and ``held`` validates and stands in for the test split.
    The notice names the folds ``settings.cv`` gives these rows, as the search resolves them."""
    from justenough.data import load, prepare

    table = load(data, target=None, task=task)
    held_table = load(held, target=table.target_name, task=table.task) if held is not None else None
    prepared = prepare(table, split=settings.split, seed=seed, test=held_table, val=held_table, describe_split=False,
                       numeric=settings.numeric)
    sizes = prepared.split_sizes
    folds = settings.folds_for(sizes["train"] + sizes["val"], own_val=False, test_is_val=prepared.test_is_val)
    prepared.notices.append(split_notice(prepared.split_sizes, validation_fraction=validation_fraction,
                                         test_fraction=test_fraction, task=prepared.task, folds=folds))
    return prepared
