"""The init lab: one architecture trained from every initialization scheme, many restarts each.

Why random initial weights? Units of a layer that start identical get identical gradients and
stay identical, so a layer of 64 units is then worth one. And the scale of the random draw
decides whether the signal survives the depth. The lab shows both on real data:

- an outcome table per scheme (validation score over restarts, the fraction of "good" restarts,
  the fraction that diverged, epochs to the best);
- the signal at initialization (activation std and gradient norm, per layer and scheme);
- the symmetry over training (effective width per layer, scheme and epoch);
- how far each layer's weights moved during training (zero init: exactly not at all, for the
  hidden layers of a relu or tanh net);
- plotly figures, and for 2-D data each first-layer unit's activation over the input plane.

``init_lab("digits")`` returns an ``InitLabResult``; ``result.save(DIR)`` writes ``summary.csv``,
the full tables and one self-contained ``init_lab.html``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from justenough.nets import init as init_mod
from justenough.diagnose.lab_figures import lab_figures
from justenough.diagnose.lab_page import render
from justenough.diagnose.lab_schemes import default_schemes
from justenough.errors import ConfigError, option
from justenough.vocab import validation_metric

__all__ = [
    "InitLabResult",
    "init_lab",
    "default_schemes",
    "SUMMARY_COLUMNS",
]

log = logging.getLogger("justenough")

# The columns ``summary.csv`` always has (more may follow).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "scheme",
    "score_mean",
    "score_std",
    "score_min",
    "score_max",
    "good_fraction",
    "diverged_fraction",
    "median_best_epoch",
    "min_effective_width",
    "max_effective_width",
    "init_act_std_first",
    "init_act_std_last",
    "init_grad_ratio",
)

_MAX_STACK = 32  # members per stack: throughput levels off at 8 to 32 (docs/architecture.md, measured)


# ----------------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitLabResult:
    """What the init lab found.

    summary: one row per scheme (``SUMMARY_COLUMNS``). restarts: one row per (scheme, restart):
    ``scheme, restart, seed, val_score, val_loss, best_epoch, epochs_run, diverged, good``.
    signal: the diagnostics at initialization, one row per (scheme, restart, layer) (see
    ``justenough.diagnose.COLUMNS``; layer ``depth + 1`` is the output layer). symmetry: the
    diagnostics recorded during training, one row per (scheme, restart, epoch, layer).
    movement: ``||W_end - W_init||`` and ``||b_end - b_init||`` per (scheme, restart, layer),
    with the last epoch's weights. figures: plotly figures by name. settings: the lab's
    arguments. notices: things worth knowing (e.g. restarts that diverged).
    """

    summary: pd.DataFrame
    restarts: pd.DataFrame
    signal: pd.DataFrame
    symmetry: pd.DataFrame
    movement: pd.DataFrame
    figures: dict[str, go.Figure]
    settings: dict[str, Any]
    notices: list[str] = field(default_factory=list)

    def html(self) -> str:
        """One self-contained HTML page: plotly JS embedded once, all figures and tables."""
        return render(self)

    def save(self, directory: str | Path) -> Path:
        """Write ``summary.csv``, ``restarts.csv``, ``signal.csv``, ``symmetry.csv``,
        ``movement.csv``, ``settings.json`` and ``init_lab.html`` into ``directory``; returns it."""
        from justenough.run.atomic import write_csv, write_json, write_text

        out = Path(directory)
        if out.exists() and not out.is_dir():
            raise ConfigError(f"cannot save the init lab into {out}: it is a file; pass a directory")
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "summary.csv", self.summary)
        write_csv(out / "restarts.csv", self.restarts)
        write_csv(out / "signal.csv", self.signal)
        write_csv(out / "symmetry.csv", self.symmetry)
        write_csv(out / "movement.csv", self.movement)
        write_json(out / "settings.json", self.settings)
        write_text(out / "init_lab.html", self.html())
        log.info("init lab written to %s", out)
        return out


# ----------------------------------------------------------------------------------------------
# The lab
# ----------------------------------------------------------------------------------------------


def _prepared(data: Any, seed: int, device: str) -> Any:
    from justenough.data import Prepared, load, prepare

    if isinstance(data, Prepared):
        return data
    return prepare(load(data, seed=seed), seed=seed, device=device)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"init_lab: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_lr(lr: Any) -> None:
    # Named as the caller wrote it (`lr=0` here, `--lr 0.0` on the command line): the stack's own
    # check would name MemberSpec.lr, which the caller never saw.
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ConfigError(f"{option('lr', lr)}: the learning rate must be a positive number, e.g. {option('lr', 0.001)}")


def _train_stacks(all_members: list[tuple[str, int]], prepared: Any, settings: Any,
                  progress: Callable[[int, int, int, int], None] | None, *, epochs: int, **chunk: Any) -> "_Collected":
    """Every (scheme, restart) member trained, ``_MAX_STACK`` to a stack, reporting to ``progress``."""
    collected = _Collected()
    n_stacks = math.ceil(len(all_members) / _MAX_STACK)
    for index, start in enumerate(range(0, len(all_members), _MAX_STACK), start=1):
        _train_chunk(all_members[start : start + _MAX_STACK], prepared, settings, collected, epochs=epochs,
                     on_epoch=_stack_progress(progress, index, n_stacks, epochs), **chunk)
        if progress is not None:
            progress(index, n_stacks, epochs, epochs)  # done, also when every restart diverged early
    return collected


def _stack_progress(progress: Callable[[int, int, int, int], None] | None, stack: int, n_stacks: int,
                    epochs: int) -> Callable[[int], None] | None:
    """The trainer's ``on_epoch`` hook for stack ``stack`` of ``n_stacks``, reporting to ``progress``."""
    if progress is None:
        return None
    return lambda epoch: progress(stack, n_stacks, epoch, epochs)


