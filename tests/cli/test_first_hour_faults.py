"""Faults of the first hour and of a bad day (issue 25): nothing lost, a clear answer.

Each test runs the real ``justenough`` executable in a subprocess on real files: a run directory
that cannot be created, a Ctrl-C (a real SIGINT) during training, a rerun into a directory that
holds an earlier run's exports, a file system that fills up (a real tmpfs), two searches started
together into one new run directory. Every wait is on an event (a line of output, a file, a
process's exit), never on the clock.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_cli import cli_env  # the CLI subprocesses' environment, defined once

EXE = Path(sys.executable).with_name("justenough")
# One config: the plain inputs (iris's 4 are few, so the default embed "auto" would add the embedded one).
TINY = ["--depth", "1", "--widths", "8", "--n-init", "2", "--max-epochs", "5", "--embed", "none", "--workers", "1"]
# Enough configs that a search is still training well after its first config is done.
LONG = ["--depth", "1-3", "--widths", "8,16,32,64,128", "--lr", "1e-3,3e-3", "--n-init", "2", "--max-epochs", "300",
        "--patience", "none", "--embed", "none", "--workers", "1"]


def jn(*args: str | Path, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``justenough ARGS`` in a subprocess, its output captured (stdout is not a terminal)."""
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env=cli_env(), cwd=cwd,
                          timeout=timeout)


