"""After the search: choose, open the sealed test split once, measure, and write the run directory.

``finalize`` turns a study into a ``SearchResult``:

1. the restarts table (one row per restart) and the leaderboard (one row per config),
2. the rule picks a config (``select.choose``); its best restart by validation is the model (with
   ``ensemble``: the mean of its restarts, ``engine/ensemble.py``, whose cost the limits count, and
   the rule then judges every config as its ensemble: ``select/ensemble_noise.py``),
3. only then is the sealed test split opened, once, for that model only (invariant 4, docs/architecture.md),
4. training time, latency (batch 1 and 1024) and throughput are measured,
5. the run directory is written file by file, each atomically.
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from optuna.trial import TrialState

from justenough.errors import ArtifactError, JustEnoughError
from justenough.display_numbers import counted, finite_or_none, float_or_nan
from justenough.engine.latency import config_latency_ms, measure_latency
from justenough.run.files import read_summary
from justenough.run.growth import Growth
from justenough.run.model import Model
from justenough.run.result import SearchResult
from justenough.run.summary import Summary
from justenough.study.tables import (
    config_columns,
    diverged_restarts,
    config_of,
    diagnostics_table,
    finished_trials,
    history_table,
    restarts_table,
)
from justenough.space.config import Config
from justenough.study.storage import StudyHandle
from justenough.vocab import Task, validation_metric

if TYPE_CHECKING:
    from justenough.settings import SearchSettings
    from justenough.engine.train_study import Trained
    from justenough.select import Choice, RowEvidence
    from justenough.select.rules import Rule

__all__ = ["finalize", "not_trained_text", "lr_choice_text"]


def finalize(settings: SearchSettings, trained: Trained) -> SearchResult:
    """The five steps of the module's docstring, in order; returns what the run directory holds.
    ``settings``: the search's (the rule, the limits, the seed, the device and precision, ``out``,
    ``refit``), as they are; ``trained``: what the search left (``engine/train_study.py``): the
    study, the data, the weights kept, the growth, and ``evidence`` (a ``study.weights.EvidenceStore``),
    which holds each restart's per-row validation evidence: the noise model's (``select/noise.py``); without it the rule reads the restarts' spread.
    ``folds`` > 1: the restarts were validated by cross-validation, so no restart was trained on
    all the rows; the chosen config is always refit (``refit`` is then implied). ``not_trained``:
    the grid's configs the search stopped before (labels) and why; the explanation names them."""
    handle, prepared, weights, growth, folds = trained.handle, trained.prepared, trained.weights, trained.growth, trained.folds
    rule, seed, device, precision, out = settings.rule, settings.seed, settings.device, settings.precision, settings.out
    max_params, max_latency_ms, not_trained = settings.max_params, settings.max_latency_ms, trained.not_trained
    refit = settings.refit or folds > 1
    n_in, n_out = int(prepared.n_features), int(prepared.n_outputs)
    restarts, board, configs = _tables(handle, n_in, n_out)  # step 1
    if settings.ensemble:  # the model is the mean of a config's restarts: the limits count its cost
        from justenough.engine.ensemble import with_ensemble_cost

        board = with_ensemble_cost(board, configs, n_in, n_out, prepared.task)
    board, shares = _judged(board, restarts, trained.evidence, settings, prepared.task)
    if settings.lr_per_config:  # each family keeps its best learning rate before the rule (select/lr_choice.py)
        from justenough.select.lr_choice import kept_lrs

        board["lr_kept"] = kept_lrs(board, configs)
    percent = prepared.task == Task.CLASSIFICATION
    metric_name = validation_metric(prepared.task)
    pick = _pick(board, restarts, configs, rule, metric_name=metric_name, percent=percent, max_params=max_params,
                 max_latency_ms=max_latency_ms, evidence=shares)  # step 2
    # An ensemble of one restart (n_init=1, or every other restart diverged) is that network: the
    # model is then the single network, and nothing speaks of a mean.
    ensemble = bool(settings.ensemble) and int(pick.choice.row.get("ensemble_members", 1)) > 1
    if ensemble:  # what the ensemble costs, in the explanation
        from justenough.engine.ensemble import cost_sentence

        text = pick.choice.explanation + cost_sentence(pick.choice.row, percent)
        pick = replace(pick, choice=replace(pick.choice, explanation=text))
    lr_choice = _lr_choice(pick, board, configs) if settings.lr_per_config else None
    if lr_choice is not None:
        pick = replace(pick, choice=replace(pick.choice, explanation=pick.choice.explanation + lr_choice_text(lr_choice)))
    if not_trained:  # the reason is never false: it says what the choice could not see
        text = pick.choice.explanation + not_trained_text(*not_trained, n_trained=len(board))
        pick = replace(pick, choice=replace(pick.choice, explanation=text))
    board["chosen"] = board["key"] == pick.choice.key
    fitted = _fit_model(pick, prepared, weights, seed=seed, device=device, precision=precision, refit=refit,
                        folds=folds, ensemble=ensemble)
    test_metrics = _score_on_test(fitted.module, prepared, percent)  # step 3
    best_restart = int(pick.best["restart"])
    tested = {"key": pick.choice.key, "label": pick.config.label, "restart": best_restart, "rule": str(rule)}
    if ensemble:  # another model than the best restart alone: a look of its own at the test rows
        tested["ensemble"] = int(fitted.fit["members"])
    scored = _record_test_scoring(handle, tested, out)
    speed = _measure_speed(fitted.module, n_in)  # step 4
    chosen = {**config_columns(pick.config, n_in, n_out), "best_restart": best_restart}
    summary = _summary(pick, chosen, board, restarts, prepared, fitted, rule=rule, metric_name=metric_name,
                       test_metrics=test_metrics, scored=scored, speed=speed, n_init=settings.n_init, seed=seed,
                       precision=precision, limits={"max_params": max_params, "max_latency_ms": max_latency_ms},
                       storage="memory" if handle.url is None else handle.url.split("://")[0], growth=growth,
                       evidence=shares, folds=folds, ensemble=ensemble, lr_choice=lr_choice)
    model = _model(fitted, pick, chosen, summary, prepared, test_metrics)
    result = SearchResult(
        chosen=chosen,
        explanation=pick.choice.explanation + (f" ({growth.explanation})" if growth else ""),
        leaderboard=board,
        restarts=restarts,
        history=history_table(handle),
        diagnostics=diagnostics_table(handle),
        test_metric=metric_name,
        test_score=float(test_metrics[metric_name]),
        test_metrics=test_metrics,
        model=model,
        summary=summary.to_dict(),
        out=out,
        notices=[*prepared.notices, *summary.notices],
    )
    if out is not None:
        _write_run_dir(out, result, prepared)  # step 5 (the report, read from these files, is its caller's)
    return result


