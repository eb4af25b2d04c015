"""The search engine: ask configs, batch them into stacks, train, tell the results, resume, finalize.

``justenough.api.search()`` reads its keywords into ``SearchSettings`` (``justenough/settings.py``,
validated once) and trains the study (``train_study.py``): the data is prepared, the study opened
(``study/storage.py``), the driver (``driver.py``) keeps the executors (``justenough/executors/``)
busy with stack tasks and tells their restart records (``study/record.py``); ``finalize.py``, the
last stage, turns the study's tables (``study/tables.py``) into a run directory (``run/``). Which
configs are asked, and in which order, is ``strategies/`` (the grid, the grow walk, successive
halving, the Optuna sampler); the checks before anything is created are ``preflight.py``; the hooks
a search calls as it goes are ``progress.py``.

Named ``engine``, not ``search``: ``justenough.search`` is the function. Names are imported on
first use, so that importing the progress hooks (as the CLI does) loads neither torch nor optuna.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justenough.engine.progress import SearchProgress
from justenough.lazy import lazy_attributes

if TYPE_CHECKING:  # the names of _LAZY, for the type checker
    from justenough.engine.driver import MAX_STACK_MEMBERS, SearchInterrupted

__all__ = ["SearchProgress", "SearchInterrupted", "MAX_STACK_MEMBERS"]

# Names imported on first use: the driver's module imports optuna.
_LAZY = {
    "SearchInterrupted": "justenough.engine.driver",
    "MAX_STACK_MEMBERS": "justenough.engine.driver",
}


__getattr__ = lazy_attributes("justenough.engine", globals(), _LAZY)
