"""The trainer: oracle tests against plain torch.nn.Sequential + torch.optim, determinism,
isolation of divergence, symmetry facts, padding, early stopping, callbacks, memory splits."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits, make_regression
from sklearn.preprocessing import StandardScaler

from justenough.errors import ConfigError, DataError
from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train.optimizer import warmup_epochs
from justenough.train import (
    MemberResult,
    StackOptimizer,
    TrainSettings,
    TrainState,
    epoch_orders,
    lr_factor,
    member_bytes,
    train,
)

torch.set_num_threads(1)


@dataclass
class Data:
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    task: str
    n_outputs: int


def digits(n_train: int = 500, n_val: int = 200) -> Data:
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    X, y = X[perm], y[perm]
    scaler = StandardScaler().fit(X[:n_train])
    Z = scaler.transform(X).astype(np.float32)
    return Data(
        torch.from_numpy(Z[:n_train]),
        torch.from_numpy(y[:n_train]).long(),
        torch.from_numpy(Z[n_train : n_train + n_val]),
        torch.from_numpy(y[n_train : n_train + n_val]).long(),
        "classification",
        10,
    )


def regression(n_train: int = 400, n_val: int = 150) -> Data:
    X, y = make_regression(n_samples=n_train + n_val, n_features=12, n_informative=8, noise=5.0, random_state=0)
    X = StandardScaler().fit(X[:n_train]).transform(X).astype(np.float32)
    y = ((y - y[:n_train].mean()) / y[:n_train].std()).astype(np.float32)
    return Data(
        torch.from_numpy(X[:n_train]),
        torch.from_numpy(y[:n_train]),
        torch.from_numpy(X[n_train:]),
        torch.from_numpy(y[n_train:]),
        "regression",
        1,
    )


def loop_train(net: torch.nn.Sequential, spec: MemberSpec, data: Data, s: TrainSettings) -> dict[str, list[float]]:
    """The reference: one member alone, torch.optim (and torch.optim.lr_scheduler for a schedule),
    the batches ``epoch_orders`` gives its seed."""
    if s.optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=spec.lr, momentum=s.momentum, nesterov=s.nesterov, weight_decay=spec.weight_decay)
    elif s.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=spec.lr, betas=s.betas, eps=s.eps, weight_decay=spec.weight_decay)
    else:
        opt = torch.optim.AdamW(net.parameters(), lr=spec.lr, betas=s.betas, eps=s.eps, weight_decay=spec.weight_decay)
    sched: torch.optim.lr_scheduler.LRScheduler | None = None
    if s.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.max_epochs)
    elif s.schedule == "warmup_cosine":
        W = warmup_epochs(s.max_epochs)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [
            torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / (W + 1), end_factor=1.0, total_iters=W),
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.max_epochs - W),
        ], milestones=[W])

    def loss_fn(out: torch.Tensor, y: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
        if data.task == "classification":
            return F.cross_entropy(out, y, label_smoothing=smoothing)
        return F.mse_loss(out[:, 0], y)

    N = data.X_train.shape[0]
    hist: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for epoch in range(1, s.max_epochs + 1):
        order = epoch_orders([spec.seed], N, epoch)[0]
        total = 0.0
        for idx in order.split(s.batch_size):
            loss = loss_fn(net(data.X_train[idx]), data.y_train[idx], s.label_smoothing)  # trained on the smoothed loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        hist["train_loss"].append(total / N)
        with torch.no_grad():
            hist["val_loss"].append(float(loss_fn(net(data.X_val), data.y_val)))
        if sched is not None:
            sched.step()
    return hist


MIXED = [
    MemberSpec(widths=(16, 12), init="he_normal", seed=1, lr=0.02, weight_decay=0.0),
    MemberSpec(widths=(32, 8), init="glorot_uniform", seed=2, lr=0.05, weight_decay=1e-3),
    MemberSpec(widths=(8, 16), init="orthogonal", seed=3, lr=0.01, weight_decay=1e-2, bias_init=0.1),
]

ORACLE_CASES = [
    ("classification", TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32, max_epochs=12, patience=None, restore_best=False), 1.0),
    ("classification", TrainSettings(optimizer="sgd", momentum=0.9, nesterov=True, batch_size=32, max_epochs=12, patience=None, restore_best=False), 1.0),
    ("classification", TrainSettings(optimizer="sgd", momentum=0.0, batch_size=32, max_epochs=12, patience=None, restore_best=False), 1.0),
    ("classification", TrainSettings(optimizer="adam", batch_size=32, max_epochs=12, patience=None, restore_best=False), 0.1),
    ("classification", TrainSettings(optimizer="adamw", batch_size=32, max_epochs=12, patience=None, restore_best=False), 0.1),
    ("regression", TrainSettings(optimizer="sgd", momentum=0.9, nesterov=True, batch_size=32, max_epochs=16, patience=None, restore_best=False), 0.2),
    ("regression", TrainSettings(optimizer="adam", batch_size=32, max_epochs=16, patience=None, restore_best=False), 0.1),
    ("regression", TrainSettings(optimizer="adamw", batch_size=32, max_epochs=16, patience=None, restore_best=False), 0.1),
    # A per-member schedule: each member's own lr decays (cosine), as torch's CosineAnnealingLR.
    ("classification", TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32, max_epochs=12, patience=None, restore_best=False, schedule="cosine"), 1.0),
    ("classification", TrainSettings(optimizer="adam", batch_size=32, max_epochs=12, patience=None, restore_best=False, schedule="cosine"), 0.1),
    ("regression", TrainSettings(optimizer="adamw", batch_size=32, max_epochs=16, patience=None, restore_best=False, schedule="cosine"), 0.1),
    # Warmup then cosine (30 epochs: 2 of warmup), as SequentialLR(LinearLR, CosineAnnealingLR).
    ("classification", TrainSettings(optimizer="sgd", momentum=0.9, batch_size=64, max_epochs=30, patience=None, restore_best=False, schedule="warmup_cosine"), 1.0),
    ("regression", TrainSettings(optimizer="adamw", batch_size=64, max_epochs=30, patience=None, restore_best=False, schedule="warmup_cosine"), 0.1),
    # Label smoothing: trained on F.cross_entropy(label_smoothing=eps), validated on the plain loss.
    ("classification", TrainSettings(optimizer="adam", batch_size=32, max_epochs=12, patience=None, restore_best=False, label_smoothing=0.1), 0.1),
    ("classification", TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32, max_epochs=12, patience=None, restore_best=False, schedule="warmup_cosine", label_smoothing=0.3), 0.5),
]


@pytest.mark.parametrize("task,settings,lr_scale", ORACLE_CASES, ids=lambda v: getattr(v, "optimizer", v) if not isinstance(v, float) else "")
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_stack_equals_loop(task: str, settings: TrainSettings, lr_scale: float, activation: str) -> None:
    """Invariant 1: member i of a trained stack equals the same model trained alone."""
    data = digits() if task == "classification" else regression()
    specs = [replace(m, lr=m.lr * lr_scale) for m in MIXED]
    stack = MLPStack(data.X_train.shape[1], data.n_outputs, specs, activation=activation)
    assert stack.padded
    nets = [stack.member(i) for i in range(stack.M)]  # the same init
    steps = settings.max_epochs * math.ceil(data.X_train.shape[0] / settings.batch_size)
    assert steps >= 150  # "a few hundred steps"
    result = train(stack, data, settings)
    for i, (net, spec) in enumerate(zip(nets, specs)):
        hist = loop_train(net, spec, data, settings)
        ref = net.state_dict()
        got = result.members[i].state
        assert set(got) == set(ref)
        for k in ref:
            torch.testing.assert_close(got[k], ref[k], rtol=0, atol=1e-5, msg=f"member {i} {k}")
        # The stack itself holds the same weights (restore_best=False: the last ones).
        for k, v in stack.member(i).state_dict().items():
            assert torch.equal(v, got[k])
        np.testing.assert_allclose(result.members[i].history["train_loss"], hist["train_loss"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(result.members[i].history["val_loss"], hist["val_loss"], rtol=1e-5, atol=1e-6)
        assert result.members[i].epochs_run == settings.max_epochs
        assert result.members[i].stopped_by == "budget"
        assert not result.members[i].diverged


@dataclass
class FoldData(Data):
    member_rows: torch.Tensor  # [M, n] each member's training rows
    val_mask: torch.Tensor  # [M, N] each member's validation rows


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_folds_as_members_equal_loops_on_their_own_rows(task: str) -> None:
    """Invariant 1 with cross-validation folds as members: member i trains on its fold's training
    rows only and validates on its fold only, exactly as the same model trained alone on those rows."""
    base = digits(400, 200) if task == "classification" else regression(400, 200)
    X = torch.cat([base.X_train, base.X_val])  # the pooled rows: every one trains in some folds, validates in one
    y = torch.cat([base.y_train, base.y_val])
    K = 3
    fold = torch.arange(len(X)) % K  # [N]
    n = int(min((fold != f).sum() for f in range(K)))
    rows = torch.stack([torch.nonzero(fold != f).squeeze(1)[:n] for f in range(K)])  # [K, n]
    mask = torch.stack([(fold == f).float() for f in range(K)])  # [K, N]
    specs = [replace(m, lr=m.lr * 0.1) for m in MIXED]  # one member per fold
    data = FoldData(X, y, X, y, base.task, base.n_outputs, rows, mask)
    settings = TrainSettings(optimizer="adam", batch_size=32, max_epochs=6, patience=None, restore_best=False)
    stack = MLPStack(X.shape[1], base.n_outputs, specs, activation="relu")
    nets = [stack.member(i) for i in range(stack.M)]
    result = train(stack, data, settings)
    for i, (net, spec) in enumerate(zip(nets, specs)):
        own = Data(X[rows[i]], y[rows[i]], X[mask[i].bool()], y[mask[i].bool()], base.task, base.n_outputs)
        hist = loop_train(net, spec, own, settings)
        for k, v in net.state_dict().items():
            torch.testing.assert_close(result.members[i].state[k], v, rtol=0, atol=1e-5, msg=f"member {i} {k}")
        np.testing.assert_allclose(result.members[i].history["train_loss"], hist["train_loss"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(result.members[i].history["val_loss"], hist["val_loss"], rtol=1e-5, atol=1e-6)


def test_fold_rows_are_checked() -> None:
    base = digits(100, 50)
    stack = MLPStack(base.X_train.shape[1], 10, MIXED[:2], activation="relu")
    bad = FoldData(base.X_train, base.y_train, base.X_val, base.y_val, base.task, 10,
                   torch.zeros(3, 10, dtype=torch.long), torch.ones(2, 50))
    with pytest.raises(DataError, match="member_rows"):
        train(stack, bad, TrainSettings(max_epochs=1))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_depth_zero_stack_equals_loop(task: str) -> None:
    """A linear model (no hidden layer) is a stack of one layer; invariant 1 holds for it too."""
    data = digits() if task == "classification" else regression()
    # Adam's lr scaled as in ORACLE_CASES: it turns gradient rounding into steps of about lr.
    specs = [MemberSpec(widths=(), init="glorot_uniform", seed=s, lr=0.002) for s in (1, 2, 3)]
    stack = MLPStack(data.X_train.shape[1], data.n_outputs, specs, activation="relu")
    assert stack.depth == 0
    nets = [stack.member(i) for i in range(stack.M)]
    settings = TrainSettings(optimizer="adam", batch_size=32, max_epochs=8, patience=None, restore_best=False)
    result = train(stack, data, settings)
    for i, (net, spec) in enumerate(zip(nets, specs)):
        assert [type(m) for m in net] == [torch.nn.Linear]
        hist = loop_train(net, spec, data, settings)
        for k, v in net.state_dict().items():
            torch.testing.assert_close(result.members[i].state[k], v, rtol=0, atol=1e-5, msg=f"member {i} {k}")
        np.testing.assert_allclose(result.members[i].history["val_loss"], hist["val_loss"], rtol=1e-5, atol=1e-6)


def test_shared_order_equals_loop() -> None:
    data = digits(300, 100)
    s = TrainSettings(optimizer="adam", batch_size=25, max_epochs=4, patience=None, shared_order=True, order_seed=7, restore_best=False)
    specs = MIXED[:2]
    stack = MLPStack(64, 10, specs)
    nets = [stack.member(i) for i in range(2)]
    res = train(stack, data, s)
    for i, net in enumerate(nets):
        loop_train(net, replace(specs[i], seed=7), data, s)  # the shared order comes from order_seed
        for k, v in net.state_dict().items():
            torch.testing.assert_close(res.members[i].state[k], v, rtol=0, atol=1e-5)


def test_determinism_bit_identical() -> None:
    data = digits(300, 100)
    s = TrainSettings(optimizer="adam", batch_size=32, max_epochs=5, patience=2)
    runs = []
    for _ in range(2):
        stack = MLPStack(64, 10, MIXED, activation="gelu")
        runs.append(train(stack, data, s))
    for a, b in zip(*(r.members for r in runs)):
        assert a.history == b.history
        assert a.best_epoch == b.best_epoch and a.val_loss == b.val_loss
        for k in a.state:
            assert torch.equal(a.state[k], b.state[k])


def test_orders_are_per_member_and_replayable() -> None:
    o1 = epoch_orders([1, 2, 1], 50, epoch=3)
    assert o1.shape == (3, 50) and o1.dtype == torch.int64
    assert torch.equal(o1[0], o1[2]) and not torch.equal(o1[0], o1[1])
    assert torch.equal(torch.sort(o1[1]).values, torch.arange(50))
    assert torch.equal(epoch_orders([2], 50, epoch=3)[0], o1[1])
    assert not torch.equal(epoch_orders([1], 50, epoch=4)[0], o1[0])


def test_divergence_is_isolated_bit_identical() -> None:
    """Invariant 8: a diverging member is marked and frozen; its stack-mates are untouched."""
    data = regression()
    s = TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32, max_epochs=6, patience=None)
    good = [MIXED[0], MIXED[2]]
    # The same padded widths with or without it, so the arithmetic is the same GEMM shapes.
    # It diverges by construction, not by a chaotic trajectory (a huge learning rate may as well
    # kill every ReLU and stay finite): weights of scale 1e30 multiply the signal by ~1e30 per
    # layer, ~1e90 at the output, far past float32's largest value (3.4e38), so the first step's
    # loss is non-finite for any seed, CPU or BLAS.
    bad = MemberSpec(widths=(16, 16), init="normal(std=1e30)", seed=9, lr=0.02)
    with_bad = train(MLPStack(12, 1, [good[0], bad, good[1]]), data, s)
    without = train(MLPStack(12, 1, good), data, s)
    b = with_bad.members[1]
    assert b.diverged and b.stopped_by == "diverged"
    assert b.epochs_run == 1 and not math.isfinite(b.history["train_loss"][-1])  # its first epoch
    assert all(torch.isfinite(v).all() for v in b.state.values())  # its best (finite) weights
    for got, ref in zip([with_bad.members[0], with_bad.members[2]], without.members):
        assert not got.diverged
        assert got.history == ref.history
        for k in ref.state:
            assert torch.equal(got.state[k], ref.state[k])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_constant_init_units_stay_identical(activation: str) -> None:
    """Symmetry: units that start identical get identical gradients and stay identical."""
    data = digits(300, 100)
    spec = MemberSpec(widths=(12, 7), init="constant(value=0.05)", seed=0, lr=0.2)
    stack = MLPStack(64, 10, [spec], activation=activation)
    # Plain gradient descent (SGD with momentum); Adam divides by sqrt(v), which magnifies the
    # ulp-level rounding noise of tiny gradients into visible (but still meaningless) drift.
    train(stack, data, TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32, max_epochs=4, patience=None, restore_best=False))
    w0, w1, w2 = (w[0].detach() for w in stack.weights)  # [64, 12], [12, 7], [7, 10]
    b0, b1 = stack.biases[0][0].detach(), stack.biases[1][0].detach()
    assert (w0 - 0.05).abs().max() > 1e-3  # it did train (many ulps away)
    # Every hidden unit has the same incoming weights and bias, and the same outgoing weights.
    # "Same" up to float32 rounding: the GEMM kernels compute edge columns on another code path,
    # so units may differ by a few ulps of the weight scale (never by a learned amount).
    def spread(t: torch.Tensor, ref: torch.Tensor, scale: torch.Tensor) -> float:
        return float((t - ref.expand_as(t)).abs().max() / scale.abs().max())

    ulps = 16 * torch.finfo(torch.float32).eps  # relative to the layer's weight scale
    assert spread(w0, w0[:, :1], w0) < ulps and spread(b0, b0[:1], w0) < ulps
    assert spread(w1, w1[:1, :1], w1) < ulps and spread(b1, b1[:1], w1) < ulps
    assert spread(w2, w2[:1], w2) < ulps
    # The contrast: a random init gives units that differ by their whole scale.
    rnd = MLPStack(64, 10, [replace(spec, init="he_normal")], activation=activation)
    w_rnd = rnd.weights[0][0].detach()
    assert spread(w_rnd, w_rnd[:, :1], w_rnd) > 0.5


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_zero_init_hidden_weights_get_no_gradient(activation: str) -> None:
    data = digits(300, 100)
    spec = MemberSpec(widths=(10, 6), init="zeros", seed=0, lr=0.1)
    stack = MLPStack(64, 10, [spec], activation=activation)
    seen: list[TrainState] = []

    def cb(epoch: int, stk: MLPStack, state: TrainState) -> None:
        if epoch > 0:
            assert state.grads is not None
            for l in range(2):  # hidden layers: exactly zero gradient
                assert torch.count_nonzero(state.grads[l][0]) == 0
                assert torch.count_nonzero(state.grads[l][1]) == 0
            seen.append(state)

    res = train(stack, data, TrainSettings(optimizer="sgd", batch_size=32, max_epochs=3, patience=None, callback_every=1, restore_best=False), callback=cb)
    assert len(seen) == 3
    for l in range(3):
        assert torch.count_nonzero(stack.weights[l]) == 0  # no weight ever moved
    assert torch.count_nonzero(stack.biases[2]) > 0  # only the output bias learns
    assert res.members[0].history["train_loss"][-1] < math.log(10)


def test_padding_stays_zero_and_narrow_equals_own_stack() -> None:
    data = digits(300, 100)
    narrow = MemberSpec(widths=(6, 5), init="he_uniform", seed=4, lr=0.02)
    wide = MemberSpec(widths=(40, 24), init="lecun_normal", seed=5, lr=0.01, weight_decay=1e-3)
    s = TrainSettings(optimizer="adamw", batch_size=32, max_epochs=4, patience=None, restore_best=False)
    big = MLPStack(64, 10, [narrow, wide], activation="sigmoid")  # sigmoid(0) = 0.5: masks matter
    own = MLPStack(64, 10, [narrow], activation="sigmoid")
    rb, ro = train(big, data, s), train(own, data, s)
    w0, w1, w2 = (w[0].detach() for w in big.weights)
    assert torch.count_nonzero(w0[:, 6:]) == 0 and torch.count_nonzero(big.biases[0][0, 6:]) == 0
    assert torch.count_nonzero(w1[6:, :]) == 0 and torch.count_nonzero(w1[:, 5:]) == 0
    assert torch.count_nonzero(big.biases[1][0, 5:]) == 0 and torch.count_nonzero(w2[5:, :]) == 0
    for k, v in ro.members[0].state.items():
        torch.testing.assert_close(rb.members[0].state[k], v, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rb.members[0].history["val_loss"], ro.members[0].history["val_loss"], rtol=1e-6)


def test_early_stopping_restores_best_and_freezes() -> None:
    data = digits(150, 300)  # a small training set over-fits fast
    specs = [MemberSpec(widths=(64,), init="he_normal", seed=s, lr=0.03) for s in range(3)]
    s = TrainSettings(optimizer="adam", batch_size=16, max_epochs=60, patience=3, min_delta=1e-4)
    stack = MLPStack(64, 10, specs)
    frozen_at: dict[int, dict[str, torch.Tensor]] = {}
    changed_after_stop: list[int] = []

    def cb(epoch: int, stk: MLPStack, state: TrainState) -> None:
        for i in range(stk.M):
            if not state.active[i]:
                w = stk.weights[0][i].detach().clone()
                if i in frozen_at and not torch.equal(frozen_at[i]["w"], w):
                    changed_after_stop.append(i)
                frozen_at.setdefault(i, {"w": w})

    res = train(stack, data, s, callback=cb, memory_budget=10**9)
    assert any(m.stopped_by == "early" for m in res.members)
    assert not changed_after_stop
    for i, m in enumerate(res.members):
        if m.stopped_by == "early":
            assert m.epochs_run < s.max_epochs and m.epochs_run - m.best_epoch == s.patience
        vl = m.history["val_loss"]
        assert m.val_loss == pytest.approx(min(vl), rel=1e-12)
        assert vl[m.best_epoch - 1] == m.val_loss
        net = stack.member(i)  # the stack holds the best weights
        with torch.no_grad():
            out = net(data.X_val)
        assert float(F.cross_entropy(out, data.y_val)) == pytest.approx(m.val_loss, rel=1e-5)
        assert m.metrics["accuracy"] == pytest.approx(m.val_score, abs=1e-9)
        assert m.metrics["log_loss"] == pytest.approx(m.val_loss, rel=1e-5)
        assert m.val_score == m.history["val_score"][m.best_epoch - 1]
        assert isinstance(m, MemberResult) and m.train_time > 0


def test_callback_prunes_and_sees_state() -> None:
    data = digits(300, 100)
    specs = [MemberSpec(widths=(16,), init="he_normal", seed=s, lr=0.01) for s in range(4)]
    stack = MLPStack(64, 10, specs)
    calls: list[int] = []

    def cb(epoch: int, stk: MLPStack, state: TrainState) -> list[int]:
        calls.append(epoch)
        if epoch == 0:
            assert state.grads is None and all(state.active) and state.history[0]["train_loss"] == []
            return []
        assert len(state.grad_norms()) == 2 and state.grad_norms()[0].shape == (4,)
        assert state.update_norms is not None and bool((state.update_norms[0][state.active] > 0).all())
        assert len(state.history[0]["val_score"]) == epoch
        return [1, 3] if epoch == 2 else []

    res = train(stack, data, TrainSettings(max_epochs=6, patience=None, callback_every=2), callback=cb)
    assert calls == [0, 2, 4, 6]
    assert [m.stopped_by for m in res.members] == ["budget", "pruned", "budget", "pruned"]
    assert [m.epochs_run for m in res.members] == [6, 2, 6, 2]
    assert sum(m.train_time for m in res.members) <= res.wall_time * 1.01


def test_memory_split_gives_identical_results() -> None:
    data = digits(300, 100)
    specs = MIXED + [replace(m, seed=m.seed + 10) for m in MIXED]
    s = TrainSettings(optimizer="adam", batch_size=32, max_epochs=5, patience=2, callback_every=2)

    def cb(epoch: int, stk: MLPStack, state: TrainState) -> list[int]:
        return [4] if epoch == 2 else []

    per = member_bytes(MLPStack(64, 10, specs).sizes, 32, "adam", 100)
    split = train(MLPStack(64, 10, specs), data, s, callback=cb, memory_budget=2 * per)
    whole = train(MLPStack(64, 10, specs), data, s, callback=cb)
    assert split.n_substacks == 3 and whole.n_substacks == 1 and split.notices
    for a, b in zip(split.members, whole.members):
        assert a.history == b.history and a.stopped_by == b.stopped_by
        for k in a.state:
            assert torch.equal(a.state[k], b.state[k])
    assert split.members[4].stopped_by == "pruned"


def test_an_embedded_stacks_plan_counts_its_embedding() -> None:
    """plan_substacks charges each member of an embedded stack its frequencies and phases too."""
    from justenough.network_size import embedding_parameter_count
    from justenough.train.memory import plan_substacks

    specs = [MemberSpec(widths=(16,), init="he_normal", seed=i) for i in range(4)]
    stack = MLPStack(8, 3, specs, embed="periodic")
    settings = TrainSettings(batch_size=32, max_epochs=1)
    per = member_bytes(stack.sizes, 32, settings.optimizer, 50, embedding_parameter_count(8, "periodic"))
    assert per > member_bytes(stack.sizes, 32, settings.optimizer, 50)
    groups, _ = plan_substacks(stack, settings, 50, memory_budget=2 * per)
    assert groups == [[0, 1], [2, 3]]
    groups, _ = plan_substacks(stack, settings, 50, memory_budget=2 * per - 1)  # not two: one member a stack
    assert groups == [[0], [1], [2], [3]]


def test_regression_multi_output_and_metrics() -> None:
    base = regression()
    y2 = torch.stack([base.y_train, -2 * base.y_train], 1)
    v2 = torch.stack([base.y_val, -2 * base.y_val], 1)
    data = Data(base.X_train, y2, base.X_val, v2, "regression", 2)
    stack = MLPStack(12, 2, [MemberSpec(widths=(32,), init="he_normal", seed=0, lr=0.01)])
    res = train(stack, data, TrainSettings(max_epochs=20, patience=None))
    m = res.members[0]
    assert set(m.metrics) >= {"r2", "rmse", "mae"} and m.metrics["r2"] > 0.5
    assert m.val_score == pytest.approx(m.metrics["r2"], abs=1e-6)


def test_optimizer_freezes_inactive_members_exactly() -> None:
    p = torch.randn(3, 4, 5)
    before = p.clone()
    opt = StackOptimizer([p], torch.tensor([0.1, 0.1, 0.1]), torch.tensor([0.0, 0.1, 0.0]), TrainSettings(optimizer="adamw"))
    opt.set_active(torch.tensor([True, False, True]))
    for _ in range(3):
        opt.step([torch.randn(3, 4, 5)])
    assert torch.equal(p[1], before[1]) and not torch.equal(p[0], before[0])


def test_bad_input_raises() -> None:
    data = digits(100, 50)
    stack = MLPStack(64, 10, [MIXED[0]])
    with pytest.raises(DataError, match="n_outputs"):
        train(MLPStack(64, 3, [MIXED[0]]), data)
    with pytest.raises(DataError, match="class indices"):
        train(stack, replace(data, y_train=data.y_train + 5))
    with pytest.raises(DataError, match="X_train"):
        train(MLPStack(10, 10, [MIXED[0]]), data)
    with pytest.raises(DataError, match="missing"):
        train(stack, object())
    with pytest.raises(ConfigError, match="optimizer"):
        TrainSettings(optimizer="rmsprop")
    with pytest.raises(ConfigError, match="nesterov"):
        TrainSettings(optimizer="adam", nesterov=True)
    with pytest.raises(ConfigError, match="patience"):
        TrainSettings(patience=0)
    with pytest.raises(ConfigError, match="callback returned"):
        train(stack, data, TrainSettings(max_epochs=1), callback=lambda e, s, st: [7])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("embed", ["none", "periodic"])
def test_cuda_equals_cpu(embed: str) -> None:
    data = digits(300, 100)
    s = TrainSettings(optimizer="adam", batch_size=32, max_epochs=3, patience=None)
    cpu = train(MLPStack(64, 10, MIXED, embed=embed), data, s)
    gpu_stack = MLPStack(64, 10, MIXED, device="cuda", embed=embed)
    gpu = train(gpu_stack, data, s)
    assert gpu.device.startswith("cuda")
    for a, b in zip(cpu.members, gpu.members):
        for k in a.state:
            torch.testing.assert_close(b.state[k], a.state[k], rtol=0, atol=1e-4)


# --- the fast path: hand-written backward and the flat-buffer optimizer ---------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "selu", "identity"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_hand_written_backward_equals_autograd(activation: str, task: str) -> None:
    """The training step's own backward pass gives autograd's losses and gradients."""
    from justenough.train.metrics import stack_loss
    from justenough.train.backward import Step
    from justenough.train.optimizer import flatten_parameters

    n_out = 10 if task == "classification" else 3
    specs = [replace(m, seed=m.seed + 20) for m in MIXED]  # padded: the unit masks matter
    stack = MLPStack(64, n_out, specs, activation=activation)
    g = torch.Generator().manual_seed(0)
    for shared in (False, True):
        M, B = stack.M, 37
        x = torch.randn(B, 64, generator=g) if shared else torch.randn(M, B, 64, generator=g)
        if task == "classification":
            y = torch.randint(0, n_out, (B,) if shared else (M, B), generator=g)
        else:
            y = torch.randn(*((B,) if shared else (M, B)), n_out, generator=g)
        params = [*stack.weights, *stack.biases]
        ref_loss = stack_loss(task, stack(x), y)  # [M]
        ref = torch.autograd.grad(ref_loss.sum(), params)
        flat = flatten_parameters(params)
        grad_flat = torch.full_like(flat, float("nan"))  # every element must be written
        views, off = [], 0
        for p in params:
            views.append(grad_flat[off : off + p.numel()].view(p.shape))
            off += p.numel()
        step = Step(stack, task, views)
        xs = x.expand(M, B, 64) if shared else x
        ys = y.expand(M, *y.shape) if shared else y
        with torch.no_grad():
            loss = step(xs, ys)
        torch.testing.assert_close(loss, ref_loss.detach(), rtol=1e-6, atol=1e-7)
        for got, want in zip(views, ref):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
        for l in range(stack.depth):  # padded units: exactly zero gradient
            dead = stack.unit_mask(l) == 0  # [M, w]
            assert torch.count_nonzero(views[stack.depth + 1 + l][dead]) == 0
            assert torch.count_nonzero(views[l].transpose(1, 2)[dead]) == 0


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "selu", "identity"])
@pytest.mark.parametrize("eps", [0.1, 0.5, 0.99])
def test_label_smoothing_backward_equals_torch_cross_entropy(activation: str, eps: float) -> None:
    """With label smoothing the step's loss is ``F.cross_entropy(..., label_smoothing=eps)`` per
    member and its gradients are autograd's of that loss: ``(softmax - q) / B``."""
    from justenough.train.backward import Step
    from justenough.train.optimizer import flatten_parameters, parameter_views

    n_out = 7
    specs = [replace(m, seed=m.seed + 30) for m in MIXED]  # padded: the unit masks matter
    stack = MLPStack(20, n_out, specs, activation=activation)
    g = torch.Generator().manual_seed(1)
    M, B = stack.M, 29
    x = torch.randn(M, B, 20, generator=g) * 2
    y = torch.randint(0, n_out, (M, B), generator=g)
    params = [*stack.weights, *stack.biases]
    out = stack(x)  # [M, B, C]
    ref_loss = torch.stack([F.cross_entropy(out[i], y[i], label_smoothing=eps) for i in range(M)])  # [M]
    ref = torch.autograd.grad(ref_loss.sum(), params)
    grad_flat = torch.full_like(flatten_parameters(params), float("nan"))  # every element must be written
    views = parameter_views(grad_flat, params)
    with torch.no_grad():
        loss = Step(stack, "classification", views, label_smoothing=eps)(x, y)
    torch.testing.assert_close(loss, ref_loss.detach(), rtol=1e-6, atol=1e-6)
    for got, want in zip(views, ref):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_label_smoothing_is_checked_and_refused_for_regression() -> None:
    for bad in (-0.1, 1.0, 1.5, float("nan"), True):
        with pytest.raises(ConfigError, match="label_smoothing"):
            TrainSettings(label_smoothing=bad)
    assert TrainSettings(label_smoothing=0).label_smoothing == 0.0
    data = regression(60, 20)
    with pytest.raises(ConfigError, match="classification"):
        train(MLPStack(12, 1, [MIXED[0]]), data, TrainSettings(max_epochs=1, label_smoothing=0.1))


