"""The ensemble of restarts in the engine: what it costs per config, and the chosen config's model.

With ``search(ensemble=True)`` (``--ensemble``) the model is the mean of the chosen config's k
restarts that did not diverge (``nets/ensemble.RestartEnsemble``), not its best restart. The search
and the rule's ordering are unchanged (every config's restarts are trained either way); what
changes is the model's cost, which the limits count:

- parameters: k x the network's (``ensemble_params``),
- latency: measured on the k networks and their mean at batch 1 (``ensemble_latency_ms``),

each a leaderboard column the rule's limits read instead of the network's (``select/choice.py``).
The explanation says what the chosen ensemble costs (``cost_sentence``); ``fit_ensemble`` makes the
chosen config's model: its restarts' kept weights, or every restart refit as one stack.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from justenough.engine.latency import config_latency_ms
from justenough.space.config import Config

__all__ = ["ensemble_members", "with_ensemble_cost", "cost_sentence", "ensemble_module", "fit_ensemble"]


def ensemble_members(board: pd.DataFrame) -> pd.Series:
    """Per config, the restarts an ensemble averages: those that did not diverge (at least 1)."""
    n = pd.to_numeric(board["n_restarts"], errors="coerce").fillna(1)
    diverged = pd.to_numeric(board["n_diverged"], errors="coerce").fillna(0)
    return (n - diverged).clip(lower=1).astype(int)


def ensemble_module(arch: Mapping[str, Any], states: Sequence[Mapping[str, np.ndarray]], task: str) -> torch.nn.Module:
    """The ``RestartEnsemble`` of ``arch`` (``n_in, widths, n_out, activation``) holding ``states``
    (one ``member(0)``-style state dict per restart, NumPy), in eval mode."""
    from justenough.run.artifacts import build_network

    module = build_network({**arch, "ensemble": {"members": len(states), "task": str(task)}})
    for member, state in zip(module.members, states):  # type: ignore[arg-type]
        member.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in state.items()})
    return module.eval()


def with_ensemble_cost(board: pd.DataFrame, configs: Mapping[str, Config], n_in: int, n_out: int,
                       task: str) -> pd.DataFrame:
    """``board`` with ``ensemble_members`` (k), ``ensemble_params`` (k x params) and
    ``ensemble_latency_ms`` per config: what the model would cost were that config chosen."""
    board = board.copy()
    k = ensemble_members(board)
    board["ensemble_members"] = k
    board["ensemble_params"] = pd.to_numeric(board["params"]).astype(int) * k
    board["ensemble_latency_ms"] = [config_latency_ms(configs[str(key)], n_in, n_out, {"members": int(m), "task": str(task)})
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


def fit_ensemble(cfg: Config, key: str, mine: pd.DataFrame, prepared: Any, weights: Any, *, seed: int, device: str,
                 precision: str, refit: bool) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The ensemble of config ``key``'s restarts ``mine`` (its rows of the restarts table that did
    not diverge, best first), in restart order, and how it was fitted (``summary["model"]``).

    Without ``refit``: their kept weights (any not kept trained again from their seeds, as one
    stack). With ``refit``: every one of them refit on train+validation from its own seed, for
    the same epochs (``refit.refit_epochs``), as the members of one stack (``refit.refit_members``).
    """
    from justenough.engine.refit import refit_epochs, refit_members
    from justenough.engine.retrain import retrain_restarts
    from justenough.train.seeds import restart_seed

    sizes = prepared.split_sizes
    members = sorted(int(r) for r in mine["restart"])
    fit: dict[str, Any]
    if refit:
        epochs = refit_epochs(mine)
        states = refit_members(cfg, [restart_seed(seed, r) for r in members], prepared, epochs, device=device,
                               precision=precision)
        fit = {"fit_on": "train+validation", "rows": int(sizes["train"]) + int(sizes["val"]),
               "epochs": min(epochs, cfg.max_epochs)}
    else:
        kept = weights.of_config(key)
        missing = [r for r in members if not kept.get(r)]
        if missing:
            kept = {**kept, **retrain_restarts(cfg, missing, seed, prepared, device, precision)}
        states = [kept[r] for r in members]
        best_epochs = mine.sort_values("restart")["best_epoch"]
        fit = {"fit_on": "train", "rows": int(sizes["train"]),
               "epochs": [int(e) if pd.notna(e) else None for e in best_epochs]}  # each restart's best epoch
    arch = cfg.model_architecture(int(prepared.n_features), int(prepared.n_outputs))
    module = ensemble_module(arch, states, prepared.task)
    params = int(sum(p.numel() for p in module.parameters()))  # k x the network's
    return module, {**fit, "restart": int(mine.iloc[0]["restart"]), "members": len(members), "restarts": members,
                    "params": params}
