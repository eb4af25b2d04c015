"""The driver: ask configs, batch them into stacks, train, tell the results, resume.

The driver owns the study and is its single writer; executors only train. It keeps the executor
busy: claim trials, group their configs into stacks (one stack per architecture, except that the
small architectures of one depth, at most ``PACK_WIDTH`` units wide, share one padded stack; with
``halving``, one per depth/activation/training group so configs can be compared inside the
stack), submit, and tell each config's restarts as they come back. Which grid configs, in which
order, is ``strategies/grid.py``'s; the driver runs it.
"""

from __future__ import annotations

import functools
import math
import signal
import threading
import time
import warnings
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from justenough.errors import ConfigError, JustEnoughError, option
from justenough.executors import Executor
from justenough.engine.progress import SearchProgress
from justenough.engine.strategies import grid
from justenough.study.record import RestartResult, restart_stats
from justenough.settings import SearchSettings
from justenough.space.config import Config
from justenough.space.search_space import Space
from justenough.study.storage import DONE_STATES, StudyHandle, driver_id, redact_url, restart_attr
from justenough.executors.task import StackTask
from justenough.executors.training_data import TrainingData
from justenough.vocab import Strategy

if TYPE_CHECKING:
    from justenough.engine.strategies.grow import Walk

__all__ = ["Driver", "SearchInterrupted", "run_grow", "MAX_STACK_MEMBERS", "MAX_STACK_PARAMS", "PACK_WIDTH"]

# A stack's members beyond this gain little and outgrow the caches (docs/architecture.md, measured).
MAX_STACK_MEMBERS = 32
# Parameters (of all members) per stack beyond which the working set outgrows a CPU's caches.
MAX_STACK_PARAMS = 4_000_000
# Architectures at most this wide (every layer) of one depth share one padded stack: small
# networks are bound by per-step overhead, so one step for all of them beats one each, and
# padding costs little at these widths (docs/architecture.md, measured). Members that stop leave
# the stack (the trainer compacts it), so the padded stack does not wait for its slowest member.
PACK_WIDTH = 16


class SearchInterrupted(JustEnoughError):
    """Ctrl-C: the search stopped; what is finished is kept in the study and a rerun resumes.

    The message says what is kept and where; the CLI adds the exact command that resumes
    (``cli_message``, set by ``cli/search.py``).
    """

    exit_code = 130

    @classmethod
    def for_study(cls, handle: StudyHandle) -> "SearchInterrupted":
        done = len(handle.keys_in(DONE_STATES))
        where = f"the study ({redact_url(handle.url)})" if handle.url else "this process's in-memory study (lost when it exits)"
        kept = (f"stopped (Ctrl-C) before the end of the search: {done} finished config(s) are kept in {where}, "
                "and any config left unfinished is trained again on resume")
        error = cls(f"{kept}; run the same search again to resume")
        error.kept = kept
        return error

    kept: str = ""  # the message up to how to resume: what stopped and what is kept


@dataclass
class _InFlight:
    task: StackTask
    trials: dict[str, optuna.Trial]  # config key -> trial
    configs: dict[str, Config]


