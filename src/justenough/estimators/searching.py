"""The search estimators, ``JustEnoughClassifier`` and ``JustEnoughRegressor``: ``fit`` reads the
parameters into a ``SearchSettings`` and runs the search over a depth x width space on the
training data (validated by a split inside or by ``cv``'s folds, in memory unless ``out`` is
given); prediction uses the chosen model.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from justenough.errors import ConfigError, DataError
from justenough.space.dims import AUTO
from justenough.space.search_space import DEFAULT_SPACE_VALUES
from justenough.vocab import SAMPLER_ALIASES, SKLEARN_ACTIVATION_NAMES, NumericScaling, Sampler, Task, parse_choice
from justenough.estimators.base import (EstimatorConfigError, EstimatorInputError,
                                       check_fraction, check_positive_int, is_cpu, resolve_device,
                                       validation_split, seed_from_random_state)

if TYPE_CHECKING:
    from justenough.run.result import SearchResult
    from justenough.engine.progress import SearchProgress
    from justenough.space.search_space import Space

__all__ = ["JustEnoughClassifier", "JustEnoughRegressor"]


def _single_default(name: str) -> Any:
    """The default space's one value of dimension ``name``: the estimators' parameters that
    scikit-learn writes as single values (``learning_rate_init=0.001``) default to it. A vocabulary
    member (``Activation.RELU``) as its plain ``str``: scikit-learn's estimator checks allow only
    built-in types as parameters (check_parameters_default_constructible), and the member equals it."""
    (value,) = DEFAULT_SPACE_VALUES[name]
    return str(value) if isinstance(value, str) else value


def _text_frame(X: Any) -> pd.DataFrame | None:
    """``X`` when it is a DataFrame with a text (or category) column, else None."""
    if not isinstance(X, pd.DataFrame):
        return None
    numeric = [pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]) for c in X.columns]
    return None if all(numeric) else X


def _progress(verbose: Any) -> "SearchProgress | None":
    """``verbose=0``: silent; ``>= 1``: one line per finished config on stdout, as the CLI's log."""
    if isinstance(verbose, bool) or not isinstance(verbose, Integral) or verbose < 0:
        raise EstimatorConfigError(f"verbose must be a non-negative int, got {verbose!r}")
    if not verbose:
        return None
    from rich.console import Console

    from justenough.engine.progress import PlainProgress

    return PlainProgress(Console(width=160, highlight=False))


def _read_cv(cv: Any) -> int | str:
    """``cv`` as the search reads it ("auto", or a number of folds; 1: the single split), checked
    before any training; a bad value is the estimators' config error."""
    from justenough.settings import read_cv

    try:
        return read_cv(cv)
    except ConfigError as exc:
        raise EstimatorConfigError(str(exc)) from None


def _folds_without_test(cv: int | str, n_rows: int) -> int:
    """The folds of a fit without a test split (``test_fraction=0``), where all ``n_rows`` rows
    lie outside the test split: "auto" as the search resolves it, else ``cv`` (checked against
    the rows)."""
    from justenough.settings import SearchSettings
    from justenough.space.search_space import Space

    try:
        return SearchSettings(space=Space.default(), cv=cv).folds_for(n_rows, own_val=False)
    except ConfigError as exc:  # more folds than rows
        raise EstimatorConfigError(str(exc)) from None


