"""After the search: choose, open the sealed test split once, measure, and write the run directory.

``finalize`` turns a study into a ``SearchResult``:

1. the restarts table (one row per restart) and the leaderboard (one row per config),
2. the rule picks a config (``select.choose``); its best restart by validation is the model,
3. only then is the sealed test split opened, once, for that model only (invariant 4),
4. training time, latency (batch 1 and 1024) and throughput are measured,
5. the run directory is written file by file, each atomically.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from optuna.trial import TrialState

from justenough.errors import JustEnoughError
from justenough.model import Model
from justenough.numbers import finite_or_none
from justenough.search.config import Config
from justenough.search.space import Space
from justenough.search.study import StudyHandle

__all__ = ["SearchResult", "finalize", "config_columns", "restarts_table", "history_table", "diagnostics_table", "measure_latency"]


@dataclass
class SearchResult:
    """What a search returns; the same facts are in the run directory."""

    chosen: dict[str, Any]
    explanation: str
    leaderboard: pd.DataFrame
    restarts: pd.DataFrame
    history: pd.DataFrame
    diagnostics: pd.DataFrame
    test_metric: str
    test_score: float
    test_metrics: dict[str, float]
    model: Model
    summary: dict[str, Any]
    out: Path | None = None
    report_path: Path | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def baseline(self) -> dict[str, Any]:
        """What no network scores on validation (``summary["baseline"]``)."""
        return dict(self.summary.get("baseline") or {})

    @property
    def paired(self) -> dict[str, Any] | None:
        """The choice against its closest rival, restart by restart (``summary["paired"]``)."""
        paired = self.summary.get("paired")
        return dict(paired) if paired else None


def _config_of(trial: Any) -> Config:
    return Config.from_dict(trial.user_attrs["config"])


def _finished(handle: StudyHandle) -> list[Any]:
    """Complete or pruned trials that hold a config of their own (not duplicates), in order."""
    trials = handle.trials((TrialState.COMPLETE, TrialState.PRUNED))
    return [
        t for t in sorted(trials, key=lambda t: t.number)
        if "config" in t.user_attrs and t.user_attrs.get("duplicate_of") is None
    ]


def _per_restart(trial: Any, part: str | None = None) -> list[tuple[int, Any]]:
    """(restart, value) for each of the trial's ``restart_{k}`` attributes: the whole record, or
    one ``part`` of it ("history", "diagnostics"). Studies written by earlier versions kept those parts
    in attributes of their own (``history_{k}``, ``diagnostics_{k}``); they are read too."""
    out = []
    for name, record in trial.user_attrs.items():
        if not name.startswith("restart_"):
            continue
        k = int(name[len("restart_"):])
        if part is None:
            out.append((k, record))
        elif part in record:
            if record[part]:
                out.append((k, record[part]))
        elif f"{part}_{k}" in trial.user_attrs:
            out.append((k, trial.user_attrs[f"{part}_{k}"]))
    return out


def config_columns(cfg: Config, n_in: int, n_out: int) -> dict[str, Any]:
    """A config as the tables and the summary show it: its key, label, every setting, its size."""
    return {
        "key": cfg.key,
        "label": cfg.label,
        "depth": cfg.depth,
        "widths": list(cfg.widths),
        "activation": cfg.activation,
        "init": cfg.init,
        "optimizer": cfg.optimizer,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "batch_size": cfg.batch_size,
        "max_epochs": cfg.max_epochs,
        "patience": cfg.patience,
        "monitor": cfg.monitor,
        "schedule": cfg.schedule,
        "params": int(cfg.params(n_in, n_out)),
        "flops": int(cfg.flops(n_in, n_out)),
    }


def restarts_table(handle: StudyHandle, n_in: int, n_out: int) -> pd.DataFrame:
    """One row per restart of every finished (complete or pruned) trial."""
    rows = []
    for t in _finished(handle):
        cfg = _config_of(t)
        for _, rec in _per_restart(t):
            rows.append(
                {
                    **config_columns(cfg, n_in, n_out),
                    "widths": "-".join(str(w) for w in cfg.widths),
                    "width": int(cfg.widths[0]) if cfg.widths else 0,  # 0: no hidden layer (depth 0)
                    "restart": int(rec["restart"]),
                    "seed": int(rec["seed"]),
                    "val_score": _nan(rec.get("val_score")),
                    "val_loss": _nan(rec.get("val_loss")),
                    "train_loss": _nan(rec.get("train_loss")),
                    "best_epoch": rec.get("best_epoch"),
                    "epochs_run": rec.get("epochs_run"),
                    "diverged": bool(rec.get("diverged")),
                    "stopped_by": rec.get("stopped_by"),
                    "train_time": rec.get("train_time"),
                    "pruned": t.state == TrialState.PRUNED,
                    "pruned_rung": t.user_attrs.get("pruned_rung"),
                    "trial": t.number,
                }
            )
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.sort_values(["depth", "width", "key", "restart"], kind="stable").reset_index(drop=True)
    return df


def history_table(handle: StudyHandle) -> pd.DataFrame:
    """Per-epoch learning curves: key, restart, epoch, train_loss, val_loss, val_score."""
    rows = []
    for t in _finished(handle):
        key = t.user_attrs["key"]
        for restart, hist in _per_restart(t, "history"):
            n = len(hist.get("train_loss", []))
            for e in range(n):
                rows.append(
                    {
                        "key": key,
                        "restart": restart,
                        "epoch": e + 1,
                        "train_loss": _nan(hist["train_loss"][e]),
                        "val_loss": _nan(hist.get("val_loss", [None] * n)[e]),
                        "val_score": _nan(hist.get("val_score", [None] * n)[e]),
                    }
                )
    return pd.DataFrame(rows, columns=["key", "restart", "epoch", "train_loss", "val_loss", "val_score"])


def diagnostics_table(handle: StudyHandle) -> pd.DataFrame:
    """Diagnostics records (one per key, restart, epoch and layer) stored by the trainer's hook."""
    rows: list[dict[str, Any]] = []
    for t in _finished(handle):
        key = t.user_attrs["key"]
        for restart, recs in _per_restart(t, "diagnostics"):
            rows.extend({"key": key, "restart": restart, **rec} for rec in recs)
    return pd.DataFrame(rows)


