"""The report's page: one self-contained HTML file that works offline, assembled and written.

The report reads only the files a search leaves behind (docs/architecture.md, "Run directory";
``run.files.load_run``): ``summary.json`` and ``leaderboard.csv`` (required), and ``results.csv``,
``history.csv``, ``diagnostics.csv``, ``data.json``, ``model/model.json`` (optional: a missing one
leaves a short "not recorded" note in its section).

Plotly's JavaScript is embedded once, each figure follows as escaped JSON (``embedding.py``), and
every other user string goes through ``html.escape``. There are no external resources at all (no
CDN, no web fonts, no images), and a Content-Security-Policy forbids any.
"""

from __future__ import annotations

import datetime as _dt
import logging
from importlib import resources
from pathlib import Path
from string import Template

import plotly.offline

from justenough.display_numbers import counted
from justenough.report.embedding import EmbeddedFigures
from justenough.report.formatting import escape
from justenough.report.sections import GROWTH_ANCHOR, section_bodies
from justenough.run.atomic import write_text
from justenough.run.files import REPORT, RunFiles, load_run

__all__ = ["SECTIONS", "build_report", "nav_links", "render"]

log = logging.getLogger("justenough")

# (id, heading) in the order they appear.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("answer", "The answer"),
    ("complexity", "Score vs complexity"),
    ("heatmap", "Depth x width"),
    ("restarts", "Restart spread"),
    ("curves", "Learning curves"),
    ("diagnostics", "Diagnostics"),
    ("data", "The data"),
)


def _resource(name: str) -> str:
    return resources.files("justenough.report").joinpath(name).read_text(encoding="utf-8")


def _section(sid: str, heading: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{escape(heading)}</h2>{body}</section>'


def nav_links(run: RunFiles) -> list[tuple[str, str]]:
    """(anchor, text) of the nav: every section, and the growth path after depth x width when the
    run grew (the grow strategy), since it is the one part of the page the sections do not name."""
    links = list(SECTIONS)
    growth = run.summary_fields.growth
    if growth is not None and growth.path:
        links.insert([sid for sid, _ in links].index("heatmap") + 1, (GROWTH_ANCHOR, "Growth"))
    return links


def render(run: RunFiles, *, now: _dt.datetime | None = None) -> str:
    """The report's HTML text for loaded run files."""
    figs = EmbeddedFigures()
    bodies = section_bodies(run, figs)
    sections = "\n".join(_section(sid, heading, bodies[sid]) for sid, heading in SECTIONS)
    nav = " ".join(f'<a href="#{sid}">{escape(heading)}</a>' for sid, heading in nav_links(run))
    s = run.summary_fields
    now = now or _dt.datetime.now().astimezone()
    name = run.run_dir.resolve().name
    meta_bits = [now.strftime("%Y-%m-%d %H:%M")]
    if s.task:
        meta_bits.append(str(s.task))
    n_configs = s.n_configs if "n_configs" in run.summary else len(run.leaderboard)
    meta_bits.append(counted(int(n_configs or 0), "config"))
    if s.n_restarts:
        meta_bits.append(counted(int(s.n_restarts), "restart"))
    if s.rule:
        meta_bits.append(f"rule {s.rule}")
    versions = s.versions or {}
    footer = "Made by justenough" + (
        " · " + ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, dict) and versions else ""
    )
    return Template(_resource("template.html")).substitute(
        title=escape(f"justenough report: {name}"),
        css=_resource("style.css"),
        run_name=escape(name),
        meta=escape(" · ".join(meta_bits)),
        nav=nav,
        sections=sections,
        footer=escape(footer),
        plotlyjs=plotly.offline.get_plotlyjs(),
        figures=figs.script(),
    )


def build_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's report (``run_dir/report.html`` unless ``out`` is given), atomically; return its path.

    Raises ``ArtifactError`` when ``summary.json`` or ``leaderboard.csv`` is missing or unreadable.
    Missing optional files leave a "not recorded" note in their section.
    """
    run = load_run(run_dir)
    path = Path(out) if out is not None else Path(run_dir) / REPORT
    write_text(path, render(run))  # atomic, with the same permissions as every other file of a run
    log.info("report written to %s", path)
    return path