class _BaseSearch(BaseEstimator):
    """Shared parameters and fitting of the search estimators."""

    _task: Task = Task.CLASSIFICATION

    def __init__(
        self,
        *,
        depth: Any = DEFAULT_SPACE_VALUES["depth"],
        widths: Any = DEFAULT_SPACE_VALUES["widths"],
        activation: str = _single_default("activation"),
        init: str = _single_default("init"),
        learning_rate_init: Any = _single_default("lr"),
        batch_size: Any = _single_default("batch_size"),
        max_epochs: Any = _single_default("max_epochs"),
        patience: int | None = _single_default("patience"),
        embed: Any = _single_default("embed"),
        schedule: str = _single_default("schedule"),
        label_smoothing: Any = _single_default("label_smoothing"),
        space: "Space | None" = None,
        rule: str = "one-se",
        n_init: int = 5,
        validation_fraction: float = 0.2,
        test_fraction: float = 0.0,
        sampler: str = str(Sampler.AUTO),  # plain str: scikit-learn allows built-in types only (_single_default)
        n_trials: int | None = None,
        halving: bool = False,
        cv: Any = "auto",
        numeric: str = str(NumericScaling.STANDARD),  # plain str, as ``sampler``
        max_params: int | None = None,
        ensemble: bool = True,
        judge_ensembles: bool | None = None,
        lr_per_config: bool = False,
        report: bool = True,
        random_state: Any = None,
        device: str = "cpu",
        workers: int = 1,
        out: Any = None,
        verbose: int = 0,
    ) -> None:
        self.depth = depth
        self.widths = widths
        self.activation = activation
        self.init = init
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.embed = embed
        self.schedule = schedule
        self.label_smoothing = label_smoothing
        self.space = space
        self.rule = rule
        self.n_init = n_init
        self.validation_fraction = validation_fraction
        self.test_fraction = test_fraction
        self.sampler = sampler
        self.n_trials = n_trials
        self.halving = halving
        self.cv = cv
        self.numeric = numeric
        self.max_params = max_params
        self.ensemble = ensemble
        self.judge_ensembles = judge_ensembles
        self.lr_per_config = lr_per_config
        self.report = report
        self.random_state = random_state
        self.device = device
        self.workers = workers
        self.out = out
        self.verbose = verbose

    def _space(self) -> "Space":
        from justenough.space.search_space import Space

        if self.space is not None:
            if not isinstance(self.space, Space):
                raise EstimatorConfigError(f"space must be a justenough.Space or None, got {type(self.space).__name__}")
            return self.space
        # "auto": the task's budget (DEFAULT_MAX_EPOCHS: 200 for the classifier, 400 for the regressor).
        max_epochs = AUTO if self.max_epochs == AUTO else check_positive_int("max_epochs", self.max_epochs)
        patience = None if self.patience is None else check_positive_int("patience", self.patience)
        try:
            # Each parameter as it is (text, a number, a list, a tuple, an array): parse_dim reads it.
            return Space.from_options(
                depth=self.depth,
                widths=self.widths,
                activation=SKLEARN_ACTIVATION_NAMES.get(str(self.activation), self.activation),
                init=self.init,
                lr=self.learning_rate_init,
                batch_size=self.batch_size,
                max_epochs=max_epochs,
                patience=patience,
                embed=self.embed,
                schedule=self.schedule,
                label_smoothing=self.label_smoothing,
            )
        except ConfigError as exc:
            raise EstimatorConfigError(str(exc)) from None

    def _fit(self, X: Any, y: Any) -> "_BaseSearch":
        # A DataFrame with text columns goes to the search as it is (it one-hot encodes them and
        # imputes missing cells, as the CLI does); anything else is a numeric array, as in scikit-learn.
        table = _text_frame(X)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=None if table is not None else (np.float64, np.float32),
            ensure_all_finite=table is None,
            y_numeric=self._task == Task.REGRESSION,
        )
        target = self._target(y)
        n_init = check_positive_int("n_init", self.n_init)
        cv = _read_cv(self.cv)
        fraction = check_fraction("validation_fraction", self.validation_fraction)
        seed = seed_from_random_state(self.random_state)
        test_fraction = float(self.test_fraction)
        if not 0.0 <= test_fraction < 1.0 - fraction:
            raise EstimatorConfigError(
                f"test_fraction must be >= 0 and leave rows for training (validation_fraction={fraction}), got {self.test_fraction!r}"
            )
        if table is not None:
            names = [str(c) for c in table.columns]
            frame = table.set_axis(names, axis=1).reset_index(drop=True)
        else:
            names = [f"x{i}" for i in range(X.shape[1])]
            frame = pd.DataFrame(np.asarray(X, dtype=np.float64), columns=names)
        result = self._search(frame, target, n_init=n_init, cv=cv, fraction=fraction, test_fraction=test_fraction,
                              seed=seed)
        self._keep(result, tested=test_fraction > 0)
        self._columns = names
        self._text_input = table is not None
        return self

    def _target(self, y: np.ndarray) -> pd.Series:
        """The target column the search takes: class indices 0..K-1 (``classes_`` maps them back),
        or the regression target as float64."""
        if self._task == Task.CLASSIFICATION:
            check_classification_targets(y)
            kind = type_of_target(y)
            if kind not in ("binary", "multiclass"):
                raise EstimatorInputError(f"{type(self).__name__} takes one label per row, got {kind} targets")
            self.classes_, y_idx = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise EstimatorInputError(f"y holds only one class ({self.classes_[0]!r}): a classifier needs two or more")
            return pd.Series(y_idx, name="target")  # indices 0..K-1; classes_ maps them back
        return pd.Series(np.asarray(y, dtype=np.float64), name="target")

    def _search(self, frame: pd.DataFrame, target: pd.Series, *, n_init: int, cv: int | str, fraction: float,
                test_fraction: float, seed: int) -> "SearchResult":
        """The search on ``frame`` and ``target``, its settings read from the parameters. ``cv``:
        as ``read_cv`` reads it ("auto" or a number of folds)."""
        from justenough.engine.progress import SearchProgress
        from justenough.api import run_search
        from justenough.settings import SearchSettings
        from justenough.select.rules import parse_rule
        from justenough.data.numeric_scaling import read_numeric_scaling

        held: Any = None
        if test_fraction > 0:
            # A sealed test split inside the search: test_score_ is an honest estimate.
            data: Any = (frame, target)
            # cv folds the rows outside it, as search() does ("auto": by their number).
            split: dict[str, Any] = {"split": (1.0 - fraction - test_fraction, fraction, test_fraction), "cv": cv}
        else:
            # No test split: every row trains or validates. The split is made here (stratified,
            # seeded) and the validation rows also stand in for the search's test split (the same
            # object as val and test): a run directory says so (summary.json "test_split":
            # "validation", and its report), and test_score_ is None.
            strat = target.to_numpy() if self._task == Task.CLASSIFICATION else None
            tr, va, notice = validation_split(len(frame), fraction, seed, strat)
            if notice:
                raise EstimatorInputError(
                    f"n_samples={len(frame)}: too few rows for a search with a validation split; give at least 4"
                )
            data = (frame.iloc[tr].reset_index(drop=True), target.iloc[tr].reset_index(drop=True))
            held = (frame.iloc[va].reset_index(drop=True), target.iloc[va].reset_index(drop=True))
            # Refitting on val would train on the "test" rows: no refit with the single split. With
            # folds the search pools every row, validates each out of fold and always refits the
            # choice on all of them; "auto" is resolved here, on all the rows (there is no test
            # split), as the search resolves it on the rows outside its test split.
            split = {"refit": False, "cv": _folds_without_test(cv, len(frame))}
        try:
            # In the order the parameters were always checked: the space, the device, the workers,
            # verbose, then the settings.
            space = self._space()
            device = resolve_device(self.device)
            workers = check_positive_int("workers", self.workers)
            progress = _progress(self.verbose) or SearchProgress()
            settings = SearchSettings(
                space=space,
                task=self._task,
                rule=parse_rule(self.rule),  # the parameter's text, read (a bad one is refused here)
                n_init=n_init,
                out=self.out,
                sampler=parse_choice(Sampler, self.sampler, "sampler", SAMPLER_ALIASES),  # the parameter's text, read
                n_trials=self.n_trials,
                halving=bool(self.halving),
                seed=seed,
                device=device,
                workers=workers,
                max_params=self.max_params,
                ensemble=self.ensemble,  # checked by the settings (a switch)
                judge_ensembles=self.judge_ensembles,  # the same (None: as ensemble); True refused with ensemble=False
                lr_per_config=self.lr_per_config,  # the same
                numeric=read_numeric_scaling(self.numeric),  # the parameter's text, read (ConfigError: the choices)
                report=bool(self.report) and self.out is not None,
                **split,
            )
            from justenough.estimators.search_data import search_data

            # Prepared here, so that its notices speak of validation_fraction and test_fraction, not
            # of the val and test tables the search is handed.
            prepared = search_data(data, held, task=self._task, settings=settings, seed=seed,
                                   validation_fraction=fraction, test_fraction=test_fraction)
            return run_search(settings, prepared, target=None, test=None, val=None, progress=progress)
        except (EstimatorConfigError, EstimatorInputError):
            raise
        except ConfigError as exc:  # e.g. an unknown rule: scikit-learn expects a ValueError
            raise EstimatorConfigError(str(exc)) from None
        except DataError as exc:
            raise EstimatorInputError(str(exc)) from None

    def _keep(self, result: "SearchResult", *, tested: bool) -> None:
        """The fitted attributes, from the search's result (``test_score_`` only with a test split)."""
        self.model_ = result.model
        self.chosen_ = dict(result.chosen)
        self.explanation_ = result.explanation
        self.leaderboard_ = result.leaderboard
        self.restarts_ = result.restarts
        self.history_ = result.history
        self.notices_ = list(result.notices)
        self.baseline_ = dict(result.summary.get("baseline") or {})  # what no network scores on validation
        paired = result.summary.get("paired")
        self.paired_ = dict(paired) if paired else None  # the choice against its closest rival, restart by restart
        self.test_score_ = float(result.test_score) if tested else None
        self.n_folds_ = int(result.summary["folds"])  # 1: the single validation split; K: K-fold cross-validation

    def _model_input(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "model_")
        if getattr(self, "_text_input", False):
            table = _text_frame(X)
            if table is None:
                if not isinstance(X, pd.DataFrame):
                    raise EstimatorInputError(
                        f"{type(self).__name__} was fitted on a DataFrame with text columns: pass a DataFrame "
                        f"with the columns {', '.join(self._columns[:8])}{', ...' if len(self._columns) > 8 else ''}"
                    )
                table = X
            validate_data(self, table, dtype=None, ensure_all_finite=False, reset=False)  # names and count
            return table.set_axis([str(c) for c in table.columns], axis=1).reset_index(drop=True)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return pd.DataFrame(np.asarray(X, dtype=np.float64), columns=self._columns)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = not is_cpu(self.device)
        return tags


