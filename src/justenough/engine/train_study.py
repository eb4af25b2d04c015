"""One search, from its settings to a trained study. A search proceeds:

1. prepare the data (train/val/test; the test split stays sealed),
2. open or resume the study (``study/storage.py``), enqueue the grid,
3. keep the executor busy (``driver.py``): claim trials, group their configs into stacks, submit,
   and tell each config's restarts as they come back,
and leaves the trained study (``train_study``); ``justenough.api.run_search`` then finalizes it
(4. select with the rule, score the sealed test split once for the chosen model, write the run)
and builds the report from the run directory (5.).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import optuna

from justenough.engine.driver import Driver, run_grow
from justenough.executors import make_executor
from justenough.engine.progress import SearchProgress
from justenough.errors import ConfigError, option
from justenough.run.growth import Growth
from justenough.study.record import RestartResult
from justenough.engine.strategies.sampler import make_sampler
from justenough.settings import SearchSettings
from justenough.space.dims import AUTO
from justenough.space.search_space import auto_embed_notice
from justenough.study.storage import DONE_STATES, StudyHandle, open_study, storage_url
from justenough.executors.training_data import TrainingData
from justenough.study.weights import EvidenceStore, WeightsStore
from justenough.vocab import NumericScaling, Sampler, Strategy, Task

if TYPE_CHECKING:  # outcome imports torch
    from justenough.data import Prepared
    from justenough.engine.strategies.grow import Walk
    from justenough.select.rules import Rule

__all__ = ["train_study", "Trained", "prepare_data", "DEFAULT_TRIALS"]

DEFAULT_TRIALS = 30


def prepare_data(data: Any, target: str | None, test: Any, val: Any, settings: SearchSettings) -> "Prepared":
    """``data`` (anything ``justenough.data.load`` takes, or a ``Prepared``) loaded and split."""
    from justenough.data import Prepared, load, prepare

    if isinstance(data, Prepared):
        if data.preprocessor.numeric != settings.numeric:  # its scaling was fitted already: it cannot follow the option
            raise ConfigError(
                f"the data was prepared with {option('numeric', data.preprocessor.numeric)}, and the search was given "
                f"{option('numeric', settings.numeric)}: prepare it with numeric={str(settings.numeric)!r}, or pass the raw data"
            )
        return data
    reading = settings.reading
    table = load(data, target=target, task=settings.task, **reading)
    test_table = load(test, target=table.target_name, task=table.task, **reading) if test is not None else None
    if val is not None and val is test:  # one table for both: no independent test split (data.prepare)
        val_table = test_table
    else:
        val_table = load(val, target=table.target_name, task=table.task, **reading) if val is not None else None
    return prepare(table, split=settings.split, seed=settings.seed, test=test_table, val=val_table, numeric=settings.numeric)


class Trained(NamedTuple):
    """What a driven study leaves for finalizing: the data, the study, the weights and the per-row
    evidence it kept and (with ``strategy="grow"``) the growth's summary."""

    prepared: "Prepared"
    handle: StudyHandle
    weights: WeightsStore
    growth: Growth | None
    evidence: EvidenceStore
    folds: int = 1  # cross-validation folds (1: the single split)
    # The grid's configs the search stopped before training, and why (None: none left out).
    not_trained: tuple[list[str], str] | None = None


