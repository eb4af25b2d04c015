"""Messages in the reader's language, and flags that exist.

- Every ``--flag`` that an error message in ``src/`` or a document names is an option of the
  command it names (read from the typer app's real parameters).
- An option reference (``errors.option``) reads as Python in the API (`` `task="regression"` ``)
  and as a flag on the command line (`` `--task regression` ``): the same error, both sides.
- Usage errors (a bad value, an unknown option) are one ``error:`` line with exit status 2.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from justenough.cli import app, cli_text
from justenough.cli.language import flag_table, to_cli
from justenough.data import load
from justenough.errors import DataError, option

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "justenough"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXE = Path(sys.executable).with_name("justenough")

_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Lines about other programs (their flags are theirs): pip, the browser, a Ray cluster, make, pytest.
_OTHER_PROGRAM = re.compile(r"\b(pip install|chromium|ray start|make \w+ \w+=|-m pytest|pytest-randomly|randomly-seed)")


def _commands() -> dict[str, set[str]]:
    """Command name -> every flag it takes (long and negative forms, plus the root's)."""
    group = typer.main.get_command(app)
    root = {o for p in group.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    out = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        out[name] = root | {o for p in command.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))}
    return out


COMMANDS = _commands()
ANY_COMMAND = set().union(*COMMANDS.values())
# The benchmark scripts' own flags (argparse, read from their source): a document may name them
# where it names no justenough command (docs/performance.md's "python benchmarks/bench_quality.py --quick").
BENCHMARK_FLAGS = {
    flag
    for script in sorted((ROOT / "benchmarks").glob("*.py"))
    for flag in re.findall(r"add_argument\(\s*\"(--[a-z][a-z0-9-]*)\"", script.read_text(encoding="utf-8"))
}


def _doc_references(path: Path) -> list[tuple[str, int, str | None, str]]:
    """(file, line, command or None, flag) for each flag a document names.

    A flag after ``justenough CMD`` on its line belongs to CMD; in docs/cli.md a flag under a
    ``## CMD`` heading belongs to CMD; any other flag must belong to some command.
    """
    refs = []
    section: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        heading = re.match(r"^## (\S+)", line)
        if heading:
            section = heading.group(1) if heading.group(1) in COMMANDS else None
        if _OTHER_PROGRAM.search(line):
            continue
        context = section if path.name == "cli.md" else None
        for match in re.finditer(r"justenough\s+([a-z][a-z-]*)|" + _FLAG.pattern, line):
            if match.group(1) is not None:
                context = match.group(1) if match.group(1) in COMMANDS else context
                continue
            refs.append((path.name, number, context, match.group(0)))
    return refs


def _source_references() -> list[tuple[str, int, str | None, str]]:
    """(file, line, command or None, flag) for each flag in a string of ``src/``: inside a CLI
    command's function it belongs to that command; elsewhere it must belong to some command."""
    names = {"init_lab": "init-lab"}  # function name -> command name where they differ
    refs = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner: dict[int, str] = {}
        if path.parent.name == "cli":  # the cli package: its modules define the commands
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    command = names.get(node.name, node.name)
                    if command in COMMANDS:
                        for inner in ast.walk(node):
                            owner[id(inner)] = command
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and not _OTHER_PROGRAM.search(node.value):
                for flag in _FLAG.findall(node.value):
                    refs.append((path.name, node.lineno, owner.get(id(node)), flag))
    return refs


def test_the_reference_finders_see_the_flags_they_must_check() -> None:
    """The finders are not vacuous: they see the messages' and the documents' flags."""
    src = {(f, c, flag) for f, _, c, flag in _source_references()}
    data_files = {p.name for p in (SRC / "data").glob("*.py")}
    assert "delimited.py" in data_files  # where the --delimiter messages used to be written
    # The data package speaks Python (errors.option) now: its messages name no CLI flag.
    assert not [(f, flag) for f, _, flag in src if f in data_files and flag == "--delimiter"]
    assert ("search.py", "search", "--n-init") in src
    docs = {(f, c, flag) for f, _, c, flag in (r for p in DOCS for r in _doc_references(p))}
    assert ("cli.md", "search", "--max-categories") in docs
    assert ("cli.md", "predict", "--decimal") in docs
    assert ("data.md", None, "--test-file") in docs
    assert {"--quick", "--je-option", "--datasets"} <= BENCHMARK_FLAGS
    assert "--quick" not in ANY_COMMAND  # so a justenough line naming --quick still fails


def test_every_flag_named_in_a_message_or_a_document_exists() -> None:
    sources = _source_references()
    docs = [r for p in DOCS for r in _doc_references(p)]
    assert len(sources) + len(docs) > 100
    missing = [
        f"{file}:{line}: {flag}" + (f" (justenough {command})" if command else "")
        for file, line, command, flag in sources
        if flag not in (COMMANDS[command] if command else ANY_COMMAND)
    ] + [
        f"{file}:{line}: {flag}" + (f" (justenough {command})" if command else "")
        for file, line, command, flag in docs
        if flag not in (COMMANDS[command] if command else ANY_COMMAND | BENCHMARK_FLAGS)
    ]
    assert not missing, "flags that no command has:\n" + "\n".join(missing)


