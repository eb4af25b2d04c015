"""The search engine: ask configs, batch them into stacks, train, tell the results, resume, finalize.

``justenough.api.search()`` reads its keywords into ``SearchSettings`` (``settings.py``, validated
once) and trains the study (``train_study.py``): the data is prepared, the study opened
(``study/storage.py``), the driver (``driver.py``) keeps the executors (``executors/``) busy with
stack tasks (``task.py``) and tells their restart records (``study/record.py``); ``finalize.py``, the
last stage, turns the study's tables (``study/tables.py``) into a run directory. The space is the
``space`` package's; the grow strategy's walk and successive halving are ``strategies/``; the checks
before anything is created ``preflight.py``.

``Space``, ``Config`` (``justenough.space``), ``RestartRecord`` and ``RestartResult``
(``justenough.study``) are re-exported here, where users import them from. Names are imported on
first use, so that importing the space (as the CLI does) loads neither torch nor optuna.
"""

from __future__ import annotations

from justenough.lazy import lazy_attributes
from typing import TYPE_CHECKING

from justenough.search.durations import parse_duration
from justenough.search.progress import SearchProgress
from justenough.search.settings import SearchSettings

if TYPE_CHECKING:  # the names of _LAZY, for the type checker
    from justenough.space.config import Config
    from justenough.space.search_space import Space
    from justenough.search.driver import MAX_STACK_MEMBERS, SearchInterrupted
    from justenough.study.record import RestartRecord, RestartResult
    from justenough.search.task import StackTask, run_stack_task
    from justenough.train.seeds import restart_seed
    from justenough.search.training_data import TrainingData

__all__ = [
    "SearchSettings",
    "SearchProgress",
    "SearchInterrupted",
    "parse_duration",
    "MAX_STACK_MEMBERS",
    "Space",
    "Config",
    "RestartRecord",
    "RestartResult",
    "StackTask",
    "TrainingData",
    "restart_seed",
    "run_stack_task",
]

# Names imported on first use: those whose modules import optuna or NumPy, and those of the
# packages below (space, study).
_LAZY = {
    "Space": "justenough.space.search_space",
    "Config": "justenough.space.config",
    "SearchInterrupted": "justenough.search.driver",
    "MAX_STACK_MEMBERS": "justenough.search.driver",
    "RestartRecord": "justenough.study.record",
    "RestartResult": "justenough.study.record",
    "StackTask": "justenough.search.task",
    "restart_seed": "justenough.train.seeds",
    "run_stack_task": "justenough.search.task",
    "TrainingData": "justenough.search.training_data",
}


__getattr__ = lazy_attributes("justenough.search", globals(), _LAZY)