def _nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


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


def _config_latency_ms(cfg: Config, n_in: int, n_out: int) -> float:
    """Per-sample latency at batch 1 of the config's architecture (weights do not change it)."""
    from justenough.artifacts import build_module

    module = build_module({"n_in": n_in, "widths": list(cfg.widths), "n_out": n_out, "activation": cfg.activation})
    return measure_latency(module, n_in, 1, repeats=20) * 1000.0


def _retrain(cfg: Config, restart: int, seed: int, prepared: Any, device: str, precision: str = "float32") -> dict[str, np.ndarray]:
    """Re-create a restart's weights from its seed (exact on CPU: invariant 3)."""
    from justenough.search.task import StackTask, run_stack_task
    from justenough.search.training_data import TrainingData

    task = StackTask(configs=(cfg,), restarts=(restart,), study_seed=seed, device=device, precision=precision)
    (result,) = run_stack_task(task, TrainingData.from_prepared(prepared))
    return result.state


def finalize(
    *,
    handle: StudyHandle,
    prepared: Any,
    space: Space,
    rule: str,
    n_init: int,
    seed: int,
    device: str,
    max_params: int | None,
    precision: str = "float32",
    max_latency_ms: float | None,
    out: Path | None,
    weights: Any,
    report: bool = True,
    refit: bool = False,
    growth: dict[str, Any] | None = None,
) -> SearchResult:
    from justenough import __version__
    from justenough.artifacts import build_module
    from justenough.atomic import write_csv, write_json
    from justenough.metrics import score
    from justenough.select import best_first, choose, leaderboard, paired_evidence, parse_rule

    n_in, n_out = int(prepared.n_features), int(prepared.n_outputs)
    restarts = restarts_table(handle, n_in, n_out)
    if restarts.empty:
        raise JustEnoughError("the search finished no config: nothing to choose from (was the time budget too short?)")
    board = leaderboard(restarts)
    configs = {t.user_attrs["key"]: _config_of(t) for t in _finished(handle)}
    board["latency_ms"] = [_config_latency_ms(configs[k], n_in, n_out) for k in board["key"]]
    if "pruned" not in board.columns:
        pruned_keys = set(restarts.loc[restarts["pruned"], "key"])
        board["pruned"] = board["key"].isin(pruned_keys)
    board = best_first(board)  # leaderboard.csv and result.leaderboard read like the printed table
    percent = prepared.task == "classification"
    metric_name = "accuracy" if percent else "r2"
    rule_obj = parse_rule(rule)
    eligible = board[~board["pruned"].astype(bool)].reset_index(drop=True)
    choice = choose(eligible, rule_obj, max_params=max_params, max_latency_ms=max_latency_ms, metric_name=metric_name,
                    percent=percent, restarts=restarts)
    board["chosen"] = board["key"] == choice.key
    cfg = configs[choice.key]

    # The model: the chosen config's best restart by validation score (ties: the lowest restart).
    mine = restarts[(restarts["key"] == choice.key) & (~restarts["diverged"])].sort_values(
        ["val_score", "restart"], ascending=[False, True]
    )
    best = mine.iloc[0]
    state = weights.get(choice.key, int(best["restart"]))
    if state is None:
        state = _retrain(cfg, int(best["restart"]), seed, prepared, device, precision)
    # Which model the test scores (refit.py): the best restart as the search trained it, or the
    # chosen config trained again on train+validation for its restarts' median best epoch.
    sizes = prepared.split_sizes
    model_fit: dict[str, Any] = {"fit_on": "train", "rows": int(sizes["train"]), "restart": int(best["restart"]),
                                 "epochs": int(best["best_epoch"])}
    # The validation rows may also be the test rows (no independent test split): refitting on
    # them would train on the test, so the best restart stays the model.
    refit_skipped = bool(refit and getattr(prepared, "test_is_val", False))
    if refit and not refit_skipped:
        from justenough.search.refit import refit as refit_model
        from justenough.search.refit import refit_epochs
        from justenough.search.task import restart_seed

        epochs = refit_epochs(mine)
        state = refit_model(cfg, restart_seed(seed, int(best["restart"])), prepared, epochs, device=device, precision=precision)
        model_fit = {"fit_on": "train+validation", "rows": int(sizes["train"]) + int(sizes["val"]),
                     "restart": int(best["restart"]), "epochs": min(epochs, cfg.max_epochs)}
    arch = {"n_in": n_in, "widths": list(cfg.widths), "n_out": n_out, "activation": cfg.activation}
    module = build_module(arch)
    module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in state.items()})
    module.eval()

    # Invariant 4: the sealed test split is opened here, once, for the chosen model only.
    X_test, y_test = prepared.test.open()
    with torch.no_grad():
        out_test = module(X_test.cpu()).numpy()
    y_true = y_test.cpu().numpy()
    if percent:
        test_metrics = score("classification", y_true, out_test)
    else:
        enc = prepared.target_encoder
        test_metrics = score("regression", enc.decode(y_true), enc.decode(out_test[:, 0]))
    test_metrics = {k: float(v) for k, v in test_metrics.items()}
    test_score = float(test_metrics[metric_name])
    scored = _record_test_scoring(handle, {"key": choice.key, "label": cfg.label, "restart": int(best["restart"]), "rule": str(rule)},
                                  out)

    lat1 = measure_latency(module, n_in, 1)
    lat1024 = measure_latency(module, n_in, 1024, repeats=10)
    row = board[board["key"] == choice.key].iloc[0]
    p_good = _nan(row.get("p_good"))
    r95 = row.get("restarts_for_95")
    r95 = None if r95 is None or (isinstance(r95, float) and not math.isfinite(r95)) else int(r95)
    chosen = {**config_columns(cfg, n_in, n_out), "best_restart": int(best["restart"])}
    versions = {"justenough": __version__, "torch": torch.__version__, "python": platform.python_version()}
    summary = {
        "chosen": chosen,
        "rule": str(rule),
        "explanation": choice.explanation,
        "metric": metric_name,
        "test_metric": metric_name,
        "test_score": test_score,
        "test_metrics": test_metrics,
        # "sealed": an independent test split, opened once; "validation": the caller passed the
        # validation rows as the test rows, so test_score is the chosen model's validation score.
        "test_split": "validation" if getattr(prepared, "test_is_val", False) else "sealed",
        # Every model the test split has scored in this study (this run directory), this one included:
        # past one, the test score is one of several looks at the same rows, no longer unbiased.
        "test_models_scored": len(scored),
        "test_scored_models": scored,
        "val_score_mean": float(row["val_mean"]),
        "val_score_std": _nan(row.get("val_std")),
        "val_score_se": _nan(row.get("val_se")),
        "best_restart_val_score": float(best["val_score"]),
        "model": model_fit,
        "n_init": n_init,
        "n_configs": int(len(board)),
        "n_restarts": int(len(restarts)),
        "p_good": p_good,
        "restarts_for_95": r95,
        "train_time": float(restarts.loc[restarts["key"] == choice.key, "train_time"].sum()),
        "search_train_time": float(restarts["train_time"].sum()),
        "latency_ms": {"batch_1": lat1 * 1000.0, "batch_1024": lat1024 * 1000.0},
        "throughput": 1024.0 / lat1024 if lat1024 > 0 else None,
        "limits": {"max_params": max_params, "max_latency_ms": max_latency_ms},
        "split_sizes": dict(prepared.split_sizes),
        "task": prepared.task,
        "seed": seed,
        "precision": precision,
        "storage": "memory" if handle.url is None else handle.url.split("://")[0],
        "versions": versions,
    }
    if growth is not None:  # the grow strategy: its path, its stops and the configs not needed
        summary["growth"] = growth
    # What no network scores on the same validation rows, and a notice when the choice does no better.
    from justenough.baseline import no_network_baseline, weak_signal_notice

    summary["baseline"] = no_network_baseline(prepared)
    # Restarts as evidence: the choice against its closest rival, restart k against restart k.
    summary["paired"] = paired_evidence(eligible, restarts, choice)
    weak = weak_signal_notice(summary["baseline"], float(row["val_mean"]), finite_or_none(row.get("val_se")), cfg.label, percent)
    summary["notices"] = [weak] if weak else []
    if refit_skipped:
        summary["notices"].append("no refit on train+validation: the validation rows are also the test rows, "
                                  "so the best restart (trained on the training rows) is the model")
    if len(scored) > 1 and summary["test_split"] == "sealed":  # validation rows as the test are optimistic anyway
        summary["notices"].append(_reused_test_notice(scored))
    summary = json.loads(json.dumps(summary, default=_json_default))

    info = {"config": chosen, "metrics": {"test": test_metrics, "val_mean": float(row["val_mean"])}, "versions": versions,
            "fit": model_fit}
    # How the table was read (a decimal comma, a given delimiter or encoding): predict reads new rows alike.
    info["reading"] = dict(getattr(prepared, "reading", {}))
    model = Model(
        module,
        activation=cfg.activation,
        preprocessor=prepared.preprocessor,
        target_encoder=prepared.target_encoder,
        task=prepared.task,
        target_name=prepared.target_name,
        info=info,
    )
    history = history_table(handle)
    diagnostics = diagnostics_table(handle)
    result = SearchResult(
        chosen=chosen,
        explanation=choice.explanation + (f" ({growth['explanation']})" if growth else ""),
        leaderboard=board,
        restarts=restarts,
        history=history,
        diagnostics=diagnostics,
        test_metric=metric_name,
        test_score=test_score,
        test_metrics=test_metrics,
        model=model,
        summary=summary,
        out=out,
        notices=[*prepared.notices, *summary["notices"]],
    )
    if out is not None:
        model.save(out)
        write_csv(out / "results.csv", restarts)
        write_csv(out / "leaderboard.csv", board)
        write_csv(out / "history.csv", history)
        write_csv(out / "diagnostics.csv", diagnostics)
        write_json(out / "data.json", json.loads(json.dumps(prepared.describe(), default=_json_default)))
        write_json(out / "summary.json", summary)
        if report:
            from justenough.report import build_report

            result.report_path = build_report(out)
    return result


