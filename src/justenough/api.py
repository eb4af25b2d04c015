"""The public functions of justenough that run something: ``search`` (wiring only: its keywords
become a ``SearchSettings``, validated once, and the search runs). ``justenough/__init__.py``
exports it as ``justenough.search``; the init lab's ``init_lab`` is ``justenough.diagnose.lab``'s.

Importing this module loads neither torch nor optuna: the search's modules are imported when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from justenough.engine.progress import SearchProgress
from justenough.settings import SearchSettings
from justenough.space.search_space import DEFAULT_SPACE_VALUES, Space
from justenough.vocab import ExecutorKind, NumericScaling, Precision, Sampler, Strategy

if TYPE_CHECKING:
    from justenough.run.result import SearchResult
    from justenough.executors import Executor
    from justenough.select.rules import Rule

__all__ = ["search", "run_search", "supported_precision"]

# The keywords of ``search()`` that are not settings: the data and the progress display.
_NOT_SETTINGS = ("data", "target", "space", "test", "val", "progress")


# 97 lines: the signature is one keyword per line (every option of the CLI, two with why their default is text); the body is wiring only
def search(
    data: Any,
    target: str | None = None,
    *,
    task: str = "auto",
    space: Space | None = None,
    # The rule's text, not a Rule: the rules import pandas, which ``import justenough`` must not
    # load; SearchSettings reads it into a Rule once, before anything is read, written or trained.
    rule: "str | Rule" = "one-se",
    n_init: int = 5,
    storage: str | None = None,
    out: str | Path | None = None,
    sampler: Sampler | str = Sampler.AUTO,
    n_trials: int | None = None,
    time_budget: str | float | None = None,
    halving: bool = False,
    seed: int = 0,
    # Text, not a torch.device: torch must not load at ``import justenough``; SearchSettings
    # reads it once ("auto" resolved there).
    device: str = "cpu",
    precision: Precision | str = Precision.FLOAT32,
    executor: ExecutorKind | str | Executor = ExecutorKind.LOCAL,
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
    depth: Any = DEFAULT_SPACE_VALUES["depth"],
    widths: Any = DEFAULT_SPACE_VALUES["widths"],
    shape: Any = DEFAULT_SPACE_VALUES["shape"],
    activation: Any = DEFAULT_SPACE_VALUES["activation"],
    init: Any = DEFAULT_SPACE_VALUES["init"],
    optimizer: Any = DEFAULT_SPACE_VALUES["optimizer"],
    lr: Any = DEFAULT_SPACE_VALUES["lr"],
    weight_decay: Any = DEFAULT_SPACE_VALUES["weight_decay"],
    batch_size: Any = DEFAULT_SPACE_VALUES["batch_size"],
    max_epochs: Any = DEFAULT_SPACE_VALUES["max_epochs"],
    patience: Any = DEFAULT_SPACE_VALUES["patience"],
    monitor: Any = DEFAULT_SPACE_VALUES["monitor"],
    schedule: Any = DEFAULT_SPACE_VALUES["schedule"],
    embed: Any = DEFAULT_SPACE_VALUES["embed"],
    label_smoothing: Any = DEFAULT_SPACE_VALUES["label_smoothing"],
    delimiter: str | None = None,
    decimal: str | None = None,
    max_categories: int = 50,
    encoding: str | None = None,
    dates: str | None = None,
    memory_budget: int | str | None = None,
    refit: bool = True,
    ensemble: bool = True,
    lr_per_config: bool = False,
    judge_ensembles: bool | None = None,
    strategy: Strategy | str = Strategy.GRID,
    grow_patience: int = 2,
    cv: int | str = "auto",
    numeric: NumericScaling | str = NumericScaling.STANDARD,
) -> "SearchResult":
    """Search depth x width (and more), choose the just-enough config, and test it once.

    ``data`` is anything ``justenough.data.load`` takes (a path, a DataFrame, ``(X, y)``, a bundled
    dataset name) or an already ``Prepared`` dataset. With ``out``, everything is persisted in that
    run directory (the study in ``out/study.db`` unless ``storage`` is given) and running the same
    search again resumes it.

    The search space: the keywords of the CLI's options, with the same names, each given as a
    typed value (``depth=(1, 2)``, ``widths=[8, 32]``, ``lr=1e-2``, ``patience=None``) or as the
    CLI's text (``depth="1-2"``, ``lr="1e-4..1e-2"``, ``patience="none"``), each defaulting to the
    default space's values (``space.search_space.DEFAULT_SPACE_VALUES``, what the CLI's defaults
    read as), or a whole ``Space`` as ``space=`` (not both). ``sampler``, ``strategy``,
    ``executor`` and ``precision`` take their ``vocab`` members or those members' text. Reading a file: ``delimiter``, ``decimal``, ``encoding``,
    ``max_categories`` and ``dates`` (date columns are refused unless ``"drop"`` or ``"ordinal"``),
    as ``justenough.data.load`` takes them (also for ``test`` and ``val``). ``rule``: text
    (``"one-se"``, ``"target=0.95"`` or ``"95%"``, ``"tolerance=0.01"``) or a ``select.Rule``; it is
    read with the other settings, so a bad one is refused before any data is read, file written or
    network trained.
    ``memory_budget`` (bytes, or text such as ``"2GB"``; default a quarter
    of the free memory) is what one stack may use: a stack that does not fit is split, and a space
    whose largest network does not fit even alone is refused before anything is created
    (``preflight.check_memory``, naming the largest width that fits). ``refit=True`` (the default) trains the chosen config again on
    train+validation (``refit.py``) and the test scores that model (``summary["model"]`` says
    which); ``refit=False`` keeps its best restart. ``ensemble=True`` (the default): the model is the mean of the
    chosen config's restarts (classification: of their probabilities), each refit when ``refit``
    is (``engine/ensemble.py``); the limits count its cost (k x the parameters, its latency).
    ``ensemble=False``: the model is one network, the chosen config's best restart.
    ``lr_per_config=True`` with several ``lr`` values: each architecture keeps its best learning
    rate by validation before the rule compares architectures (``select/lr_choice.py``); the
    explanation and ``summary["lr_choice"]`` say which won. ``judge_ensembles``: the rule compares
    every config as the model is built, by default (``None``): its ensemble of restarts with the
    ensemble, its restarts without, and its restarts in a ``storage`` other drivers may share
    (each driver keeps the outputs an ensemble is judged by in its own run directory;
    ``select/ensemble_noise.py``; docs/selection.md, "Judging ensembles"); ``False`` judges the
    restarts under the ensemble too, ``True`` with ``ensemble=False`` is refused. ``strategy="grow"`` trains
    from the simplest config up, while bigger keeps paying (``engine/strategies/grow.py``; ``grow_patience``
    non-improving steps stop a direction) instead of the whole grid. ``cv``: K folds of the rows
    outside the test split validate every config (trained as members of the same stacks as the
    restarts; the choice reads every row's out-of-fold evidence), 1 one validation split, ``"auto"``
    (the default) 5 folds below 1,000 such rows, else one split. ``numeric``: how the preprocessing
    scales numeric columns, fitted on the training rows (``data/numeric_scaling.py``): ``"standard"``
    (the default, ``(x - mean) / std``), ``"robust"`` (``(x - median) / IQR``, smooth-clipped to
    (-3, 3), as RealMLP) or ``"quantile"`` (the training quantiles mapped to a normal). Returns a ``SearchResult``.
    """
    arguments = dict(locals())  # the keywords as given (a comprehension would see its own locals)
    if progress is not None and not isinstance(progress, SearchProgress):
        raise TypeError(f"progress must be a SearchProgress or None, got {type(progress).__name__}")
    space_options = {name: arguments[name] for name in DEFAULT_SPACE_VALUES}
    settings = SearchSettings.from_keywords(
        space=space,
        space_options=space_options,
        **{name: value for name, value in arguments.items() if name not in _NOT_SETTINGS and name not in space_options},
    )
    return run_search(settings, data, target=target, test=test, val=val, progress=progress or SearchProgress())


def run_search(
    settings: SearchSettings, data: Any, *, target: str | None, test: Any, val: Any, progress: SearchProgress
) -> "SearchResult":
    """A search from its settings (what ``search()``, the CLI and the search estimators build): train
    the study (``engine/train_study.py``), finalize the run (``engine/finalize.py``: choose, test once, write
    the run directory), then build the report from that directory alone."""
    from justenough.run.disk_full import disk_full_error, is_disk_full

    try:
        return _run_search(settings, data, target=target, test=test, val=val, progress=progress)
    except Exception as exc:
        # A full disk surfaces as SQLite's, SQLAlchemy's or Optuna's error, or an OSError: one answer.
        if is_disk_full(exc):
            raise disk_full_error(settings.out) from exc
        raise


def _run_search(
    settings: SearchSettings, data: Any, *, target: str | None, test: Any, val: Any, progress: SearchProgress
) -> "SearchResult":
    from justenough.engine.finalize import finalize
    from justenough.run.stale import model_digest, set_aside_stale
    from justenough.engine.train_study import train_study

    settings, precision_notice = supported_precision(settings)
    if precision_notice:
        progress.on_message(precision_notice)  # before the training it changes
    trained = train_study(settings, data, target=target, test=test, val=val, progress=progress)
    if precision_notice:
        trained.prepared.notices.append(precision_notice)  # kept in the result's notices
    earlier_model = model_digest(settings.out) if settings.out is not None else None
    result = finalize(settings, trained)
    if settings.out is not None:
        # What an earlier run left and this one does not rewrite must not pass for this run's.
        for notice in set_aside_stale(settings.out, earlier_model, report_rewritten=settings.report):
            result.notices.append(notice)
            progress.on_message(notice)
    if settings.report and settings.out is not None:
        from justenough.report import build_report

        # The report reads the run directory finalize has just written, and nothing else.
        result.report_path = build_report(settings.out)
    return result


def supported_precision(settings: SearchSettings) -> tuple[SearchSettings, str | None]:
    """The settings with the precision this device trains fast in: bfloat16 where it is not
    supported falls back to float32, with a notice (``train/bf16_support.py``)."""
    from dataclasses import replace

    from justenough.train.bf16_support import bf16_support, effective_precision
    from justenough.vocab import Precision

    if settings.precision != Precision.BFLOAT16:
        return settings, None
    precision, notice = effective_precision(settings.precision, *bf16_support(settings.torch_device))
    if notice:
        import logging

        # INFO, not a warning: the caller shows the notice (the CLI's progress, the estimators' verbose),
        # and a warning without a configured handler would print it a second time on stderr.
        logging.getLogger(__name__).info(notice)
    return replace(settings, precision=Precision(precision)), notice
