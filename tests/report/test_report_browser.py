"""The report in a real browser: headless Debian Chromium driven by Playwright (never downloaded).

One browser for the module. Each page load records console errors, page errors, dialogs and every
network request, so the tests can say: all sections there, every figure drawn by Plotly, no errors,
no request but the file itself, and the hostile strings shown as text without running.
"""

from __future__ import annotations

import os

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from justenough.report import build_report
from justenough.report import SECTIONS
from tests.run_fixture import HOSTILE, write_run

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FIGURES = ("complexity", "heatmap", "restarts", "curves", "diagnostics")


def _chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class Visit:
    """What happened while a page loaded."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    if exe is None:
        reason = "Debian's chromium is not installed (apt-get install chromium); CI installs it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must provide chromium: {reason}")
        pytest.skip(reason)
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


def _visit(browser: Any, path: Path, width: int = 1280, figures: tuple[str, ...] = FIGURES) -> Visit:
    page = browser.new_page(viewport={"width": width, "height": 900})
    visit = Visit(page)
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))

    def on_dialog(d: Any) -> None:
        visit.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: visit.requests.append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    # Plotly draws synchronously on load, but wait until each figure div holds its SVG (or canvas).
    page.wait_for_function(
        "ids => ids.every(id => { const d = document.getElementById(id);"
        " return d && d.querySelector('svg.main-svg, canvas'); })",
        arg=[f"fig-{f}" for f in figures],
        timeout=20_000,
    )
    return visit


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(write_run(tmp_path_factory.mktemp("run") / "digits-demo"))


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(write_run(tmp_path_factory.mktemp("run") / "hostile", hostile=True))


def test_report_renders_offline_without_errors(browser: Any, report: Path, tmp_path: Path) -> None:
    visit = _visit(browser, report)
    page = visit.page
    for sid, heading in SECTIONS:
        section = page.locator(f"section#{sid}")
        assert section.count() == 1, f"section #{sid} is missing"
        assert section.locator("h2").inner_text().strip() == heading
    for name in FIGURES:
        drawn = page.locator(f"#fig-{name} svg.main-svg, #fig-{name} canvas").count()
        assert drawn >= 1, f"figure {name} was not drawn"
    # Plotly drew real marks, not empty axes: points in the complexity plot, cells in the heat map.
    assert page.locator("#fig-complexity .scatterlayer .point").count() >= 10
    assert page.locator("#fig-heatmap .heatmaplayer image, #fig-heatmap .hm image").count() >= 1
    assert page.locator("#answer svg.network circle").count() >= 16 + 1 + 10  # input (capped) + hidden + output
    assert visit.console_errors == [], visit.console_errors
    assert visit.page_errors == [], visit.page_errors
    assert visit.dialogs == []
    page_url = report.resolve().as_uri()
    assert [u for u in visit.requests if u != page_url] == [], "the report must make no request but itself"
    # No sideways scrolling on a laptop-width screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(shot, ARTIFACTS / "report.png")
    except OSError:
        pass  # read-only checkout: the tmp_path copy is enough
    page.close()


def test_report_fits_a_narrow_window(browser: Any, report: Path) -> None:
    visit = _visit(browser, report, width=760)
    page = visit.page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert visit.console_errors == [] and visit.page_errors == []
    page.close()


def test_hostile_strings_show_as_text_and_never_run(browser: Any, hostile_report: Path) -> None:
    visit = _visit(browser, hostile_report)
    page = visit.page
    assert visit.dialogs == [], f"a script from the data ran: {visit.dialogs}"
    assert visit.page_errors == [] and visit.console_errors == []
    # The source, a class label and a column name are shown literally in the data section.
    data_text = page.locator("section#data").inner_text()
    assert data_text.count(HOSTILE) >= 3, data_text
    # The config label reaches the leaderboard and the plotly axis as literal text.
    assert HOSTILE in page.locator("section#answer table.leaderboard").inner_text()
    ticks = page.locator("#fig-restarts .xtick text").all_text_contents()
    assert HOSTILE in ticks, ticks
    # Only our two <script> elements exist: nothing from the data became an element.
    assert page.locator("script").count() == 2
    page.close()


@pytest.fixture(scope="module")
def searched_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report a tiny real search writes (iris, 4 configs x 3 restarts): it kept per-row evidence,
    so the complexity section pairs each config with the best."""
    from justenough import search

    out = tmp_path_factory.mktemp("run") / "iris"
    search("iris", depth="0-1", widths="4,8,16", max_epochs="20", lr="0.01", n_init=3, workers=1, cv=1, out=out)
    return out / "report.html"


def test_each_config_paired_with_the_best_is_drawn(browser: Any, searched_report: Path) -> None:
    visit = _visit(browser, searched_report, figures=("complexity", "differences"))
    page = visit.page
    # The three configs other than the best, the best at 0 and the chosen star: real marks.
    assert page.locator("#fig-differences .scatterlayer .point").count() >= 5
    assert page.locator("#fig-differences .errorbar").count() >= 3
    assert visit.console_errors == [] and visit.page_errors == [] and visit.dialogs == []
    page.close()
