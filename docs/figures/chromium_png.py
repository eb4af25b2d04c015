"""One plotly figure to a PNG, for the docs' figure scripts (``make_initialization.py``,
``make_selection.py``): a standalone HTML page, screenshotted by Debian's headless Chromium (never
a downloaded browser)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import plotly.io as pio


def png(fig: Any, path: Path, chromium: str, width: int = 1100, height: int | None = None) -> None:
    """Render ``fig`` to ``path``: ``width`` x ``height`` pixels (height: the figure's own plus a margin)."""
    height = height or int(fig.layout.height or 450) + 20
    fig.update_layout(width=width - 20, height=height - 20)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "figure.html"
        pio.write_html(fig, page, include_plotlyjs=True, full_html=True, config={"displayModeBar": False})
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--hide-scrollbars", f"--screenshot={path}", f"--window-size={width},{height}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    print("wrote", path)
