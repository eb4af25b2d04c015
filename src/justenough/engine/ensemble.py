"""The ensemble of restarts in the engine: what it costs per config, and the chosen config's model.

With ``search(ensemble=True)`` (``--ensemble``) the model is the mean of the chosen config's k
restarts that did not diverge (``nets/ensemble.RestartEnsemble``), not its best restart. The search
and the rule's ordering are unchanged (every config's restarts are trained either way); what
changes is the model's cost, which the limits count:

- parameters: k x the network's (``ensemble_params``),
- latency: measured on the k networks and their mean at batch 1 (``ensemble_latency_ms``),

each a leaderboard column the rule's limits read instead of the network's (``select/choice.py``).
The explanation says what the chosen ensemble costs (``cost_sentence``).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

from justenough.space.config import Config

__all__ = ["ensemble_members", "with_ensemble_cost", "cost_sentence", "ensemble_module"]


def ensemble_members(board: pd.DataFrame) -> pd.Series:
    """Per config, the restarts an ensemble averages: those that did not diverge (at least 1)."""
    n = pd.to_numeric(board["n_restarts"], errors="coerce").fillna(1)
    diverged = pd.to_numeric(board["n_diverged"], errors="coerce").fillna(0)
    return (n - diverged).clip(lower=1).astype(int)


def ensemble_module(arch: Mapping[str, Any], states: list[Mapping[str, np.ndarray]], task: str) -> torch.nn.Module:
    """The ``RestartEnsemble`` of ``arch`` (``n_in, widths, n_out, activation``) holding ``states``
    (one ``member(0)``-style state dict per restart, NumPy), in eval mode."""
    from justenough.run.artifacts import build_network

    module = build_network({**arch, "ensemble": {"members": len(states), "task": str(task)}})
    for member, state in zip(module.members, states):  # type: ignore[arg-type]
        member.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in state.items()})
    return module.eval()


def _latency_ms(cfg: Config, k: int, n_in: int, n_out: int, task: str) -> float:
    """Per-sample latency at batch 1 of ``k`` networks of the config and their mean (weights do not change it)."""
    from justenough.engine.finalize import measure_latency
    from justenough.run.artifacts import build_network

    arch = {"n_in": n_in, "widths": list(cfg.widths), "n_out": n_out, "activation": cfg.activation,
            "ensemble": {"members": k, "task": str(task)}}
    return measure_latency(build_network(arch), n_in, 1, repeats=20) * 1000.0


def with_ensemble_cost(board: pd.DataFrame, configs: Mapping[str, Config], n_in: int, n_out: int,
                       task: str) -> pd.DataFrame:
    """``board`` with ``ensemble_members`` (k), ``ensemble_params`` (k x params) and
    ``ensemble_latency_ms`` per config: what the model would cost were that config chosen."""
    board = board.copy()
    k = ensemble_members(board)
    board["ensemble_members"] = k
    board["ensemble_params"] = pd.to_numeric(board["params"]).astype(int) * k
    board["ensemble_latency_ms"] = [_latency_ms(configs[str(key)], int(m), n_in, n_out, task)
                                    for key, m in zip(board["key"], k)]
    return board


def cost_sentence(row: Mapping[str, Any], classification: bool) -> str:
    """``". The model is the mean of its 5 restarts' probabilities (an ensemble): 5 x 1,234 = 6,170
    parameters, 0.12 ms per sample"``, for the explanation."""
    k, params = int(row["ensemble_members"]), int(row["params"])
    mean = "probabilities" if classification else "outputs"
    latency = float(row.get("ensemble_latency_ms", float("nan")))
    speed = f", {latency:.3g} ms per sample" if np.isfinite(latency) else ""
    return (f". The model is the mean of its {k} restarts' {mean} (an ensemble): {k} x {params:,} = "
            f"{k * params:,} parameters{speed}")