def _tables(handle: StudyHandle, n_in: int, n_out: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Config]]:
    """Step 1: the restarts table, the leaderboard (best first, with each config's latency and
    whether it was pruned) and the configs by key."""
    from justenough.select import best_first, leaderboard

    restarts = restarts_table(handle, n_in, n_out)
    if restarts.empty:
        raise JustEnoughError("the search finished no config: nothing to choose from (was the time budget too short?)")
    board = leaderboard(restarts)
    configs = {t.user_attrs["key"]: config_of(t) for t in finished_trials(handle)}
    board["latency_ms"] = [config_latency_ms(configs[k], n_in, n_out) for k in board["key"]]
    if "pruned" not in board.columns:
        pruned_keys = set(restarts.loc[restarts["pruned"], "key"])
        board["pruned"] = board["key"].isin(pruned_keys)
    board = best_first(board)  # leaderboard.csv and result.leaderboard read like the printed table
    return restarts, board, configs


def not_trained_text(labels: list[str], reason: str, *, n_trained: int) -> str:
    """``". Not trained: 3 configs (2x256, 3x128, 3x256): the search stopped (time budget) before
    them; the choice is among the 19 it trained"``."""
    shown = ", ".join(labels[:6]) + (", ..." if len(labels) > 6 else "")
    return (f". Not trained: {counted(len(labels), 'config')} ({shown}): the search stopped ({reason}) before "
            f"them; the choice is among the {n_trained} it trained")