def _checked_specs(schemes: Sequence[str] | None) -> list[str]:
    """The scheme specs, parsed and written the one way (default: ``default_schemes()``)."""
    specs = [str(init_mod.parse(s)) for s in (default_schemes() if schemes is None else list(schemes))]
    if not specs:
        raise ConfigError("init_lab: schemes is empty; pass scheme specs such as ['zeros', 'he_normal'] or None for all")
    if len(set(specs)) != len(specs):
        raise ConfigError(f"init_lab: schemes lists a scheme twice: {specs}")
    return specs


@dataclass
class _Collected:
    """What the lab's training runs record: one entry per restart (restarts), per restart and
    layer (movement), tables per restart (signal, symmetry), the 2-D maps' weights, notices."""

    restarts: list[dict[str, Any]] = field(default_factory=list)
    signal: list[pd.DataFrame] = field(default_factory=list)
    symmetry: list[pd.DataFrame] = field(default_factory=list)
    movement: list[dict[str, Any]] = field(default_factory=list)
    maps_state: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def init_lab(
    data: Any,
    depth: int = 6,
    width: int = 64,
    activation: str = "relu",
    schemes: Sequence[str] | None = None,
    n_init: int = 10,
    epochs: int = 30,
    seed: int = 0,
    *,
    optimizer: str = "adam",
    lr: float = 1e-3,
    batch_size: int = 64,
    tolerance: float = 0.02,
    diagnose_every: int = 1,
    device: str = "cpu",
    out: str | Path | None = None,
    progress: "Callable[[int, int, int, int], None] | None" = None,
) -> InitLabResult:
    """Train ``depth`` hidden layers of ``width`` units from every scheme, ``n_init`` restarts each.

    data: anything ``justenough.data.load`` takes (a bundled dataset name such as ``"digits"``,
    a path, a DataFrame, ``(X, y)``) or a ``Prepared``. schemes: scheme specs (default:
    ``default_schemes()``). Restart k of every scheme uses seed stream k (common random numbers).
    A restart is "good" when its validation score is within ``tolerance`` of the best restart
    overall. Diagnostics are recorded at epoch 0 and every ``diagnose_every`` epochs. With
    ``out``, the result is also saved there. No early stopping: every restart runs ``epochs``.
    ``progress(stack, n_stacks, epoch, epochs)``: called after every epoch of each stack of
    restarts (``stack`` counts from 1), and with ``epoch == epochs`` once each stack is done.
    """
    from justenough.train.seeds import restart_seed
    from justenough.train import TrainSettings

    depth = _check_int("depth", depth, 1)
    width = _check_int("width", width, 1)
    n_init = _check_int("n_init", n_init, 1)
    epochs = _check_int("epochs", epochs, 1)
    seed = _check_int("seed", seed, 0)
    diagnose_every = _check_int("diagnose_every", diagnose_every, 1)
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance >= 0):
        raise ConfigError(f"init_lab: tolerance must be a number >= 0 (in score units), got {tolerance!r}")
    _check_lr(lr)
    specs = _checked_specs(schemes)

    prepared = _prepared(data, seed, device)
    seeds = [restart_seed(seed, k) for k in range(n_init)]
    # Scheme-major: member = s * n_init + k.
    all_members = [(spec, k) for spec in specs for k in range(n_init)]
    settings = TrainSettings(
        optimizer=optimizer, batch_size=batch_size, max_epochs=epochs, patience=None, callback_every=1
    )
    collected = _train_stacks(all_members, prepared, settings, progress, seeds=seeds, depth=depth, width=width,
                              activation=activation, lr=lr, epochs=epochs, diagnose_every=diagnose_every)

    tables = _tables(collected, specs, depth, tolerance)
    lab_settings = _lab_settings(
        prepared, data, depth=depth, width=width, activation=activation, schemes=specs, n_init=n_init, epochs=epochs,
        seed=seed, optimizer=optimizer, lr=lr, batch_size=batch_size, tolerance=tolerance,
        diagnose_every=diagnose_every, best_score=tables.best,
    )
    figures = lab_figures(tables.restarts, tables.signal, tables.symmetry, specs, lab_settings["metric"], depth=depth,
                           width=width, maps_state=collected.maps_state, prepared=prepared, activation=activation)
    for note in collected.notices:
        log.info(note)
    result = InitLabResult(
        summary=tables.summary,
        restarts=tables.restarts,
        signal=tables.signal,
        symmetry=tables.symmetry,
        movement=tables.movement,
        figures=figures,
        settings=lab_settings,
        notices=collected.notices,
    )
    if out is not None:
        result.save(out)
    return result


