"""``--numeric`` on the command line and in a config file: a bad value is refused before anything
is written, a good one reaches the run (summary.json) and ``show`` names it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import assert_usage_error, jn  # the CLI subprocess helpers, defined once

from justenough.vocab import NumericScaling


def test_an_unknown_numeric_is_refused_naming_the_choices(tmp_path: Path) -> None:
    never = tmp_path / "never"
    assert_usage_error(jn("search", "iris", "--numeric", "minmax", "--out", never), "--numeric", ", ".join(NumericScaling))
    assert not never.exists()


def test_numeric_from_a_config_file_reaches_the_run_and_show_names_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cfg = tmp_path / "search.toml"
    cfg.write_text(
        'data = "iris"\ndepth = 1\nwidths = [4]\nn-init = 1\nmax_epochs = 5\nworkers = 1\ncv = "1"\n'
        f'report = false\nquiet = true\nnumeric = "quantile"\nout = "{run_dir.as_posix()}"\n'
    )
    proc = jn("search", "--config", cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((run_dir / "summary.json").read_text())["numeric"] == "quantile"
    shown = jn("show", run_dir)
    assert shown.returncode == 0, shown.stderr
    assert "numeric columns: quantile" in shown.stdout