def test_label_smoothing_validation_loss_is_plain_cross_entropy() -> None:
    """Early stopping follows the plain validation cross-entropy: the smoothed run's recorded
    val_loss is that of its own weights, unsmoothed."""
    from justenough.train.metrics import stack_loss

    data = digits(200, 100)
    stack = MLPStack(64, 10, [MIXED[0]])
    result = train(stack, data, TrainSettings(batch_size=32, max_epochs=3, patience=None, restore_best=False, label_smoothing=0.2))
    with torch.no_grad():
        plain = float(stack_loss("classification", stack(data.X_val.expand(1, *data.X_val.shape)), data.y_val)[0])
    assert result.members[0].history["val_loss"][-1] == pytest.approx(plain, rel=1e-6)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "op-by-op"])
@pytest.mark.parametrize("gather_max", [0, 1 << 16], ids=["layerwise", "gather"])
@pytest.mark.parametrize("kind,momentum,nesterov", [("sgd", 0.9, True), ("sgd", 0.0, False), ("adam", 0.9, False), ("adamw", 0.9, False)])
def test_flat_optimizer_equals_per_tensor_bit_for_bit(kind: str, momentum: float, nesterov: bool, gather_max: int, fused: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """One update over the flat buffer is the per-layer update, element by element, exactly
    (both ways of expanding Adam's per-member step sizes: a gather, or layer by layer; and with
    torch's fused Adam kernel or op by op)."""
    import justenough.train.optimizer as train_mod
    from justenough.train.optimizer import flatten_parameters

    monkeypatch.setattr(train_mod, "_GATHER_MAX", gather_max)
    monkeypatch.setattr(train_mod, "_FUSED_ADAM", fused)

    g = torch.Generator().manual_seed(1)
    shapes = [(3, 7, 5), (3, 5, 4), (3, 5), (3, 4)]
    a = [torch.randn(s, generator=g) for s in shapes]
    b = [t.clone() for t in a]
    flat = flatten_parameters(b)
    lr, wd = torch.tensor([0.05, 0.01, 0.2]), torch.tensor([0.0, 1e-2, 1e-3])
    s = TrainSettings(optimizer=kind, momentum=momentum, nesterov=nesterov)
    opt_a = StackOptimizer(a, lr, wd, s)
    opt_b = StackOptimizer(b, lr, wd, s, flat=flat)
    for k in range(6):
        if k == 3:
            for o in (opt_a, opt_b):
                o.set_active(torch.tensor([True, False, True]))
                o.reset_members(torch.tensor([False, False, True]))
        grads = [torch.randn(sh, generator=g) for sh in shapes]
        opt_a.step(grads)
        opt_b.step(torch.cat([t.reshape(-1) for t in grads]))
        for p, q in zip(a, b):
            assert torch.equal(p, q)
    assert flat.data_ptr() == b[0].data_ptr()  # the parameters still live in the buffer
    with pytest.raises(ConfigError, match="flat="):
        StackOptimizer(a, lr, wd, s, flat=flat)  # a's tensors are not slices of flat


def test_on_epoch_hook_sees_every_epoch_and_changes_nothing() -> None:
    """The progress hook is called once per epoch and leaves the training bit-identical."""
    data = digits(200, 100)
    specs = [MemberSpec(widths=(16,), init="he_normal", seed=s) for s in range(3)]
    settings = TrainSettings(max_epochs=6, patience=None, batch_size=32)
    seen: list[int] = []
    with_hook = MLPStack(64, 10, specs)
    train(with_hook, data, settings, on_epoch=seen.append)
    plain = MLPStack(64, 10, specs)
    train(plain, data, settings)
    assert seen == [1, 2, 3, 4, 5, 6]
    for a, b in zip(with_hook.parameters(), plain.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["adam", "adamw"])
def test_fused_adam_equals_torch_fused_per_member_bit_for_bit(kind: str) -> None:
    """With torch's fused kernel, each member's update is torch.optim's ``fused=True`` update of
    that member alone, exactly, whatever its stack-mates' learning rates and weight decays."""
    from justenough.train.optimizer import flatten_parameters

    g = torch.Generator().manual_seed(3)
    shapes = [(3, 7, 5), (3, 5)]
    params = [torch.randn(sh, generator=g) for sh in shapes]
    alone = [[p[i].clone().requires_grad_(True) for p in params] for i in range(3)]
    flat = flatten_parameters(params)
    lr, wd = torch.tensor([0.05, 0.01, 0.05]), torch.tensor([0.0, 1e-2, 0.0])
    opt = StackOptimizer(params, lr, wd, TrainSettings(optimizer=kind), flat=flat)
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    refs = [cls(alone[i], lr=float(lr[i]), weight_decay=float(wd[i]), fused=True) for i in range(3)]
    for _ in range(5):
        grads = [torch.randn(sh, generator=g) for sh in shapes]
        opt.step(torch.cat([t.reshape(-1) for t in grads]))
        for i, ref in enumerate(refs):
            for q, gr in zip(alone[i], grads):
                q.grad = gr[i].clone()
            ref.step()
    for i in range(3):
        for p, q in zip(params, alone[i]):
            assert torch.equal(p[i], q.detach())


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "op-by-op"])
def test_optimizer_take_state_continues_the_kept_members_exactly(kind: str, fused: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compaction: a new optimizer over members [0, 2] that takes the state of the full one
    moves them exactly as the full one would have."""
    import justenough.train.optimizer as train_mod
    from justenough.train.optimizer import flatten_parameters, parameter_views

    monkeypatch.setattr(train_mod, "_FUSED_ADAM", fused)
    g = torch.Generator().manual_seed(4)
    shapes = [(3, 6, 4), (3, 4)]
    s = TrainSettings(optimizer=kind, momentum=0.9)
    lr, wd = torch.tensor([0.05, 0.02, 0.01]), torch.tensor([0.0, 0.0, 1e-3])
    full = [torch.randn(sh, generator=g) for sh in shapes]
    full_flat = flatten_parameters(full)
    opt = StackOptimizer(full, lr, wd, s, flat=full_flat)
    grads = [[torch.randn(sh, generator=g) for sh in shapes] for _ in range(6)]
    flat_g = [torch.cat([t.reshape(-1) for t in gs]) for gs in grads]
    for k in range(3):
        opt.step(flat_g[k])
    keep = [0, 2]
    part = [p[keep].clone() for p in full]
    part_flat = flatten_parameters(part)
    sub = StackOptimizer(part, lr[keep], wd[keep], s, flat=part_flat)
    sub.take_state(opt, keep)
    for k in range(3, 6):
        opt.step(flat_g[k])
        sub.step(torch.cat([t[keep].reshape(-1) for t in grads[k]]))
    for p, q in zip(parameter_views(full_flat, full), part):
        assert torch.equal(p[keep], q)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_stopped_members_leave_the_stack_and_change_nothing(schedule: str) -> None:
    """Members that stop early leave the working stack (compaction); every member's history and
    weights equal those of the same member trained in a stack of its own, bit for bit (with a
    schedule too: the smaller stack carries on at the same epoch's learning rate)."""
    data = digits(150, 300)
    specs = [MemberSpec(widths=(32,), init="he_normal", seed=s, lr=0.03) for s in range(4)]
    s = TrainSettings(optimizer="adam", batch_size=16, max_epochs=40, patience=2, schedule=schedule)
    together = train(MLPStack(64, 10, specs), data, s)
    stops = sorted(m.epochs_run for m in together.members)
    assert stops[0] < stops[-1]  # members stopped at different epochs
    for spec, got in zip(specs, together.members):
        alone = train(MLPStack(64, 10, [spec]), data, s).members[0]
        assert got.history == alone.history and got.best_epoch == alone.best_epoch
        for k in alone.state:
            assert torch.equal(got.state[k], alone.state[k])


def test_callback_sees_no_gradient_for_members_that_left() -> None:
    data = digits(200, 100)
    specs = [MemberSpec(widths=(16,), init="he_normal", seed=s, lr=0.01) for s in range(3)]
    seen: dict[int, TrainState] = {}

    def cb(epoch: int, stk: MLPStack, state: TrainState) -> list[int]:
        seen[epoch] = state
        return [1] if epoch == 1 else []

    train(MLPStack(64, 10, specs), data, TrainSettings(max_epochs=3, patience=None, callback_every=1), callback=cb)
    st = seen[3]
    assert st.active == [True, False, True] and st.grads is not None and st.update_norms is not None
    dW = st.grads[0][0]  # [M, in, out]
    assert torch.isnan(dW[1]).all() and torch.isfinite(dW[[0, 2]]).all()
    assert float(st.update_norms[0][1]) == 0.0 and bool((st.update_norms[0][[0, 2]] > 0).all())


def test_monitor_val_score_stops_on_the_score() -> None:
    data = digits(150, 300)
    specs = [MemberSpec(widths=(32,), init="he_normal", seed=s, lr=0.03) for s in range(3)]
    s = TrainSettings(optimizer="adam", batch_size=16, max_epochs=60, patience=4, monitor="val_score")
    stack = MLPStack(64, 10, specs)
    res = train(stack, data, s)
    for i, m in enumerate(res.members):
        vs = m.history["val_score"]
        assert m.val_score == max(vs) and m.best_epoch == vs.index(max(vs)) + 1  # the first best epoch
        assert m.val_loss == m.history["val_loss"][m.best_epoch - 1]
        if m.stopped_by == "early":
            assert m.epochs_run - m.best_epoch == s.patience
        with torch.no_grad():  # the stack holds the best weights by score
            acc = float((stack.member(i)(data.X_val).argmax(1) == data.y_val).double().mean())
        assert acc == pytest.approx(m.val_score, abs=1e-9)
    with pytest.raises(ConfigError, match="monitor"):
        TrainSettings(monitor="accuracy")


def test_cosine_lr_factor_follows_torch_scheduler() -> None:
    """``lr_factor`` per epoch equals the lr CosineAnnealingLR gives after ``epoch - 1`` steps."""
    T, base = 7, 0.3
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T)
    for epoch in range(1, T + 1):
        assert base * lr_factor("cosine", epoch, T) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        assert lr_factor("constant", epoch, T) == 1.0
        opt.step()
        sched.step()
    assert lr_factor("cosine", 1, T) == 1.0 and 0 < lr_factor("cosine", T, T) < 0.1
    with pytest.raises(ConfigError, match="schedule"):
        TrainSettings(schedule="linear")


@pytest.mark.parametrize("T", [1, 2, 3, 10, 29, 30, 200, 400])
def test_warmup_cosine_lr_factor_follows_torch_sequential_scheduler(T: int) -> None:
    """``warmup_cosine`` per epoch equals SequentialLR(LinearLR, CosineAnnealingLR) after
    ``epoch - 1`` steps: a linear rise over W epochs, then cosine to 0 at max_epochs."""
    W, base = warmup_epochs(T), 0.3
    assert W == (0 if T == 1 else min(max(1, round(T / 20 + 1e-9)), T - 1))
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / (W + 1), end_factor=1.0, total_iters=W),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T - W),
    ], milestones=[W]) if W else torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T)
    factors = []
    for epoch in range(1, T + 1):
        factors.append(lr_factor("warmup_cosine", epoch, T))
        assert base * factors[-1] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        opt.step()
        sched.step()
    # rises strictly over the warmup, peaks at 1 right after it, then never rises again
    assert all(a < b for a, b in zip(factors[: W + 1], factors[1 : W + 1]))
    assert factors[W] == 1.0 and all(a >= b for a, b in zip(factors[W:], factors[W + 1 :]))
    assert {200: 10, 400: 20}.get(T, W) == W


