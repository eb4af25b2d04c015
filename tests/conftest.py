"""Shared test setup.

The project's tests run as several processes on few cores (pytest-xdist), so every process uses one
torch thread: two OpenMP threads per process gained little and collapsed when another process took
a core (DESIGN.md, performance notes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture()
def write_table(tmp_path: Path) -> Callable[..., Path]:
    """Write text to a file under ``tmp_path`` and return its path: ``write_table("x.csv", "a,b\\n1,2\\n")``.

    A DataFrame is written as CSV (or TSV / Parquet, by the file name's extension).
    """

    def write(name: str, content: str | bytes | pd.DataFrame, **kwargs: object) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            if path.suffix == ".parquet":
                content.to_parquet(path, **kwargs)  # type: ignore[arg-type]
            else:
                content.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",", **kwargs)  # type: ignore[arg-type]
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
