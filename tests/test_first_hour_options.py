"""Issue 25, "Options whose effect is not what they say": each option does what its help says,
and when it cannot, says so in the words of the interface it was given to.

The command line runs as the real ``justenough`` executable in a subprocess on real files; the
estimators and the library are called in-process. Searches are tiny (one config, two restarts,
a few epochs), so every row here takes seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("justenough")
TINY = ["--depth", "1", "--widths", "8", "--n-init", "2", "--max-epochs", "5", "--workers", "1"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env["COLUMNS"] = "200"
    env.pop("FORCE_COLOR", None)
    return env


def jn(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``justenough ARGS`` in a subprocess, its output captured (stdout is not a terminal)."""
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env={**_env(), **(env or {})},
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