def test_stack_loss_fast_path_equals_cross_entropy() -> None:
    from justenough.train.metrics import stack_loss

    g = torch.Generator().manual_seed(0)
    out = torch.randn(4, 50, 10, generator=g) * 3
    y = torch.randint(0, 10, (50,), generator=g)
    ref = torch.stack([F.cross_entropy(out[i], y) for i in range(4)])
    torch.testing.assert_close(stack_loss("classification", out, y), ref, rtol=1e-6, atol=1e-7)
    y_per = torch.randint(0, 10, (4, 50), generator=g)
    ref = torch.stack([F.cross_entropy(out[i], y_per[i]) for i in range(4)])
    torch.testing.assert_close(stack_loss("classification", out, y_per), ref, rtol=1e-6, atol=1e-7)


def test_bfloat16_precision_trains_as_well_and_leaves_small_layers_float32() -> None:
    """Mixed precision: bfloat16 products in the layers of at least 64 x 64 weights only; the
    models learn as well as in float32 (digits)."""
    data = digits(500, 300)
    small = [MemberSpec(widths=(16,), init="he_normal", seed=s, lr=0.01) for s in range(2)]
    s32 = TrainSettings(max_epochs=3, patience=None)
    s16 = replace(s32, precision="bfloat16")
    a, b = train(MLPStack(64, 10, small), data, s32), train(MLPStack(64, 10, small), data, s16)
    for x, y in zip(a.members, b.members):  # every layer below 64 x 64: exactly float32
        assert x.history == y.history
    big = [MemberSpec(widths=(128, 128), init="he_normal", seed=s, lr=1e-3) for s in range(3)]
    s32 = TrainSettings(max_epochs=15, patience=None)
    a = train(MLPStack(64, 10, big), data, s32)
    b = train(MLPStack(64, 10, big), data, replace(s32, precision="bfloat16"))
    assert any(x.history != y.history for x, y in zip(a.members, b.members))  # it did run in bfloat16
    for x, y in zip(a.members, b.members):
        assert y.val_score >= x.val_score - 0.02
        assert y.val_loss == pytest.approx(x.val_loss, rel=0.15)
    with pytest.raises(ConfigError, match="precision"):
        TrainSettings(precision="float16")