def _judged(board: pd.DataFrame, restarts: pd.DataFrame, store: Any, settings: SearchSettings,
            task: str) -> tuple[pd.DataFrame, Any]:
    """The leaderboard with the noise model's SE (over rows and restarts), and the evidence the rule
    reads: per-row shares by config and restart (those that did not diverge), or, when the model
    is the mean of the restarts, each config's ensemble (``EvidenceStore.for_choice``;
    select/ensemble_noise.py: ``val_mean`` becomes the ensemble's score, ``val_se`` its noise).
    Without a store, no evidence: the restarts' spread."""
    from justenough.select import with_noise

    if store is None:
        return board, {}
    ensembles_of = task if settings.judges_ensembles else None
    evidence = store.for_choice([str(k) for k in board["key"]], diverged_restarts(restarts), ensembles_of)
    return with_noise(board, evidence), evidence


@dataclass(frozen=True)
class _Pick:
    """Step 2's choice: the rule's ``choice`` among the ``eligible`` leaderboard rows (not pruned),
    its ``config``, and its restarts that did not diverge, best first (``mine``)."""

    choice: Choice
    config: Config
    eligible: pd.DataFrame
    mine: pd.DataFrame

    @property
    def best(self) -> pd.Series:
        """The model's restart: the chosen config's best by validation score."""
        return self.mine.iloc[0]


def _pick(board: pd.DataFrame, restarts: pd.DataFrame, configs: dict[str, Config], rule: Rule, *, metric_name: str,
          percent: bool, max_params: int | None, max_latency_ms: float | None,
          evidence: RowEvidence | None = None) -> _Pick:
    """Step 2: the rule picks a config among those not pruned, within the limits."""
    from justenough.select import choose

    eligible = board[~board["pruned"].astype(bool)]
    if "lr_kept" in eligible.columns:  # lr_per_config: the other rates of a family are never chosen
        eligible = eligible[eligible["lr_kept"].astype(bool)]
    eligible = eligible.reset_index(drop=True)
    choice = choose(eligible, rule, max_params=max_params, max_latency_ms=max_latency_ms, metric_name=metric_name,
                    percent=percent, restarts=restarts, evidence=evidence)
    # The model: the chosen config's best restart by validation score (ties: the lowest restart).
    mine = restarts[(restarts["key"] == choice.key) & (~restarts["diverged"])].sort_values(
        ["val_score", "restart"], ascending=[False, True]
    )
    return _Pick(choice=choice, config=configs[choice.key], eligible=eligible, mine=mine)


def _lr_choice(pick: _Pick, board: pd.DataFrame, configs: dict[str, Config]) -> dict[str, Any] | None:
    """``summary.json``'s ``lr_choice``: the chosen family's rates and validation means (None
    when the space lists one rate: there was nothing to choose)."""
    from justenough.select.lr_choice import lr_choice_of

    choice = lr_choice_of(board, configs, pick.choice.key)
    return choice if len(choice["val_means"]) > 1 else None


def lr_choice_text(lr_choice: dict[str, Any]) -> str:
    """``". Its learning rate, 0.003, was the best of 0.001, 0.003, 0.01 on validation"``."""
    rates = ", ".join(lr_choice["val_means"])
    return f". Its learning rate, {lr_choice['lr']:g}, was the best of {rates} on validation"


@dataclass(frozen=True)
class _Fitted:
    """The model the test scores: its ``module``, how it was fitted (``summary["model"]``), and
    whether a refit was asked for but skipped (the validation rows are the test rows)."""

    module: torch.nn.Module  # an nn.Sequential, or a RestartEnsemble of them (ensemble)
    fit: dict[str, Any]
    refit_skipped: bool