def _train_chunk(
    chunk: list[tuple[str, int]],
    prepared: Any,
    settings: Any,
    collected: _Collected,
    *,
    seeds: list[int],
    depth: int,
    width: int,
    activation: str,
    lr: float,
    epochs: int,
    diagnose_every: int,
    on_epoch: Callable[[int], None] | None = None,
) -> None:
    """Train one stack of (scheme, restart) members and add what it shows to ``collected``;
    ``on_epoch(epoch)`` after each of its epochs but the last (the caller reports the stack done)."""
    from justenough.diagnose.measures import diagnose
    from justenough.diagnose.recorder import DiagnosticsRecorder
    from justenough.nets.stack import MemberSpec, MLPStack
    from justenough.train import train

    task = str(prepared.task)
    dev = prepared.X_train.device
    X_val, y_val = prepared.X_val, prepared.y_val
    members = [MemberSpec(widths=(width,) * depth, init=spec, seed=seeds[k], lr=lr) for spec, k in chunk]
    stack = MLPStack(
        prepared.n_features, prepared.n_outputs, members, activation=activation, device=dev,
        init_data=prepared.X_train[:512],
    )
    initial = [(w.detach().clone(), b.detach().clone()) for w, b in zip(stack.weights, stack.biases)]
    at_init = diagnose(stack, X_val[:512], y_val[:512], task=task)
    recorder = DiagnosticsRecorder(X_val, every=diagnose_every, y=y_val, task=task, include_output=True)
    last: list[tuple[torch.Tensor, torch.Tensor]] = []

    def callback(epoch: int, stk: Any, state: Any, recorder: Any = recorder, last: list = last) -> list[int]:
        recorder(epoch, stk, state)
        if epoch == epochs:  # the last epoch's weights, before the trainer restores the best
            last.extend((w.detach().clone(), b.detach().clone()) for w, b in zip(stk.weights, stk.biases))
        return []

    before_last = None if on_epoch is None else (lambda epoch: on_epoch(epoch) if epoch < epochs else None)
    trained = train(stack, prepared, settings, callback=callback, on_epoch=before_last)
    collected.notices.extend(trained.notices)
    table = recorder.table()
    for i, ((spec, k), member) in enumerate(zip(chunk, trained.members)):
        collected.restarts.append(
            {
                "scheme": spec,
                "restart": k,
                "seed": seeds[k],
                "val_score": float(member.val_score),
                "val_loss": float(member.val_loss),
                "best_epoch": int(member.best_epoch),
                "epochs_run": int(member.epochs_run),
                "diverged": bool(member.diverged),
            }
        )
        mine = at_init[at_init["member"] == i].drop(columns=["member"])
        collected.signal.append(mine.assign(scheme=spec, restart=k))
        collected.symmetry.append(table[table["member"] == i].drop(columns=["member"]).assign(scheme=spec, restart=k))
        for l, ((w0, b0), (w1, b1)) in enumerate(zip(initial, last or initial)):
            collected.movement.append(
                {
                    "scheme": spec,
                    "restart": k,
                    "layer": l + 1,
                    "kind": "output" if l == depth else "hidden",
                    "weight_change": float((w1[i] - w0[i]).double().norm()),
                    "bias_change": float((b1[i] - b0[i]).double().norm()),
                    "weight_norm_init": float(w0[i].double().norm()),
                }
            )
        if k == 0 and prepared.n_features == 2:
            collected.maps_state[spec] = {key: v.detach().cpu() for key, v in member.state.items()}