def test_bfloat16_step_gradients_are_close_to_autograd() -> None:
    from justenough.train.backward import Step
    from justenough.train.optimizer import parameter_views

    g = torch.Generator().manual_seed(5)
    stack = MLPStack(64, 10, [MemberSpec(widths=(96, 80), init="he_normal", seed=s) for s in range(2)])
    xb, yb = torch.randn(2, 32, 64, generator=g), torch.randint(0, 10, (2, 32), generator=g)
    params = [*stack.weights, *stack.biases]
    loss = sum(F.cross_entropy(stack(xb)[i], yb[i]) for i in range(2))
    ref = torch.autograd.grad(loss, params)
    buf = torch.zeros(sum(p.numel() for p in params))
    views = parameter_views(buf, params)
    with torch.no_grad():
        losses = Step(stack, "classification", views, precision="bfloat16")(xb, yb)
    torch.testing.assert_close(losses.sum(), loss.detach(), rtol=2e-2, atol=1e-3)
    for got, want in zip(views, ref):
        # bfloat16 keeps 8 significant bits; rounding compounds layer by layer going back, so
        # the first layer's gradient is off by ~8% in norm, but points the same way.
        assert float((got - want).norm() / want.norm()) < 0.15
        assert float(F.cosine_similarity(got.flatten(), want.flatten(), dim=0)) > 0.99