def _fit_model(pick: _Pick, prepared: Any, weights: Any, *, seed: int, device: str, precision: str, refit: bool,
               folds: int = 1, ensemble: bool = False) -> _Fitted:
    """Step 2's model: the best restart's weights (kept, or trained again from its seed), or the
    chosen config refit on train+validation (always with ``folds`` > 1); with ``ensemble``, the
    mean of all its restarts that did not diverge, each so (``engine/ensemble.fit_ensemble``)."""
    from justenough.engine.retrain import retrain_restarts
    from justenough.run.artifacts import build_module

    # The validation rows may also be the test rows (no independent test split): refitting on
    # them would train on the test, so the best restart stays the model. With folds every restart
    # already trained on most of those rows, so the refit on all of them goes ahead (and a notice
    # says the test score is then a training score).
    refit_skipped = bool(refit and getattr(prepared, "test_is_val", False) and folds <= 1)
    if ensemble:
        from justenough.engine.ensemble import fit_ensemble

        module, fit = fit_ensemble(pick.config, pick.choice.key, pick.mine, prepared, weights, seed=seed, device=device,
                                   precision=precision, refit=refit and not refit_skipped)
        return _Fitted(module=module, fit=fit, refit_skipped=refit_skipped)
    cfg, best = pick.config, pick.best
    state = weights.get(pick.choice.key, int(best["restart"]))
    if state is None:  # re-created from its seed (exact on CPU: invariant 3, docs/architecture.md)
        state = retrain_restarts(cfg, [int(best["restart"])], seed, prepared, device, precision)[int(best["restart"])]
    # Which model the test scores (refit.py): the best restart as the search trained it, or the
    # chosen config trained again on train+validation for its restarts' median best epoch.
    sizes = prepared.split_sizes
    model_fit: dict[str, Any] = {"fit_on": "train", "rows": int(sizes["train"]), "restart": int(best["restart"]),
                                 "epochs": int(best["best_epoch"])}
    if refit and not refit_skipped:
        from justenough.engine.refit import refit as refit_model
        from justenough.engine.refit import refit_epochs
        from justenough.train.seeds import restart_seed

        epochs = refit_epochs(pick.mine)
        state = refit_model(cfg, restart_seed(seed, int(best["restart"])), prepared, epochs, device=device, precision=precision)
        model_fit = {"fit_on": "train+validation", "rows": int(sizes["train"]) + int(sizes["val"]),
                     "restart": int(best["restart"]), "epochs": min(epochs, cfg.max_epochs)}
    module = build_module(cfg.model_architecture(int(prepared.n_features), int(prepared.n_outputs)))
    module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in state.items()})
    module.eval()
    return _Fitted(module=module, fit=model_fit, refit_skipped=refit_skipped)


def _score_on_test(module: torch.nn.Module, prepared: Any, percent: bool) -> dict[str, float]:
    """Step 3: the chosen model's metrics on the test split."""
    from justenough.train.metrics import score

    # Invariant 4 (docs/architecture.md): the sealed test split is opened here, once, for the chosen model only.
    X_test, y_test = prepared.test.open()
    with torch.no_grad():
        out_test = module(X_test.cpu()).numpy()
    y_true = y_test.cpu().numpy()
    if percent:
        test_metrics = score(Task.CLASSIFICATION, y_true, out_test)
    else:
        enc = prepared.target_encoder
        test_metrics = score("regression", enc.decode(y_true), enc.decode(out_test[:, 0]))
    return {k: float(v) for k, v in test_metrics.items()}


def _measure_speed(module: torch.nn.Module, n_in: int) -> dict[str, Any]:
    """Step 4: latency at batch 1 and 1024 (ms) and throughput (rows per second at batch 1024)."""
    lat1 = measure_latency(module, n_in, 1)
    lat1024 = measure_latency(module, n_in, 1024, repeats=10)
    return {"latency_ms": {"batch_1": lat1 * 1000.0, "batch_1024": lat1024 * 1000.0},
            "throughput": 1024.0 / lat1024 if lat1024 > 0 else None}


