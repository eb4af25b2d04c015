"""The run directory is typed once, in ``run/files.py``: its readers give booleans for the yes/no
columns, tuples for the widths, and rows in the file's order; no other module parses the files,
and no other module writes them (``files.write_summary``, ``write_leaderboard``, ... one per file).

The typed readers are checked on a real run directory (``tests/run_fixture.py``: tiny networks
trained on digits), rewritten where a test needs an older or hand-edited spelling. The "no other
parser" check reads the source with ``ast``, like ``tests/test_layout.py``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from justenough.run.files import (LEADERBOARD, RESULTS, layer_widths, load_run, read_leaderboard, read_results,
                                  read_summary)
from tests.run_fixture import CONFIGS, copy_run, run_dir  # noqa: F401 (pytest fixtures)

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "justenough"
READER = PACKAGE / "run" / "files.py"
# The run directory's schema, which files.py applies: the one place that turns a cell's text into a type.
SCHEMA = PACKAGE / "run" / "table_schema.py"

# Modules that parse CSV or JSON that is not a run directory's file, each with its reason.
OTHER_PARSERS = {
    "data/delimited.py": "the user's table (CSV, TSV, ...)",
    "cli/language.py": "a JSON or Python literal given on the command line",
    "run/artifacts.py": "model.json, the saved model's own format, also read outside a run (export, a copied model/)",
}
# pandas' readers of text tables and JSON, the json module's, the csv module's and numpy's.
PANDAS_READERS = {"read_csv", "read_table", "read_json", "read_fwf"}
PARSING_CALLS = {*PANDAS_READERS, "load", "loads", "reader", "DictReader", "loadtxt", "genfromtxt"}
OWNED_PARSERS = {"json": {"load", "loads"}, "csv": {"reader", "DictReader"}, "np": {"loadtxt", "genfromtxt"},
                 "numpy": {"loadtxt", "genfromtxt"}}
# The run directory's files that run/files.py alone writes, by the name of their constant there.
RUN_FILES = {"SUMMARY": "summary.json", "LEADERBOARD": "leaderboard.csv", "RESULTS": "results.csv",
             "HISTORY": "history.csv", "DIAGNOSTICS": "diagnostics.csv", "DATA": "data.json"}
WRITING_CALLS = {"write_csv", "write_json", "write_text", "write_bytes", "to_csv", "to_json", "dump"}


def parsing_calls(source: str) -> list[str]:
    """The calls in ``source`` that parse CSV or JSON: ``pd.read_csv(...)`` (``read_table``,
    ``read_json``), ``json.load(s)(...)``, ``csv.reader``/``DictReader``, ``np.loadtxt``/``genfromtxt``
    (any spelling of pandas: ``pandas.read_csv``, a bare imported ``read_csv``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in PARSING_CALLS:
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            if func.attr in PANDAS_READERS or func.attr in OWNED_PARSERS.get(owner, ()):
                found.append(f"{owner}.{func.attr}")
        elif isinstance(func, ast.Name) and func.id in PANDAS_READERS | {"DictReader", "loadtxt", "genfromtxt"}:
            found.append(func.id)
    return found


def run_file_writes(source: str) -> list[str]:
    """The calls in ``source`` that write a run directory's file: a writing call (``write_csv``,
    ``write_json``, ``.to_csv``, ``Path.write_text``, ...) whose path or arguments name one of
    ``RUN_FILES``, by its constant (``SUMMARY``, ``files.SUMMARY``) or its text (``"summary.json"``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in WRITING_CALLS:
            continue
        for part in ast.walk(node):
            named = (part.id if isinstance(part, ast.Name) else part.attr if isinstance(part, ast.Attribute) else
                     part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else None)
            if named in RUN_FILES or named in RUN_FILES.values():
                found.append(f"{name}({named})")
                break
    return found


def flag_text_parsing(source: str) -> bool:
    """Whether ``source`` spells a yes/no cell's text (``"true"`` next to ``"1"``): the parsing of
    booleans that ``run/files.py`` does once."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            texts = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if "true" in texts and "1" in texts:
                return True
    return False


def test_no_module_but_the_reader_parses_the_run_directory() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if path in (READER, SCHEMA) or name in OTHER_PARSERS:
            continue
        source = path.read_text(encoding="utf-8")
        calls = parsing_calls(source)
        if calls:
            offenders.append(f"{name}: {', '.join(calls)}")
        if flag_text_parsing(source):
            offenders.append(f"{name}: parses yes/no text")
    assert offenders == [], "read the run directory through justenough.run.files"


def test_no_module_but_the_run_directory_module_writes_its_files() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == READER:
            continue
        writes = run_file_writes(path.read_text(encoding="utf-8"))
        if writes:
            offenders.append(f"{path.relative_to(PACKAGE).as_posix()}: {', '.join(writes)}")
    assert offenders == [], "write the run directory through justenough.run.files (write_summary, write_leaderboard, ...)"


def test_the_run_directory_module_writes_every_file() -> None:
    writes = run_file_writes(READER.read_text(encoding="utf-8"))
    assert {w[w.index("(") + 1:-1] for w in writes} == set(RUN_FILES)


def test_the_listed_other_parsers_still_parse() -> None:
    for name in OTHER_PARSERS:
        assert parsing_calls((PACKAGE / name).read_text(encoding="utf-8")), name


def test_the_checks_see_every_spelling() -> None:
    assert parsing_calls("import pandas as pd\npd.read_csv(p)") == ["pd.read_csv"]
    assert parsing_calls("from pandas import read_csv\nread_csv(p)") == ["read_csv"]
    assert parsing_calls("import json\njson.loads(t)\njson.load(f)") == ["json.loads", "json.load"]
    assert parsing_calls("store.load(p)\njson.dumps(x)") == []
    assert parsing_calls("pd.read_json(p)\ncsv.DictReader(f)\ncsv.reader(f)\nnp.loadtxt(p)") == [
        "pd.read_json", "csv.DictReader", "csv.reader", "np.loadtxt"]
    assert flag_text_parsing('s.str.lower().isin(["true", "1"])') and flag_text_parsing('x in ("true", "1", "yes")')
    assert not flag_text_parsing('x in ("a", "1")')
    assert run_file_writes("write_csv(out / LEADERBOARD, board)") == ["write_csv(LEADERBOARD)"]
    assert run_file_writes("atomic.write_json(out / files.SUMMARY, s)") == ["write_json(SUMMARY)"]
    assert run_file_writes("(out / 'results.csv').write_text(t)") == ["write_text(results.csv)"]
    assert run_file_writes("board.to_csv(run / 'history.csv', index=False)") == ["to_csv(history.csv)"]
    assert run_file_writes("write_csv(out / 'other.csv', t)\nread_csv(out / LEADERBOARD)") == []


def test_flags_read_as_booleans_whatever_their_spelling(copy_run: Path) -> None:
    board = pd.read_csv(copy_run / LEADERBOARD)
    chosen = board["chosen"].to_numpy(dtype=bool)
    # An older or hand-edited file: 1/0 and yes/empty text instead of True/False.
    board.assign(chosen=np.where(chosen, "1", "0"), pruned=np.where(chosen, "", "yes")).to_csv(copy_run / LEADERBOARD, index=False)
    results = pd.read_csv(copy_run / RESULTS)
    diverged = results["diverged"].to_numpy(dtype=bool)
    assert diverged.any()  # the fixture has a diverged restart
    results.assign(diverged=np.where(diverged, "TRUE", "")).to_csv(copy_run / RESULTS, index=False)

    read = read_leaderboard(copy_run)
    assert read["chosen"].dtype == bool and list(read["chosen"]) == list(chosen)
    assert read["pruned"].dtype == bool and list(read["pruned"]) == list(~chosen)
    res = read_results(copy_run)
    assert res["diverged"].dtype == bool and list(res["diverged"]) == list(diverged)
    run = load_run(copy_run)
    assert run.results is not None and list(run.results["diverged"]) == list(diverged)


def test_the_leaderboard_keeps_the_files_order(copy_run: Path) -> None:
    board = pd.read_csv(copy_run / LEADERBOARD)
    shuffled = board.iloc[::-1]
    shuffled.to_csv(copy_run / LEADERBOARD, index=False)
    assert list(read_leaderboard(copy_run)["key"]) == list(shuffled["key"])
    assert list(load_run(copy_run).leaderboard["key"]) == list(shuffled["key"])


def test_widths_are_read_as_tuples(run_dir: Path) -> None:
    run = load_run(run_dir)
    assert run.config_widths == {c.key: c.widths for c in CONFIGS}
    assert layer_widths("32-16") == (32, 16) and layer_widths(64) == (64,) and layer_widths(64.0) == (64,)
    assert layer_widths(float("nan")) == () and layer_widths([]) == () and layer_widths("[32, 16]") == (32, 16)


# summary.json's growth as this version writes it (engine/strategies/grow.summary), keys in order.
GROWTH = {
    "strategy": "grow",
    "best": "1x16",
    "path": [
        {"config": "linear", "key": "k0", "direction": "start", "round": 0, "compared_to": None, "compared_key": None,
         "mean_diff": None, "se_diff": None, "n_pairs": 0, "beat": False, "failed": False},
        {"config": "1x16", "key": "k1", "direction": "width", "round": 1, "compared_to": "linear", "compared_key": "k0",
         "mean_diff": 0.25, "se_diff": 0.03125, "n_pairs": 3, "beat": True, "failed": False},
        {"config": "2x16", "key": "k2", "direction": "depth", "round": 2, "compared_to": "1x16", "compared_key": "k1",
         "mean_diff": -0.0625, "se_diff": 0.015625, "n_pairs": 3, "beat": False, "failed": True},
    ],
    "stops": {"depth": "1 step was confidently no better than 1x16", "width": "the space has no wider config"},
    "explanation": "growth stopped at 1x16: depth: 2x16 did not beat 1x16 (...): stopped",
    "not_needed": [{"key": "k3", "config": "3x16", "depth": 3, "width": 16, "reason": "growth stopped at 1x16 before reaching it"}],
    "complete": True,
}


def test_growth_reads_as_typed_steps_and_writes_back_byte_for_byte(copy_run: Path, tmp_path: Path) -> None:
    from justenough.run.atomic import write_json
    from justenough.run.files import SUMMARY, write_summary
    from justenough.run.growth import Growth, GrowthStep, NotNeeded

    # The fixture's summary in this version's form (its keys in order), growth after versions as written.
    keys = list(read_summary(copy_run).to_dict().items())
    at = [k for k, _ in keys].index("versions") + 1
    write_json(copy_run / SUMMARY, dict(keys[:at] + [("growth", GROWTH)] + keys[at:]))
    text = (copy_run / SUMMARY).read_bytes()
    growth = load_run(copy_run).summary_fields.growth
    assert isinstance(growth, Growth) and growth == read_summary(copy_run).growth
    assert all(isinstance(s, GrowthStep) for s in growth.path) and isinstance(growth.not_needed[0], NotNeeded)
    assert [s.config for s in growth.path] == ["linear", "1x16", "2x16"] and growth.path[1].beat and growth.path[2].failed
    assert growth.path[0].mean_diff is None and growth.path[2].mean_diff == -0.0625
    assert (growth.not_needed[0].depth, growth.not_needed[0].width) == (3, 16) and growth.best == "1x16"
    write_summary(tmp_path, read_summary(copy_run).to_dict())
    assert (tmp_path / SUMMARY).read_bytes() == text


def test_a_growth_of_an_earlier_version_reads_with_defaults_and_keeps_unknown_keys() -> None:
    from justenough.run.growth import Growth

    old = {**GROWTH, "from_a_newer_version": 1,
           "path": [{k: v for k, v in step.items() if k != "failed"} for step in GROWTH["path"]],
           "not_needed": [{"key": "k3", "config": "3x16", "reason": "not reached", "note": "kept"}]}
    growth = Growth.from_json(old)
    assert [s.failed for s in growth.path] == [False, False, False] and growth.path[1].beat
    assert growth.not_needed[0].depth is None and growth.not_needed[0].extra == {"note": "kept"}
    assert growth.extra == {"from_a_newer_version": 1} and list(growth.to_dict())[-1] == "from_a_newer_version"
    assert Growth.from_json(growth.to_dict()) == growth


def test_a_summary_without_growth_reads_none_and_writes_none(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert "growth" not in summary  # the fixture writes a grid search's summary, as older versions did
    read = read_summary(run_dir)
    assert read.growth is None and "growth" not in read.to_dict()


DTYPES = {"str": "str", "int": "int64", "Int64": "Int64", "float": "float64", "bool": "bool"}


def test_every_declared_column_reads_in_its_kind(run_dir: Path) -> None:
    from justenough.run.table_schema import LEADERBOARD_SCHEMA, RESULTS_SCHEMA

    run = load_run(run_dir)
    assert run.results is not None
    for table, schema in ((read_leaderboard(run_dir), LEADERBOARD_SCHEMA), (read_results(run_dir), RESULTS_SCHEMA),
                          (run.leaderboard, LEADERBOARD_SCHEMA), (run.results, RESULTS_SCHEMA)):
        declared = [c for c in table.columns if c in schema]
        assert len(declared) > 10  # the fixture writes most of them
        assert {c: str(table[c].dtype) for c in declared} == {c: DTYPES[schema[c]] for c in declared}


def test_text_columns_stay_text_and_empty_cells_read_as_empty_text(copy_run: Path) -> None:
    board = pd.read_csv(copy_run / LEADERBOARD, dtype={"key": str})
    # A key of digits (pandas would read 123 and lose the zero) and a linear model's empty widths.
    board.loc[0, "key"], board.loc[1, "widths"] = "0123456789", ""
    board.to_csv(copy_run / LEADERBOARD, index=False)
    read = read_leaderboard(copy_run)
    assert read.loc[0, "key"] == "0123456789" and read.loc[1, "widths"] == ""
    assert load_run(copy_run).config_widths["0123456789"] == layer_widths(board.loc[0, "widths"])


def test_a_cell_of_the_wrong_kind_is_refused_on_read(copy_run: Path) -> None:
    from justenough.errors import ArtifactError

    results = pd.read_csv(copy_run / RESULTS)
    results.assign(restart=results["restart"] + 0.5).to_csv(copy_run / RESULTS, index=False)
    with pytest.raises(ArtifactError, match="'restart'"):
        read_results(copy_run)
    assert load_run(copy_run).results is None  # optional for the report: left out, as an unreadable table is
    board = pd.read_csv(copy_run / LEADERBOARD)
    board.astype({"params": object}).assign(params=["many"] + list(board["params"][1:])).to_csv(copy_run / LEADERBOARD, index=False)
    with pytest.raises(ArtifactError, match="'params'"):
        read_leaderboard(copy_run)


def test_tables_written_read_back_as_the_same_frames(run_dir: Path, tmp_path: Path) -> None:
    from justenough.run.files import write_leaderboard, write_results

    board, results = read_leaderboard(run_dir), read_results(run_dir)
    write_leaderboard(tmp_path, board)
    write_results(tmp_path, results)
    pd.testing.assert_frame_equal(read_leaderboard(tmp_path), board)
    pd.testing.assert_frame_equal(read_results(tmp_path), results)


def test_a_table_of_the_wrong_kinds_is_not_written(run_dir: Path, tmp_path: Path) -> None:
    from justenough.errors import ArtifactError
    from justenough.run.files import write_leaderboard, write_results

    board = read_leaderboard(run_dir)
    with pytest.raises(ArtifactError, match="'chosen' should hold bool"):
        write_leaderboard(tmp_path, board.assign(chosen=board["chosen"].map({True: "yes", False: "no"})))
    with pytest.raises(ArtifactError, match="'params' should hold int"):
        write_leaderboard(tmp_path, board.assign(params=board["params"] + 0.5))
    results = read_results(run_dir)
    with pytest.raises(ArtifactError, match="'key' should hold str"):
        write_results(tmp_path, results.assign(key=range(len(results))))
    assert not (tmp_path / LEADERBOARD).exists() and not (tmp_path / RESULTS).exists()


def test_evidence_is_read_for_the_restarts_that_did_not_diverge(run_dir: Path, tmp_path: Path) -> None:
    from justenough.run.files import read_evidence
    from justenough.study.weights import EvidenceStore

    results = read_results(run_dir)
    # The fixture keeps no evidence: write some, one [N] float32 array per restart, as the search does.
    rows = 7
    EvidenceStore(tmp_path).put([SimpleNamespace(key=key, restart=restart, rows={"share": np.full(rows, restart, dtype=np.float32)})
                                 for key, restart in results[["key", "restart"]].itertuples(index=False)])
    evidence = read_evidence(tmp_path, results)
    diverged = set(results.loc[results["diverged"], ["key", "restart"]].itertuples(index=False, name=None))
    assert diverged and all(r not in evidence.get(k, {}) for k, r in diverged)
    assert sum(len(v) for v in evidence.values()) == len(results) - len(diverged)
    for by_restart in evidence.values():
        for restart, shares in by_restart.items():
            assert isinstance(restart, int) and shares.dtype == np.float32 and shares.shape == (rows,)


def test_configs_are_judged_as_ensembles_only_where_every_configs_outputs_are_here(tmp_path: Path) -> None:
    """A config with no evidence in this run directory (trained by another driver of a shared study)
    makes the choice read every config's restarts, not the ensembles of some: drivers of one study
    must judge alike."""
    from justenough.select.ensemble_noise import EnsembleEvidence
    from justenough.study.weights import EvidenceStore

    rng = np.random.default_rng(0)
    target = rng.integers(0, 3, size=12)
    logits = {(key, r): rng.normal(size=(12, 3)).astype(np.float32) for key in ("a", "b") for r in range(3)}
    store = EvidenceStore(tmp_path)
    store.put([SimpleNamespace(key=key, restart=r, rows={"share": (out.argmax(axis=1) == target).astype(np.float32),
                                                         "output": out, "target": target})
               for (key, r), out in logits.items()])
    both = store.for_choice(["a", "b"], set(), "classification")
    assert isinstance(both, EnsembleEvidence) and sorted(both) == ["a", "b"]
    # A row's share of config a's ensemble: whether its mean probability's class is the row's.
    probabilities = np.mean([np.exp(o) / np.exp(o).sum(axis=1, keepdims=True) for (k, _), o in logits.items() if k == "a"], axis=0)
    np.testing.assert_array_equal(both["a"].full, probabilities.argmax(axis=1) == target)
    one_missing = store.for_choice(["a", "b", "c"], set(), "classification")
    assert not isinstance(one_missing, EnsembleEvidence)
    assert sorted(one_missing) == ["a", "b"] and sorted(one_missing["a"]) == [0, 1, 2]
    # A diverged restart is left out either way.
    assert sorted(store.for_choice(["a", "b"], {("a", 1)}, None)["a"]) == [0, 2]
    assert sorted(store.for_choice(["a", "b"], {("a", 1)}, "classification")["a"].without) == [0, 2]


def test_no_module_reads_the_growth_by_its_json_keys() -> None:
    # summary.json's growth reads as run/growth.py's Growth: readers use its fields, not summary["growth"]["path"].
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "run":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            key = node.slice if isinstance(node, ast.Subscript) else None
            if isinstance(key, ast.Constant) and key.value in ("growth", "not_needed"):
                offenders.append(f"{path.relative_to(PACKAGE).as_posix()}: [{key.value!r}]")
    assert offenders == []