def _assert_answer(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """Exit ``code``, one ``error:`` line naming every needle, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle.lower() in errors[0].lower(), errors[0]


# ----------------------------------------------------------------------------------------------
# --out that cannot be a run directory
# ----------------------------------------------------------------------------------------------


def test_an_out_that_cannot_be_created_names_the_option_and_the_path(tmp_path: Path) -> None:
    proc = jn("search", "iris", *TINY, "--out", "/proc/nope", cwd=tmp_path)
    _assert_answer(proc, 2, "--out", "/proc/nope", "run directory", "cannot be created")
    assert not Path("/proc/nope").exists()
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere else either


# ----------------------------------------------------------------------------------------------
# Ctrl-C during a search
# ----------------------------------------------------------------------------------------------


def test_ctrl_c_says_it_stopped_what_is_kept_and_the_command_that_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [str(EXE), "search", "iris", *LONG, "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=tmp_path)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # the event: the first config is done, so training is under way
        lines.append(line)
        if line.startswith("["):
            break
    proc.send_signal(signal.SIGINT)
    rest, stderr = proc.communicate(timeout=600)
    stdout = "".join(lines) + rest
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    _assert_answer(result, 130, "stopped", "kept", str(out / "study.db"), "resume with:")
    assert "search done" not in stdout + stderr
    resume = stderr.split("resume with:", 1)[1].strip()
    assert shlex.split(resume) == ["justenough", *args[1:]]
    assert (out / "study.db").is_file()
    assert not (out / "summary.json").exists()  # an unfinished search writes no results


# ----------------------------------------------------------------------------------------------
# The disk fills during a search
# ----------------------------------------------------------------------------------------------


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 600 kB file system (tmpfs): too small for the search below, which needs a few MB."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "600k"):
        pytest.skip("mounting a tmpfs is not permitted here (needs root, as in CI)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_is_one_storage_error_and_the_search_resumes_once_there_is_room(small_disk: Path) -> None:
    out = small_disk / "run"
    args = ["search", "iris", "--depth", "1-2", "--widths", "8,16,32,64", "--n-init", "2", "--max-epochs", "20",
            "--embed", "none", "--workers", "1", "--out", out]
    proc = jn(*args)
    _assert_answer(proc, 2, "disk is full", str(out), "free", "needs about", "MB more", "--out", "run the same command again")
    assert "search done" not in proc.stdout
    assert (out / "study.db").is_file()  # the study was created before the disk filled: it is what resumes
    assert not (out / "summary.json").exists()
    assert not [p for p in out.rglob("*.tmp")]  # no half-written file

    # Room again: the same file system, remounted bigger; the same command finishes the search.
    assert subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], capture_output=True).returncode == 0
    again = jn(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_configs"] == 8
    assert not (out / "study.db-wal").exists()


# ----------------------------------------------------------------------------------------------
# Two searches started together into one new run directory
# ----------------------------------------------------------------------------------------------


def _two_searches_at_once(out: Path) -> list[subprocess.CompletedProcess[str]]:
    args = [str(EXE), "search", "iris", *TINY, "--no-report", "-q", "--out", str(out)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    return [subprocess.CompletedProcess(args, p.returncode, *output) for p, output in zip(procs, outputs)]


def _assert_both_share_the_study(tries: int, tmp_path: Path) -> None:
    for attempt in range(tries):
        out = tmp_path / f"run{attempt}"
        for proc in _two_searches_at_once(out):
            text = proc.stdout + proc.stderr
            for raw in ("Traceback", "internal error", "UNIQUE constraint", "IntegrityError", "sqlalche"):
                assert raw not in text, (attempt, text)
            assert proc.returncode == 0, (attempt, text)
        assert json.loads((out / "summary.json").read_text())["n_configs"] == 1


def test_two_searches_started_together_into_one_new_out_share_the_study(tmp_path: Path) -> None:
    _assert_both_share_the_study(3, tmp_path)


@pytest.mark.slow
def test_twenty_pairs_of_searches_started_together_give_no_raw_database_error(tmp_path: Path) -> None:
    _assert_both_share_the_study(20, tmp_path)


# ----------------------------------------------------------------------------------------------
# A rerun into the same run directory: an earlier run's files are not passed off as this run's
# ----------------------------------------------------------------------------------------------


def test_a_rerun_that_changes_the_model_sets_the_earlier_export_and_report_aside(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = jn("search", "iris", *TINY, "--cv", "1", "--no-refit", "--out", out)  # one split: --no-refit keeps a restart  # the model: the best restart's weights
    assert first.returncode == 0, first.stdout + first.stderr
    exported = jn("export", out, "--format", "safetensors")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert (out / "export" / "model.safetensors").is_file() and (out / "report.html").is_file()

    # The same study, now refit on train+validation: other weights, and no report written.
    second = jn("search", "iris", *TINY, "--cv", "1", "--no-report", "--out", out)
    assert second.returncode == 0, second.stdout + second.stderr
    notes = [line for line in second.stdout.splitlines() if line.startswith("note:") and "moved to" in line]
    assert len(notes) == 1 and "export" in notes[0] and "report.html" in notes[0], second.stdout
    previous = out / "previous-1"
    assert str(previous) in notes[0]
    assert (previous / "export" / "model.safetensors").is_file() and (previous / "report.html").is_file()
    assert not (out / "export").exists() and not (out / "report.html").exists()
    assert "report:" not in second.stdout

    # The same model again: the files beside it are still right, so nothing is moved.
    exported = jn("export", out, "--format", "safetensors")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    third = jn("search", "iris", *TINY, "--cv", "1", "--no-report", "--out", out)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "moved to" not in third.stdout
    assert (out / "export" / "model.safetensors").is_file() and not (out / "previous-2").exists()


def _claim_trials(url: str, n: int, start: object, out: Path) -> None:
    """A child process: wait for the start, then claim ``n`` trials of the shared study and write
    their numbers to ``out`` (one per line)."""
    import optuna

    from justenough.study.storage import StudyHandle

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    handle = StudyHandle(study=optuna.load_study(study_name="race", storage=url), url=url, created=False)
    start.wait()  # type: ignore[attr-defined]
    numbers = [handle.ask().number for _ in range(n)]
    out.write_text("\n".join(str(k) for k in numbers))


def test_two_processes_never_claim_the_same_waiting_trial_of_a_sqlite_study(tmp_path: Path) -> None:
    """Optuna's claim of a waiting trial relies on a row lock that SQLite lacks: without the
    folder lock around ``StudyHandle.ask`` two drivers could both take one trial and the second to
    finish it failed with UpdateFinishedTrialError (seen in CI). Two processes claim 40 trials
    each, started together, from 80 waiting: every trial is claimed exactly once."""
    import multiprocessing

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="race", storage=url)
    for k in range(80):
        study.enqueue_trial({"k": k}, skip_if_exists=False)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    outs = [tmp_path / f"claimed{i}.txt" for i in range(2)]
    procs = [ctx.Process(target=_claim_trials, args=(url, 40, start, out)) for out in outs]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=600)
        assert p.exitcode == 0
    claimed = [int(k) for out in outs for k in out.read_text().split()]
    assert sorted(claimed) == list(range(80))  # each once: none twice, none left waiting
