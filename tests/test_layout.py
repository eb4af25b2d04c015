"""The package's layout stays as docs/architecture.md draws it.

- Import layering: every module of ``src/justenough/`` belongs to a layer (``LAYERS``, the table
  of docs/architecture.md, "Layers"); a module imports only modules of its own layer or lower
  ones, at module level or inside a function (``TYPE_CHECKING`` imports included: they are
  dependencies too). The few imports that still go up are listed, each with its reason, in
  ``UPWARD_IMPORTS``.
- No import cycles among the modules (the same imports: module level, inside a function,
  ``TYPE_CHECKING``): the imports between two modules go one way.
- Public doors: no module, and no test, imports another module's ``_private`` name (``from m
  import _x``, or ``m._x`` on an imported module); a name used outside its module is public.
- Size: no module over 500 lines; no function over 80 lines unless the line right above its
  ``def`` (or its first decorator) is a comment that argues it.
- Comments and docstrings cite files in the repo, never the founders' notes (DESIGN.md).

The source is read with ``ast``: nothing is imported, so the test is quick and loads no torch.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "justenough"

# The layers, lowest first (docs/architecture.md, "Layers"). A name stands for a module or a
# package and everything under it; the longest name that matches a module gives its layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", (
        "justenough.errors",
        "justenough.display_numbers",
        "justenough.lazy",  # package attributes imported on first use
        "justenough.vocab",
        "justenough.network_size",  # below nets and search: the stack and a torch-free Config count with it
        "justenough.run.atomic",  # the one atomic writer: every file anything writes goes through it
        "justenough.version",  # the installed package's version, for __init__ and summary.json
        "justenough.durations",  # durations as the options write them (a time budget, a latency limit)
    )),
    ("nets and data", (
        "justenough.nets",
        "justenough.data",
        "justenough.training_recipe",  # how a config was trained, in words
    )),
    ("train", ("justenough.train",)),
    ("diagnose and select", ("justenough.diagnose", "justenough.select")),
    ("space", ("justenough.space",)),  # the search space: dimensions, configs and their labels
    ("study", ("justenough.study",)),  # the persisted search: storage, restart records, tables
    ("run", ("justenough.run",)),  # the run directory, its schema and the Model
    ("engine", (
        "justenough.settings",  # SearchSettings: every setting of a search, read and checked once
        "justenough.executors",  # where stack tasks train (local processes, Ray) and the task itself
        "justenough.engine",  # the engine and its strategies, with finalize, its last stage, writing the run
    )),
    ("report", ("justenough.report",)),
    ("entry points", (
        "justenough",  # the package's __init__: the public API
        "justenough.api",  # search(), wiring only
        "justenough.estimators",
        "justenough.cli",
        # The init lab is an application of the diagnostics, not one of them: it trains stacks with
        # the search's seeds, writes a folder of files and renders a page of its own.
        "justenough.diagnose.lab",
        "justenough.diagnose.lab_figures",
        "justenough.diagnose.lab_page",
        "justenough.diagnose.lab_schemes",
    )),
]

# Imports that still go up a layer: (importer, imported) -> why. Each one is a debt with a reason,
# not a licence: remove its line when the code moves.
UPWARD_IMPORTS: dict[tuple[str, str], str] = {}

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _target(module: str, name: str) -> str:
    """``from module import name``: the submodule when ``name`` is one, else ``module`` itself."""
    return f"{module}.{name}" if f"{module}.{name}" in MODULES else module


def imports_of(module: str) -> list[Import]:
    """Every import of a justenough module in ``module``'s source, wherever it stands."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(module, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            found += [Import(module, _target(base, a.name), node.lineno) for a in node.names]
    return [i for i in found if i.imported == "justenough" or i.imported.startswith("justenough.")]


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of the longest name that is ``module`` or a package above it."""
    best: tuple[int, int] | None = None
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > best[0]):
                best = (len(name), index)
    if best is None:
        raise LookupError(module)
    return best[1]


def test_every_module_has_a_layer() -> None:
    missing = []
    for module in MODULES:
        try:
            layer_of(module)
        except LookupError:
            missing.append(module)
    assert not missing, f"give these modules a layer in LAYERS (and in docs/architecture.md): {missing}"


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for module in MODULES:
        for imp in imports_of(module):
            if imp.imported not in MODULES and not any(m.startswith(imp.imported + ".") for m in MODULES):
                continue  # a planned module that is not here yet
            if layer_of(imp.imported) > layer_of(module) and (module, imp.imported) not in UPWARD_IMPORTS:
                upward.append(
                    f"{module} (line {imp.line}, {LAYERS[layer_of(module)][0]}) imports {imp.imported} "
                    f"({LAYERS[layer_of(imp.imported)][0]})"
                )
    assert not upward, "lower layers never import higher ones (docs/architecture.md, Layers):\n" + "\n".join(upward)


def test_the_upward_imports_listed_still_exist() -> None:
    """An allowed upward import that the code no longer makes is a stale excuse: drop its line."""
    made = {(imp.importer, imp.imported) for module in MODULES for imp in imports_of(module)}
    assert not set(UPWARD_IMPORTS) - made, set(UPWARD_IMPORTS) - made


def test_the_layering_reads_nested_and_relative_imports() -> None:
    """The parser's own check: a function-level import and ``from justenough.nets import init`` are seen."""
    assert "justenough.report" in {i.imported for i in imports_of("justenough.api")}  # inside run_search
    assert "justenough.nets.init" in {i.imported for i in imports_of("justenough.nets.stack")}
    assert layer_of("justenough.diagnose.lab") > layer_of("justenough.diagnose.measures")
    assert layer_of("justenough.run.atomic") < layer_of("justenough.engine.finalize")


