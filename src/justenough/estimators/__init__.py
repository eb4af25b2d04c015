"""scikit-learn compatible estimators: switch from sklearn by changing the import.

Two families:

- ``MLPClassifier`` / ``MLPRegressor``: a fixed architecture, named and behaving like
  ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` where the two overlap, but trained
  as ``n_init`` restarts at once (one ``MLPStack``, one gradient-descent process per restart) and
  keeping the best restart by validation score. ``restarts_`` holds the evidence (``fixed.py``).
- ``JustEnoughClassifier`` / ``JustEnoughRegressor``: ``fit`` runs the search (``justenough.search``)
  over a depth x width space on the training data (a validation split inside, in memory unless
  ``out`` is given) and predicts with the chosen model (``searching.py``).

What they share (errors, parameter checks, the seed, the device, the validation split) is
``base.py``; prediction from ``coefs_`` is ``forward.py``; scikit-learn's stopping rule as a
trainer callback is ``stopping.py``.

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

from justenough.estimators.base import EstimatorConfigError, EstimatorInputError, seed_from_random_state
from justenough.estimators.fixed import MLPClassifier, MLPRegressor
from justenough.estimators.searching import JustEnoughClassifier, JustEnoughRegressor

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "JustEnoughClassifier",
    "JustEnoughRegressor",
    "EstimatorInputError",
    "EstimatorConfigError",
    "seed_from_random_state",
]