def _good_restarts(restarts: list[dict[str, Any]], tolerance: float, notices: list[str]) -> tuple[pd.DataFrame, float]:
    """The restarts table with ``good`` (within ``tolerance`` of the best restart overall) and
    that best score; adds a notice to ``notices`` when restarts diverged."""
    restarts_df = pd.DataFrame(restarts)
    finite = restarts_df["val_score"].replace([np.inf, -np.inf], np.nan)
    best = float(finite.max()) if finite.notna().any() else math.nan
    restarts_df["good"] = finite >= best - tolerance
    n_div = int(restarts_df["diverged"].sum())
    if n_div:
        notices.append(f"{n_div} of {len(restarts_df)} restarts diverged (non-finite loss) and were frozen")
    return restarts_df, best


class _Tables(NamedTuple):
    """The lab's tables (``InitLabResult``'s) and the best validation score of any restart."""

    summary: pd.DataFrame
    restarts: pd.DataFrame
    signal: pd.DataFrame
    symmetry: pd.DataFrame
    movement: pd.DataFrame
    best: float


def _tables(collected: _Collected, specs: list[str], depth: int, tolerance: float) -> _Tables:
    """The tables from what the training runs recorded (a restart is good within ``tolerance``
    of the best restart overall)."""
    notices = collected.notices
    restarts_df, best = _good_restarts(collected.restarts, tolerance, notices)
    front = ["scheme", "restart"]
    signal_df = _front(pd.concat(collected.signal, ignore_index=True), front)
    symmetry_df = _front(pd.concat(collected.symmetry, ignore_index=True), front)
    movement_df = pd.DataFrame(collected.movement)
    summary = _summary(specs, restarts_df, signal_df, symmetry_df, depth)


    return _Tables(summary, restarts_df, signal_df, symmetry_df, movement_df, best)


def _lab_settings(prepared: Any, data: Any, **arguments: Any) -> dict[str, Any]:
    """What ``settings.json`` records: the data, the task, the lab's ``arguments`` in order, the metric."""
    task = str(prepared.task)
    return {
        "data": str(getattr(prepared, "source", data if isinstance(data, str) else type(data).__name__)),
        "task": task,
        **arguments,
        "metric": validation_metric(task),
    }


def _front(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    return df[first + [c for c in df.columns if c not in first]].reset_index(drop=True)


def _summary(
    specs: list[str], restarts: pd.DataFrame, signal: pd.DataFrame, symmetry: pd.DataFrame, depth: int
) -> pd.DataFrame:
    rows = []
    for spec in specs:
        r = restarts[restarts["scheme"] == spec]
        scores = r["val_score"].astype(float)
        hidden = symmetry[(symmetry["scheme"] == spec) & (symmetry["layer"] <= depth)]
        widths = hidden["effective_width"].dropna().astype(float)
        sig = signal[(signal["scheme"] == spec)]
        first = sig[sig["layer"] == 1]["act_std"].astype(float)
        last_ = sig[sig["layer"] == depth]["act_std"].astype(float)
        ratio = sig[sig["layer"] == 1]["grad_ratio"].astype(float)
        rows.append(
            {
                "scheme": spec,
                "score_mean": float(scores.mean()),
                "score_std": float(scores.std(ddof=1)) if len(scores) > 1 else 0.0,
                "score_min": float(scores.min()),
                "score_max": float(scores.max()),
                "good_fraction": float(r["good"].mean()),
                "diverged_fraction": float(r["diverged"].mean()),
                "median_best_epoch": float(r["best_epoch"].median()),
                "min_effective_width": int(widths.min()) if len(widths) else None,
                "max_effective_width": int(widths.max()) if len(widths) else None,
                "init_act_std_first": float(first.median()) if len(first) else math.nan,
                "init_act_std_last": float(last_.median()) if len(last_) else math.nan,
                "init_grad_ratio": float(ratio.median()) if ratio.notna().any() else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