@dataclass
class Driver:
    """Runs the ask/train/tell loop of one search process."""

    handle: StudyHandle
    settings: SearchSettings
    data: TrainingData
    executor: Executor
    is_grid: bool
    multi_objective: bool
    memory_budget: int | None  # bytes one stack may use (``SearchSettings.stack_memory_budget``)
    n_trials: int | None  # trials left to ask (samplers only)
    progress: SearchProgress
    weights_sink: Callable[[list[RestartResult]], None]
    started: float = field(default_factory=time.time)
    asked: int = 0
    stop_reason: str | None = None
    _best: float | None = None
    _best_read: bool = False

    @property
    def space(self) -> Space:
        return self.settings.space

    @property
    def grow(self) -> bool:
        """The grow strategy enqueues its own rounds (``run_grow``), never the whole grid."""
        return self.settings.strategy == Strategy.GROW

    # --- claiming configs ------------------------------------------------------------

    def enqueue_grid(self) -> int:
        """Enqueue every grid config that is neither done nor claimed, in the grid's training
        order (``strategies/grid.py``). Returns the grid size."""
        configs = self._training_order(self.space.configs())
        grid.enqueue(self.handle, self.space, configs)
        return len(configs)

    def _training_order(self, configs: list[Config]) -> list[Config]:
        """The grid's order (``grid.training_order``): the costliest stacks first, but with a time
        budget the simplest first."""
        return grid.training_order(configs, self._stack_key, self.data.n_features, self.data.n_outputs,
                                   self.settings.time_budget)

    def _largest_stacks_first(self, configs: list[Config]) -> list[Config]:
        """The configs in the order their stacks should train, the costliest first
        (``grid.largest_stacks_first``)."""
        return grid.largest_stacks_first(configs, self._stack_key, self.data.n_features, self.data.n_outputs)

    def _stack_key(self, cfg: Config) -> tuple:
        """What configs of one stack share: the architecture (or, for small ones, the depth), or
        with halving the whole group."""
        if self.settings.halving:
            return cfg.group_key()
        if max(cfg.widths, default=0) <= PACK_WIDTH:
            return (cfg.group_key(), "packed")
        return (cfg.group_key(), tuple(cfg.widths))

    @functools.cached_property
    def _grid_configs(self) -> dict[str, Config]:
        """The grid's configs by their enqueued parameters (``grid.configs_by_params``)."""
        return grid.configs_by_params(self.space)

    def _claims_for(self, limit: int, waiting: list[FrozenTrial]) -> int:
        """How many trials to claim to fill ``limit`` stacks: with a grid, those of the next
        ``limit`` stacks waiting (``grid.claims_for``); samplers ask one config at a time."""
        if not self.is_grid:
            return max(1, limit)
        return grid.claims_for(limit, waiting, self._grid_configs, self._stack_key)

    def _claim(self) -> tuple[optuna.Trial, Config] | None:
        """Ask one trial and turn it into a config; None when there is nothing left to do.

        A grid config that another driver (or an earlier life of this one) already holds is
        marked a duplicate and told failed (with a grid, None is then returned: the caller asks
        only as many trials as it saw waiting, so a trial the sampler drew because another
        driver took the last waiting ones ends here too).
        """
        study = self.handle.study
        if not self.is_grid and self.n_trials is not None and self.asked >= self.n_trials:
            return None
        with warnings.catch_warnings():
            # Optuna warns that heartbeats are meant for Study.optimize; with ask-and-tell we
            # send them ourselves (docs/architecture.md, library facts).
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = self.handle.ask()  # claimed by this process alone, also on a SQLite file
        trial.set_user_attr("driver", driver_id())  # first: a trial with no driver is an orphan (study.fail_dead_trials)
        self.asked += 1
        if self.grow and "fixed_params" not in self.handle.storage.get_trial_system_attrs(trial._trial_id):
            # Another driver took the round's last waiting config, so the sampler drew one of its
            # own: grow trains only the configs its walk asks for (``run_grow``).
            trial.set_user_attr("not_asked_for", True)
            study.tell(trial, state=TrialState.FAIL)
            return None
        config = self.space.suggest(trial)
        trial.set_user_attr("key", config.key)
        trial.set_user_attr("config", config.to_dict())
        holder = self._holder(config.key, before=trial.number)
        if holder is None:
            return trial, config
        trial.set_user_attr("duplicate_of", holder)
        study.tell(trial, state=TrialState.FAIL)
        return None

    def _holder(self, key: str, before: int) -> int | None:
        """The number of an earlier live or finished trial of ``key``, if any."""
        for other in self.handle.trials(DONE_STATES + (TrialState.RUNNING,)):
            if other.number < before and other.user_attrs.get("key") == key and not other.user_attrs.get("duplicate_of"):
                return other.number
        return None

    def next_tasks(self, limit: int) -> list[_InFlight]:
        """Claim up to ``limit`` stacks' worth of configs and group them into stack tasks."""
        claimed: list[tuple[optuna.Trial, Config]] = []
        # Enough configs to fill ``limit`` stacks: the grid lists configs of one stack next to each
        # other, so claiming a stack's worth in order keeps stacks full without over-claiming.
        # One read of the waiting trials per call: each read of the study's unfinished trials
        # costs the driver milliseconds of CPU that the workers would otherwise have.
        # A round whose claims were all duplicates (their trials are told failed, so the waiting
        # set shrinks) is followed by another, so that waiting grid configs are never left behind.
        while not claimed and self.stop_reason is None:
            waiting = self.handle.trials((TrialState.WAITING,)) if self.is_grid else []
            for _ in range(self._claims_for(limit, waiting)):
                if self.settings.time_budget is not None and time.time() - self.started >= self.settings.time_budget:
                    self.stop_reason = "time budget"
                    break
                got = self._claim()
                if got is None:
                    if self.is_grid:
                        continue  # a duplicate: the next waiting trial may still be free
                    break
                claimed.append(got)
            if not self.is_grid or not waiting:
                break
        groups: dict[tuple, list[tuple[optuna.Trial, Config]]] = defaultdict(list)
        for trial, cfg in claimed:
            groups[self._stack_key(cfg)].append((trial, cfg))
        tasks: list[_InFlight] = []
        for members in groups.values():
            # A config's members in a stack: its restarts, times the folds with cross-validation.
            per_config = self.settings.n_init * self.data.folds
            for chunk in _chunks(members, per_config, self.data.n_features, self.data.n_outputs):
                configs = tuple(c for _, c in chunk)
                task = StackTask(
                    configs=configs,
                    restarts=tuple(range(self.settings.n_init)),
                    study_seed=self.settings.seed,
                    device=self.settings.device,
                    precision=self.settings.precision,
                    halving=self.settings.halving,
                    diagnose_every=self.settings.diagnose_every,
                    memory_budget=self.memory_budget,
                    keep_outputs=self.settings.judges_ensembles,
                    task_id="+".join(c.key for c in configs),
                )
                tasks.append(_InFlight(task, {c.key: t for t, c in chunk}, {c.key: c for c in configs}))
        return tasks

    # --- telling results ----------------------------------------------------------------

    def tell(self, flight: _InFlight, results: list[RestartResult]) -> None:
        by_key: dict[str, list[RestartResult]] = defaultdict(list)
        for r in results:
            by_key[r.key].append(r)
        self.weights_sink(results)
        for key, trial in flight.trials.items():
            cfg = flight.configs[key]
            rs = sorted(by_key[key], key=lambda r: r.restart)
            for r in rs:
                # One attribute per restart (its record, learning curves and diagnostics): every
                # attribute is a transaction of its own, which the driver pays on the cores the
                # workers train on.
                trial.set_user_attr(restart_attr(r.restart), r.to_attrs())
            stats = restart_stats(rs)
            n_in, n_out = self.data.n_features, self.data.n_outputs
            trial.set_user_attr("stats", stats)
            trial.set_user_attr("params", cfg.params(n_in, n_out))
            trial.set_user_attr("flops", cfg.flops(n_in, n_out))
            pruned = [r.pruned_rung for r in rs if r.pruned_rung is not None]
            if pruned:
                trial.set_user_attr("pruned_rung", pruned[0])
                self.handle.study.tell(trial, state=TrialState.PRUNED)
            else:
                value = stats["val_mean"] if stats["val_mean"] is not None else -math.inf
                if self.multi_objective:
                    self.handle.study.tell(trial, [value, float(cfg.params(n_in, n_out))])
                else:
                    self.handle.study.tell(trial, value)
            if not pruned and stats["val_mean"] is not None:
                best = self.best_so_far()
                self._best = stats["val_mean"] if best is None else max(best, stats["val_mean"])
            self.progress.on_config_done(cfg, stats, self.best_so_far())

    def best_so_far(self) -> float | None:
        """The best mean validation score of the complete trials: read from the study once (a
        resume starts with earlier trials), then kept up to date by ``tell``."""
        if not self._best_read:
            vals = [t.user_attrs.get("stats", {}).get("val_mean") for t in self.handle.trials((TrialState.COMPLETE,))]
            vals = [v for v in vals if v is not None]
            self._best, self._best_read = (max(vals) if vals else None), True
        return self._best

    def _forward_epochs(self) -> None:
        """Pass the executor's latest epoch per stack in flight to the progress display."""
        poll = getattr(self.executor, "poll_epochs", None)
        if poll is None:
            return
        latest: dict[str, tuple[int, int]] = {}
        for task_id, epoch, max_epochs in poll():
            latest[task_id] = (epoch, max_epochs)
        for task_id, (epoch, max_epochs) in latest.items():
            flight = self._flights.get(task_id)
            if flight is not None:
                self.progress.on_epoch(list(flight.configs.values()), epoch, max_epochs)

    def _others_running(self) -> bool:
        me = driver_id()
        return any(t.user_attrs.get("driver") != me for t in self.handle.trials((TrialState.RUNNING,)))

    def abandon(self, flight: _InFlight) -> None:
        """A stack that could not finish: fail its trials so a resume retries them."""
        for trial in flight.trials.values():
            try:
                self.handle.study.tell(trial, state=TrialState.FAIL)
            except Exception:
                pass

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Keep the executor busy until the grid, the trial count or the time budget is done.

        The first Ctrl-C stops claiming new configs: the stacks in flight finish and are told,
        then ``SearchInterrupted`` says how to resume. A second Ctrl-C stops at once (the stacks
        in flight are then failed, and a resume retries them).
        """
        in_flight: dict[Future, _InFlight] = {}
        self._flights: dict[str, _InFlight] = {}
        if hasattr(self.executor, "epoch_listener"):
            self.executor.epoch_listener = self._forward_epochs  # type: ignore[attr-defined]
        state = {"interrupted": False}
        last_beat = 0.0

        def on_sigint(signum: int, frame: Any) -> None:
            if state["interrupted"]:
                raise KeyboardInterrupt
            state["interrupted"] = True
            self.progress.on_message("interrupted: finishing the stacks in flight, then saving (Ctrl-C again to stop now)")

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, on_sigint)
        def fill() -> None:
            if not state["interrupted"] and self.stop_reason is None and len(in_flight) < self.executor.slots:
                for flight in self.next_tasks(self.executor.slots - len(in_flight)):
                    self.progress.on_submit(list(flight.configs.values()))
                    self._flights[flight.task.task_id] = flight
                    in_flight[self.executor.submit(flight.task)] = flight

        finished: list[tuple[_InFlight, list[RestartResult]]] = []  # back, not yet told
        try:
            while True:
                fill()
                if not in_flight:
                    if self.is_grid and not state["interrupted"] and self.stop_reason is None and self._others_running():
                        # Another driver still trains configs of this grid: wait for it (or for its
                        # heartbeat to go stale, then retry its configs here).
                        time.sleep(1.0)
                        if self.handle.fail_dead_trials() and not self.grow:
                            self.enqueue_grid()  # (grow: its loop replays the walk and enqueues again)
                        continue
                    break
                done, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
                self._forward_epochs()
                if time.time() - last_beat > 2.0:
                    self.handle.heartbeat(t._trial_id for f in in_flight.values() for t in f.trials.values())
                    last_beat = time.time()
                for fut in done:
                    flight = in_flight.pop(fut)
                    self._flights.pop(flight.task.task_id, None)
                    try:
                        finished.append((flight, fut.result()))
                    except Exception:
                        self.abandon(flight)
                        raise
                if finished:
                    # Keep the workers busy first: telling a stack's results takes the study
                    # storage a while (a transaction per attribute), and a worker would idle.
                    fill()
                while finished:
                    flight, results = finished[0]
                    self.tell(flight, results)
                    finished.pop(0)
        except KeyboardInterrupt:
            for flight in [*in_flight.values(), *(f for f, _ in finished)]:
                self.abandon(flight)
            state["interrupted"] = True
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if state["interrupted"]:
            raise SearchInterrupted.for_study(self.handle)


def run_grow(driver: Driver, handle: StudyHandle, space: Space, data: TrainingData, patience: int,
             max_params: int | None, evidence: Any = None, margin: float = 0.0, members: int = 1,
             judge_ensembles: bool = False) -> "Walk":
    """The grow strategy's loop: replay the walk on the study's results (``grow.walk``), enqueue
    the configs it asks for next (one round: every live direction's next step, trained together),
    train them with the grid's machinery, and again, until the walk is done or the search stops.

    The walk is a function of the finished trials alone, so a resumed search or a second driver
    on a shared study takes the same path; the claims dedupe configs that two drivers enqueue.
    ``evidence`` (a ``study.weights.EvidenceStore``) gives the walk the per-row evidence of the noise
    model; ``margin`` is the gain not worth having (a tolerance rule's E, else 0); ``members`` the
    networks in a config's model (its restarts when the model is their ensemble), which
    ``max_params`` counts as the choice does; ``judge_ensembles``: the walk compares the configs'
    ensembles, as the choice then does. A config whose evidence another driver kept elsewhere
    is compared restart by restart.
    """
    from justenough.engine.strategies import grow
    from justenough.study.tables import diverged_restarts, restarts_table

    configs = space.configs()
    while True:
        restarts = restarts_table(handle, data.n_features, data.n_outputs)
        shares = None
        if evidence is not None and not restarts.empty:
            # The walk compares what the choice will: the ensembles, where it judges them.
            shares = evidence.for_choice(sorted(set(restarts["key"].astype(str))), diverged_restarts(restarts),
                                         data.task if judge_ensembles else None)
        state = grow.walk(configs, restarts, n_in=data.n_features, n_out=data.n_outputs, patience=patience,
                          max_params=max_params, members=members, evidence=shares, margin=margin)
        if state.done and state.best is None:  # even the simplest config is over --max-params
            single = f", or predict with one network ({option('ensemble', False)})" if members > 1 else ""
            raise ConfigError(grow.explain(state, percent=True) + f": raise {option('max_params', max_params)} or drop it{single}")
        if state.done or driver.stop_reason is not None:
            return state
        grid.enqueue(handle, space, driver._largest_stacks_first(state.pending))
        driver.run()
        # The walk moves on when one of its pending configs finished, here or in another driver.
        # (Not "more trials finished during run()": another driver may finish them all between
        # this driver's walk and its run, and the walk must then move on, not stop.)
        done = handle.keys_in(DONE_STATES)
        if driver.stop_reason is None and not any(c.key in done for c in state.pending) and not driver._others_running():
            # None of them finished (every pending config failed): the walk cannot go on.
            raise JustEnoughError("the grow search could not train " + ", ".join(c.label for c in state.pending)
                                  + ": run the same command again to retry them")


def _chunks(
    members: list[tuple[optuna.Trial, Config]], n_init: int, n_in: int, n_out: int
) -> list[list[tuple[optuna.Trial, Config]]]:
    """Split configs of one group into stacks that respect the member and working-set caps."""
    chunks: list[list[tuple[optuna.Trial, Config]]] = []
    current: list[tuple[optuna.Trial, Config]] = []
    size = 0
    for trial, cfg in members:
        cost = cfg.params(n_in, n_out) * n_init
        if current and (len(current) * n_init + n_init > max(MAX_STACK_MEMBERS, n_init) or size + cost > MAX_STACK_PARAMS):
            chunks.append(current)
            current, size = [], 0
        current.append((trial, cfg))
        size += cost
    if current:
        chunks.append(current)
    return chunks