def _summary(pick: _Pick, chosen: dict[str, Any], board: pd.DataFrame, restarts: pd.DataFrame, prepared: Any,
             fitted: _Fitted, *, rule: Rule, metric_name: str, test_metrics: dict[str, float],
             scored: list[dict[str, Any]], speed: dict[str, Any], n_init: int, seed: int, precision: str,
             limits: dict[str, Any], storage: str, growth: Growth | None,
             evidence: RowEvidence | None = None, folds: int = 1,
             ensemble: bool = False, lr_choice: dict[str, Any] | None = None) -> Summary:
    """``summary.json``: the choice and why, its test score, its restarts, its speed, and the evidence."""
    from justenough.select.ensemble_noise import EnsembleEvidence
    from justenough.version import __version__

    row = board[board["key"] == pick.choice.key].iloc[0]
    r95 = row.get("restarts_for_95")
    r95 = None if r95 is None or (isinstance(r95, float) and not math.isfinite(r95)) else int(r95)
    # "sealed": an independent test split, opened once; "validation": the caller passed the
    # validation rows as the test rows, so test_score is the chosen model's validation score.
    test_split = "validation" if getattr(prepared, "test_is_val", False) else "sealed"
    baseline, paired, notices = _evidence(pick, row, restarts, prepared, fitted, scored, test_split, evidence)
    return Summary(
        chosen=chosen,
        rule=str(rule),
        explanation=pick.choice.explanation,
        metric=metric_name,
        test_metric=metric_name,
        test_score=float(test_metrics[metric_name]),
        test_metrics=test_metrics,
        test_split=test_split,
        # Every model the test split has scored in this study (this run directory), this one included:
        # past one, the test score is one of several looks at the same rows, no longer unbiased.
        test_models_scored=len(scored),
        test_scored_models=scored,
        val_score_mean=float(row["val_mean"]),
        judged_by="ensembles" if isinstance(evidence, EnsembleEvidence) else "restarts",
        val_score_std=float_or_nan(row.get("val_std")),
        val_score_se=float_or_nan(row.get("val_se")),
        val_score_se_rows=float_or_nan(row.get("val_se_rows")),
        val_score_se_restarts=float_or_nan(row.get("val_se_restarts")),
        best_restart_val_score=float(pick.best["val_score"]),
        model=fitted.fit,
        ensemble=bool(ensemble),
        n_init=n_init,
        n_configs=int(len(board)),
        n_restarts=int(len(restarts)),
        p_good=float_or_nan(row.get("p_good")),
        restarts_for_95=r95,
        train_time=float(restarts.loc[restarts["key"] == pick.choice.key, "train_time"].sum()),
        search_train_time=float(restarts["train_time"].sum()),
        latency_ms=speed["latency_ms"],
        throughput=speed["throughput"],
        limits=limits,
        split_sizes=dict(prepared.split_sizes),
        folds=int(folds),
        task=prepared.task,
        seed=seed,
        precision=precision,
        numeric=str(prepared.preprocessor.numeric),
        storage=storage,
        versions={"justenough": __version__, "torch": torch.__version__, "python": platform.python_version()},
        growth=growth,  # the grow strategy: its path, its stops and the configs not needed
        lr_choice=lr_choice,
        baseline=baseline,
        paired=paired,
        notices=notices,
    )


