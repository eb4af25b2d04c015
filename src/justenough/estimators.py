"""scikit-learn compatible estimators: switch from sklearn by changing the import.

Two families:

- ``MLPClassifier`` / ``MLPRegressor``: a fixed architecture, named and behaving like
  ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` where the two overlap, but trained
  as ``n_init`` restarts at once (one ``MLPStack``, one gradient-descent process per restart) and
  keeping the best restart by validation score. ``restarts_`` holds the evidence.
- ``JustEnoughClassifier`` / ``JustEnoughRegressor``: ``fit`` runs ``justenough.search.search``
  over a depth x width space on the training data (a validation split inside, in memory unless
  ``out`` is given) and predicts with the chosen model.

Decisions (documented in docs/sklearn.md):

- Features are standardized inside ``fit`` (train mean and scale stored as ``x_mean_`` and
  ``x_scale_``), because unscaled inputs are the commonest reason an MLP underperforms;
  ``standardize=False`` gives scikit-learn's behaviour. Regression targets are standardized too
  (``y_mean_``, ``y_scale_``) and predictions are mapped back to the original units.
- A validation split (``validation_fraction``, stratified for classifiers) is held out when
  ``early_stopping=True`` *or* ``n_init > 1``. It serves everything it is good for: each restart
  keeps its best epoch by validation loss and stops after ``n_iter_no_change`` epochs without a
  validation loss better by ``tol``; the restart with the best validation score is the model.
  With ``n_init=1`` and ``early_stopping=False`` there is nothing to choose, so the model trains
  on all rows and stops by scikit-learn's own rule (the training loss has not improved by ``tol``
  for ``n_iter_no_change`` consecutive epochs), as scikit-learn does.
- Estimators hold NumPy arrays only (``coefs_``, ``intercepts_``), so pickling them is cheap and
  device-free; prediction runs on the CPU with torch. Run artifacts (``out``) stay pickle-free.
- The search estimators search the CLI's default space (``Space.default()``) and take a DataFrame
  with text columns as the CLI takes a CSV (the search one-hot encodes them); ``verbose=1`` logs
  one line per config. Their two different defaults (``workers=1``, no test split) are justified
  in docs/sklearn.md.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from justenough.errors import ConfigError, DataError, TrainingError
from justenough.stack import ACTIVATION_FUNCTIONS

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "JustEnoughClassifier",
    "JustEnoughRegressor",
    "EstimatorInputError",
    "EstimatorConfigError",
]


class EstimatorInputError(DataError, ValueError):
    """Bad ``X`` or ``y`` given to an estimator: a ``DataError`` that scikit-learn sees as ``ValueError``."""


class EstimatorConfigError(ConfigError, ValueError):
    """A bad estimator parameter: a ``ConfigError`` that scikit-learn sees as ``ValueError``."""


# scikit-learn's activation names -> the stack's names (both are accepted).
_ACTIVATION_ALIASES = {"logistic": "sigmoid", "identity": "identity"}

# Forward functions for prediction from ``coefs_`` (CPU, float64): the stack's own, so that
# prediction computes what the trained ``MLPStack.member(i)`` computes (tests check it).
_FORWARD: dict[str, Callable[[torch.Tensor], torch.Tensor]] = dict(ACTIVATION_FUNCTIONS)


# --------------------------------------------------------------------------------------------
# helpers shared by all estimators
# --------------------------------------------------------------------------------------------


def seed_from_random_state(random_state: Any) -> int:
    """An int seed from ``random_state`` (int, None or ``RandomState``/``Generator``).

    ``None`` draws fresh OS entropy (never the global NumPy state); an int is used as is; a
    ``RandomState`` or ``Generator`` gives one draw, so fitting twice with the same instance gives
    different seeds, as in scikit-learn.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0] >> 1)
    if isinstance(random_state, (bool, np.bool_)):
        raise EstimatorConfigError(f"random_state must be an int, None or a RandomState, got {random_state!r}")
    if isinstance(random_state, Integral):
        value = int(random_state)
        if value < 0:
            raise EstimatorConfigError(f"random_state must be non-negative, got {value}")
        return value
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise EstimatorConfigError(
        f"random_state must be an int, None or a numpy RandomState, got {type(random_state).__name__}"
    )


