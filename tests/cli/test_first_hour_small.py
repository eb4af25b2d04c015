"""Issue 25, "Small things a careful user notices": each row the real ``justenough`` command in a
subprocess on a tiny search, and what a careful reader of its output would trip over.

- "1 configs": a count prints with its noun in the right number;
- ``compare`` prints enough decimals to show a difference in the third decimal;
- the report's data table names the encoded feature count once;
- the report's nav links to the growth path;
- the no-network baseline prints as people read numbers (436,614), not 4.366e+05;
- ``results.csv``'s ``train_time`` is each restart's share, summing to the leaderboard's.

(The benchmarks' smoke runs are in tests/benchmarks/test_benchmarks_smoke.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.test_cli import jn

TINY = ["--n-init", "2", "--max-epochs", "5", "--workers", "1"]


@pytest.fixture(scope="module")
def prices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A regression table whose target is in the hundreds of thousands (house prices)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    frame = pd.DataFrame(x, columns=["rooms", "area", "age"])
    frame["price"] = np.round(436_000 + 50_000 * x[:, 0] + 20_000 * x[:, 1] + 1_000 * rng.normal(size=200), 2)
    path = tmp_path_factory.mktemp("prices") / "prices.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def one_config(prices: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A search of one config with one restart."""
    out = tmp_path_factory.mktemp("one") / "run"
    proc = jn("search", prices, "--depth", "1", "--widths", "8", "--n-init", "1", "--max-epochs", "5", "--embed", "none",
              "--workers", "1", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def grown(prices: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A grow search over depth 1-2 x widths 4, 8, two restarts each."""
    out = tmp_path_factory.mktemp("grow") / "run"
    proc = jn("search", prices, "--strategy", "grow", "--depth", "1-2", "--widths", "4,8", *TINY, "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


def test_a_count_of_one_prints_its_noun_in_the_singular(one_config: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = one_config
    text = proc.stdout
    assert "search: 1 config x 1 restart" in text
    assert "search done: 1 config (1 restart)" in text
    assert "over 1 restart" in text  # the leaderboard's title
    assert not re.search(r"\b1 (configs|restarts)\b", text), text
    show = jn("show", out)
    assert show.returncode == 0 and not re.search(r"\b1 (configs|restarts)\b", show.stdout), show.stdout
    page = (out / "report.html").read_text()
    assert "1 config · 1 restart" in page
    assert not re.search(r"\b1 (configs|restarts)\b", page)


def test_the_baseline_prints_as_people_read_numbers(one_config: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = one_config
    mean = json.loads((out / "summary.json").read_text())["baseline"]["prediction"]
    assert mean > 100_000
    line = next(line for line in proc.stdout.splitlines() if line.startswith("no network:"))
    assert f"always {mean:,.0f} (training mean)" in line, line
    assert "e+" not in line
    page = (out / "report.html").read_text()
    assert f"always {mean:,.0f} (training mean)" in page


def test_compare_shows_a_difference_in_the_third_decimal(grown: tuple[Path, subprocess.CompletedProcess[str]],
                                                         tmp_path: Path) -> None:
    # The run's scores, set to two configs that differ only in the third decimal, restart by restart.
    run = tmp_path / "run"
    shutil.copytree(grown[0], run)
    results = pd.read_csv(run / "results.csv")
    first, second = results["label"].drop_duplicates().iloc[:2]
    scores = {first: [0.8512, 0.8601], second: [0.8547, 0.8630]}
    for label, values in scores.items():
        rows = results.index[results["label"] == label]
        results.loc[rows, "val_score"] = values[: len(rows)]
    results.to_csv(run / "results.csv", index=False)
    # Hand-set scores no longer match the run's per-row evidence: without it compare pairs the
    # restarts alone, as for a run from before the evidence was kept.
    shutil.rmtree(run / "evidence")
    proc = jn("compare", run, first, second)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "-0.0035" in proc.stdout and "-0.0029" in proc.stdout, proc.stdout
    assert "0.8512" in proc.stdout and "0.8547" in proc.stdout
    assert "-0.00 " not in proc.stdout and "+0.00 " not in proc.stdout
    # The paired mean, -0.0032, is shown to the same places, not as -0.003.
    assert f"{first} - {second} = -0.0032" in proc.stdout


def test_the_report_names_the_encoded_feature_count_once(one_config: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    page = (one_config[0] / "report.html").read_text()
    data = page[page.index('<section id="data">'):]
    data = data[: data.index("</section>")]
    assert len(re.findall(r"features[ _]out|features after encoding", data)) == 1, data


def test_the_report_nav_links_to_the_growth_path(grown: tuple[Path, subprocess.CompletedProcess[str]],
                                                 one_config: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    page = (grown[0] / "report.html").read_text()
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S)
    assert nav is not None and '<a href="#growth">Growth</a>' in nav.group(1)
    assert '<h3 id="growth">' in page
    # A grid search has no growth path, and no link to one.
    assert 'href="#growth"' not in (one_config[0] / "report.html").read_text()


def test_train_time_is_per_restart_and_sums_to_the_leaderboards(grown: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out = grown[0]
    results = pd.read_csv(out / "results.csv")
    board = pd.read_csv(out / "leaderboard.csv").set_index("key")
    per_config = results.groupby("key")["train_time"].sum()
    assert (results["train_time"] > 0).all()
    for key, total in per_config.items():
        assert board.at[key, "train_time"] == pytest.approx(total, rel=1e-9)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["search_train_time"] == pytest.approx(results["train_time"].sum(), rel=1e-9)


def test_halving_judges_configs_at_a_part_of_the_recipes_epochs(tmp_path: Path) -> None:
    # 90 epochs: the first rung is a ninth of them, epoch 10 (it was epoch 8 whatever the budget).
    # Three configs share the stack, so the first rung stops two of them, whatever their scores.
    out = tmp_path / "run"
    proc = jn("search", "iris", "--halving", "--depth", "1", "--widths", "4,8,16", "--n-init", "2",
              "--max-epochs", "90", "--patience", "none", "--embed", "none", "--workers", "1", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = pd.read_csv(out / "results.csv")
    pruned = results[results["pruned"]]
    assert pruned["key"].nunique() == 2
    assert set(pruned["pruned_rung"].astype(int)) == {10}
    assert (pruned["epochs_run"] == 10).all()


# --- docs/cli.md's samples, checked against the real output -----------------------------------

CLI_DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
# Lines whose words depend on what the search found (which config won, why, where growth stopped):
# only their opening, up to these words, is compared.
OUTCOME_PREFIXES = ("why: picked", "paired: # vs the", "growth: growth stopped at", "tested model:")


def _shape(line: str) -> str:
    """A line modulo its numbers (scores, counts, times, labels such as 1x16) and its spacing."""
    return " ".join(NUMBER.sub("#", line).split())


def _doc_sample(first: str) -> list[str]:
    """The lines of docs/cli.md's plain (output) code block that starts with ``first``."""
    blocks: list[list[str]] = []
    fence: str | None = None  # the open block's language ("" for a plain one), None outside
    for line in CLI_DOC.read_text().splitlines():
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                blocks.append([]) if fence == "" else None
            else:
                fence = None
        elif fence == "":
            blocks[-1].append(line)
    hits = [b for b in blocks if b and b[0].startswith(first)]
    assert len(hits) == 1, f"docs/cli.md has {len(hits)} output samples starting with {first!r}"
    return hits[0]


def _assert_sample_current(sample: list[str], output: str) -> None:
    """Every line of ``sample`` appears in ``output`` modulo numbers; table rows, whose values and
    order are the search's outcome, are left out (the table's title and header are not)."""
    shapes = [_shape(line) for line in output.splitlines()]
    for line in sample:
        if line.strip() in ("", "...") or line.lstrip()[:1] in "│┏┡└" or "│ ..." in line:
            continue
        shape = _shape(line)
        prefix = next((p for p in OUTCOME_PREFIXES if shape.startswith(p)), None)
        if prefix is not None:
            assert any(s.startswith(prefix) for s in shapes), f"docs/cli.md's {line!r} is stale:\n{output}"
        else:
            assert shape in shapes, f"docs/cli.md's sample line {line!r} is not in the output:\n{output}"


@pytest.fixture(scope="module")
def iris_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The search docs/cli.md shows (``search iris --depth 1-2 --widths 8,16,32 --n-init 3``), on
    one worker, into runs/iris as in the sample."""
    cwd = tmp_path_factory.mktemp("docs")
    proc = jn("search", "iris", "--depth", "1-2", "--widths", "8,16,32", "--n-init", "3", "--workers", "1",
              "--out", "runs/iris", cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return cwd / "runs" / "iris", proc


def test_cli_docs_search_samples_match_the_output(iris_sample: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    assert "$ justenough search iris --depth 1-2 --widths 8,16,32 --n-init 3" in CLI_DOC.read_text()
    output = iris_sample[1].stdout
    _assert_sample_current(_doc_sample("leaderboard: validation"), output)
    _assert_sample_current(_doc_sample("search: "), output)


def test_cli_docs_compare_sample_matches_the_output(iris_sample: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    proc = jn("compare", iris_sample[0], "1x16", "1x8")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _assert_sample_current(_doc_sample("paired: "), proc.stdout)


def test_cli_docs_growth_sample_matches_the_output(tmp_path: Path) -> None:
    proc = jn("search", "iris", "--strategy", "grow", "--depth", "1-2", "--widths", "8,16", *TINY, "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _assert_sample_current(_doc_sample("growth: "), proc.stdout)
