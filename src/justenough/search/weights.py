"""The best weights of every restart, kept until the run is finalized."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from justenough.search.record import RestartResult

__all__ = ["WeightsStore"]


class WeightsStore:
    """Best weights of every restart: ``OUT/weights/KEY.safetensors`` (``R/NAME`` tensors), or in memory."""

    def __init__(self, out: Path | None) -> None:
        self.dir = out / "weights" if out is not None else None
        self.memory: dict[tuple[str, int], dict[str, np.ndarray]] = {}

    def put(self, results: list[RestartResult]) -> None:
        from safetensors.numpy import save

        from justenough.run.atomic import write_bytes

        by_key: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
        for r in results:
            if self.dir is None:
                self.memory[(r.key, r.restart)] = r.state
            else:
                for name, arr in r.state.items():
                    by_key[r.key][f"{r.restart}/{name}"] = np.ascontiguousarray(arr)
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            for key, tensors in by_key.items():
                write_bytes(self.dir / f"{key}.safetensors", save(tensors))

    def get(self, key: str, restart: int) -> dict[str, np.ndarray] | None:
        if (key, restart) in self.memory:
            return self.memory[(key, restart)]
        if self.dir is None:
            return None
        path = self.dir / f"{key}.safetensors"
        if not path.exists():
            return None
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
        except Exception:
            return None
        prefix = f"{restart}/"
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        return state or None