def _resolve_device(device: Any) -> str:
    """``cpu``, ``cuda[:k]`` or ``auto`` -> a device string; unknown or unavailable -> ``EstimatorConfigError``."""
    from justenough.stack import resolve_device

    try:
        return str(resolve_device(device))
    except ConfigError as exc:
        raise EstimatorConfigError(str(exc)) from None


def _is_cpu(device: Any) -> bool:
    """For tags: never raises (tags are read before any parameter is validated)."""
    text = str(device).lower()
    return text == "cpu" or (text == "auto" and not torch.cuda.is_available())


def _standardizer(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and scale of ``X [N, F]``; constant columns get scale 1 (they become 0)."""
    mean = X.mean(axis=0, dtype=np.float64)
    scale = X.std(axis=0, dtype=np.float64)
    scale[~np.isfinite(scale) | (scale < 1e-12)] = 1.0
    return mean, scale


def _validation_split(
    n: int, fraction: float, seed: int, y_strat: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """(train rows, validation rows, notice). Stratified when ``y_strat`` allows it.

    Too few rows for a split (fewer than 2 on either side) -> validation on the training rows,
    with a notice saying so.
    """
    idx = np.arange(n)
    n_val = int(math.ceil(fraction * n))
    if n_val < 2 or n - n_val < 2:
        return idx, idx, f"only {n} rows: the validation split is the training data itself"
    if y_strat is not None:
        try:
            tr, va = train_test_split(idx, test_size=n_val, random_state=seed, stratify=y_strat)
            return np.sort(tr), np.sort(va), None
        except ValueError:
            pass  # a class too small to stratify: fall back to a plain shuffled split
    tr, va = train_test_split(idx, test_size=n_val, random_state=seed)
    return np.sort(tr), np.sort(va), None


def _state_to_layers(state: dict[str, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A ``member(i)`` state dict ({"0.weight": [out, in], "0.bias": [out], ...}) -> coefs, intercepts.

    coefs are ``[fan_in, fan_out]`` per layer, as in scikit-learn.
    """
    layer_ids = sorted({int(k.split(".")[0]) for k in state if k.endswith(".weight")})
    coefs = [np.ascontiguousarray(np.asarray(_to_numpy(state[f"{i}.weight"]), dtype=np.float32).T) for i in layer_ids]
    intercepts = [np.asarray(_to_numpy(state[f"{i}.bias"]), dtype=np.float32).copy() for i in layer_ids]
    return coefs, intercepts


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@torch.no_grad()
def _forward(X: np.ndarray, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], activation: str) -> np.ndarray:
    """``X [N, F]`` -> outputs ``[N, n_out]``: hidden layers with ``activation``, linear output."""
    act = _FORWARD[activation]
    # float64: a row's prediction must not depend on the other rows of the batch (sklearn's
    # check_methods_subset_invariance); float32 matmul blocking changes the last bits.
    h = torch.tensor(np.asarray(X, dtype=np.float64))  # a copy: X may be a read-only memmap
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        W64 = torch.tensor(np.asarray(W, dtype=np.float64))
        b64 = torch.tensor(np.asarray(b, dtype=np.float64))
        h = torch.addmm(b64, h, W64)  # [N, fan_out]
        if i < last:
            h = act(h)
    return h.numpy()


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or int(value) < minimum:
        raise EstimatorConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not 0.0 < float(value) < 1.0:
        raise EstimatorConfigError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class _FitData:
    """What ``train()`` consumes: splits as tensors on one device (the ``Prepared`` fields it reads).

    X_*: float32 [N, F]; y_*: int64 [N] class indices, or float32 [N] / [N, T] standardized targets.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    task: str
    n_features: int
    n_outputs: int


def _no_improvement_stopper(key: str, tol: float, n_iter_no_change: int, M: int) -> Callable[..., list[int]]:
    """scikit-learn's stopping rule, per restart, as a trainer callback (called every epoch).

    ``key="train_loss"`` (no validation split): the epoch counts as no improvement when
    ``loss > best - tol``. ``key="val_score"`` (early stopping): when ``score < best + tol``.
    A counter of such epochs in a row stops the restart once it exceeds ``n_iter_no_change``
    (sklearn ``_update_no_improvement_count``).
    """
    maximize = key == "val_score"
    best = [-math.inf if maximize else math.inf] * M
    count = [0] * M
    seen = [0] * M
    stopped: set[int] = set()

    def callback(epoch: int, stack: Any, state: Any) -> list[int]:
        stop: list[int] = []
        for i in range(M):
            if i in stopped:
                continue
            values = _member_history(state, i).get(key, [])
            for value in values[seen[i] :]:
                value = float(value)
                if maximize:
                    count[i] = count[i] + 1 if value < best[i] + tol else 0
                    best[i] = max(best[i], value)
                else:
                    count[i] = count[i] + 1 if value > best[i] - tol else 0
                    best[i] = min(best[i], value)
            seen[i] = len(values)
            if count[i] > n_iter_no_change:
                stopped.add(i)
                stop.append(i)
        return stop

    return callback


def _member_history(state: Any, i: int) -> dict[str, list[float]]:
    """Member i's per-epoch history from the trainer's ``TrainState``."""
    history = state.history
    return history[i] if isinstance(history, (list, tuple)) else {k: v[i] for k, v in history.items()}


# --------------------------------------------------------------------------------------------
# MLPClassifier / MLPRegressor
# --------------------------------------------------------------------------------------------


class _BaseMLP(BaseEstimator):
    """Shared parameters and fitting of the fixed-architecture estimators."""

    _task: str = "classification"

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate_init: float = 0.001,
        max_iter: int = 200,
        tol: float = 1e-4,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        init: str = "auto",
        n_init: int = 5,
        standardize: bool = True,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.init = init
        self.n_init = n_init
        self.standardize = standardize
        self.random_state = random_state
        self.device = device

    # --- parameters -------------------------------------------------------------------------

    def _hidden(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (Integral, np.integer)) and not isinstance(sizes, bool):
            sizes = (int(sizes),)
        try:
            hidden = tuple(int(s) for s in sizes)
        except (TypeError, ValueError):
            raise EstimatorConfigError(
                f"hidden_layer_sizes must be an int or a sequence of ints, e.g. (100,) or (64, 32); got {sizes!r}"
            ) from None
        if any(h < 1 for h in hidden) or any(float(s) != int(s) for s in sizes):
            raise EstimatorConfigError(f"hidden_layer_sizes must be positive integers, got {sizes!r}")
        return hidden

    def _activation_name(self) -> str:
        act = _ACTIVATION_ALIASES.get(str(self.activation), str(self.activation))
        if act not in _FORWARD:
            names = sorted(set(_FORWARD) | set(_ACTIVATION_ALIASES))
            raise EstimatorConfigError(f"unknown activation {self.activation!r}: use one of {', '.join(names)}")
        return act

    def _optimizer(self) -> str:
        solver = str(self.solver).lower()
        if solver == "lbfgs":
            raise EstimatorConfigError(
                "solver='lbfgs' is not supported (restarts are trained as one stack by minibatch "
                "gradient descent): use solver='adam' (the default) or 'sgd'"
            )
        if solver not in ("adam", "sgd", "adamw"):
            raise EstimatorConfigError(f"unknown solver {self.solver!r}: use 'adam', 'sgd' or 'adamw'")
        return solver

    def _init_spec(self, activation: str) -> str:
        """``init='auto'``: the search's choice per activation (He for the ReLU family, Glorot
        for saturating and linear units, LeCun for SELU); any other spec is checked by ``init.parse``."""
        from justenough.search.dims import resolve_init

        spec = resolve_init(str(self.init), activation)
        try:
            from justenough.init import parse

            parse(spec)
        except ConfigError as exc:
            raise EstimatorConfigError(f"init={self.init!r}: {exc}") from None
        return spec

    def _checked_params(self, n_samples: int) -> dict[str, Any]:
        if not isinstance(self.alpha, Real) or isinstance(self.alpha, bool) or self.alpha < 0:
            raise EstimatorConfigError(f"alpha must be a non-negative number, got {self.alpha!r}")
        if not isinstance(self.learning_rate_init, Real) or not self.learning_rate_init > 0:
            raise EstimatorConfigError(f"learning_rate_init must be positive, got {self.learning_rate_init!r}")
        if not isinstance(self.tol, Real) or self.tol < 0:
            raise EstimatorConfigError(f"tol must be a non-negative number, got {self.tol!r}")
        if self.batch_size == "auto":
            batch = min(200, n_samples)
        else:
            batch = min(_check_positive_int("batch_size", self.batch_size), n_samples)
        activation = self._activation_name()
        return {
            "hidden": self._hidden(),
            "activation": activation,
            "optimizer": self._optimizer(),
            "init": self._init_spec(activation),
            "batch_size": batch,
            "max_iter": _check_positive_int("max_iter", self.max_iter),
            "n_init": _check_positive_int("n_init", self.n_init),
            "n_iter_no_change": _check_positive_int("n_iter_no_change", self.n_iter_no_change),
            "validation_fraction": _check_fraction("validation_fraction", self.validation_fraction),
            "device": _resolve_device(self.device),
        }

    # --- fitting ----------------------------------------------------------------------------

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, int, np.ndarray | None]:
        """(encoded targets for the trainer, number of outputs, labels to stratify the split by)."""
        raise NotImplementedError  # each subclass encodes its own targets

    def _fit(self, X: Any, y: Any) -> "_BaseMLP":
        X, y = self._validate_xy(X, y)
        n, n_features = X.shape
        p = self._checked_params(n)
        y_enc, n_outputs, strat = self._encode_targets(y)
        seed = seed_from_random_state(self.random_state)
        self.notices_: list[str] = []

        X64 = np.asarray(X, dtype=np.float64)
        if self.standardize:
            mean, scale = _standardizer(X64)
            self.x_mean_: np.ndarray | None = mean
            self.x_scale_: np.ndarray | None = scale
            Z = ((X64 - mean) / scale).astype(np.float32)  # [N, F]
        else:
            self.x_mean_, self.x_scale_ = None, None
            Z = X64.astype(np.float32)
        if not np.all(np.isfinite(Z)):
            raise EstimatorInputError("X holds values too large for float32: rescale the features")

        use_val = bool(self.early_stopping) or p["n_init"] > 1
        if use_val:
            tr, va, notice = _validation_split(n, p["validation_fraction"], seed, strat)
            if notice:
                self.notices_.append(notice)
        else:
            tr = va = np.arange(n)
        self.validation_used_ = bool(use_val and not np.array_equal(tr, va))

        device = p["device"]
        data = _FitData(
            X_train=torch.from_numpy(Z[tr]).to(device),
            y_train=torch.from_numpy(y_enc[tr]).to(device),
            X_val=torch.from_numpy(Z[va]).to(device),
            y_val=torch.from_numpy(y_enc[va]).to(device),
            task=self._task,
            n_features=n_features,
            n_outputs=n_outputs,
        )
        members_result, wall = self._train_stack(data, p, seed, self.validation_used_)
        self._store_result(members_result, p, seed, wall)
        return self

    def _validate_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(self, X, y, dtype=(np.float64, np.float32), y_numeric=self._task == "regression")

    def _train_stack(self, data: _FitData, p: dict[str, Any], seed: int, validation: bool) -> tuple[list[Any], float]:
        """Train ``n_init`` restarts of the architecture as one stack; returns (member results, wall s).

        ``validation``: a held-out split exists (stop and keep by validation loss); else
        scikit-learn's training-loss rule stops each restart.
        """
        from justenough.stack import MemberSpec, MLPStack
        from justenough.search.task import restart_seed
        from justenough.train import TrainSettings, train

        # sklearn adds alpha/2 * ||W||^2 / batch to each minibatch's loss, i.e. a gradient of
        # (alpha / batch) * W: coupled L2, which is the trainer's weight_decay with that value.
        weight_decay = float(self.alpha) / p["batch_size"]
        try:
            members = [
                MemberSpec(
                    widths=p["hidden"],
                    init=p["init"],
                    seed=restart_seed(seed, k),
                    lr=float(self.learning_rate_init),
                    weight_decay=weight_decay,
                )
                for k in range(p["n_init"])
            ]
            stack = MLPStack(
                data.n_features,
                data.n_outputs,
                members,
                activation=p["activation"],
                device=p["device"],
                init_data=data.X_train[:512],
            )
            callback = None
            if validation:
                # The validation split decides the checkpoint, so it decides the stop too: training
                # on after n_iter_no_change epochs without a validation loss better by tol cannot
                # change the kept weights. (Not sklearn's rule on the validation *score*: accuracy
                # on a small split plateaus early and stopped digits a point short; tests show it.)
                patience: int | None = p["n_iter_no_change"]
            else:
                patience = None
                callback = _no_improvement_stopper("train_loss", float(self.tol), p["n_iter_no_change"], len(members))
            settings = TrainSettings(
                optimizer=p["optimizer"],
                momentum=float(self.momentum),
                # sklearn applies Nesterov momentum only to SGD with momentum; so does the trainer.
                nesterov=bool(self.nesterovs_momentum) and p["optimizer"] == "sgd" and float(self.momentum) > 0,
                batch_size=p["batch_size"],
                max_epochs=p["max_iter"],
                patience=patience,
                min_delta=float(self.tol) if validation else 0.0,
                callback_every=1 if callback is not None else 0,
            )
        except ConfigError as exc:  # a bad init spec, momentum, ...: scikit-learn expects ValueError
            raise EstimatorConfigError(str(exc)) from None
        t0 = time.perf_counter()
        result = train(stack, data, settings, callback=callback)
        return list(result.members), time.perf_counter() - t0

    def _store_result(self, members: list[Any], p: dict[str, Any], seed: int, wall: float) -> None:
        from justenough.search.task import restart_seed

        # The trainer calls a callback's stop "pruned"; here it is scikit-learn's stopping rule.
        rule_stop = "early" if self.validation_used_ else "converged"
        rows = []
        for k, m in enumerate(members):
            rows.append(
                {
                    "restart": k,
                    "seed": restart_seed(seed, k),
                    "val_score": float(m.val_score),
                    "val_loss": float(m.val_loss),
                    "train_loss": float(m.train_loss),
                    "best_epoch": int(m.best_epoch),
                    "epochs_run": int(m.epochs_run),
                    "diverged": bool(m.diverged),
                    "stopped_by": rule_stop if m.stopped_by == "pruned" else str(m.stopped_by),
                    "train_time": float(m.train_time) if m.train_time is not None else wall / len(members),
                }
            )
        table = pd.DataFrame(rows)
        ok = table[~table["diverged"] & np.isfinite(table["val_score"])]
        if ok.empty:
            raise TrainingError(
                f"all {len(members)} restarts diverged (non-finite loss): lower learning_rate_init "
                f"(now {self.learning_rate_init}) or keep standardize=True"
            )
        # The best restart by validation score; ties go to the lowest restart index.
        best = int(ok.sort_values(["val_score", "restart"], ascending=[False, True]).iloc[0]["restart"])
        table["best"] = table["restart"] == best
        self.restarts_ = table
        self.best_restart_ = best
        member = members[best]
        self.coefs_, self.intercepts_ = _state_to_layers(member.state)
        history = {k: [float(v) for v in vals] for k, vals in member.history.items()}
        self.loss_curve_ = history.get("train_loss", [])
        self.n_iter_ = int(member.epochs_run)
        if self.validation_used_:
            self.validation_scores_: list[float] | None = history.get("val_score", [])
            self.best_validation_score_: float | None = float(member.val_score)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = float(min(self.loss_curve_)) if self.loss_curve_ else float(member.train_loss)
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = int(self.coefs_[-1].shape[1])
        self.activation_ = p["activation"]
        self.fit_time_ = float(wall)

    # --- prediction -------------------------------------------------------------------------

    def _raw_output(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        X64 = np.asarray(X, dtype=np.float64)
        if self.x_mean_ is not None:
            X64 = (X64 - self.x_mean_) / self.x_scale_
        return _forward(X64, self.coefs_, self.intercepts_, self.activation_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        # Bit for bit on CPU with an int random_state (invariant 3); CUDA kernels may not be.
        tags.non_deterministic = not _is_cpu(self.device)
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier, trained as ``n_init`` restarts at once.

    Parameters follow ``sklearn.neural_network.MLPClassifier`` (``hidden_layer_sizes``,
    ``activation``, ``solver``, ``alpha``, ``batch_size``, ``learning_rate_init``, ``max_iter``,
    ``tol``, ``momentum``, ``nesterovs_momentum``, ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change``, ``random_state``), plus ``init`` (a justenough init spec, ``auto``: He
    for ReLU, Glorot otherwise), ``n_init`` (restarts, default 5), ``standardize`` and ``device``.

    Fitted attributes: ``classes_``, ``coefs_`` / ``intercepts_`` (``[fan_in, fan_out]`` per
    layer; the output layer has one unit per class, softmax), ``loss_curve_``, ``n_iter_``,
    ``restarts_`` (one row per restart), ``best_restart_``, ``n_features_in_``,
    ``feature_names_in_`` (DataFrame input with string column names), ``validation_scores_`` and
    ``best_validation_score_`` (with a validation split: ``n_init > 1`` or early stopping),
    ``best_loss_`` (otherwise).
    """

    _task = "classification"

    def fit(self, X: Any, y: Any) -> "MLPClassifier":
        """Train the restarts on ``X [N, F]`` and labels ``y [N]`` (any labels); returns ``self``."""
        return self._fit(X, y)  # type: ignore[return-value]

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, int, np.ndarray | None]:
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise EstimatorInputError(
                f"MLPClassifier takes one label per row (binary or multiclass y), got {kind} targets: "
                "for multi-label problems train one classifier per label"
            )
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise EstimatorInputError(
                f"y holds only one class ({classes[0]!r}): a classifier needs at least two classes to learn from"
            )
        self.classes_ = classes
        return y_idx.astype(np.int64), len(classes), y_idx

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``[N, n_classes]``, columns in the order of ``classes_``."""
        logits = torch.from_numpy(self._raw_output(X))  # [N, K] float64
        return torch.softmax(logits, dim=1).numpy()

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log class probabilities ``[N, n_classes]``."""
        logits = torch.from_numpy(self._raw_output(X))  # [N, K] float64
        return torch.log_softmax(logits, dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Class labels ``[N]`` (the original values, from ``classes_``)."""
        out = self._raw_output(X)  # [N, K]; checks fitted first
        return self.classes_[np.argmax(out, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor (squared error), trained as ``n_init`` restarts at once.

    ``y`` may be 1-D ``[N]`` or 2-D ``[N, T]`` (multi-output). Targets are standardized inside
    ``fit`` (``y_mean_``, ``y_scale_``); predictions are in the original units and shape. The
    validation score that picks the best restart is R^2 (averaged over outputs).
    """

    _task = "regression"

    def fit(self, X: Any, y: Any) -> "MLPRegressor":
        """Train the restarts on ``X [N, F]`` and targets ``y [N]`` or ``[N, T]``; returns ``self``."""
        return self._fit(X, y)  # type: ignore[return-value]

    def _validate_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(self, X, y, dtype=(np.float64, np.float32), multi_output=True, y_numeric=True)

    def _encode_targets(self, y: np.ndarray) -> tuple[np.ndarray, int, np.ndarray | None]:
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1)  # [N, T]
        mean, scale = _standardizer(Y)
        self.y_mean_, self.y_scale_ = mean, scale
        Z = ((Y - mean) / scale).astype(np.float32)
        n_outputs = Z.shape[1]
        # The trainer's regression targets are [N] for one output, [N, T] for several.
        return (Z[:, 0] if n_outputs == 1 else Z), n_outputs, None

    def predict(self, X: Any) -> np.ndarray:
        """Predictions in the original units: ``[N]`` when fitted on 1-D ``y``, else ``[N, T]``."""
        out = self._raw_output(X) * self.y_scale_ + self.y_mean_  # [N, T]
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