# --- the periodic embedding (nets/periodic.py) in the trainer ---------------------------------

EMBED_CASES = [
    ("classification", TrainSettings(optimizer="adam", batch_size=32, max_epochs=10, patience=None, restore_best=False), 0.1),
    ("classification", TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32, max_epochs=10, patience=None, restore_best=False), 0.5),
    ("regression", TrainSettings(optimizer="adamw", batch_size=32, max_epochs=12, patience=None, restore_best=False), 0.1),
]


@pytest.mark.parametrize("task,settings,lr_scale", EMBED_CASES, ids=lambda v: getattr(v, "optimizer", v) if not isinstance(v, float) else "")
def test_embedded_stack_equals_loop(task: str, settings: TrainSettings, lr_scale: float) -> None:
    """Invariant 1 with a periodic embedding: member i (PeriodicEmbedding, Linear, ReLU, ...)
    trained in the stack equals the same module trained alone with torch.optim, frequencies and
    phases included."""
    data = digits() if task == "classification" else regression()
    specs = [replace(m, lr=m.lr * lr_scale) for m in MIXED]
    stack = MLPStack(data.X_train.shape[1], data.n_outputs, specs, activation="relu", embed="periodic")
    nets = [stack.member(i) for i in range(stack.M)]
    result = train(stack, data, settings)
    for i, (net, spec) in enumerate(zip(nets, specs)):
        start = {k: v.clone() for k, v in net.state_dict().items()}
        hist = loop_train(net, spec, data, settings)
        ref = net.state_dict()
        got = result.members[i].state
        assert set(got) == set(ref) and {"0.frequencies", "0.phases", "1.weight"} <= set(got)
        assert not torch.equal(got["0.frequencies"], start["0.frequencies"])  # the embedding trains
        for k in ref:
            torch.testing.assert_close(got[k], ref[k], rtol=0, atol=1e-5, msg=f"member {i} {k}")
        np.testing.assert_allclose(result.members[i].history["val_loss"], hist["val_loss"], rtol=1e-5, atol=1e-6)


