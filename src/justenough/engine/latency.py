"""Latency: the median time of a forward pass, of a module or of a config's architecture.

The leaderboard's ``latency_ms`` (per sample at batch 1, what the rule's ``max_latency`` limit and
its tie-break read) and the chosen model's latency and throughput in ``summary.json`` are measured
here, on one torch thread as used. Weights do not change a plain MLP's latency, so a config's is
measured on its architecture with torch's default weights.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np
import torch

from justenough.space.config import Config

__all__ = ["measure_latency", "config_latency_ms"]


@torch.no_grad()
def measure_latency(module: torch.nn.Module, n_in: int, batch: int, repeats: int = 30) -> float:
    """Median seconds of one forward pass on a batch of ``batch`` rows (one torch thread as used)."""
    x = torch.zeros(batch, n_in)
    module.eval()
    for _ in range(3):
        module(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        module(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def config_latency_ms(cfg: Config, n_in: int, n_out: int, ensemble: Mapping[str, Any] | None = None) -> float:
    """Per-sample latency at batch 1 of the config's architecture (weights do not change it);
    with ``ensemble`` (``{"members": k, "task": ...}``), of k such networks and their mean."""
    from justenough.run.artifacts import build_network

    arch = cfg.model_architecture(n_in, n_out)
    if ensemble is not None:
        arch["ensemble"] = dict(ensemble)
    return measure_latency(build_network(arch), n_in, 1, repeats=20) * 1000.0
