"""``summary.json``: the choice and why, its test score, its restarts, its speed, and the evidence.

``Summary`` has one field per key of the file, in the file's order; ``engine/finalize.py`` builds it,
``to_dict()`` is what ``write_json`` writes (and what ``SearchResult.summary`` holds), and
``from_json`` reads the file back (``run/files.read_summary``) for the report, ``show`` and
``compare``.

Files from earlier versions lack keys added since: they read as the field's default (None, or an
empty list), which the readers take as "not recorded"; ``read_summary`` requires ``chosen.key``.
Keys this version does not know (a newer version's) are kept, in ``extra``, and written back after
the known ones: reading and writing a summary loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from justenough.display_numbers import PERCENT_METRICS, json_ready
from justenough.run.growth import Growth
from justenough.vocab import Task

__all__ = ["Summary", "describe_fit"]


@dataclass(frozen=True)
class Summary:
    """What ``summary.json`` holds, one field per key, in the file's order. Values are JSON-ready
    (non-finite floats as None, NumPy values as Python ones), so a summary equals what it reads back as."""

    # The chosen config: key, label, every setting, params, flops, best_restart (study/tables.config_columns).
    # A finished run's always has a key: run/files.read_summary refuses one without.
    chosen: dict[str, Any] = field(default_factory=dict)
    # The rule that chose it, as read: its canonical text ("one-se", "target=0.95", "tolerance=0.01"; "paired-se" reads as one-se).
    rule: str | None = None
    # Why this config, in words (select/explain.py).
    explanation: str | None = None
    # The validation metric ("accuracy" or "r2"; the same as test_metric).
    metric: str | None = None
    # The metric test_score is in.
    test_metric: str | None = None
    # The chosen model's score on the test split, in test_metric.
    test_score: float | None = None
    # Every metric of the chosen model on the test split, by name.
    test_metrics: dict[str, Any] | None = None
    # "sealed" (an independent test split, opened once) or "validation" (the validation rows were the test rows).
    test_split: str | None = None
    # How many models this study's test split has scored, this one included (past one, no longer unbiased).
    test_models_scored: int | None = None
    # Those models, oldest first: key, label, restart, rule.
    test_scored_models: list[dict[str, Any]] = field(default_factory=list)
    # The chosen config's validation score: its ensemble's when the choice judged ensembles
    # (judged_by "ensembles"), else the mean over its restarts that did not diverge.
    val_score_mean: float | None = None
    # What the rule compared: "ensembles" (each config's mean of its restarts, the model the search
    # returns: select/ensemble_noise.py) or "restarts" (their single networks: select/noise.py).
    # None: a run from before the choice judged ensembles (it judged restarts).
    judged_by: str | None = None
    # Their standard deviation (None with fewer than two).
    val_score_std: float | None = None
    # The standard error of their mean: the noise model's, over validation rows and restarts
    # (select/noise.py); without per-row evidence, the restarts' (None with fewer than two).
    val_score_se: float | None = None
    # The SE's parts from the noise model (select/noise.py): which rows validate, which seeds train
    # (None: no per-row evidence, and val_score_se is the restarts' SE).
    val_score_se_rows: float | None = None
    val_score_se_restarts: float | None = None
    # The validation score of the chosen config's best restart (the model's, unless refit).
    best_restart_val_score: float | None = None
    # Which model the test scored: fit_on, rows, restart, epochs (engine/refit.py; in words: describe_fit).
    model: dict[str, Any] | None = None
    # Whether the model is the mean of the chosen config's restarts (search(ensemble=True),
    # engine/ensemble.py); model then holds members, restarts and params. None: a run from before.
    ensemble: bool | None = None
    # Restarts per config, as asked for.
    n_init: int | None = None
    # Configs in the leaderboard.
    n_configs: int | None = None
    # Restarts trained, all configs together.
    n_restarts: int | None = None
    # The share of the chosen config's restarts that land near its best (select/stats.p_good).
    p_good: float | None = None
    # Restarts needed to land near the best with 95% probability (None when p_good is 0).
    restarts_for_95: int | None = None
    # Seconds of training of the chosen config, all its restarts.
    train_time: float | None = None
    # Seconds of training of the whole search.
    search_train_time: float | None = None
    # The chosen model's latency in milliseconds: batch_1 and batch_1024.
    latency_ms: dict[str, float | None] | None = None
    # Rows per second at batch 1024 (None when unmeasurable).
    throughput: float | None = None
    # The limits the choice respected: max_params, max_latency_ms (None: no limit).
    limits: dict[str, Any] | None = None
    # Rows of each split: train, val, test.
    split_sizes: dict[str, int] | None = None
    # How many folds validated every config: 1 (the single validation split) or K (cross-validation,
    # executors/training_data.deal_folds). None: a run from before folds were recorded.
    folds: int | None = None
    # "classification" or "regression" (a vocab.Task once written by finalize; compare with Task members).
    task: str | None = None
    # The study's seed.
    seed: int | None = None
    # The training precision ("float32", "bfloat16", ...).
    precision: str | None = None
    # How the preprocessing scaled numeric columns ("standard", "robust", "quantile"; vocab.NumericScaling).
    # None: a run from before the choice was recorded (it standardized).
    numeric: str | None = None
    # Where the study was kept: "memory", or the storage URL's scheme ("sqlite", "postgresql", ...).
    storage: str | None = None
    # Versions of justenough, torch and python that made the run.
    versions: dict[str, str] = field(default_factory=dict)
    # The grow strategy's path, stops, explanation and configs not needed (engine/strategies/grow.summary;
    # its JSON: run/growth.py); None with other strategies, and then not written at all.
    growth: Growth | None = None
    # lr_per_config: the learning rate the chosen architecture kept and every rate's validation
    # mean, {"lr": 0.003, "val_means": {"0.001": ..., "0.003": ...}} (select/lr_choice.py); None otherwise.
    lr_choice: dict[str, Any] | None = None
    # What no network scores on validation (select/baseline.py).
    baseline: dict[str, Any] | None = None
    # The choice against its closest rival, restart k against restart k (select.paired_evidence); None without one.
    paired: dict[str, Any] | None = None
    # What a reader should know about the score (weak signal, no refit, a reused test split).
    notices: list[str] = field(default_factory=list)
    # Keys this version does not know, kept as read and written after the known ones.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # JSON-ready values, so that from_json(to_dict()) gives back an equal summary (a Growth is
        # JSON-ready by its own to_dict, and json_ready passes it through).
        for f in fields(self):
            object.__setattr__(self, f.name, json_ready(getattr(self, f.name)))

    @property
    def shown_metric(self) -> str | None:
        """The metric the scores are in: ``test_metric``, else ``metric`` (None when neither is recorded)."""
        return self.test_metric or self.metric or None

    @property
    def percent(self) -> bool:
        """Whether the scores read as percents (accuracies); without a recorded metric, by the task."""
        metric = self.shown_metric
        if metric:
            return metric in PERCENT_METRICS
        return self.task == Task.CLASSIFICATION

    def to_dict(self) -> dict[str, Any]:
        """``summary.json``'s object: every field in order (``growth`` and ``lr_choice`` only when
        there is one), then ``extra``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_WRITTEN_AS_KEYS}
        if self.lr_choice is None:
            del out["lr_choice"]
        if self.growth is None:
            del out["growth"]
        else:
            out["growth"] = self.growth.to_dict()
        return {**out, **self.extra}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Summary":
        """A summary from ``summary.json``'s object: missing keys take their defaults, unknown ones go to ``extra``."""
        names = {f.name for f in fields(cls)} - _NOT_WRITTEN_AS_KEYS
        known = {k: v for k, v in obj.items() if k in names}
        if known.get("growth") is not None:
            known["growth"] = Growth.from_json(known["growth"])
        return cls(**known, extra={k: v for k, v in obj.items() if k not in names})


# Fields that are no key of summary.json.
_NOT_WRITTEN_AS_KEYS = frozenset({"extra"})


def describe_fit(fit: dict[str, Any]) -> str:
    """Which model the test scored (``summary["model"]``), in words, for the report and ``show``."""

    def n(key: str) -> str:
        value = fit.get(key)
        return f"{int(value):,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"

    if fit.get("members"):  # an ensemble of restarts (engine/ensemble.py)
        head = f"an ensemble of {n('members')} restarts (the mean of their predictions; {n('params')} parameters in all)"
        if fit.get("fit_on") == "train+validation":
            return (f"{head}, each refit on train+validation ({n('rows')} rows) for {n('epochs')} epochs "
                    "(the median best epoch of its restarts) from its own seed")
        return f"{head}, each as the search trained it, on the {n('rows')} training rows (its best epoch)"
    if fit.get("fit_on") == "train+validation":
        return (f"refit on train+validation ({n('rows')} rows) for {n('epochs')} epochs "
                f"(the median best epoch of its restarts), from restart {n('restart')}'s seed")
    return f"restart {n('restart')} as the search trained it, on the {n('rows')} training rows (best epoch {n('epochs')})"