TEST_SCORED_ATTR = "test_scored_models"  # the study attribute that remembers what the test split scored


def _record_test_scoring(handle: StudyHandle, model: dict[str, Any], out: Path | None) -> list[dict[str, Any]]:
    """Add ``model`` (its config key and restart; label and rule for people) to the models this
    study's test split has scored, and return them all, oldest first. Scoring the same model again
    (the same config and restart, e.g. rerunning with the same rule) adds nothing: it is the same
    look at the test rows. Kept in the study, so a rerun of the run directory sees earlier ones; a
    study from before the count started from the model its run directory's summary.json names."""
    recorded = handle.get_attr(TEST_SCORED_ATTR)
    scored = [dict(m) for m in recorded or []]
    if recorded is None and out is not None:
        # Only a summary of this study's own configs counts: a leftover from other data does not.
        known = set(handle.keys_in([TrialState.COMPLETE]))
        scored = [m for m in _scored_before_the_count(out) if m["key"] in known]
    if not any(m.get("key") == model["key"] and m.get("restart") == model["restart"] for m in scored):
        scored.append(model)
        handle.set_attr(TEST_SCORED_ATTR, scored)
    return scored


def _scored_before_the_count(out: Path) -> list[dict[str, Any]]:
    """The model an earlier version's summary.json says it scored on the test split (none when
    there is no readable summary)."""
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        chosen = summary["chosen"]
        return [{"key": str(chosen["key"]), "label": str(chosen.get("label")), "restart": int(chosen["best_restart"]),
                 "rule": str(summary.get("rule"))}]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _reused_test_notice(scored: list[dict[str, Any]]) -> str:
    """Say plainly that a test split that scored several models no longer gives an unbiased estimate."""
    models = "; ".join(f"{m.get('label')} restart {m.get('restart')} by rule {m.get('rule')}" for m in scored)
    return (
        f"the sealed test split has now scored {len(scored)} different models ({models}): the test score is no "
        "longer an unbiased estimate of the score on new data, since picking among them by it would fit the "
        "test rows; for an unbiased one, score the choice on rows no model has seen (--test-file)"
    )


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (np.ndarray,)):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)