def train_study(
    settings: SearchSettings, data: Any, *, target: str | None, test: Any, val: Any, progress: SearchProgress
) -> Trained:
    """Steps 1-3: prepare the data, check its memory, open the study and drive it to the end."""
    from justenough.engine.preflight import check_memory

    budget = settings.stack_memory_budget()
    prepared = prepare_data(data, target, test, val, settings)
    sizes = prepared.split_sizes
    # Before the run directory is made: more folds than rows, or folds with a validation table, is
    # refused at no cost.
    folds = settings.folds_for(int(sizes["train"]) + int(sizes["val"]),
                               own_val=val is not None, test_is_val=bool(getattr(prepared, "test_is_val", False)))
    # The task and the rows are known now (the task may have been detected from the target):
    # "auto" settings of the space take their values once (max_epochs: DEFAULT_MAX_EPOCHS;
    # batch_size: auto_batch_size of the rows each restart trains on), and everything below, the
    # configs, the study's fingerprint and the run directory, sees the numbers.
    asked_embed = settings.space.embed
    settings = replace(settings, space=settings.space.for_task(prepared.task, n_train=_restart_rows(sizes, folds),
                                                               n_features=prepared.n_features))
    for notice in prepared.notices:
        progress.on_message(notice)
    if AUTO in (asked_embed.values or ()):
        progress.on_message(auto_embed_notice(prepared.n_features))
    check_memory(settings.space, n_features=prepared.n_features, n_outputs=prepared.n_outputs,
                 n_val=int(prepared.X_val.shape[0]), budget=budget, diagnose=settings.diagnose_every > 0,
                 explicit=settings.memory_budget is not None)
    if settings.out is not None:
        settings.out.mkdir(parents=True, exist_ok=True)
    sampler, is_grid, directions = make_sampler(Sampler.GRID if settings.strategy == Strategy.GROW else settings.sampler,
                                                settings.space, settings.seed)
    n_trials = settings.n_trials
    if not is_grid and n_trials is None and settings.time_budget is None:
        n_trials = DEFAULT_TRIALS
    if folds > 1:
        progress.on_message(f"validating by {folds}-fold cross-validation of the {int(sizes['train']) + int(sizes['val']):,} "
                            "rows outside the test split (every config's restarts x folds train as one stack)")
    handle = open_study(storage_url(settings.storage, settings.out), fingerprint=_fingerprint(settings, prepared, is_grid, folds),
                        sampler=sampler, directions=directions)
    revived = handle.fail_dead_trials()
    if revived:
        progress.on_message(f"resuming: {len(revived)} trial(s) whose process died will be retried")

    training_data = TrainingData.from_prepared(prepared, folds=folds, seed=settings.seed)
    weights_store, evidence_store = WeightsStore(settings.out), EvidenceStore(settings.out)

    def keep(results: list[RestartResult]) -> None:
        weights_store.put(results)
        evidence_store.put(results)

    driver = _make_driver(settings, handle, training_data, is_grid, len(directions) > 1, budget, n_trials, progress,
                          keep)
    growth = _drive(settings, driver, handle, sampler, is_grid, n_trials, training_data, progress, evidence_store)
    growth_summary = None
    if settings.strategy == Strategy.GROW:
        from justenough.engine.strategies import grow

        assert growth is not None  # the grow loop returns its walk
        growth_summary = grow.summary(growth, settings.space.configs(), prepared.task == Task.CLASSIFICATION, driver.stop_reason)
        progress.on_message(growth_summary.explanation)
    not_trained = None
    if settings.strategy == Strategy.GRID and is_grid and driver.stop_reason:
        done = handle.keys_in(DONE_STATES)
        left = [c.label for c in settings.space.configs() if c.key not in done]
        not_trained = (left, driver.stop_reason) if left else None
    return Trained(prepared, handle, weights_store, growth_summary, evidence_store, folds, not_trained)


