"""A finished search's run: its result, its model, and the run directory that holds them (the
search writes it, ``engine/finalize.py``).

- ``files``: the run directory's file names, their writers (``write_summary``, ...), and ``load_run``
  that reads them back;
- ``summary``: ``Summary``, ``summary.json``'s keys as typed fields, written and read;
- ``model``/``artifacts``: the chosen ``Model``, saved and loaded as safetensors plus JSON;
- ``atomic``: the atomic writer every file of a run goes through.

The names are imported on first use: ``show`` and the report read a run directory without
loading torch, which ``Model`` and ``SearchResult`` need.
"""

from __future__ import annotations

from justenough.lazy import lazy_attributes
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from justenough.run.files import RunFiles, load_run
    from justenough.run.model import Model, load
    from justenough.run.result import SearchResult
    from justenough.run.summary import Summary

__all__ = ["Model", "RunFiles", "SearchResult", "Summary", "load", "load_run"]

_MODULE_OF = {
    "Model": "justenough.run.model",
    "load": "justenough.run.model",
    "RunFiles": "justenough.run.files",
    "load_run": "justenough.run.files",
    "SearchResult": "justenough.run.result",
    "Summary": "justenough.run.summary",
}


__getattr__ = lazy_attributes("justenough.run", globals(), _MODULE_OF)