def test_embedded_linear_model_equals_loop() -> None:
    """Depth 0 with the embedding: a linear model on the raw and periodic features."""
    data = regression()
    specs = [MemberSpec(widths=(), init="glorot_uniform", seed=s, lr=0.002) for s in (1, 2)]
    stack = MLPStack(data.X_train.shape[1], 1, specs, embed="periodic")
    nets = [stack.member(i) for i in range(stack.M)]
    settings = TrainSettings(optimizer="adam", batch_size=32, max_epochs=6, patience=None, restore_best=False)
    result = train(stack, data, settings)
    for i, (net, spec) in enumerate(zip(nets, specs)):
        loop_train(net, spec, data, settings)
        for k, v in net.state_dict().items():
            torch.testing.assert_close(result.members[i].state[k], v, rtol=0, atol=1e-5, msg=f"member {i} {k}")


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_hand_written_backward_with_embedding_equals_autograd(activation: str, task: str) -> None:
    """The step's gradients of the frequencies and phases (and of every layer) are autograd's."""
    from justenough.train.backward import Step
    from justenough.train.metrics import stack_loss
    from justenough.train.optimizer import flatten_parameters, parameter_views

    n_out = 10 if task == "classification" else 3
    specs = [replace(m, seed=m.seed + 30) for m in MIXED]  # padded
    stack = MLPStack(12, n_out, specs, activation=activation, embed="periodic")
    g = torch.Generator().manual_seed(1)
    M, B = stack.M, 29
    x = torch.randn(M, B, 12, generator=g) * 2.0
    y = torch.randint(0, n_out, (M, B), generator=g) if task == "classification" else torch.randn(M, B, n_out, generator=g)
    params = stack.trained_parameters()
    assert len(params) == 2 * (stack.depth + 1) + 2
    ref_loss = stack_loss(task, stack(x), y)
    ref = torch.autograd.grad(ref_loss.sum(), params)
    flat = flatten_parameters(params)
    grad_flat = torch.full_like(flat, float("nan"))  # every element must be written
    views = parameter_views(grad_flat, params)
    with torch.no_grad():
        loss = Step(stack, task, views)(x, y)
    torch.testing.assert_close(loss, ref_loss.detach(), rtol=1e-6, atol=1e-7)
    for got, want in zip(views, ref):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert float(views[-2].abs().sum()) > 0 and float(views[-1].abs().sum()) > 0