def _evidence(pick: _Pick, row: pd.Series, restarts: pd.DataFrame, prepared: Any, fitted: _Fitted,
              scored: list[dict[str, Any]], test_split: str,
              evidence: RowEvidence | None = None) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    """The summary's baseline, paired evidence and notices (what a reader should know about the score)."""
    from justenough.select.baseline import no_network_baseline, weak_signal_notice
    from justenough.select import paired_evidence

    percent = prepared.task == Task.CLASSIFICATION
    # What no network scores on the same validation rows, and a notice when the choice does no better.
    baseline = no_network_baseline(prepared)
    # The choice against its closest rival, row by row and restart k against restart k.
    paired = paired_evidence(pick.eligible, restarts, pick.choice, evidence)
    weak = weak_signal_notice(baseline, float(row["val_mean"]), finite_or_none(row.get("val_se")),
                              pick.config.label, percent)
    notices = [weak] if weak else []
    if fitted.refit_skipped:
        notices.append("no refit on train+validation: the validation rows are also the test rows, "
                       "so the best restart (trained on the training rows) is the model")
    elif test_split == "validation" and fitted.fit.get("fit_on") == "train+validation":
        notices.append("refit on every row after cross-validation: the validation rows that stand in for the "
                       "test rows trained the model too, so the test score is a training score; the "
                       "out-of-fold validation score is the estimate")
    if len(scored) > 1 and test_split == "sealed":  # validation rows as the test are optimistic anyway
        notices.append(_reused_test_notice(scored))
    return baseline, paired, notices


def _model(fitted: _Fitted, pick: _Pick, chosen: dict[str, Any], summary: Summary, prepared: Any,
           test_metrics: dict[str, float]) -> Model:
    """The chosen model as users hold it, with what it was chosen and scored by in ``info``."""
    info = {"config": chosen, "metrics": {"test": test_metrics, "val_mean": summary.val_score_mean},
            "versions": summary.versions, "fit": fitted.fit}
    # How the table was read (a decimal comma, a given delimiter or encoding): predict reads new rows alike.
    info["reading"] = dict(getattr(prepared, "reading", {}))
    return Model(
        fitted.module,
        activation=pick.config.activation,
        preprocessor=prepared.preprocessor,
        target_encoder=prepared.target_encoder,
        task=prepared.task,
        target_name=prepared.target_name,
        info=info,
    )


def _write_run_dir(out: Path, result: SearchResult, prepared: Any) -> None:
    """Step 5: the run directory, file by file, each atomically."""
    from justenough.run import files

    result.model.save(out)
    files.write_results(out, result.restarts)
    files.write_leaderboard(out, result.leaderboard)
    files.write_history(out, result.history)
    files.write_diagnostics(out, result.diagnostics)
    files.write_data(out, prepared.describe())
    files.write_summary(out, result.summary)

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
    if not any(m.get("key") == model["key"] and m.get("restart") == model["restart"]
               and m.get("ensemble") == model.get("ensemble") for m in scored):
        scored.append(model)
        handle.set_attr(TEST_SCORED_ATTR, scored)
    return scored


def _scored_before_the_count(out: Path) -> list[dict[str, Any]]:
    """The model an earlier version's summary.json says it scored on the test split (none when
    there is no readable summary)."""
    try:
        summary = read_summary(out)
        chosen = summary.chosen
        model = {"key": str(chosen["key"]), "label": str(chosen.get("label")), "restart": int(chosen["best_restart"]),
                 "rule": str(summary.rule)}
        members = (summary.model or {}).get("members")
        if members:  # it scored the ensemble of the config's restarts, not its best restart alone
            model["ensemble"] = int(members)
        return [model]
    except (ArtifactError, ValueError, KeyError, TypeError):
        return []


def _which(model: dict[str, Any]) -> str:
    """``restart 3``, or ``the ensemble of its 5 restarts``: which model of a config the test scored."""
    k = model.get("ensemble")
    return f"the ensemble of its {k} restarts" if k else f"restart {model.get('restart')}"


def _reused_test_notice(scored: list[dict[str, Any]]) -> str:
    """Say plainly that a test split that scored several models no longer gives an unbiased estimate."""
    models = "; ".join(f"{m.get('label')} {_which(m)} by rule {m.get('rule')}" for m in scored)
    return (
        f"the sealed test split has now scored {len(scored)} different models ({models}): the test score is no "
        "longer an unbiased estimate of the score on new data, since picking among them by it would fit the "
        "test rows; for an unbiased one, score the choice on rows no model has seen (--test-file)"
    )
