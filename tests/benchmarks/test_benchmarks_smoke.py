"""Every script in benchmarks/ still runs: each one's ``--smoke`` mode, as a real subprocess.

A smoke run trains a tiny workload for a few seconds; it checks that the script finishes and that
its last line is its JSON object, never what the numbers are (they are timings and scores of a
workload too small to mean anything). ``quality_datasets.py`` is a module, not a script: the
quality and grow benchmarks load it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
SRC = ROOT / "src"


def smoke(script: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run ``benchmarks/<script> --smoke`` from ``tmp_path``; its last line, parsed."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run([sys.executable, str(BENCH / script), "--smoke", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, f"{script} --smoke failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    last = done.stdout.strip().splitlines()[-1]
    parsed = json.loads(last)
    assert isinstance(parsed, dict) and parsed, last
    return parsed


def test_every_script_has_a_smoke_test() -> None:
    """A new script in benchmarks/ needs a smoke test here (or to be a module, like quality_datasets)."""
    # bench_choice.py's smoke run is tests/benchmarks/test_bench_choice.py's.
    scripts = {p.name for p in BENCH.glob("*.py")} - {"quality_datasets.py", "bench_choice.py"}
    tested = {name.removeprefix("test_").replace("_smoke", "") + ".py"
              for name in globals() if name.startswith("test_") and name.endswith("_smoke")}
    assert scripts == tested


def test_bench_search_smoke(tmp_path: Path) -> None:
    # It crashed with "max_epochs is 'auto'": GridSearchCV's grid now comes from the resolved space.
    out = smoke("bench_search.py", tmp_path)
    assert out["ours_params"] == out["sklearn_params"]  # the one architecture, 1x8, on both sides
    assert out["variants"] == {}
    # --je-option reaches our search only: digits' 61 inputs take no embedding under "auto", one under "periodic".
    auto = smoke("bench_search.py", tmp_path, "--je-option", "embed=auto", "--je-option", "lr=1e-2")
    assert auto["ours_params"] == auto["sklearn_params"]
    periodic = smoke("bench_search.py", tmp_path, "--je-option", "embed=periodic")
    assert periodic["ours_params"] > periodic["sklearn_params"]


def test_bench_train_smoke(tmp_path: Path) -> None:
    out = smoke("bench_train.py", tmp_path)
    assert set(out["seconds"]) == {"sklearn", "torch", "stack_1proc", "stack_2proc"}


def test_bench_diagnose_smoke(tmp_path: Path) -> None:
    out = smoke("bench_diagnose.py", tmp_path)
    assert {"cpu_ratio", "wall_ratio"} <= set(out)


def test_bench_estimators_smoke(tmp_path: Path) -> None:
    out = smoke("bench_estimators.py", tmp_path)
    assert set(out["speedup"]) == set(out["acc_gap_points"]) == {"breast_cancer"}


@pytest.mark.slow  # two local Ray instances start and stop: 15-30 s
def test_bench_scale_smoke(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    out = smoke("bench_scale.py", tmp_path)
    # The same seeds on one worker or two: the same leaderboard.
    assert out["same_leaderboard"] is True


def test_bench_grow_smoke(tmp_path: Path) -> None:
    out = smoke("bench_grow.py", tmp_path)
    assert out["datasets"] == ["smoke"]
    # depth 1 x widths 4, 8, each with and without the periodic embedding: the smoke table's inputs
    # are few, and the default embed is "auto".
    assert out["rows"][0]["grid_configs"] == 4


def test_bench_quality_smoke(tmp_path: Path) -> None:
    out = smoke("bench_quality.py", tmp_path, "--out", str(tmp_path / "results"))
    assert out["datasets"] == 1
    assert (tmp_path / "results" / "quality.csv").is_file()


def test_recipe_compare_smoke(tmp_path: Path) -> None:
    lines = tmp_path / "recipes.jsonl"
    out = smoke("recipe_compare.py", tmp_path, "--out", str(lines))
    assert out["recipe"] == "old" and out["dataset"] == "wine"
    rows = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["recipe"] for r in rows] == ["sklearn_mlp", "old"]


def test_search_floor_smoke(tmp_path: Path) -> None:
    out = smoke("search_floor.py", tmp_path)
    assert {"peak_floor_seconds", "shape_floor_seconds", "gflop"} <= set(out)


def test_search_floor_counts_the_linear_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default space has depth 0: its restarts' widths are "" (NaN once pandas reads them back),
    one layer from the inputs to the outputs. bench_search.py's full run crashed on them."""
    import pandas as pd

    monkeypatch.syspath_prepend(str(BENCH))
    import search_floor

    restarts = pd.DataFrame({"widths": ["", float("nan"), "8"], "epochs_run": [2, 2, 2]})
    out = search_floor.floors(restarts, n_in=4, n_out=3, n_train=32, n_val=16, batch_size=16, workers=1, members=2)
    linear = search_floor.matmul_flops([], 4, 3, 2, 32, 16)
    assert linear == 2 * (32 * (2 * 4 * 3 + 2 * 4 * 3) + 16 * 2 * 4 * 3)  # forward + input-grad-free backward + weight grad
    assert out["gflop"] * 1e9 == pytest.approx(2 * linear + search_floor.matmul_flops([8], 4, 3, 2, 32, 16))
    assert out["shape_floor_seconds"] > 0
