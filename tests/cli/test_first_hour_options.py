"""Issue 25, "Options whose effect is not what they say": each option does what its help says,
and when it cannot, says so in the words of the interface it was given to.

The command line runs as the real ``justenough`` executable in a subprocess on real files; the
estimators and the library are called in-process. Searches are tiny (one config, two restarts,
a few epochs), so every row here takes seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from tests.cli.test_cli import cli_env  # the CLI subprocesses' environment, defined once

EXE = Path(sys.executable).with_name("justenough")
TINY = ["--depth", "1", "--widths", "8", "--n-init", "2", "--max-epochs", "5", "--workers", "1"]


def jn(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``justenough ARGS`` in a subprocess, its output captured (stdout is not a terminal)."""
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env={**cli_env(), **(env or {})},
                          timeout=300)


def _refused(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, one error line naming every needle, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    for needle in needles:
        assert needle.lower() in proc.stderr.lower(), (needle, proc.stderr)


def _option_help(help_text: str) -> dict[str, str]:
    """``--flag`` -> its help text, joined over click's wrapped lines."""
    options: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        match = re.match(r"^  (--[a-z-]+)", line)
        if match:
            current = match.group(1)
            options[current] = line
        elif current is not None and line.startswith("      "):
            options[current] += " " + line.strip()
        else:
            current = None
    return options


# Item 7: `predict --help` showed two defaults for --delimiter.
def test_predict_help_names_one_default_per_option() -> None:
    proc = jn("predict", "--help")
    assert proc.returncode == 0, proc.stderr
    options = _option_help(proc.stdout)
    assert {"--delimiter", "--decimal", "--encoding"} <= set(options)
    for flag, text in options.items():
        assert text.count("default") <= 1, (flag, text)
    # predict's reading defaults are the run's own: its help says so.
    for flag in ("--delimiter", "--decimal", "--encoding"):
        assert "as the run's table" in options[flag], (flag, options[flag])


# Item 3: `--max-latency fast` suggested "90s, 10m or 1.5h", durations of a time budget.
def test_a_bad_latency_gets_latency_examples_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = jn("search", "iris", "--max-latency", "fast", "--out", out)
    _refused(proc, "--max-latency fast", "2ms", "0.5ms")
    assert "90s" not in proc.stderr and "1.5h" not in proc.stderr
    assert not out.exists()


def test_a_bad_latency_in_the_library_names_its_keyword(tmp_path: Path) -> None:
    from justenough import search
    from justenough.errors import ConfigError

    with pytest.raises(ConfigError, match=r'`max_latency="fast"`.*2ms') as caught:
        search("iris", out=tmp_path / "run", max_latency="fast")
    assert "90s" not in str(caught.value)
    assert not (tmp_path / "run").exists()
    # A time budget keeps the examples of its own size.
    with pytest.raises(ConfigError, match=r'`time_budget="soon"`.*90s, 10m or 1.5h'):
        search("iris", out=tmp_path / "run", time_budget="soon")


# Item 4: `--strategy grow` announced "configs until the time budget".
def test_a_grow_search_says_what_it_grows(tmp_path: Path) -> None:
    proc = jn("search", "iris", *TINY, "--strategy", "grow", "--no-report", "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = next(line for line in proc.stdout.splitlines() if line.startswith("search:"))
    assert "time budget" not in first, first
    assert "2 restarts per config" in first and "grown from the simplest" in first and "paired SE" in first, first
    assert "after 2 step(s)" in first, first  # --grow-patience's default, as given


def test_a_grow_search_with_a_time_budget_names_both() -> None:
    from justenough.cli.search_progress import open_ended_text

    text = open_ended_text("grow", "10m", grow_patience=3)
    assert "grown from the simplest" in text and "after 3 step(s)" in text and "time budget (10m)" in text
    assert open_ended_text("grid", "10m") == "configs until the time budget (10m)"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real, tiny search whose model the export rows write out."""
    out = tmp_path_factory.mktemp("options") / "iris-run"
    proc = jn("search", "iris", *TINY, "--no-report", "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


# Item 1: `export --out model.pt` without --format wrote ONNX into a file named .pt.
@pytest.mark.parametrize("name", ["model.pt", "model.ts"])
def test_export_takes_torchscript_from_the_extension(run_dir: Path, tmp_path: Path, name: str) -> None:
    import json

    import torch

    path = tmp_path / name
    proc = jn("export", run_dir, "--out", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks torch.jit as deprecated; loading still works
        loaded = torch.jit.load(str(path))  # TorchScript: an ONNX file would not load here
    assert loaded(torch.zeros(3, 4)).shape == (3, 3)  # iris: 4 features in, 3 classes out
    assert json.loads(Path(str(path) + ".features.json").read_text())["format"] == "torchscript"


def test_export_takes_onnx_from_the_extension(run_dir: Path, tmp_path: Path) -> None:
    import json

    pytest.importorskip("onnxscript")
    path = tmp_path / "model.onnx"
    proc = jn("export", run_dir, "--out", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(Path(str(path) + ".features.json").read_text())["format"] == "onnx"


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--format", "onnx", "--out", "m.pt"], ["--format onnx", "--out", ".pt file is torchscript", "m.onnx", "--format torchscript"]),
        (["--format", "torchscript", "--out", "m.onnx"], ["--format torchscript", ".onnx file is onnx", "m.pt"]),
        (["--format", "safetensors", "--out", "m.ts"], ["--format safetensors", ".ts file is torchscript", "m.safetensors"]),
        (["--out", "m.bin"], ["'.bin'", ".onnx", ".pt", ".safetensors", "--format"]),
        (["--out", "model"], ["without an extension", ".onnx", "--format"]),
    ],
)
def test_export_refuses_a_name_that_contradicts_the_format(run_dir: Path, tmp_path: Path, args: list[str],
                                                            needles: list[str]) -> None:
    args = [str(tmp_path / a) if a.startswith("m") and "." in a or a == "model" else a for a in args]
    proc = jn("export", run_dir, *args)
    _refused(proc, *needles)
    assert list(tmp_path.iterdir()) == []  # neither the model nor its features.json


def test_export_keeps_an_unknown_extension_when_the_format_is_given(run_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    proc = jn("export", run_dir, "--format", "safetensors", "--out", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.is_file()


# Item 5: `init-lab --lr 0` leaked `MemberSpec.lr` into its message, and the lab was silent while it trained.
def test_init_lab_refuses_a_zero_lr_in_the_cli_words(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    proc = jn("init-lab", "iris", "--lr", "0", "--out", out)
    _refused(proc, "--lr 0", "positive", "--lr 0.001")
    assert "MemberSpec" not in proc.stderr
    assert not out.exists()


def test_init_lab_refuses_a_zero_lr_in_the_library_words() -> None:
    from justenough import init_lab
    from justenough.errors import ConfigError

    with pytest.raises(ConfigError, match=r"`lr=0`.*positive.*`lr=0.001`") as caught:
        init_lab("iris", lr=0)
    assert "MemberSpec" not in str(caught.value)


def test_init_lab_reports_its_progress_in_a_log(tmp_path: Path) -> None:
    # 2 schemes x 20 restarts = 40 members: two stacks of at most 32.
    proc = jn("init-lab", "iris", "--depth", "2", "--width", "8", "--schemes", "he_normal,zeros", "--n-init", "20",
              "--epochs", "2", "--out", tmp_path / "lab")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    stacks = [line for line in lines if line.startswith("init lab: stack")]
    assert [line.split(" trained")[0] for line in stacks] == ["init lab: stack 1/2", "init lab: stack 2/2"], lines
    assert all("(2 epochs;" in line for line in stacks), stacks
    assert lines.index(stacks[-1]) < next(i for i, line in enumerate(lines) if line.startswith("summary:"))


def test_init_lab_live_bar_counts_every_stack_s_epochs() -> None:
    import io

    from rich.console import Console

    from justenough.cli.init_lab_progress import LiveLabProgress, make_lab_progress

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    progress = make_lab_progress(console)
    assert isinstance(progress, LiveLabProgress)
    with progress:
        for stack, epoch in ((1, 1), (1, 3), (2, 2)):
            progress(stack, 2, epoch, 3)
        task = progress.bar.tasks[0]
        assert (task.completed, task.total, task.description) == (5, 6, "stack 2/2")
        shown = Console(file=io.StringIO(), width=120)
        shown.print(progress.bar.make_tasks_table(progress.bar.tasks))
        assert "5/6" in shown.file.getvalue() and "stack 2/2" in shown.file.getvalue()  # type: ignore[attr-defined]


# Item 6: the estimators' verbose output said "the same table was passed as val and test", words of
# search(), not of fit(X, y); the CLI shows the same notice with its own flags.
ESTIMATOR_FAST = dict(depth="1", widths="8", max_epochs=5, n_init=2, workers=1, random_state=0, verbose=1)


@pytest.mark.parametrize("test_fraction", [0.0, 0.2])
def test_an_estimator_describes_its_split_in_its_parameters(capsys: pytest.CaptureFixture[str],
                                                           test_fraction: float) -> None:
    from sklearn.datasets import load_iris

    from justenough.estimators import JustEnoughClassifier

    X, y = load_iris(return_X_y=True)
    est = JustEnoughClassifier(test_fraction=test_fraction, **ESTIMATOR_FAST).fit(X, y)
    printed = capsys.readouterr().out
    notes = [line for line in printed.splitlines() if line.startswith("note:")]
    split = next(line for line in notes if "fit(X, y)" in line)
    assert "150 rows" in split and "validation_fraction=0.2" in split and "random_state" in split, split
    assert f"test_fraction={test_fraction:g}" in split, split
    for words in ("passed as", "val and test", "arrays (X, y)", "seed "):
        assert words not in printed, (words, printed)
    assert split[len("note: "):] in est.notices_  # the same words in notices_
    if test_fraction == 0:
        assert "test_score_ is None" in split and est.test_score_ is None
    else:
        assert "test_score_" in split and est.test_score_ is not None


def test_the_same_table_as_val_and_test_is_named_in_each_interface_s_words(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    from justenough import search
    from justenough.cli.app import cli_text

    frame = load_iris(as_frame=True).frame
    held = frame.sample(40, random_state=0)
    result = search(frame.drop(held.index), val=held, test=held, out=tmp_path / "run", depth=1, widths=8, n_init=2,
                    max_epochs=5, workers=1, report=False, refit=False)
    note = next(n for n in result.notices if "also serve as the test rows" in n)
    assert "`val=...`" in note and "`test=...`" in note, note  # the library's keywords
    shown = cli_text(note)
    assert "`--val-file ...`" in shown and "`--test-file ...`" in shown, shown  # the command line's flags


# Item 2: `--precision bfloat16` ran about 7x slower on a CPU without AVX-512 BF16, without a word.
def test_bf16_falls_back_to_float32_with_a_notice_where_it_is_not_supported() -> None:
    from justenough.train.bf16_support import effective_precision

    assert effective_precision("bfloat16", True, "this CPU has avx512_bf16") == ("bfloat16", None)
    precision, notice = effective_precision("bfloat16", False, "this CPU has neither AVX-512 BF16 nor AMX")
    assert precision == "float32"
    assert notice is not None and "`precision=\"bfloat16\"`" in notice and "neither AVX-512 BF16 nor AMX" in notice
    assert "float32 instead" in notice
    assert effective_precision("float32", False, "whatever") == ("float32", None)  # float32 is never changed


def test_the_cpu_detector_reads_this_machine_s_flags() -> None:
    from justenough.train.bf16_support import CPU_BF16_FLAGS, cpu_flags, bf16_support

    supported, why = bf16_support("cpu")
    flags = cpu_flags()
    if flags is not None:
        assert supported == any(flag in flags for flag in CPU_BF16_FLAGS), why
    else:
        assert not supported and "cannot be read" in why


def test_a_bf16_search_trains_in_what_this_machine_supports(tmp_path: Path) -> None:
    import json

    from justenough.train.bf16_support import bf16_support

    supported, why = bf16_support("cpu")
    proc = jn("search", "iris", *TINY, "--precision", "bfloat16", "--no-report", "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    if supported:
        assert summary["precision"] == "bfloat16"
        assert "float32 instead" not in proc.stdout + proc.stderr
    else:
        assert summary["precision"] == "float32"
        assert "`--precision bfloat16` asked for" in proc.stdout and "float32 instead" in proc.stdout, proc.stdout
