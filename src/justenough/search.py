"""The search: ask configs, batch them into stacks, train, tell the results, resume.

The driver owns the study and is its single writer; executors only train. A search proceeds:

1. prepare the data (train/val/test; the test split stays sealed),
2. open or resume the study (``study.py``), enqueue the grid,
3. keep the executor busy: claim trials, group their configs into stacks (one stack per
   architecture, except that the small architectures of one depth, at most ``PACK_WIDTH`` units
   wide, share one padded stack; with ``halving``, one per depth/activation/training group so
   configs can be compared inside the stack), submit, and tell each config's restarts as they
   come back; the costliest stacks go first,
4. select with the rule, score the sealed test split once for the chosen model, write the run.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from justenough.errors import ConfigError, JustEnoughError, option
from justenough.executors import Executor, make_executor
from justenough.space import DEFAULT_SPACE_TEXT, Config, Space
from justenough.stack_task import RestartResult, StackTask, TrainingData
from justenough.study import DONE_STATES, StudyHandle, driver_id, open_study, storage_url

if TYPE_CHECKING:  # run.result imports torch; ``import justenough`` stays light without it
    from justenough.run.result import SearchResult

__all__ = ["search", "SearchInterrupted", "SearchProgress", "MAX_STACK_MEMBERS", "parse_duration"]

# A stack's members beyond this gain little and outgrow the caches (DESIGN.md performance notes).
MAX_STACK_MEMBERS = 32
# Parameters (of all members) per stack beyond which the working set outgrows a CPU's caches.
MAX_STACK_PARAMS = 4_000_000
# Architectures at most this wide (every layer) of one depth share one padded stack: small
# networks are bound by per-step overhead, so one step for all of them beats one each, and
# padding costs little at these widths (DESIGN.md performance notes). Members that stop leave
# the stack (the trainer compacts it), so the padded stack does not wait for its slowest member.
PACK_WIDTH = 16
GRID_AUTO_LIMIT = 2000
DEFAULT_TRIALS = 30


class SearchInterrupted(JustEnoughError):
    """Ctrl-C: the stacks in flight were finished and saved; run the same command to resume."""

    exit_code = 130


@dataclass
class SearchProgress:
    """Hooks the CLI uses for its live display; every method is optional to override."""

    def on_start(self, total: int | None, done: int, n_init: int) -> None: ...

    def on_submit(self, configs: Sequence[Config]) -> None: ...

    def on_config_done(self, config: Config, stats: dict[str, Any], best_so_far: float | None) -> None: ...

    def on_epoch(self, configs: Sequence[Config], epoch: int, max_epochs: int) -> None: ...

    def on_message(self, text: str) -> None: ...

    def on_end(self) -> None: ...


class _CliDefault(str):
    """A search-space keyword's default: the CLI's default text, marked so that ``search`` can
    tell a keyword left at its default from one given (``space=`` and a keyword conflict)."""


# The search-space keywords of ``search()``: the CLI's options, with the CLI's defaults. A new
# dimension of the space gets its keyword from one line in the signature below (a test checks
# that the two agree).
_SPACE_KEYWORD_DEFAULTS: dict[str, _CliDefault] = {name: _CliDefault(text) for name, text in DEFAULT_SPACE_TEXT.items()}


def parse_duration(text: str | float | int | None) -> float | None:
    """``90``, ``90s``, ``10m``, ``1.5h`` -> seconds."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    t = str(text).strip().lower()
    units = {"ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
    for suffix in sorted(units, key=len, reverse=True):
        if t.endswith(suffix):
            num = t[: -len(suffix)]
            break
    else:
        suffix, num = "s", t
    try:
        value = float(num) * units[suffix]
    except ValueError:
        raise ConfigError(f"cannot read the duration {text!r}: write e.g. 90s, 10m or 1.5h") from None
    if value <= 0:
        raise ConfigError(f"a duration must be positive, got {text!r}")
    return value


def _make_sampler(name: str, space: Space, seed: int) -> tuple[optuna.samplers.BaseSampler, bool, list[str]]:
    """(sampler, is_grid, directions). Grid is enumerated by us (enqueue), so its sampler never samples."""
    name = name.lower()
    if name == "auto":
        name = "grid" if space.is_finite and space.size <= GRID_AUTO_LIMIT else "tpe"
    if name == "grid":
        if not space.is_finite:
            raise ConfigError(f"the grid sampler needs a finite space: list values instead of ranges, or use {option('sampler', 'tpe')}")
        return optuna.samplers.RandomSampler(seed=seed), True, ["maximize"]
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed), False, ["maximize"]
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed), False, ["maximize"]
    if name in ("nsga2", "nsgaii", "nsga-ii"):
        return optuna.samplers.NSGAIISampler(seed=seed), False, ["maximize", "minimize"]
    raise ConfigError(f"unknown sampler {name!r}: use auto, grid, random, tpe or nsga2")


