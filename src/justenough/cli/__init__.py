"""The command line: a thin layer over the Python API.

Commands: ``search``, ``show``, ``compare``, ``report``, ``predict``, ``export``, ``init-lab``,
``datasets`` (docs/cli.md has an example of each), one module per group of commands; ``app.py``
holds the typer app and the entry point, ``main``. Errors that are answers (``JustEnoughError``)
print one message and exit with their status (2 for bad input, 1 for run-time failures); usage
errors exit with 2; a traceback only with ``--debug``.

Heavy modules (torch, optuna, plotly) are imported inside the commands, so ``--help`` and
``--version`` stay fast.
"""

from __future__ import annotations

from justenough.cli.app import app, cli_text, main

# Each command module registers its commands on ``app`` when imported, in the order --help lists them.
from justenough.cli import search, inspect, predict_export, init_lab, datasets  # noqa: F401,I001  (registers the commands)
from justenough.cli.arguments import default_out
from justenough.cli.display import leaderboard_table
from justenough.cli.init_lab import split_specs
from justenough.cli.predict_export import features_path
from justenough.cli.search import SPACE_DEFAULTS

__all__ = ["app", "main", "cli_text", "leaderboard_table", "default_out", "features_path", "split_specs", "SPACE_DEFAULTS"]
