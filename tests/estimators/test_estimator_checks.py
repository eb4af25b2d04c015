"""scikit-learn's own estimator checks over several parameter settings of each estimator.

Small ``max_iter`` / ``n_init`` (and a tiny space for the search estimators) keep the many fits
the checks run fast. Expected failures are listed, with their reasons, in ``EXPECTED_FAILED``;
they run in xfail-strict mode, so a check that starts passing must be removed from the list.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from justenough.estimators import JustEnoughClassifier, JustEnoughRegressor, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.slow

# embed="none": the checks' tables have few inputs, where the default "auto" also trains embedded
# networks, whose predictions are invariant to the order of the rows only to float32 rounding (a
# row's cosines and products are batched with its neighbours'), and check_methods_sample_order_invariance
# compares at rtol 1e-7. tests/estimators/test_estimators.py checks an embedded model's order
# invariance at float32's tolerance.
_SEARCH = dict(depth="1", widths="8,16", learning_rate_init=0.01, batch_size=32, max_epochs=40, patience=8, embed="none",
               n_init=2, random_state=0)

ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60, n_init=2, random_state=0),
    MLPClassifier(
        hidden_layer_sizes=(8, 8), activation="tanh", learning_rate_init=0.01, early_stopping=True, max_iter=60, n_init=1, random_state=0
    ),
    MLPClassifier(hidden_layer_sizes=(16,), n_init=1, solver="sgd", learning_rate_init=0.05, max_iter=60, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, n_init=2, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, n_init=1, standardize=False, max_iter=100, random_state=0),
    JustEnoughClassifier(**_SEARCH),
    JustEnoughRegressor(**_SEARCH),
    JustEnoughClassifier(**_SEARCH, ensemble=False),  # one network, the best restart (the ensemble is the default)
    MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60, n_init=2, ensemble=True, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, n_init=2, ensemble=True, random_state=0),
]

# check name -> reason; the same for every parameter setting of one estimator class.
EXPECTED_FAILED: dict[type, dict[str, str]] = {
    MLPClassifier: {},
    MLPRegressor: {},
    JustEnoughClassifier: {},
    JustEnoughRegressor: {},
}


def expected_failed_checks(estimator: object) -> dict[str, str]:
    return dict(EXPECTED_FAILED.get(type(estimator), {}))


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