# --------------------------------------------------------------------------------------------
# JustEnoughClassifier / JustEnoughRegressor
# --------------------------------------------------------------------------------------------


def _option_text(value: Any) -> Any:
    """A space option as the CLI writes it: (1, 2) -> "1,2"; strings and None pass through."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (Integral, Real)) and not isinstance(value, bool):
        return str(value)
    try:
        return ",".join(str(v) for v in value)
    except TypeError:
        return value


def _text_frame(X: Any) -> pd.DataFrame | None:
    """``X`` when it is a DataFrame with a text (or category) column, else None."""
    if not isinstance(X, pd.DataFrame):
        return None
    numeric = [pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]) for c in X.columns]
    return None if all(numeric) else X


def _progress(verbose: Any) -> Any:
    """``verbose=0``: silent; ``>= 1``: one line per finished config on stdout, as the CLI's log."""
    if isinstance(verbose, bool) or not isinstance(verbose, Integral) or verbose < 0:
        raise EstimatorConfigError(f"verbose must be a non-negative int, got {verbose!r}")
    if not verbose:
        return None
    from rich.console import Console

    from justenough.cli.progress import PlainProgress

    return PlainProgress(Console(width=160, highlight=False))


class _BaseSearch(BaseEstimator):
    """Shared parameters and fitting of the search estimators."""

    _task: str = "classification"

    def __init__(
        self,
        *,
        depth: Any = "1-3",
        widths: Any = "4,8,16,32,64,128,256",
        activation: str = "relu",
        init: str = "auto",
        learning_rate_init: Any = 0.001,
        batch_size: Any = 64,
        max_epochs: int = 200,
        patience: int | None = 10,
        space: Any = None,
        rule: str = "one-se",
        n_init: int = 5,
        validation_fraction: float = 0.2,
        test_fraction: float = 0.0,
        sampler: str = "auto",
        n_trials: int | None = None,
        halving: bool = False,
        max_params: int | None = None,
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
        self.space = space
        self.rule = rule
        self.n_init = n_init
        self.validation_fraction = validation_fraction
        self.test_fraction = test_fraction
        self.sampler = sampler
        self.n_trials = n_trials
        self.halving = halving
        self.max_params = max_params
        self.report = report
        self.random_state = random_state
        self.device = device
        self.workers = workers
        self.out = out
        self.verbose = verbose

    def _space(self) -> Any:
        from justenough.search.space import Space

        if self.space is not None:
            if not isinstance(self.space, Space):
                raise EstimatorConfigError(f"space must be a justenough.space.Space or None, got {type(self.space).__name__}")
            return self.space
        max_epochs = _check_positive_int("max_epochs", self.max_epochs)
        patience = None if self.patience is None else _check_positive_int("patience", self.patience)
        try:
            return Space.from_options(
                depth=_option_text(self.depth),
                widths=_option_text(self.widths),
                activation=_option_text(_ACTIVATION_ALIASES.get(str(self.activation), self.activation)),
                init=_option_text(self.init),
                lr=_option_text(self.learning_rate_init),
                batch_size=_option_text(self.batch_size),
                max_epochs=max_epochs,
                patience=patience,
            )
        except ConfigError as exc:
            raise EstimatorConfigError(str(exc)) from None

    def _fit(self, X: Any, y: Any) -> "_BaseSearch":
        from justenough.search import search

        # A DataFrame with text columns goes to the search as it is (it one-hot encodes them and
        # imputes missing cells, as the CLI does); anything else is a numeric array, as in scikit-learn.
        table = _text_frame(X)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=None if table is not None else (np.float64, np.float32),
            ensure_all_finite=table is None,
            y_numeric=self._task == "regression",
        )
        if self._task == "classification":
            check_classification_targets(y)
            kind = type_of_target(y)
            if kind not in ("binary", "multiclass"):
                raise EstimatorInputError(f"{type(self).__name__} takes one label per row, got {kind} targets")
            self.classes_, y_idx = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise EstimatorInputError(f"y holds only one class ({self.classes_[0]!r}): a classifier needs two or more")
            target = pd.Series(y_idx, name="target")  # indices 0..K-1; classes_ maps them back
        else:
            target = pd.Series(np.asarray(y, dtype=np.float64), name="target")
        n_init = _check_positive_int("n_init", self.n_init)
        fraction = _check_fraction("validation_fraction", self.validation_fraction)
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
        if test_fraction > 0:
            # A sealed test split inside the search: test_score_ is an honest estimate.
            data: Any = (frame, target)
            extra: dict[str, Any] = {"split": (1.0 - fraction - test_fraction, fraction, test_fraction)}
        else:
            # No test split: every row trains or validates. The split is made here (stratified,
            # seeded) and the validation rows also stand in for the search's test split (the same
            # object as val and test): a run directory says so (summary.json "test_split":
            # "validation", and its report), and test_score_ is None.
            strat = target.to_numpy() if self._task == "classification" else None
            tr, va, notice = _validation_split(len(frame), fraction, seed, strat)
            if notice:
                raise EstimatorInputError(
                    f"n_samples={len(frame)}: too few rows for a search with a validation split; give at least 4"
                )
            data = (frame.iloc[tr].reset_index(drop=True), target.iloc[tr].reset_index(drop=True))
            held = (frame.iloc[va].reset_index(drop=True), target.iloc[va].reset_index(drop=True))
            extra = {"val": held, "test": held, "refit": False}  # refitting on val would train on the "test" rows
        try:
            result = search(
                data,
                task=self._task,
                space=self._space(),
                rule=self.rule,
                n_init=n_init,
                out=self.out,
                sampler=self.sampler,
                n_trials=self.n_trials,
                halving=bool(self.halving),
                seed=seed,
                device=_resolve_device(self.device),
                workers=_check_positive_int("workers", self.workers),
                max_params=self.max_params,
                report=bool(self.report) and self.out is not None,
                progress=_progress(self.verbose),
                **extra,
            )
        except (EstimatorConfigError, EstimatorInputError):
            raise
        except ConfigError as exc:  # e.g. an unknown rule: scikit-learn expects a ValueError
            raise EstimatorConfigError(str(exc)) from None
        except DataError as exc:
            raise EstimatorInputError(str(exc)) from None
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
        self.test_score_ = float(result.test_score) if test_fraction > 0 else None
        self._columns = names
        self._text_input = table is not None
        return self

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
        tags.non_deterministic = not _is_cpu(self.device)
        return tags


class JustEnoughClassifier(ClassifierMixin, _BaseSearch):
    """Search depth x width on the training data and predict with the just-enough network.

    ``fit`` runs ``justenough.search.search`` with a validation split inside
    (``validation_fraction``) and no test split (score on your own held-out data, as with any
    estimator). The space is ``depth`` x ``widths`` (CLI syntax: ``"1-3"``, ``"16,32,64"``, or
    tuples; the defaults are the CLI's), or a whole ``justenough.space.Space`` given as ``space``.
    ``X`` may be a DataFrame with text columns and missing cells (the search imputes and one-hot
    encodes them). ``verbose=1`` prints one line per finished config. Fitted: ``chosen_``,
    ``explanation_``, ``leaderboard_``, ``restarts_``, ``history_``, ``model_``, ``classes_``.
    """

    _task = "classification"

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

    _task = "regression"

    def fit(self, X: Any, y: Any) -> "JustEnoughRegressor":
        """Search, choose and keep the chosen model; returns ``self``."""
        return self._fit(X, y)  # type: ignore[return-value]

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``[N]`` in the original units."""
        rows = self._model_input(X)  # checks fitted first
        return np.asarray(self.model_.predict(rows), dtype=np.float64)
