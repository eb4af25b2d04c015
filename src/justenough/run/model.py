"""The chosen model as users hold it: a plain torch module plus its preprocessing.

``Model`` predicts from raw rows (a DataFrame with the training columns, in any order), applying
the saved preprocessing first, and decodes class indices back to the original labels. It is saved
as safetensors plus JSON (``artifacts.save_model``) and loaded without executing any code from the
files (invariant 6, docs/architecture.md). ``justenough.load(RUN)`` returns one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from justenough.errors import ArtifactError, DataError
from justenough.vocab import Task

__all__ = ["Model", "load"]


class Model:
    """A trained network with its preprocessing and target encoding.

    ``module`` is a plain ``torch.nn.Sequential`` that maps preprocessed features
    ``[N, n_features]`` to logits ``[N, K]`` (classification) or standardized targets ``[N, 1]``;
    or, for a search with ``ensemble=True``, a ``nets.ensemble.RestartEnsemble`` of k of them, whose
    output is the log of their mean probability ``[N, K]`` (so ``softmax`` gives that mean and
    ``argmax`` the class) or their mean standardized target ``[N, 1]``.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        *,
        activation: str,
        preprocessor: Any,
        target_encoder: Any,
        task: str,
        target_name: str,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.module = module.eval()
        self.activation = activation
        self.preprocessor = preprocessor
        self.target_encoder = target_encoder
        self.task = task
        self.target_name = target_name
        self.info = dict(info or {})
        self.notices: list[str] = []

    # --- properties -----------------------------------------------------------------

    @property
    def classes(self) -> list[Any]:
        return list(getattr(self.target_encoder, "classes", []) or [])

    @property
    def ensemble_size(self) -> int:
        """How many networks the prediction is the mean of: k for an ensemble of restarts, else 1."""
        from justenough.nets.ensemble import RestartEnsemble

        return self.module.k if isinstance(self.module, RestartEnsemble) else 1

    @property
    def feature_names_in(self) -> list[str]:
        return list(self.preprocessor.feature_names_in)

    # --- prediction ------------------------------------------------------------------

    def transform(self, X: Any) -> np.ndarray:
        """Raw rows -> preprocessed float32 ``[N, n_features]`` (columns checked by name)."""
        if isinstance(X, np.ndarray):
            names = self.feature_names_in
            if X.ndim != 2 or X.shape[1] != len(names):
                raise DataError(
                    f"expected an array with {len(names)} columns ({', '.join(names[:8])}{', …' if len(names) > 8 else ''}), "
                    f"got shape {X.shape}; pass a DataFrame with named columns instead"
                )
            X = pd.DataFrame(X, columns=names)
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"predict takes a pandas DataFrame or a 2-D NumPy array, got {type(X).__name__}")
        self.notices = list(self.preprocessor.check_columns(X) or [])
        return np.asarray(self.preprocessor.transform(X), dtype=np.float32)

    @torch.no_grad()
    def _forward(self, X: Any) -> np.ndarray:
        Z = torch.from_numpy(self.transform(X))
        return self.module(Z).numpy()  # [N, K] logits or [N, 1] standardized targets

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (original values) or regression targets (original units), ``[N]``."""
        out = self._forward(X)
        if self.task == Task.CLASSIFICATION:
            return self.target_encoder.decode(out.argmax(axis=1))
        return self.target_encoder.decode(out[:, 0])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``[N, K]``, columns in the order of ``classes``."""
        if self.task != Task.CLASSIFICATION:
            raise DataError("predict_proba is for classification; this model does regression, use predict")
        logits = torch.from_numpy(self._forward(X))
        return torch.softmax(logits, dim=1).numpy()

    # --- persistence -----------------------------------------------------------------

    def save(self, run_dir: str | Path) -> Path:
        """Write ``RUN/model/`` (weights.safetensors + model.json), atomically."""
        from justenough.run.artifacts import save_model

        meta = {
            "task": self.task,
            "target_name": self.target_name,
            "preprocessor": self.preprocessor.to_json(),
            "target_encoder": self.target_encoder.to_json(),
            "info": self.info,
        }
        return save_model(Path(run_dir), self.module, activation=self.activation, meta=meta)

    @classmethod
    def load(cls, path: str | Path) -> "Model":
        """Load from a run directory (``RUN/model``) or a model directory."""
        from justenough.data import Preprocessor, TargetEncoder
        from justenough.run.artifacts import load_model
        from justenough.run.files import MODEL_DIR, MODEL_FILE

        path = Path(path)
        if not path.exists():
            raise ArtifactError(f"no run or model at {path}: check the path (a run directory holds model/)")
        model_dir = path / MODEL_DIR if (path / MODEL_DIR).is_dir() else path
        loaded = load_model(model_dir)
        meta = loaded.meta
        try:
            preprocessor = Preprocessor.from_json(meta["preprocessor"])
            encoder = TargetEncoder.from_json(meta["target_encoder"])
            task = str(meta["task"])
        except (KeyError, TypeError, ValueError, DataError) as exc:
            raise ArtifactError(f"{model_dir / MODEL_FILE} is damaged or from another version: {exc}") from exc
        return cls(
            loaded.module,
            activation=str(loaded.architecture.get("activation", "relu")),
            preprocessor=preprocessor,
            target_encoder=encoder,
            task=task,
            target_name=str(meta.get("target_name", "target")),
            info=dict(meta.get("info", {})),
        )


def load(path: str | Path) -> Model:
    """Load a run's model: ``justenough.load("runs/digits").predict(rows)``."""
    return Model.load(path)
