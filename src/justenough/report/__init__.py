"""The HTML report of a run: one self-contained, offline file with the answer and its evidence.

``build_report(run_dir, out=None) -> Path`` reads the run directory's files and writes
``run_dir/report.html`` (or ``out``) atomically. ``page.py`` assembles and writes the page,
``sections.py`` writes each section's HTML, ``figures.py`` draws the plotly figures (in the look of
``figure_style.py``), ``embedding.py`` embeds them, ``network_drawing.py`` draws the chosen network.
"""

from __future__ import annotations

from justenough.report.embedding import safe_json
from justenough.report.page import SECTIONS, build_report, render

__all__ = ["SECTIONS", "build_report", "render", "safe_json"]