class JustEnoughClassifier(ClassifierMixin, _BaseSearch):
    """Search depth x width on the training data and predict with the just-enough network.

    ``fit`` runs ``justenough.search`` (the function) with no test split (score on your own
    held-out data, as with any estimator), validated as ``cv`` says: ``"auto"`` (the default, as
    ``search(cv=...)``: ``CV_AUTO_FOLDS`` folds below ``CV_AUTO_ROWS`` rows, else one split), K >= 2
    folds (every row validated out of fold, then the chosen config refit on all of them), or 1
    (the single split of ``validation_fraction``). The space is ``depth`` x ``widths`` (tuples or
    lists such as ``(1, 2, 3)``, or the CLI's text ``"1-3"``, ``"16,32,64"``; the defaults are the
    default space's, ``DEFAULT_SPACE_VALUES``), or a whole ``justenough.Space`` given as ``space``.
    ``X`` may be a DataFrame with text columns and missing cells (the search imputes and one-hot
    encodes them). ``ensemble=True``: predict with the mean of the chosen config's restarts (of
    their probabilities), not its best restart (``search(ensemble=True)``); ``judge_ensembles``:
    what the choice compares, as ``search(judge_ensembles=...)``: by default (``None``) each config's
    ensemble of restarts with the ensemble, its restarts without; ``False`` the restarts always
    (docs/selection.md). ``lr_per_config=True``
    with several ``learning_rate_init`` values: each architecture keeps its best rate by validation
    (``search(lr_per_config=True)``). ``numeric``: how numeric columns are scaled, as ``search(numeric=...)``
    (``"standard"``, ``"robust"`` or ``"quantile"``). ``verbose=1`` prints one line per finished config. Fitted: ``chosen_``,
    ``explanation_``, ``leaderboard_``, ``restarts_``, ``history_``, ``model_``, ``n_folds_`` (1 or K),
    ``classes_``.
    """

    _task = Task.CLASSIFICATION

    def fit(self, X: Any, y: Any) -> "JustEnoughClassifier":
        """Search, choose and keep the chosen model; returns ``self``."""
        return self._fit(X, y)  # type: ignore[return-value]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``[N, n_classes]``, columns in the order of ``classes_``."""
        rows = self._model_input(X)  # checks fitted first
        return np.asarray(self.model_.predict_proba(rows), dtype=np.float64)  # [N, K]

    def predict(self, X: Any) -> np.ndarray:
        """Class labels ``[N]`` (original values)."""
        proba = self.predict_proba(X)  # [N, K]; checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]


class JustEnoughRegressor(RegressorMixin, _BaseSearch):
    """Search depth x width on the training data and predict with the just-enough network.

    Single-output regression (``y [N]``). See ``JustEnoughClassifier`` for the parameters.
    """

    _task = Task.REGRESSION

    def fit(self, X: Any, y: Any) -> "JustEnoughRegressor":
        """Search, choose and keep the chosen model; returns ``self``."""
        return self._fit(X, y)  # type: ignore[return-value]

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``[N]`` in the original units."""
        rows = self._model_input(X)  # checks fitted first
        return np.asarray(self.model_.predict(rows), dtype=np.float64)