def _restart_rows(sizes: Any, folds: int) -> int:
    """The rows each restart trains on: the training split, or with K folds the pooled train and
    validation rows less one fold (the smallest share, K-1 of K, rounded down)."""
    if folds <= 1:
        return int(sizes["train"])
    pooled = int(sizes["train"]) + int(sizes["val"])
    return max(1, pooled * (folds - 1) // folds)


def _grow_margin(rule: Rule) -> float:
    """The gain a grow step must be confidently below to fail: a tolerance rule's E, else 0."""
    return float(rule.value) if rule.kind == "tolerance" and rule.value is not None else 0.0


def _fingerprint(settings: SearchSettings, prepared: "Prepared", is_grid: bool, folds: int = 1) -> dict[str, Any]:
    """What a resume must match: the data, the space and the settings that change the results."""
    fingerprint: dict[str, Any] = {
        "data": prepared.fingerprint(),
        "space": settings.space.fingerprint(),
        "n_init": settings.n_init,
        "seed": settings.seed,
        "halving": bool(settings.halving),
        "precision": settings.precision,
        "sampler": "grid" if is_grid else settings.sampler,
    }
    if settings.strategy == Strategy.GROW:  # a grid study and a grow study train different configs: never mix them
        fingerprint["strategy"] = "grow"
    if settings.numeric != NumericScaling.STANDARD:  # other features, other results (the default keeps old keys)
        fingerprint["numeric"] = str(settings.numeric)
    if folds > 1:  # restarts validated by folds are other results than one split's (a single split keeps old keys)
        fingerprint["folds"] = folds
    return fingerprint


def _make_driver(
    settings: SearchSettings, handle: StudyHandle, training_data: TrainingData, is_grid: bool, multi_objective: bool,
    budget: int, n_trials: int | None, progress: SearchProgress, keep: Callable[[list[RestartResult]], None],
) -> Driver:
    executor = settings.executor
    if isinstance(executor, str):
        executor = make_executor(executor, workers=settings.workers, address=settings.ray_address, device=settings.device)
    return Driver(handle=handle, settings=settings, data=training_data, executor=executor, is_grid=is_grid,
                  multi_objective=multi_objective, memory_budget=budget, n_trials=n_trials, progress=progress,
                  weights_sink=keep)


def _drive(
    settings: SearchSettings, driver: Driver, handle: StudyHandle, sampler: optuna.samplers.BaseSampler, is_grid: bool,
    n_trials: int | None, training_data: TrainingData, progress: SearchProgress, evidence: EvidenceStore | None = None,
) -> "Walk | None":
    """Enqueue the grid (or wait for the driver that does), start the executor, run the driver
    (or the grow loop) to the end. Returns the grow strategy's walk (None for a grid)."""
    strategy = settings.strategy
    if is_grid and not handle.created and strategy == Strategy.GRID:
        # A driver that joins a study waits until its creator has enqueued the grid, so that the
        # grid is not enqueued several times over (claims would still dedupe, at a cost).
        deadline = time.time() + 60
        while not handle.get_attr("grid_enqueued") and time.time() < deadline:
            time.sleep(0.2)
            handle.study = optuna.load_study(study_name=handle.study.study_name, storage=handle.storage, sampler=sampler)
    total = (driver.enqueue_grid() if strategy == Strategy.GRID else None) if is_grid else n_trials
    if is_grid and handle.created:
        handle.set_attr("grid_enqueued", True)
    done = len(handle.keys_in(DONE_STATES))
    if not is_grid and n_trials is not None:
        driver.n_trials = max(0, n_trials - done)
    # The executor first: forked workers must start while this process runs no other thread
    # (the live progress display has one).
    driver.executor.start(training_data)
    growth = None
    ended = False
    try:
        progress.on_start(total, done, settings.n_init)
        if strategy == Strategy.GROW:
            # The choice counts an ensemble's parameters (k x the network's), so the walk's limit does too.
            members = settings.n_init if settings.ensemble else 1
            growth = run_grow(driver, handle, settings.space, training_data, settings.grow_patience, settings.max_params,
                              evidence, _grow_margin(settings.rule), members=members,
                              judge_ensembles=settings.judges_ensembles)
        else:
            driver.run()
        ended = True
    finally:
        driver.executor.close()
        # An interrupted or failed search is not "done": its error says what is kept and how to resume.
        if ended:
            progress.on_end()
        else:
            progress.on_stop()
    if driver.stop_reason:
        progress.on_message(f"stopped: {driver.stop_reason}")
    return growth