def import_graph() -> dict[str, list[str]]:
    """Each module -> the justenough modules it imports (``imports_of``: wherever the import stands)."""
    return {m: sorted({i.imported for i in imports_of(m) if i.imported in MODULES and i.imported != m}) for m in MODULES}


def import_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The groups of two or more modules that reach each other through ``graph`` (Tarjan's
    strongly connected components), each sorted."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    path: list[str] = []
    on_path: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        path.append(module)
        on_path.add(module)
        for imported in graph.get(module, []):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_path:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = []
            while True:
                member = path.pop()
                on_path.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in graph:
        if module not in order:
            visit(module)
    return cycles


def test_no_import_cycles() -> None:
    """Two modules that import each other (even one of them only for types, or inside a function)
    are one concept in two files, or share a piece that belongs below both: move that piece."""
    cycles = import_cycles(import_graph())
    assert not cycles, "these modules import each other, through the listed ones:\n" + "\n".join(map(str, cycles))


def test_the_cycle_finder_sees_cycles() -> None:
    """The finder's own check: a direct and a three-module cycle are found, a chain is not one."""
    graph = {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["e"], "e": ["c", "a"], "f": ["a"]}
    assert sorted(import_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]
    assert "justenough.nets.init" in import_graph()["justenough.nets.stack"]


def private_names_imported(module: str, source: str | None = None, path: Path | None = None) -> list[str]:
    """``module``'s uses of another justenough module's ``_private`` name: ``from m import _x``
    and ``m._x`` where ``m`` is a justenough module it imported (dunder names are not private).
    ``source``: the module's text, read from its file by default; ``path``: that file, for a
    module outside the package (a test), else ``MODULES[module]``."""
    path = MODULES[module] if path is None else path
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    modules_bound: dict[str, str] = {}  # a local name -> the justenough module it is
    found: list[str] = []

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            if base != "justenough" and not base.startswith(("justenough.", "tests.")):
                continue
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    modules_bound[alias.asname or alias.name] = f"{base}.{alias.name}"
                elif private(alias.name) and base != module:
                    found.append(f"{module}:{node.lineno} from {base} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("justenough"):
                    modules_bound[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            value, chain = node.value, []
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in modules_bound:
                owner = ".".join([modules_bound[value.id], *reversed(chain)])
                if owner in MODULES and owner != module:
                    found.append(f"{module}:{node.lineno} {owner}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_name() -> None:
    """A name used outside its module is public: drop its underscore (and add it to ``__all__``),
    or move it to the module that uses it."""
    found = [use for module in MODULES for use in private_names_imported(module)]
    assert not found, "make these names public, or move them where they are used:\n" + "\n".join(found)


TESTS = Path(__file__).resolve().parent


def _test_module_name(path: Path) -> str:
    """``tests/engine/test_grow.py`` -> ``tests.engine.test_grow``."""
    return ".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts))


def test_no_test_uses_a_private_name() -> None:
    """The tests go through the public doors too: what a test needs of a module is public."""
    found = [
        use
        for path in sorted(TESTS.rglob("*.py"))
        for use in private_names_imported(_test_module_name(path), path=path)
    ]
    assert not found, "make these names public, or test through a public name:\n" + "\n".join(found)


def test_the_private_name_finder_sees_both_spellings() -> None:
    """The finder's own check, on made-up source for a real module: an imported private name and a
    private attribute of an imported module are found; public and dunder names, and the module's own, are not."""
    source = (
        "from justenough.data.values import _present, plain\n"
        "from justenough.nets import init as init_mod\n"
        "from justenough import __version__\n"
        "from justenough.executors.task import _helper_of_its_own\n"
        "def f():\n    return init_mod._secret, init_mod.parse, plain\n"
    )
    found = private_names_imported("justenough.executors.task", source)
    assert found == [
        "justenough.executors.task:1 from justenough.data.values import _present",
        "justenough.executors.task:6 justenough.nets.init._secret",
    ], found


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=_relative)
def test_no_module_is_over_500_lines(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_MODULE_LINES, f"{_relative(path)} has {n} lines: split it by concept (at most {MAX_MODULE_LINES})"


def _long_functions(path: Path) -> list[str]:
    """Functions over the limit without a comment right above them that argues the length."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        length = (node.end_lineno or node.lineno) - start + 1
        argued = start >= 2 and lines[start - 2].strip().startswith("#")
        if length > MAX_FUNCTION_LINES and not argued:
            found.append(f"{_relative(path)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_over_80_lines_unless_argued() -> None:
    long = [f for path in sorted(PACKAGE.rglob("*.py")) for f in _long_functions(path)]
    assert not long, (
        f"split these, or argue the length in a one-line comment right above the def "
        f"(e.g. '# 95 lines: one pass over the epochs; ...'):\n" + "\n".join(long)
    )


def test_no_comment_cites_the_founders_notes() -> None:
    """Comments cite docs/architecture.md (in the repo), not DESIGN.md (outside it)."""
    cites = [
        f"{_relative(path)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "DESIGN.md" in line
    ]
    assert not cites, f"cite docs/architecture.md instead of DESIGN.md: {cites}"


def test_an_invariant_is_cited_with_the_document_that_states_it() -> None:
    """An invariant's number alone ("invariant 5") points nowhere: the comment names docs/architecture.md with it."""
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"[Ii]nvariant \d", text):
            around = text[max(0, m.start() - 200): m.end() + 200]
            if "docs/architecture.md" not in around:
                bare.append(f"{_relative(path)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert not bare, f"name docs/architecture.md where an invariant is cited: {bare}"
