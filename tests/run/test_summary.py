"""``summary.json`` as a ``Summary`` (``run/summary.py``): every key a search writes is a field, a
real run's file reads back and writes again byte for byte, and files of earlier versions read."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from justenough import search
from justenough.run.atomic import write_json
from justenough.run.files import SUMMARY, load_run, read_summary
from justenough.run.summary import Summary
from justenough.space.search_space import Space
from tests.run_fixture import write_run

# The keys of summary.json, in order: every field but ``extra`` (the keys this version does not know).
KEYS = [f.name for f in fields(Summary) if f.name != "extra"]


@pytest.fixture(scope="module")
def grown_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small real search with the grow strategy and a learning rate per config, so that its
    summary has every key (``growth`` and ``lr_choice`` too)."""
    out = tmp_path_factory.mktemp("grow") / "run"
    result = search("iris", space=Space.from_options(depth="0-1", widths="4,8", lr="1e-3,1e-2", max_epochs=15, patience=5),
                    n_init=2, workers=1, out=out, report=False, strategy="grow", lr_per_config=True)
    return out, result.summary


def test_every_key_a_search_writes_is_a_field_in_the_files_order(grown_run: tuple[Path, dict]) -> None:
    out, returned = grown_run
    written = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    assert list(written) == KEYS  # none dropped, none unknown, same order
    assert returned == written  # SearchResult.summary is Summary.to_dict()
    summary = read_summary(out)
    assert summary.extra == {} and summary.growth is not None and summary.chosen["key"] == written["chosen"]["key"]


def test_a_real_runs_summary_reads_back_and_writes_again_byte_for_byte(grown_run: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = grown_run
    text = (out / SUMMARY).read_bytes()
    summary = Summary.from_json(json.loads(text))
    write_json(tmp_path / SUMMARY, summary.to_dict())
    assert (tmp_path / SUMMARY).read_bytes() == text
    assert Summary.from_json(summary.to_dict()) == summary


def test_a_summary_of_an_earlier_version_reads_with_defaults(tmp_path: Path) -> None:
    # The NumPy fixture writes a summary as early versions did: no test_split, model, limits,
    # precision, storage, scored models or growth.
    run_dir = write_run(tmp_path / "old")
    old = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    assert "test_split" not in old and "model" not in old and "precision" not in old
    summary = read_summary(run_dir)
    assert summary.chosen == old["chosen"] and summary.test_score == old["test_score"]
    assert summary.test_split is None and summary.model is None and summary.test_models_scored is None
    assert summary.test_scored_models == [] and summary.growth is None and summary.extra == {}
    assert summary.percent and summary.shown_metric == "accuracy"
    assert load_run(run_dir).summary_fields == summary
    # The barest summary a reader accepts names its choice and nothing else.
    bare = Summary.from_json({"chosen": {"key": "abc"}})
    assert bare.notices == [] and bare.versions == {} and bare.test_score is None and bare.shown_metric is None


def test_unknown_keys_are_kept_and_written_after_the_known_ones() -> None:
    summary = Summary.from_json({"from_a_newer_version": [1, 2], "chosen": {"key": "abc"}, "rule": "one-se"})
    assert summary.extra == {"from_a_newer_version": [1, 2]} and summary.rule == "one-se"
    written = summary.to_dict()
    assert list(written) == [k for k in KEYS if k not in ("growth", "lr_choice")] + ["from_a_newer_version"]


def test_values_are_json_ready() -> None:
    import numpy as np

    summary = Summary(chosen={"key": "abc", "params": np.int64(12)}, val_score_std=float("nan"),
                      limits={"max_params": None, "max_latency_ms": np.float64(2.5)})
    assert summary.val_score_std is None and type(summary.chosen["params"]) is int
    assert summary.to_dict()["limits"] == {"max_params": None, "max_latency_ms": 2.5}
