"""The package itself: ``import justenough`` stays light, and the public names resolve, in a fresh
interpreter each time (what was imported before is what is being tested)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_import_justenough_and_the_cli_load_neither_torch_nor_optuna() -> None:
    proc = _fresh(
        """
        import sys
        import justenough, justenough.cli
        heavy = sorted(m for m in ("torch", "optuna", "plotly", "sklearn") if m in sys.modules)
        assert not heavy, heavy
        """
    )
    assert proc.returncode == 0, proc.stderr


def test_reading_a_study_loads_no_torch() -> None:
    # show, compare and the report read the study's records; the records are built on
    # train.TrainedOutcome, which must come without the trainer (and torch) behind it.
    proc = _fresh(
        """
        import sys
        import justenough.study.record, justenough.study.storage, justenough.study.tables, justenough.train
        assert "torch" not in sys.modules
        from justenough.train import MemberResult, train   # the lazy names still resolve
        assert "torch" in sys.modules and MemberResult.__module__ == "justenough.train.results"
        """
    )
    assert proc.returncode == 0, proc.stderr


def test_search_and_init_lab_are_functions_and_no_module_shares_their_names() -> None:
    # The engine is ``justenough.engine``: no subpackage is named like the function
    # ``justenough.search``, so no import order can rebind it to a module.
    proc = _fresh(
        """
        import importlib.util, types
        from justenough.engine.driver import SearchInterrupted  # the engine first
        from justenough.diagnose.lab import InitLabResult
        import justenough
        assert isinstance(justenough.search, types.FunctionType), justenough.search
        assert justenough.search.__module__ == "justenough.api"
        assert isinstance(justenough.init_lab, types.FunctionType), justenough.init_lab
        assert importlib.util.find_spec("justenough.search") is None
        assert importlib.util.find_spec("justenough.init_lab") is None
        from justenough import *                            # every name in __all__ resolves
        assert Space is justenough.Space and callable(search) and callable(load)
        """
    )
    assert proc.returncode == 0, proc.stderr
