"""The search: ask configs, batch them into stacks, train, tell the results, resume.

``justenough.api.search()`` reads its keywords into ``SearchSettings`` (``settings.py``, validated
once) and runs the search (``run.py``): the data is prepared, the study opened (``study.py``), the
driver (``driver.py``) keeps the executors (``executors/``) busy with stack tasks (``task.py``) and tells
their restart records (``record.py``), and the run is finalized from the study's tables
(``tables.py``). The space is ``space.py``, the
grow strategy's walk ``grow.py``, the checks before anything is created ``preflight.py``.

Names are imported on first use, so that importing the space (as the CLI does) loads neither
torch nor optuna.
"""

from __future__ import annotations

from justenough.lazy import lazy_attributes
from typing import TYPE_CHECKING

from justenough.search.durations import parse_duration
from justenough.search.progress import SearchProgress
from justenough.search.settings import SearchSettings
from justenough.search.config import Config
from justenough.search.space import Space

if TYPE_CHECKING:  # the names of _LAZY, for the type checker
    from justenough.search.driver import MAX_STACK_MEMBERS, SearchInterrupted
    from justenough.search.record import RestartRecord, RestartResult
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

# Names whose modules import optuna or NumPy: imported on first use.
_LAZY = {
    "SearchInterrupted": "justenough.search.driver",
    "MAX_STACK_MEMBERS": "justenough.search.driver",
    "RestartRecord": "justenough.search.record",
    "RestartResult": "justenough.search.record",
    "StackTask": "justenough.search.task",
    "restart_seed": "justenough.train.seeds",
    "run_stack_task": "justenough.search.task",
    "TrainingData": "justenough.search.training_data",
}


__getattr__ = lazy_attributes("justenough.search", globals(), _LAZY)