@dataclass
class _InFlight:
    task: StackTask
    trials: dict[str, optuna.Trial]  # config key -> trial
    configs: dict[str, Config]


@dataclass
class _Driver:
    """Runs the ask/train/tell loop of one search process."""

    handle: StudyHandle
    space: Space
    data: TrainingData
    executor: Executor
    n_init: int
    seed: int
    is_grid: bool
    multi_objective: bool
    halving: bool
    device: str
    precision: str
    diagnose_every: int
    memory_budget: int | None
    n_trials: int | None
    time_budget: float | None
    progress: SearchProgress
    weights_sink: Callable[[list[RestartResult]], None]
    grow: bool = False  # the grow strategy enqueues its own rounds (``_grow``), never the whole grid
    started: float = field(default_factory=time.time)
    asked: int = 0
    stop_reason: str | None = None
    _best: float | None = None
    _best_read: bool = False

    # --- claiming configs ------------------------------------------------------------

    def enqueue_grid(self) -> int:
        """Enqueue every grid config that is neither done nor claimed. Returns the grid size."""
        configs = self._largest_stacks_first(self.space.configs())
        taken = self.handle.keys_in(DONE_STATES + (TrialState.RUNNING, TrialState.WAITING))
        waiting_params = []
        for t in self.handle.trials((TrialState.WAITING,)):
            waiting_params.append(t.system_attrs.get("fixed_params"))
        for cfg in configs:
            params = self.space.grid_params(cfg)
            if cfg.key in taken or params in waiting_params:
                continue
            self.handle.study.enqueue_trial(params)
            waiting_params.append(params)
        return len(configs)

    def _largest_stacks_first(self, configs: list[Config]) -> list[Config]:
        """The grid in the order its stacks should train: the costliest (most parameters) first.

        Longest jobs first keeps the workers evenly busy to the end (the last stacks to start
        are the quick ones). The configs of one stack stay next to each other, in grid order.
        """
        n_in, n_out = self.data.n_features, self.data.n_outputs
        groups: dict[tuple, list[Config]] = {}
        for cfg in configs:
            groups.setdefault(self._stack_key(cfg), []).append(cfg)
        ordered = sorted(groups.values(), key=lambda g: -sum(c.params(n_in, n_out) for c in g))  # stable
        return [cfg for group in ordered for cfg in group]

    def _stack_key(self, cfg: Config) -> tuple:
        """What configs of one stack share: the architecture (or, for small ones, the depth), or
        with halving the whole group."""
        if self.halving:
            return cfg.group_key()
        if max(cfg.widths, default=0) <= PACK_WIDTH:
            return (cfg.group_key(), "packed")
        return (cfg.group_key(), tuple(cfg.widths))

    @functools.cached_property
    def _grid_configs(self) -> dict[str, Config]:
        """The grid's configs by their enqueued parameters (``_params_id``)."""
        return {_params_id(self.space.grid_params(c)): c for c in self.space.configs()}

    def _claims_for(self, limit: int, waiting: list[FrozenTrial]) -> int:
        """How many trials to claim to fill ``limit`` stacks.

        Grid: the ``waiting`` trials are asked in order, so count those of the next ``limit``
        stack keys (another driver claiming at the same time only makes some stacks smaller).
        Samplers ask one config at a time: ``limit``.
        """
        if not self.is_grid:
            return max(1, limit)
        keys: list[tuple] = []
        n = 0
        for t in sorted(waiting, key=lambda t: t.number):
            cfg = self._grid_configs.get(_params_id(t.system_attrs.get("fixed_params") or {}))
            key = self._stack_key(cfg) if cfg is not None else ("unknown", t.number)
            if key not in keys:
                if len(keys) == limit:
                    break
                keys.append(key)
            n += 1
        return n

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
            # send them ourselves (DESIGN.md, library facts).
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = study.ask()
        trial.set_user_attr("driver", driver_id())  # first: a trial with no driver is an orphan (study.fail_dead_trials)
        self.asked += 1
        if self.grow and "fixed_params" not in self.handle.storage.get_trial_system_attrs(trial._trial_id):
            # Another driver took the round's last waiting config, so the sampler drew one of its
            # own: grow trains only the configs its walk asks for (``_grow``).
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
                if self.time_budget is not None and time.time() - self.started >= self.time_budget:
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
            for chunk in _chunks(members, self.n_init, self.data.n_features, self.data.n_outputs):
                configs = tuple(c for _, c in chunk)
                task = StackTask(
                    configs=configs,
                    restarts=tuple(range(self.n_init)),
                    study_seed=self.seed,
                    device=self.device,
                    precision=self.precision,
                    halving=self.halving,
                    diagnose_every=self.diagnose_every,
                    memory_budget=self.memory_budget,
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
                trial.set_user_attr(f"restart_{r.restart}", {**r.record(), "history": r.history, "diagnostics": r.diagnostics})
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
            raise SearchInterrupted(
                "interrupted: the finished configs are saved in the study; run the same command again to resume"
            )


def _grow(driver: _Driver, handle: StudyHandle, space: Space, data: TrainingData, patience: int,
          max_params: int | None) -> Any:
    """The grow strategy's loop: replay the walk on the study's results (``grow.walk``), enqueue
    the configs it asks for next (one round: every live direction's next step, trained together),
    train them with the grid's machinery, and again, until the walk is done or the search stops.

    The walk is a function of the finished trials alone, so a resumed search or a second driver
    on a shared study takes the same path; the claims dedupe configs that two drivers enqueue.
    """
    from justenough import grow
    from justenough.run.tables import restarts_table

    configs = space.configs()
    while True:
        restarts = restarts_table(handle, data.n_features, data.n_outputs)
        state = grow.walk(configs, restarts, n_in=data.n_features, n_out=data.n_outputs, patience=patience,
                          max_params=max_params)
        if state.done and state.best is None:  # even the simplest config is over --max-params
            raise ConfigError(grow.explain(state, percent=True) + f": raise {option('max_params', max_params)} or drop it")
        if state.done or driver.stop_reason is not None:
            return state
        taken = handle.keys_in(DONE_STATES + (TrialState.RUNNING, TrialState.WAITING))
        waiting = [t.system_attrs.get("fixed_params") for t in handle.trials((TrialState.WAITING,))]
        for cfg in driver._largest_stacks_first(state.pending):
            params = space.grid_params(cfg)
            if cfg.key not in taken and params not in waiting:
                handle.study.enqueue_trial(params)
                waiting.append(params)
        done_before = len(handle.keys_in(DONE_STATES))
        driver.run()
        if driver.stop_reason is None and len(handle.keys_in(DONE_STATES)) == done_before and not driver._others_running():
            # Nothing new finished (every pending config failed): the walk cannot go on.
            raise JustEnoughError("the grow search could not train " + ", ".join(c.label for c in state.pending)
                                  + ": run the same command again to retry them")


def _params_id(params: dict[str, Any]) -> str:
    """A grid point's parameters as a comparable string."""
    return repr(sorted(params.items()))


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


def restart_stats(results: Sequence[RestartResult]) -> dict[str, Any]:
    """Mean, std, standard error, min and max of the validation score over non-diverged restarts."""
    scores = np.array([r.val_score for r in results if not r.diverged and math.isfinite(r.val_score)], dtype=float)
    n = len(scores)
    out: dict[str, Any] = {
        "n_restarts": len(results),
        "n_diverged": int(sum(r.diverged for r in results)),
        "val_mean": float(scores.mean()) if n else None,
        "val_std": float(scores.std(ddof=1)) if n > 1 else (0.0 if n == 1 else None),
        "val_min": float(scores.min()) if n else None,
        "val_max": float(scores.max()) if n else None,
        "train_time": float(sum(r.train_time for r in results)),
    }
    out["val_se"] = out["val_std"] / math.sqrt(n) if n > 1 else (0.0 if n == 1 else None)
    return out


def search(
    data: Any,
    target: str | None = None,
    *,
    task: str = "auto",
    space: Space | None = None,
    rule: str = "one-se",
    n_init: int = 5,
    storage: str | None = None,
    out: str | Path | None = None,
    sampler: str = "auto",
    n_trials: int | None = None,
    time_budget: str | float | None = None,
    halving: bool = False,
    seed: int = 0,
    device: str = "cpu",
    precision: str = "float32",
    executor: str | Executor = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    max_params: int | None = None,
    max_latency: str | float | None = None,
    test: Any = None,
    val: Any = None,
    split: tuple[float, float, float] = (0.6, 0.2, 0.2),
    diagnose_every: int = 10,
    report: bool = True,
    progress: SearchProgress | None = None,
    depth: Any = _SPACE_KEYWORD_DEFAULTS["depth"],
    widths: Any = _SPACE_KEYWORD_DEFAULTS["widths"],
    shape: Any = _SPACE_KEYWORD_DEFAULTS["shape"],
    activation: Any = _SPACE_KEYWORD_DEFAULTS["activation"],
    init: Any = _SPACE_KEYWORD_DEFAULTS["init"],
    optimizer: Any = _SPACE_KEYWORD_DEFAULTS["optimizer"],
    lr: Any = _SPACE_KEYWORD_DEFAULTS["lr"],
    weight_decay: Any = _SPACE_KEYWORD_DEFAULTS["weight_decay"],
    batch_size: Any = _SPACE_KEYWORD_DEFAULTS["batch_size"],
    max_epochs: Any = _SPACE_KEYWORD_DEFAULTS["max_epochs"],
    patience: Any = _SPACE_KEYWORD_DEFAULTS["patience"],
    monitor: Any = _SPACE_KEYWORD_DEFAULTS["monitor"],
    schedule: Any = _SPACE_KEYWORD_DEFAULTS["schedule"],
    delimiter: str | None = None,
    decimal: str | None = None,
    max_categories: int = 50,
    encoding: str | None = None,
    memory_budget: int | str | None = None,
    refit: bool = True,
    strategy: str = "grid",
    grow_patience: int = 2,
) -> "SearchResult":
    """Search depth x width (and more), choose the just-enough config, and test it once.

    ``data`` is anything ``justenough.data.load`` takes (a path, a DataFrame, ``(X, y)``, a bundled
    dataset name) or an already ``Prepared`` dataset. With ``out``, everything is persisted in that
    run directory (the study in ``out/study.db`` unless ``storage`` is given) and running the same
    search again resumes it.

    The search space: the keywords of the CLI's options, with the same names, syntax and defaults
    (``depth="1-2"``, ``widths=[8, 32]``, ``lr="1e-4..1e-2"``, ``patience="none"``), or a whole
    ``Space`` as ``space=`` (not both). Reading a file: ``delimiter``, ``decimal``, ``encoding`` and
    ``max_categories``, as ``justenough.data.load`` takes them (also for ``test`` and ``val``).
    ``memory_budget`` (bytes, or text such as ``"2GB"``; default a quarter
    of the free memory) is what one stack may use: a stack that does not fit is split, and a space
    whose largest network does not fit even alone is refused before anything is created
    (``preflight.check_memory``, naming the largest width that fits). ``refit=True`` (the default) trains the chosen config again on
    train+validation (``refit.py``) and the test scores that model (``summary["model"]`` says
    which); ``refit=False`` keeps its best restart.
    ``strategy="grow"`` trains
    from the simplest config up, while bigger keeps paying (``grow.py``; ``grow_patience``
    non-improving steps stop a direction) instead of the whole grid. Returns a ``SearchResult``.
    """
    arguments = dict(locals())  # the keywords as given (a comprehension would see its own locals)
    space_options = {name: arguments[name] for name in _SPACE_KEYWORD_DEFAULTS}
    from justenough.data import Prepared, load, prepare
    from justenough.run.finalize import finalize

    if n_init < 1:
        raise ConfigError(f"n_init must be at least 1, got {n_init}")
    if strategy not in ("grid", "grow"):
        raise ConfigError(f"unknown strategy {strategy!r}: use grid (every config) or grow (from the simplest up)")
    if strategy == "grow" and halving:
        raise ConfigError(f"the grow strategy and successive halving do not combine: drop {option('halving', True)} "
                          f"or use {option('strategy', 'grid')}")
    if strategy == "grow" and sampler.lower() not in ("auto", "grid"):
        raise ConfigError(f"the grow strategy walks the grid itself: drop {option('sampler', sampler)} or use {option('strategy', 'grid')}")
    if grow_patience < 1:
        raise ConfigError(f"grow_patience must be at least 1, got {grow_patience}")
    from justenough.train import PRECISIONS

    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    budget_s = parse_duration(time_budget)
    # A number is milliseconds; text is a duration ("1ms", "0.5ms").
    if max_latency is None or isinstance(max_latency, (int, float)):
        latency_limit_ms = None if max_latency is None else float(max_latency)
    else:
        latency_limit_ms = parse_duration(max_latency) * 1000.0  # type: ignore[operator]
    progress = progress or SearchProgress()
    given = [name for name, value in space_options.items() if not isinstance(value, _CliDefault)]
    if space is not None and given:
        raise ConfigError(
            f"pass either a whole space (space=Space(...)) or the search-space keywords ({', '.join(given)}), not both: "
            "put these settings into the Space, or drop space="
        )
    if space is None:
        space = Space.from_options(**space_options)
    elif not isinstance(space, Space):
        raise ConfigError(f"space must be a justenough.Space, got {type(space).__name__}; or pass the keywords (depth=..., widths=...)")
    reading: dict[str, Any] = {"delimiter": delimiter, "decimal": decimal, "encoding": encoding, "max_categories": max_categories}
    # Refused before anything is loaded or created: a device this torch cannot use, an ``out``
    # that is a file (preflight.py).
    from justenough.preflight import check_memory, check_out_dir, default_memory_budget, parse_bytes
    from justenough.stack import resolve_device

    resolve_device(device)
    if out is not None:
        check_out_dir(out, "out")
    budget = parse_bytes(memory_budget) if memory_budget is not None else default_memory_budget(device)

    if isinstance(data, Prepared):
        prepared = data
    else:
        table = load(data, target=target, task=task, **reading)
        test_table = load(test, target=table.target_name, task=table.task, **reading) if test is not None else None
        if val is not None and val is test:  # one table for both: no independent test split (data.prepare)
            val_table = test_table
        else:
            val_table = load(val, target=table.target_name, task=table.task, **reading) if val is not None else None
        prepared = prepare(table, split=split, seed=seed, test=test_table, val=val_table)
    for notice in prepared.notices:
        progress.on_message(notice)
    check_memory(space, n_features=prepared.n_features, n_outputs=prepared.n_outputs, n_val=int(prepared.X_val.shape[0]),
                 budget=budget, diagnose=diagnose_every > 0, explicit=memory_budget is not None)

    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    url = storage_url(storage, out_dir)
    samp, is_grid, directions = _make_sampler("grid" if strategy == "grow" else sampler, space, seed)
    if not is_grid and n_trials is None and budget_s is None:
        n_trials = DEFAULT_TRIALS
    fingerprint = {
        "data": prepared.fingerprint(),
        "space": space.fingerprint(),
        "n_init": n_init,
        "seed": seed,
        "halving": bool(halving),
        "precision": precision,
        "sampler": "grid" if is_grid else sampler,
    }
    if strategy == "grow":  # a grid study and a grow study train different configs: never mix them
        fingerprint["strategy"] = "grow"
    handle = open_study(url, fingerprint=fingerprint, sampler=samp, directions=directions)
    revived = handle.fail_dead_trials()
    if revived:
        progress.on_message(f"resuming: {len(revived)} trial(s) whose process died will be retried")

    training_data = TrainingData.from_prepared(prepared)
    weights_store = _WeightsStore(out_dir)
    exec_ = make_executor(executor, workers=workers, address=ray_address, device=device) if isinstance(executor, str) else executor
    driver = _Driver(
        handle=handle,
        space=space,
        data=training_data,
        executor=exec_,
        n_init=n_init,
        seed=seed,
        is_grid=is_grid,
        multi_objective=len(directions) > 1,
        halving=halving,
        device=device,
        precision=precision,
        diagnose_every=diagnose_every,
        memory_budget=budget,
        n_trials=n_trials,
        time_budget=budget_s,
        progress=progress,
        weights_sink=weights_store.put,
        grow=strategy == "grow",
    )
    if is_grid and not handle.created and strategy == "grid":
        # A driver that joins a study waits until its creator has enqueued the grid, so that the
        # grid is not enqueued several times over (claims would still dedupe, at a cost).
        deadline = time.time() + 60
        while not handle.get_attr("grid_enqueued") and time.time() < deadline:
            time.sleep(0.2)
            handle.study = optuna.load_study(study_name=handle.study.study_name, storage=handle.storage, sampler=samp)
    total = (driver.enqueue_grid() if strategy == "grid" else None) if is_grid else n_trials
    if is_grid and handle.created:
        handle.set_attr("grid_enqueued", True)
    done = len(handle.keys_in(DONE_STATES))
    if not is_grid and n_trials is not None:
        driver.n_trials = max(0, n_trials - done)
    # The executor first: forked workers must start while this process runs no other thread
    # (the live progress display has one).
    exec_.start(training_data)
    growth: Any = None
    try:
        progress.on_start(total, done, n_init)
        if strategy == "grow":
            growth = _grow(driver, handle, space, training_data, grow_patience, max_params)
        else:
            driver.run()
    finally:
        exec_.close()
        progress.on_end()
    if driver.stop_reason:
        progress.on_message(f"stopped: {driver.stop_reason}")
    growth_summary = None
    if strategy == "grow":
        from justenough import grow

        growth_summary = grow.summary(growth, space.configs(), prepared.task == "classification", driver.stop_reason)
        progress.on_message(growth_summary["explanation"])

    return finalize(
        handle=handle,
        prepared=prepared,
        space=space,
        rule=rule,
        n_init=n_init,
        seed=seed,
        device=device,
        precision=precision,
        max_params=max_params,
        max_latency_ms=latency_limit_ms,
        out=out_dir,
        weights=weights_store,
        report=report,
        refit=refit,
        growth=growth_summary,
    )


class _WeightsStore:
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


