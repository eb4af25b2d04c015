"""The Ray executor: stack tasks as Ray tasks on a cluster (the ``ray`` extra).

- The training data is shipped once, to the object store (``ray.put``); tasks receive the reference.
- Each stack is a Ray task that declares its resources: one CPU, and a GPU with ``device=cuda``.
- As many stacks are in flight as the cluster has CPUs (or GPUs); results stream back as futures.
- Ray retries a task whose worker dies (``max_retries``). Results are keyed by
  (config key, restart), so a retried task cannot duplicate anything (invariant 5).
- With no address, a local Ray instance is started for the search and shut down after it.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from justenough.errors import ConfigError
from justenough.stack_task import RestartResult, StackTask, TrainingData, run_stack_task

__all__ = ["RayExecutor"]

MAX_RETRIES = 3


def _run_on_ray(task: StackTask, data: TrainingData) -> list[RestartResult]:
    """The body of one Ray task: one torch thread per task, as in the local executor."""
    import torch

    torch.set_num_threads(1)
    return run_stack_task(task, data)


class RayExecutor:
    """Run stack tasks on a Ray cluster at ``address`` (``auto``, ``HOST:PORT``, or None for a local one)."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise ConfigError("the Ray executor needs the 'ray' extra: pip install 'justenough[ray]'") from exc
        self.address = address
        self.workers = workers
        self.slots = 1
        self._started_here = False
        self._data_ref: Any = None
        self._remote: Any = None

    def start(self, data: TrainingData) -> None:
        import ray

        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error"}
            if self.address:
                try:
                    ray.init(address=self.address, **kwargs)
                except ConnectionError as exc:
                    raise ConfigError(
                        f"cannot reach the Ray cluster at {self.address!r}: {exc}. Start one with "
                        "'ray start --head' or leave --ray-address out for a local instance"
                    ) from exc
            else:
                if self.workers is not None:
                    kwargs["num_cpus"] = int(self.workers)
                ray.init(**kwargs)
            self._started_here = True
        resources = ray.cluster_resources()
        self.slots = max(1, int(resources.get("CPU", 1)))
        if self.workers is not None:
            self.slots = min(self.slots, int(self.workers))
        self._data_ref = ray.put(data)
        self._remote = ray.remote(_run_on_ray)

    def submit(self, task: StackTask) -> "Future[list[RestartResult]]":
        if self._remote is None:
            raise RuntimeError("RayExecutor.start(data) must be called before submit")
        gpus = 1 if task.device.startswith("cuda") else 0
        ref = self._remote.options(num_cpus=1, num_gpus=gpus, max_retries=MAX_RETRIES, retry_exceptions=False).remote(
            task, self._data_ref
        )
        return ref.future()

    def poll_epochs(self) -> list[tuple[str, int, int]]:
        """Ray tasks report no per-epoch progress (results still stream back per stack)."""
        return []

    def close(self) -> None:
        import ray

        self._data_ref = None
        if self._started_here and ray.is_initialized():
            ray.shutdown()
        self._started_here = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
