"""The fixed-architecture estimators, ``MLPClassifier`` and ``MLPRegressor``: named and behaving
like scikit-learn's where the two overlap, trained as ``n_init`` restarts at once (one
``MLPStack``), keeping the best restart by validation score; with ``ensemble=True``, predicting
with the mean of every restart that did not diverge (classification: of their probabilities), as
``search(ensemble=True)`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from justenough.errors import ConfigError, TrainingError
from justenough.estimators.base import (EstimatorConfigError, EstimatorInputError,
                                       check_fraction, check_positive_int, is_cpu, resolve_device,
                                       validation_split, seed_from_random_state)
from justenough.estimators.forward import FORWARD, forward, state_to_layers
from justenough.estimators.stopping import no_improvement_stopper
from justenough.vocab import SKLEARN_ACTIVATION_NAMES, Optimizer, StopReason, Task

__all__ = ["MLPClassifier", "MLPRegressor"]


def _standardizer(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and scale of ``X [N, F]``; constant columns get scale 1 (they become 0)."""
    mean = X.mean(axis=0, dtype=np.float64)
    scale = X.std(axis=0, dtype=np.float64)
    scale[~np.isfinite(scale) | (scale < 1e-12)] = 1.0
    return mean, scale


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


class _BaseMLP(BaseEstimator):
    """Shared parameters and fitting of the fixed-architecture estimators."""

    _task: Task = Task.CLASSIFICATION

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
        ensemble: bool = False,
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
        self.ensemble = ensemble
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
        # scikit-learn's names (``logistic``) or the stack's, spelled exactly.
        act = str(SKLEARN_ACTIVATION_NAMES.get(str(self.activation), str(self.activation)))
        if act not in FORWARD:
            names = sorted(set(FORWARD) | set(SKLEARN_ACTIVATION_NAMES))
            raise EstimatorConfigError(f"unknown activation {self.activation!r}: use one of {', '.join(names)}")
        return act

    def _optimizer(self) -> str:
        solver = str(self.solver).lower()
        if solver == "lbfgs":
            raise EstimatorConfigError(
                "solver='lbfgs' is not supported (restarts are trained as one stack by minibatch "
                "gradient descent): use solver='adam' (the default) or 'sgd'"
            )
        if solver not in tuple(Optimizer):
            raise EstimatorConfigError(f"unknown solver {self.solver!r}: use 'adam', 'sgd' or 'adamw'")
        return solver

    def _init_spec(self, activation: str) -> str:
        """``init='auto'``: the search's choice per activation (He for the ReLU family, Glorot
        for saturating and linear units, LeCun for SELU); any other spec is checked by ``init.parse``."""
        from justenough.space.dims import resolve_init

        spec = resolve_init(str(self.init), activation)
        try:
            from justenough.nets.init import parse

            parse(spec)
        except ConfigError as exc:
            raise EstimatorConfigError(f"init={self.init!r}: {exc}") from None
        return spec

    def _checked_params(self, n_samples: int) -> dict[str, Any]:
        if not isinstance(self.alpha, Real) or isinstance(self.alpha, bool) or self.alpha < 0:
            raise EstimatorConfigError(f"alpha must be a non-negative number, got {self.alpha!r}")
        if not isinstance(self.learning_rate_init, Real) or not self.learning_rate_init > 0:
            raise EstimatorConfigError(f"learning_rate_init must be positive, got {self.learning_rate_init!r}")
        if not isinstance(self.ensemble, (bool, np.bool_)):
            raise EstimatorConfigError(f"ensemble must be True or False, got {self.ensemble!r}")
        if not isinstance(self.tol, Real) or self.tol < 0:
            raise EstimatorConfigError(f"tol must be a non-negative number, got {self.tol!r}")
        if self.batch_size == "auto":
            batch = min(200, n_samples)
        else:
            batch = min(check_positive_int("batch_size", self.batch_size), n_samples)
        activation = self._activation_name()
        return {
            "hidden": self._hidden(),
            "activation": activation,
            "optimizer": self._optimizer(),
            "init": self._init_spec(activation),
            "batch_size": batch,
            "max_iter": check_positive_int("max_iter", self.max_iter),
            "n_init": check_positive_int("n_init", self.n_init),
            "n_iter_no_change": check_positive_int("n_iter_no_change", self.n_iter_no_change),
            "validation_fraction": check_fraction("validation_fraction", self.validation_fraction),
            "device": resolve_device(self.device),
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
            tr, va, notice = validation_split(n, p["validation_fraction"], seed, strat)
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
        return validate_data(self, X, y, dtype=(np.float64, np.float32), y_numeric=self._task == Task.REGRESSION)

    def _train_stack(self, data: _FitData, p: dict[str, Any], seed: int, validation: bool) -> tuple[list[Any], float]:
        """Train ``n_init`` restarts of the architecture as one stack; returns (member results, wall s).

        ``validation``: a held-out split exists (stop and keep by validation loss); else
        scikit-learn's training-loss rule stops each restart.
        """
        from justenough.nets.stack import MemberSpec, MLPStack
        from justenough.train.seeds import restart_seed
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
                callback = no_improvement_stopper("train_loss", float(self.tol), p["n_iter_no_change"], len(members))
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
        from justenough.train.seeds import restart_seed

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
                    "stopped_by": rule_stop if m.stopped_by == StopReason.PRUNED else str(m.stopped_by),
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
        self.coefs_, self.intercepts_ = state_to_layers(member.state)
        # ensemble=True: every restart that did not diverge, in restart order, predicts (their mean).
        self.ensemble_restarts_: list[int] | None = None
        self.ensemble_layers_: list[tuple[list[np.ndarray], list[np.ndarray]]] | None = None
        if self.ensemble:
            self.ensemble_restarts_ = [int(k) for k in ok["restart"]]
            self.ensemble_layers_ = [state_to_layers(members[k].state) for k in self.ensemble_restarts_]
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
        """The network's outputs ``[N, n_out]``: logits (classification) or standardized targets.
        With ``ensemble=True`` the mean over the kept restarts: of their outputs (regression), or
        the log of the mean of their softmax probabilities (classification), which keeps the
        meaning of logits (softmax of it is that mean)."""
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        X64 = np.asarray(X, dtype=np.float64)
        if self.x_mean_ is not None:
            X64 = (X64 - self.x_mean_) / self.x_scale_
        layers = getattr(self, "ensemble_layers_", None)
        if not layers:
            return forward(X64, self.coefs_, self.intercepts_, self.activation_)
        from justenough.nets.ensemble import mean_prediction

        outs = torch.from_numpy(np.stack([forward(X64, c, b, self.activation_) for c, b in layers]))  # [k, N, n_out]
        return mean_prediction(outs, self._task).numpy()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        # Bit for bit on CPU with an int random_state (invariant 3, docs/architecture.md); CUDA kernels may not be.
        tags.non_deterministic = not is_cpu(self.device)
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier, trained as ``n_init`` restarts at once.

    Parameters follow ``sklearn.neural_network.MLPClassifier`` (``hidden_layer_sizes``,
    ``activation``, ``solver``, ``alpha``, ``batch_size``, ``learning_rate_init``, ``max_iter``,
    ``tol``, ``momentum``, ``nesterovs_momentum``, ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change``, ``random_state``), plus ``init`` (a justenough init spec, ``auto``: He
    for ReLU, Glorot otherwise), ``n_init`` (restarts, default 5), ``ensemble`` (default False:
    predict with the best restart; True: with the mean of the restarts' probabilities),
    ``standardize`` and ``device``.

    Fitted attributes: ``classes_``, ``coefs_`` / ``intercepts_`` (``[fan_in, fan_out]`` per
    layer, the best restart's; the output layer has one unit per class, softmax),
    ``ensemble_restarts_`` and ``ensemble_layers_`` (with ``ensemble``: the restarts averaged and
    their (coefs, intercepts); else None), ``loss_curve_``, ``n_iter_``,
    ``restarts_`` (one row per restart), ``best_restart_``, ``n_features_in_``,
    ``feature_names_in_`` (DataFrame input with string column names), ``validation_scores_`` and
    ``best_validation_score_`` (with a validation split: ``n_init > 1`` or early stopping),
    ``best_loss_`` (otherwise).
    """

    _task = Task.CLASSIFICATION

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
    validation score that picks the best restart is R^2 (averaged over outputs). ``ensemble=True``:
    predictions are the mean of the restarts that did not diverge (``ensemble_restarts_``).
    """

    _task = Task.REGRESSION

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
