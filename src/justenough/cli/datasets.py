"""The ``datasets`` command: the bundled datasets, as a table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

from justenough.cli.app import app, out_console

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["datasets"]


@app.command()
def datasets() -> None:
    """List the bundled datasets (use their names as DATA).

    Example: justenough datasets
    """
    from justenough.data.datasets import available

    out_console().print(_frame_table(available(), title="bundled datasets"))


def _frame_table(frame: "pd.DataFrame", *, title: str) -> Table:
    """A DataFrame as a rich table: floats with 4 significant digits, integers with separators."""
    import pandas as pd

    table = Table(title=title, title_justify="left", header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for _, row in frame.iterrows():
        cells = []
        for col in frame.columns:
            v = row[col]
            if isinstance(v, float):
                cells.append("-" if not math.isfinite(v) else f"{v:.4g}")
            elif isinstance(v, (int,)) and not isinstance(v, bool):
                cells.append(f"{v:,}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    return table
