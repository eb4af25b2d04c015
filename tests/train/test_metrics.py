"""Metrics against scikit-learn (oracle), and the vectorized stack versions against the single ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from justenough.errors import ConfigError, DataError
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train import row_evidence
from justenough.train.metrics import score, stack_loss
from justenough.vocab import validation_metric


def test_classification_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(300, 5)) * 2
    y = rng.choice(5, size=300, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    got = score("classification", y, logits)
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, logits.argmax(1)))
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, logits.argmax(1)))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, prob, labels=range(5)), rel=1e-9)
    labels_only = score("classification", torch.from_numpy(y), torch.from_numpy(logits.argmax(1)))
    assert set(labels_only) == {"accuracy", "balanced_accuracy"}


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), t=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_regression_matches_sklearn(n: int, t: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, t))
    p = y + rng.normal(size=(n, t)) * rng.uniform(0.01, 2)
    got = score("regression", y, p)
    assert got["r2"] == pytest.approx(skm.r2_score(y, p), rel=1e-9, abs=1e-12)
    assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-9)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-9)


def test_regression_1d_and_constant_target() -> None:
    y = np.array([1.0, 2.0, 3.0])
    assert score("regression", y, np.array([[1.0], [2.0], [3.0]]))["r2"] == 1.0
    assert score("regression", np.ones(3), np.ones(3))["r2"] == skm.r2_score(np.ones(3), np.ones(3))
    assert score("regression", np.ones(3), np.zeros(3))["r2"] == skm.r2_score(np.ones(3), np.zeros(3))


def test_stack_versions_match_single() -> None:
    g = torch.Generator().manual_seed(0)
    out = torch.randn(4, 50, 3, generator=g)  # [M, B, C]
    y = torch.randint(0, 3, (50,), generator=g)
    loss = stack_loss("classification", out, y)
    for i in range(4):
        assert float(loss[i]) == pytest.approx(float(F.cross_entropy(out[i], y)), rel=1e-6)
    yr = torch.randn(50, 3, generator=g)
    lr_ = stack_loss("regression", out, yr)
    y_each = torch.randn(4, 50, 3, generator=g)
    lr_each = stack_loss("regression", out, y_each)
    for i in range(4):
        assert float(lr_[i]) == pytest.approx(float(F.mse_loss(out[i], yr)), rel=1e-6)
        assert float(lr_each[i]) == pytest.approx(float(F.mse_loss(out[i], y_each[i])), rel=1e-6)


def test_a_stacks_per_row_scores_average_to_each_members_single_score() -> None:
    """The stack's per-member validation scores (``row_evidence``'s shares, averaged over the rows)
    are each member's accuracy, or R^2 averaged over the outputs, as ``score`` and scikit-learn give."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(50, 5, generator=g)  # [N, F]
    stack = MLPStack(5, 3, [MemberSpec(widths=(6,), init="he_normal", seed=k) for k in range(4)])
    with torch.no_grad():
        out = stack(X)  # [M, N, C]
    y = torch.randint(0, 3, (50,), generator=g)
    acc = row_evidence(stack, X, y, "classification")[0].to(torch.float64).mean(1)  # [M]
    yr = torch.randn(50, 3, generator=g)
    r2 = row_evidence(stack, X, yr, "regression")[0].to(torch.float64).mean(1)  # [M]
    for i in range(4):
        assert float(acc[i]) == pytest.approx(score("classification", y, out[i])["accuracy"])
        assert float(r2[i]) == pytest.approx(skm.r2_score(yr.numpy(), out[i].numpy()), rel=1e-5)


def test_row_evidence_keeps_the_members_outputs_within_its_bound_and_in_chunks_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outputs kept are the stack's own (what an ensemble of members averages); over
    ``OUTPUT_VALUES`` none are kept; row chunks give the same shares as one pass (the regression
    share's variance is over all the rows, not a chunk's)."""
    from justenough.train import stack_data

    g = torch.Generator().manual_seed(1)
    X = torch.randn(40, 5, generator=g)  # [N, F]
    stack = MLPStack(5, 2, [MemberSpec(widths=(6,), init="he_normal", seed=k) for k in range(3)])
    y = torch.randint(0, 2, (40,), generator=g)
    yr = torch.randn(40, 2, generator=g)
    with torch.no_grad():
        out = stack(X)  # [M, N, C]
    shares, _, outputs = row_evidence(stack, X, y, "classification")
    assert outputs is not None and torch.equal(outputs, out)
    assert torch.equal(shares, (out.argmax(-1) == y).float())
    whole = row_evidence(stack, X, yr, "regression")[0]
    monkeypatch.setattr(stack_data, "EVAL_ROWS", 7)
    chunked, _, chunked_out = row_evidence(stack, X, yr, "regression")
    assert torch.allclose(chunked, whole) and chunked_out is not None and torch.allclose(chunked_out, out)
    monkeypatch.setattr(stack_data, "OUTPUT_VALUES", 40 * 2 - 1)
    assert row_evidence(stack, X, y, "classification")[2] is None


def test_errors_and_names() -> None:
    assert validation_metric("classification") == "accuracy" and validation_metric("regression") == "r2"
    with pytest.raises(ConfigError):
        score("ranking", [1], [1])
    with pytest.raises(DataError):
        score("regression", [1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="class indices"):
        score("classification", [0, 3], np.zeros((2, 3)))
