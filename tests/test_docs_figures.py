"""The figure scripts of docs/figures/, without a browser: the part that builds the plotly figures
from a run directory, on a tiny real search (the PNGs need Chromium, which these tests leave out)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from justenough.report import figures, paired_with_best
from justenough.run.files import load_run, read_evidence

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "figures" / "make_selection.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_selection", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real search as the script runs it, but tiny: iris, 4 configs x 3 restarts, one split."""
    from justenough import search

    out = tmp_path_factory.mktemp("selection") / "cv1"
    search("iris", depth="0-1", widths="4,8,16", max_epochs="20", lr="0.01", n_init=3, workers=1, cv=1, out=out)
    return out


def test_make_selection_takes_the_reports_own_figures(tiny_run: Path) -> None:
    made = _script().selection_figures(tiny_run)
    assert set(made) == {"band", "differences"}
    run = load_run(tiny_run)
    s = run.summary_fields
    chosen = str(s.chosen["key"])
    # The same figures the report draws, from the same calls: trace for trace, number for number.
    band = figures.complexity_figure(run.leaderboard, chosen, percent=s.percent, metric="accuracy", baseline=s.baseline)
    best = paired_with_best.best_config_key(run.leaderboard, chosen, s.paired, s.limits)
    differences = paired_with_best.differences_figure(run.leaderboard, read_evidence(tiny_run, run.results), chosen,
                                                      best, percent=s.percent, metric="accuracy")
    for fig, want in ((made["band"], band), (made["differences"], differences)):
        assert fig.to_json() == want.to_json()
    assert [t.name for t in made["band"].data if t.name == "chosen"] == ["chosen"]
    assert made["band"].layout.shapes  # the one-SE band


def test_make_selection_quotes_the_runs_own_numbers(tiny_run: Path) -> None:
    numbers = _script().selection_numbers(tiny_run)
    s = load_run(tiny_run).summary_fields
    assert numbers["val_mean"] == s.val_score_mean and numbers["val_se"] == s.val_score_se
    assert numbers["val_se_rows"] == s.val_score_se_rows and numbers["val_se_restarts"] == s.val_score_se_restarts
    assert numbers["test_score"] == s.test_score and numbers["params"] == s.chosen["params"]
    assert numbers["val_rows"] == s.split_sizes["val"]  # one split: the validation rows themselves


def test_make_selection_leaves_out_the_pairing_for_a_run_without_evidence(tiny_run: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(tiny_run, old)
    shutil.rmtree(old / "evidence")  # as a run from before the evidence was kept
    assert set(_script().selection_figures(old)) == {"band"}
