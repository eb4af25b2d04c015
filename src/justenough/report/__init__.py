"""The HTML report of a run: one self-contained, offline file with the answer and its evidence.

``build_report(run_dir, out=None) -> Path`` reads the run directory's files and writes
``run_dir/report.html`` (or ``out``) atomically.
"""

from __future__ import annotations

from justenough.report.build import build_report

__all__ = ["build_report"]