def test_embedded_members_that_stop_change_nothing() -> None:
    """Compaction carries the frequencies and phases (and their optimizer state): each member
    equals the same member trained in a stack of its own, bit for bit."""
    data = digits(150, 300)
    specs = [MemberSpec(widths=(16,), init="he_normal", seed=s, lr=0.03) for s in range(3)]
    s = TrainSettings(optimizer="adam", batch_size=16, max_epochs=30, patience=2)
    together = train(MLPStack(64, 10, specs, embed="periodic"), data, s)
    stops = sorted(m.epochs_run for m in together.members)
    assert stops[0] < stops[-1]
    for spec, got in zip(specs, together.members):
        alone = train(MLPStack(64, 10, [spec], embed="periodic"), data, s).members[0]
        assert got.history == alone.history
        for k in alone.state:
            assert torch.equal(got.state[k], alone.state[k])


def test_bfloat16_step_with_embedding_is_close_to_autograd() -> None:
    """Mixed precision rounds layer 0's embedded inputs to bfloat16; the embedding's own
    gradients stay float32 arithmetic and point where autograd's do."""
    from justenough.train.backward import Step
    from justenough.train.optimizer import parameter_views

    g = torch.Generator().manual_seed(6)
    stack = MLPStack(16, 10, [MemberSpec(widths=(96,), init="he_normal", seed=s) for s in range(2)], embed="periodic")
    xb, yb = torch.randn(2, 32, 16, generator=g), torch.randint(0, 10, (2, 32), generator=g)
    params = stack.trained_parameters()
    loss = sum(F.cross_entropy(stack(xb)[i], yb[i]) for i in range(2))
    ref = torch.autograd.grad(loss, params)
    views = parameter_views(torch.zeros(sum(p.numel() for p in params)), params)
    step = Step(stack, "classification", views, precision="bfloat16")
    assert step.low[0]  # 144 x 96 inputs: layer 0 runs in bfloat16
    with torch.no_grad():
        step(xb, yb)
    for got, want in zip(views, ref):
        assert float(F.cosine_similarity(got.flatten(), want.flatten(), dim=0)) > 0.99
