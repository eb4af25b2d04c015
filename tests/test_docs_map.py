"""docs/architecture.md, the map of the package, stays true (issue 27, "the map is true").

- Every module or package it names exists: a path such as ``engine/driver.py``, ``run/``,
  ``justenough/settings.py`` or ``src/justenough/...`` resolves to a file or folder under
  ``src/justenough/`` (a path may leave out the folders above it: ``strategies/grid.py``), and
  ``docs/...``, ``benchmarks/...`` and other repo paths to a real file; a dotted name
  (``justenough.engine.finalize``, ``select.best_first``, ``run.files.RunFiles``) resolves to a
  module, plus at most a name it defines (two for a class's attribute).
- A test it cites (``test_train.py::test_stack_equals_loop``) exists, wherever it sits under ``tests/``.
- It is at most ``MAX_LINES`` lines: a map, not the docstrings again.
- Its "Layers" table names the layers of ``tests/test_layout.py``'s ``LAYERS``, in the same order,
  each with the same modules.

The files are only read (``ast`` for ``LAYERS``): no justenough module, and no torch, is imported.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
while not (ROOT / "pyproject.toml").exists() and ROOT != ROOT.parent:
    ROOT = ROOT.parent
PACKAGE = ROOT / "src" / "justenough"
TESTS = ROOT / "tests"
DOC = ROOT / "docs" / "architecture.md"
MAX_LINES = 160

# The run directory's folders, which the map names but which are not modules: each is a name the
# code writes (run/files.py, study/weights.py, run/stale.py).
RUN_DIRECTORY_FOLDERS = {"runs/NAME/": "runs", "model/": "model", "export/": "export", "weights/": "weights",
                         "evidence/": "evidence", "previous-N/": "previous-"}

# Not folders of the repo: build outputs, environments, caches.
_SKIPPED_DIRS = {".git", "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", "runs"}
_FILE_SUFFIXES = (".py", ".md", ".toml", ".txt", ".cfg", ".sh", ".png")
_NOT_MODULE_SUFFIXES = (".json", ".csv", ".html", ".db", ".safetensors", ".onnx", ".pt", ".npz", ".parquet",
                        ".md", ".toml", ".txt", ".png", ".py", ".tsv")


@lru_cache(maxsize=None)
def repo_paths() -> tuple[frozenset[str], frozenset[str]]:
    """(files, folders) of the repo, as POSIX paths relative to its root."""
    files: set[str] = set()
    dirs: set[str] = set()
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                if entry.name in _SKIPPED_DIRS or entry.name.startswith(".venv") or entry.name.endswith(".egg-info"):
                    continue
                dirs.add(entry.relative_to(ROOT).as_posix())
                stack.append(entry)
            else:
                files.add(entry.relative_to(ROOT).as_posix())
    return frozenset(files), frozenset(dirs)


def _ends_with(candidates: frozenset[str], path: str) -> bool:
    return any(c == path or c.endswith("/" + path) for c in candidates)


def path_exists(token: str) -> bool:
    """Whether a path the map names exists: a file or folder of the package (a trailing slash: a
    folder), given whole or by its last parts, or a file of the repo; ``*`` matches as in a glob;
    a ``tests/`` path or test file by its name anywhere under ``tests/`` (the tests move into
    folders)."""
    files, dirs = repo_paths()
    folder = token.endswith("/")
    path = token.rstrip("/")
    for prefix in ("src/justenough/", "justenough/"):
        if path.startswith(prefix):
            path = "src/justenough/" + path[len(prefix):]
    name = path.rsplit("/", 1)[-1]
    if "*" in path:
        return any(Path(ROOT).glob(path)) or any(PACKAGE.rglob(path))
    if (path.startswith("tests/") or name.startswith("test_")) and not folder:
        return any(p.name == name for p in TESTS.rglob(name))
    return _ends_with(dirs if folder else files, path)


def cited_test_exists(token: str) -> bool:
    """``test_x.py::test_y`` (or ``test_x.py::Class::test_y``): the file exists under tests/ and defines each name."""
    file, *names = token.split("::")
    found = [p for p in TESTS.rglob(file.rsplit("/", 1)[-1])]
    return bool(found) and all(
        any(re.search(rf"^\s*(def|class) {re.escape(n)}\b", p.read_text(encoding="utf-8"), re.M) for p in found) for n in names
    )


def _module_file(dotted: str) -> Path | None:
    """The file of a justenough module (``justenough.run.files``), or None."""
    parts = dotted.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def dotted_exists(token: str) -> bool:
    """``justenough.a.b`` (or ``a.b`` where ``a`` is one of the package's modules): the longest
    module it starts with, plus nothing, one name that module's source defines or names, or a
    class's name and one of its attributes."""
    dotted = token if token == "justenough" or token.startswith("justenough.") else "justenough." + token
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        source_file = _module_file(".".join(parts[:cut]))
        if source_file is None:
            continue
        rest = parts[cut:]
        if not rest:
            return True
        if len(rest) > 2 or (len(rest) == 2 and not rest[0][:1].isupper()):
            return False
        text = source_file.read_text(encoding="utf-8")
        return all(re.search(rf"\b{re.escape(name)}\b", text) for name in rest)
    return False


def _top_level_names() -> set[str]:
    """The package's own top-level modules and packages, and ``search`` (the function: ``search.x``
    can only be an old module path)."""
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return names | {"search"}


_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_PIECE = re.compile(r"[^\s,;()\[\]<>\"'|]+")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_PLAIN_PATH = re.compile(r"(?<![\w/.-])(?:docs|tests|benchmarks|src)/[\w./*-]*[\w/*]")
_PLAIN_DOTTED = re.compile(r"(?<![\w.])justenough(?:\.[A-Za-z_]\w*)+")


def named_things(text: str) -> list[tuple[str, str]]:
    """What ``text`` names: ("path", p), ("test", t) and ("dotted", d), in code spans and fenced
    blocks, and in plain text the paths under docs/, tests/, benchmarks/, src/ and the
    ``justenough.`` names."""
    found: list[tuple[str, str]] = []
    top = _top_level_names()
    for span in _CODE.finditer(text):
        for piece in _PIECE.findall(span.group().strip("`")):
            piece = piece.rstrip(".:").lstrip("(")
            if "::" in piece:
                found.append(("test", piece))
            elif re.fullmatch(r"[\w.*-]+(?:/[\w.*-]+)*/", piece) or (
                re.fullmatch(r"[\w.*-]+(?:/[\w.*-]+)*", piece) and piece.endswith(_FILE_SUFFIXES)
            ):
                found.append(("path", piece))
            else:
                for dotted in _DOTTED.findall(piece):
                    if dotted.split(".")[0] in top | {"justenough"} and not dotted.endswith(_NOT_MODULE_SUFFIXES):
                        found.append(("dotted", dotted))
    plain = _CODE.sub(" ", text)
    found += [("path", m.group().rstrip(".")) for m in _PLAIN_PATH.finditer(plain)]
    found += [("dotted", m.group()) for m in _PLAIN_DOTTED.finditer(plain)]
    return found


def unresolved(text: str) -> list[str]:
    """The names in ``text`` that resolve to nothing."""
    bad = []
    for kind, token in named_things(text):
        if kind == "path" and token in RUN_DIRECTORY_FOLDERS:
            continue
        ok = {"path": path_exists, "test": cited_test_exists, "dotted": dotted_exists}[kind](token)
        if not ok:
            bad.append(token)
    return bad


def test_the_map_names_only_modules_that_exist() -> None:
    bad = unresolved(DOC.read_text(encoding="utf-8"))
    assert not bad, f"docs/architecture.md names what does not exist (fix the map to today's names): {bad}"


def test_the_run_directory_folders_it_allows_are_written_by_the_code() -> None:
    """The allowance for run-directory folders is not a hole: each is a name the code writes."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    for folder, literal in RUN_DIRECTORY_FOLDERS.items():
        assert f'"{literal}' in source or f"'{literal}" in source or f"{literal}/" in source, folder


def test_the_checker_refuses_made_up_and_old_names() -> None:
    """The checker's own check: today's names pass; a made-up module, an old path and an old dotted
    name, in code spans and in plain text, are each refused."""
    good = (
        "The engine (`engine/driver.py`, `strategies/grid.py`, `run/`, `justenough/settings.py`,\n"
        "`src/justenough/executors/task.py`, `diagnose/lab*.py`) and `justenough.engine.finalize`,\n"
        "`select.best_first`, `run.files.RunFiles.config_widths`, docs/selection.md,\n"
        "`test_train.py::test_stack_equals_loop`, `vocab.parse_device`, `summary.json`, `data.json`.\n"
        "```\n  -> engine/finalize.py  run/files.py\n```\n"
    )
    assert unresolved(good) == [], unresolved(good)
    for made_up in ("`engine/nonexistent.py`", "`search/finalize.py`", "`run/finalize.py`", "`search/`",
                    "`justenough.search.task`", "`search.task.EVIDENCE_ROWS`", "`search.finalize`",
                    "`select.no_such_function`", "docs/nonexistent.md", "justenough.engine.nope",
                    "`test_train.py::test_that_was_never_written`", "```\n-> engine/nonexistent.py\n```"):
        assert unresolved(good + made_up + "\n"), f"{made_up} should be refused"


def misplaced_modules(text: str) -> list[str]:
    """In the "Packages" section, the bare module names (``loop.py``) listed after a package's bold
    name (**`train/`**) that are not files of that package (at any depth)."""
    section = ("\n" + text).split("\n## Packages", 1)[1].split("\n## ", 1)[0]
    bad = []
    for owner, listed in re.findall(r"\*\*`([\w/]+/)`\*\*(.*?)(?=\*\*`[\w/.]+`\*\*|\n- |\Z)", section, re.S):
        for name in re.findall(r"`([\w*]+\.py)`", listed):
            if not any((PACKAGE / owner).rglob(name)):
                bad.append(f"{owner}{name}")
    return bad


def test_each_package_lists_its_own_modules() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert not misplaced_modules(text), f"listed under a package they are not in: {misplaced_modules(text)}"
    assert misplaced_modules("## Packages\n- **`train/`**: `loop.py`, `driver.py`\n") == ["train/driver.py"]


def test_the_map_is_short() -> None:
    n = len(DOC.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"docs/architecture.md has {n} lines: a map names files, their docstrings hold the details (at most {MAX_LINES})"


def layers_of_test_layout() -> list[tuple[str, tuple[str, ...]]]:
    """``LAYERS`` of tests/test_layout.py, read with ``ast`` (wherever under tests/ the file sits)."""
    path = next(TESTS.rglob("test_layout.py"))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "LAYERS" for t in targets) and node.value is not None:
                return ast.literal_eval(node.value)
    raise LookupError(f"no LAYERS in {path}")


def _as_path(module: str) -> str:
    """``justenough.run.atomic`` -> ``run/atomic.py``; a package -> ``nets/``; the package itself -> ``__init__.py``."""
    if module == "justenough":
        return "__init__.py"
    relative = module.split(".", 1)[1].replace(".", "/")
    return relative + "/" if (PACKAGE / relative / "__init__.py").is_file() else relative + ".py"


def layers_table(text: str) -> list[tuple[str, set[str]]]:
    """The "Layers" section's table: (name, the modules named) per row, in order."""
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and cells[0].isdigit():
            rows.append((cells[1], set(re.findall(r"`([^`]+)`", cells[2]))))
    return rows


def test_the_layers_table_is_test_layouts() -> None:
    table = layers_table(DOC.read_text(encoding="utf-8"))
    layers = layers_of_test_layout()
    assert [name for name, _ in table] == [name for name, _ in layers], "the layers, in LAYERS' order"
    for (name, modules), (_, names) in zip(table, layers):
        assert modules == {_as_path(m) for m in names}, f"layer {name!r}: the modules of LAYERS"
