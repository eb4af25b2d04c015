"""Every keyword of ``search()`` refuses a bad value before anything is read into a run, written or
trained (issue 27: one settings object, validated once). The keywords come from ``search()``'s
signature: a keyword added without a bad example here (or a reason it has none) fails the test."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from justenough import search
from justenough.errors import ConfigError, DataError, StorageError

# keyword: (a bad value, the error it raises, a fragment of its message)
BAD: dict[str, tuple[Any, type[Exception], str]] = {
    "data": ("no-such-dataset", DataError, "no-such-dataset"),
    "target": ("no_such_column", DataError, "no_such_column"),
    "task": ("clustering", ConfigError, "unknown task 'clustering': use auto, classification or regression"),
    "space": ("1-2", ConfigError, "space must be a justenough.Space"),
    "rule": ("best", ConfigError, "rule"),
    "n_init": (0, ConfigError, "n_init must be at least 1, got 0"),
    "storage": ("nosuchdb://somewhere/study", StorageError, "cannot use the study storage nosuchdb://somewhere/study"),
    "out": (None, ConfigError, "is an existing file, not a folder"),  # the bad value: an existing file (made by the test)
    "sampler": ("magic", ConfigError, "unknown sampler 'magic'"),
    "n_trials": (0, ConfigError, "n_trials must be at least 1, got 0"),
    "time_budget": ("soon", ConfigError, "soon"),
    "halving": ("no", ConfigError, "halving must be True or False, got 'no'"),
    "seed": (-1, ConfigError, "seed must be at least 0, got -1"),
    "device": ("tpu", ConfigError, "device 'tpu' is not a device justenough trains on"),
    "precision": ("float16", ConfigError, "unknown precision 'float16'"),
    "executor": ("slurm", ConfigError, "unknown executor 'slurm'"),
    "workers": (0, ConfigError, "workers must be at least 1, got 0"),
    "ray_address": ("127.0.0.1:6379", ConfigError, "is a Ray cluster's address: use it with `executor=\"ray\"`"),  # with the local executor: it would be ignored
    "max_params": (0, ConfigError, "max_params must be at least 1, got 0"),
    "max_latency": ("fast", ConfigError, "fast"),
    "test": ("no-such-test.csv", DataError, "no-such-test.csv"),
    "val": ("no-such-val.csv", DataError, "no-such-val.csv"),
    "split": ((0.5, 0.5, 0.5), ConfigError, "split must be three non-negative fractions"),
    "diagnose_every": (-1, ConfigError, "diagnose_every must be at least 0, got -1"),
    "report": ("no", ConfigError, "report must be True or False, got 'no'"),
    "progress": ("loud", TypeError, "progress must be a SearchProgress or None, got str"),
    "depth": ("deep", ConfigError, "cannot read depth 'deep'"),
    "widths": ("eight", ConfigError, "cannot read widths 'eight'"),
    "shape": ("cone", ConfigError, "cannot read shape 'cone'"),
    "activation": ("sine", ConfigError, "cannot read activation 'sine'"),
    "init": ("auto(", ConfigError, "cannot read init 'auto('"),
    "optimizer": ("lbfgs", ConfigError, "cannot read optimizer 'lbfgs'"),
    "lr": (0, ConfigError, "cannot read lr 0"),
    "weight_decay": (-1.0, ConfigError, "cannot read weight_decay -1.0"),
    "batch_size": (0, ConfigError, "cannot read batch_size 0"),
    "max_epochs": (0, ConfigError, "cannot read max_epochs 0"),
    "patience": (0, ConfigError, "cannot read patience 0"),
    "monitor": ("val_accuracy", ConfigError, "cannot read monitor 'val_accuracy'"),
    "schedule": ("linear", ConfigError, "cannot read schedule 'linear'"),
    "embed": ("fourier", ConfigError, "cannot read embed 'fourier'"),
    "label_smoothing": (1.0, ConfigError, "cannot read label_smoothing 1.0: it must be below 1"),
    "delimiter": (";;", ConfigError, "delimiter must be one character"),
    "decimal": ("·", ConfigError, "decimal must be '.' or ','"),
    "max_categories": (1, ConfigError, "max_categories must be at least 2, got 1"),
    "encoding": ("klingon", ConfigError, "unknown encoding 'klingon'"),
    "dates": ("maybe", ConfigError, "maybe"),
    "memory_budget": ("lots", ConfigError, "lots"),
    "refit": ("no", ConfigError, "refit must be True or False, got 'no'"),
    "ensemble": ("no", ConfigError, "ensemble must be True or False, got 'no'"),
    "lr_per_config": ("yes", ConfigError, "lr_per_config must be True or False, got 'yes'"),
    "judge_ensembles": ("yes", ConfigError, "judge_ensembles must be True or False, got 'yes'"),
    "strategy": ("shrink", ConfigError, "unknown strategy 'shrink'"),
    "grow_patience": (0, ConfigError, "grow_patience must be at least 1, got 0"),
    "cv": ("lots", ConfigError, 'cannot read `cv="lots"`'),
    "numeric": ("minmax", ConfigError, "unknown numeric 'minmax': use standard, robust or quantile"),
}
# Keywords with no bad value to give: none today (a keyword that truly has none is listed here,
# with the reason, so that a new keyword is still either given a bad value or argued away).
NO_BAD_VALUE: dict[str, str] = {}

# A search as small as one can be, had it been allowed to start: one config, one restart, 5 epochs.
QUICK: dict[str, Any] = dict(depth=1, widths=4, max_epochs=5, n_init=1, workers=1, cv=1)
SPACE_KEYWORDS = ("depth", "widths", "max_epochs")


def test_every_keyword_of_search_has_a_bad_value_or_a_reason() -> None:
    keywords = set(inspect.signature(search).parameters)
    assert keywords == set(BAD) | set(NO_BAD_VALUE), (
        f"without a bad example: {sorted(keywords - set(BAD) - set(NO_BAD_VALUE))}; "
        f"no longer keywords: {sorted((set(BAD) | set(NO_BAD_VALUE)) - keywords)}"
    )
    assert not set(BAD) & set(NO_BAD_VALUE)


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("keyword", sorted(BAD))
def test_a_bad_value_of_each_keyword_fails_before_anything_is_written_or_trained(
    keyword: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import justenough.engine.train_study as train_study

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a bad {keyword}= reached the training")

    monkeypatch.setattr(train_study, "Driver", no_training)  # every search drives its study with one
    monkeypatch.chdir(tmp_path)  # a relative path (the test and val files) would be looked up here
    bad, error, fragment = BAD[keyword]
    out = tmp_path / "run"
    keywords: dict[str, Any] = {"out": out, **QUICK}
    if keyword == "out":
        bad = tmp_path / "a-file"
        bad.write_text("not a folder")
    if keyword == "space":
        keywords = {name: value for name, value in keywords.items() if name not in SPACE_KEYWORDS}
    keywords[keyword] = bad
    data = keywords.pop("data", "iris")
    before = _listing(tmp_path)
    with pytest.raises(error) as caught:
        search(data, **keywords)
    assert fragment in str(caught.value), str(caught.value)
    assert _listing(tmp_path) == before  # nothing written: no run directory, no study, no file


def test_label_smoothing_for_regression_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # Given the task: refused with the settings. Detected from the data: refused once it is read,
    # still before the run directory is made.
    out = tmp_path / "run"
    for task in ("regression", "auto"):
        with pytest.raises(ConfigError, match="label_smoothing 0.1 smooths class targets"):
            search("diabetes", task=task, label_smoothing=0.1, out=out, **QUICK)
        assert not out.exists()


def test_more_folds_than_rows_is_refused_before_the_run_directory_is_made(tmp_path: Path) -> None:
    # Known only once the data is read, but still before anything is created.
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"`cv=500` needs at least 500 rows outside the test split, got 120"):
        search("iris", out=out, cv=500, **{k: v for k, v in QUICK.items() if k != "cv"})
    assert not out.exists()


def test_judging_ensembles_without_the_ensemble_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="judge_ensembles.*one network: drop one of them"):
        search("iris", judge_ensembles=True, ensemble=False, out=out, report=False)
    assert not out.exists()
