"""Where stack tasks train: the executor contract, the local executor and the Ray executor."""

from justenough.executors.contract import Executor, make_executor
from justenough.executors.local import LocalExecutor, default_workers, start_method

__all__ = ["Executor", "LocalExecutor", "make_executor", "default_workers", "start_method"]