def test_every_option_reference_in_src_names_a_keyword_of_the_api() -> None:
    """``errors.option(name)``: the name is a keyword of ``search`` or ``load`` (so the API form is
    real), and the CLI translates it when the CLI has the option."""
    import inspect

    from justenough.data import load as load_fn
    from justenough import search

    keywords = set(inspect.signature(search).parameters) | set(inspect.signature(load_fn).parameters)
    flags = flag_table(typer.main.get_command(app).commands.values())  # type: ignore[attr-defined]
    named = set()
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "option" and node.args:
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path.name}:{node.lineno}: name options literally"
                named.add(first.value)
    assert {"target", "task", "delimiter", "decimal", "max_categories", "encoding", "rule"} <= named
    assert not named - keywords, named - keywords
    assert not (named - {"split"}) - set(flags), (named - {"split"}) - set(flags)


# --- the two languages --------------------------------------------------------------------------


def test_an_option_reference_reads_as_python_and_as_a_flag() -> None:
    flags = flag_table(typer.main.get_command(app).commands.values())  # type: ignore[attr-defined]
    cases = [
        (option("task", "regression"), '`task="regression"`', "`--task regression`"),
        (option("max_categories", 120), "`max_categories=120`", "`--max-categories 120`"),
        (option("target"), "`target=...`", "`--target ...`"),
        (option("delimiter", ";"), '`delimiter=";"`', "`--delimiter ';'`"),  # quoted for the shell
        (option("delimiter", "\t"), '`delimiter="\\t"`', "`--delimiter tab`"),
        (option("widths", [8, 32]), "`widths=[8, 32]`", "`--widths 8,32`"),
        (option("halving", True), "`halving=True`", "`--halving`"),
        (option("report", False), "`report=False`", "`--no-report`"),
        (option("test", "t.csv"), '`test="t.csv"`', "`--test-file t.csv`"),  # the CLI's name differs
        (option("split", (0.6, 0.2, 0.2)), "`split=(0.6, 0.2, 0.2)`", "`split=(0.6, 0.2, 0.2)`"),  # no such flag: stays
    ]
    for reference, api, cli in cases:
        assert reference == api
        assert to_cli(f"pass {reference} here", flags) == f"pass {cli} here"
    # Text that is not a reference is left alone, backticks and all.
    assert to_cli("see `justenough datasets` and normal(std=0.01)", flags) == "see `justenough datasets` and normal(std=0.01)"


def _categories_frame(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"town": [f"town{i % n}" for i in range(2 * n)], "x": rng.normal(size=2 * n), "y": rng.integers(0, 2, 2 * n)})


def test_the_same_error_in_the_api_and_on_the_command_line(tmp_path: Path) -> None:
    frame = _categories_frame()
    path = tmp_path / "towns.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        load(path, target="y")
    api = str(caught.value)
    assert "more than `max_categories=50`: raise the limit with `max_categories=100`" in api
    assert "--max-categories" not in api and "CLI" not in api
    assert cli_text(api).endswith("more than `--max-categories 50`: raise the limit with `--max-categories 100`, or drop the column")

    out = tmp_path / "run"
    proc = subprocess.run([str(EXE), "search", str(path), "--target", "y", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr  # one line
    assert "raise the limit with `--max-categories 100`" in proc.stderr
    assert "max_categories=" not in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()  # nothing written

    # The flag the message names exists and works: the table is searchable from the CLI now.
    table = load(path, target="y", max_categories=100)
    assert table.features["town"].nunique() == 80


def test_notices_speak_the_readers_language(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 5, "b": [0, 1] * 10}).to_csv(path, index=False)
    table = load(path)  # no target given: a notice says how to choose one
    assert any("(pass `target=...` to choose)" in n for n in table.notices), table.notices
    assert any("(pass `--target ...` to choose)" in cli_text(n) for n in table.notices)


# --- usage errors: one line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needle",
    [
        (["search", "iris", "--n-init", "-1"], "--n-init"),
        (["search", "iris", "--max-categories", "1"], "--max-categories"),
        (["search", "iris", "--no-such-option"], "--no-such-option"),
        (["search", "iris", "--n-init", "three"], "--n-init"),
        (["predict"], "RUN"),
    ],
)
def test_usage_errors_are_one_line_with_status_2(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "run"
    extra = ["--out", str(out)] if args[0] == "search" else []
    proc = subprocess.run([str(EXE), *args, *extra], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert needle in lines[0] and f"justenough {args[0]} --help" in lines[0]
    assert "Usage:" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing written
