"""Checks before anything is created, and a closed stdout, through the real ``justenough``
executable: each refusal exits 2 with one message in command-line words and writes nothing; a
reader that leaves early (``| head``) neither stops nor loses the search."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.cli.test_cli import cli_env

EXE = Path(sys.executable).with_name("justenough")
TINY = ["--depth", "1", "--widths", "8", "--n-init", "2", "--max-epochs", "4", "--workers", "1"]




def jn(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env=cli_env(), cwd=cwd, timeout=300)


def _refused(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr
    line = proc.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, proc.stderr
    for needle in needles:
        assert needle in line, line
    return line


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without CUDA (the refusal)")
def test_device_cuda_without_cuda_exits_2_before_anything_exists(tmp_path: Path) -> None:
    proc = jn("search", "iris", *TINY, "--out", "runs/iris", "--device", "cuda", cwd=tmp_path)
    _refused(proc, "--device cuda: CUDA is not available here", "built without CUDA", "--device cpu")
    assert list(tmp_path.iterdir()) == []  # no runs/, no study.db
    proc = jn("init-lab", "iris", "--device", "cuda:1", "--out", "lab", cwd=tmp_path)
    _refused(proc, "--device cuda:1")
    assert list(tmp_path.iterdir()) == []


def test_out_naming_a_file_exits_2_with_the_users_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me\n")
    line = _refused(jn("search", "iris", *TINY, "--out", "notes.txt", cwd=tmp_path),
                    "--out 'notes.txt' is an existing file, not a folder", "--out notes-run")
    assert ".tmp" not in line
    _refused(jn("search", "iris", *TINY, "--out", "notes.txt/run", cwd=tmp_path), "--out 'notes.txt/run' lies under 'notes.txt'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"


def test_a_network_that_cannot_fit_exits_2_naming_the_largest_width(tmp_path: Path) -> None:
    proc = jn("search", "iris", "--depth", "1", "--widths", "8,5000", "--n-init", "2", "--max-epochs", "4",
              "--memory-budget", "5MB", "--out", "run", cwd=tmp_path)
    line = _refused(proc, "one 1x5000 network needs about", "memory budget of 5 MB", "the largest width that fits at depth 1 is",
                    "--widths up to", "--memory-budget")
    assert "widths=" not in line  # command-line words, not Python's
    assert list(tmp_path.iterdir()) == []
    _refused(jn("search", "iris", *TINY, "--memory-budget", "lots", "--out", "run", cwd=tmp_path), "--memory-budget", "memory size 'lots'")
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_neither_stops_nor_loses_the_search(tmp_path: Path) -> None:
    # As `justenough search ... | head -1`: read one line, then close the pipe.
    proc = subprocess.Popen([str(EXE), "search", "iris", *TINY, "--widths", "8,16", "--out", "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(), cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert first  # the search had started talking
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert "error" not in err.lower() and "Traceback" not in err
    run = tmp_path / "run"
    for name in ("summary.json", "leaderboard.csv", "results.csv", "history.csv", "diagnostics.csv", "report.html",
                 "model/model.json", "model/weights.safetensors"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "summary.json").read_text())
    assert summary["n_init"] == 2 and summary["test_score"] is not None
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]  # no temporary file left
