"""Benchmark: one workload trained three ways (scikit-learn, plain PyTorch, the stack).

Workload (DESIGN.md): digits, split 60/20/20 and standardized on train; architectures (32,),
(64,), (128,), (64, 64), (128, 128); 8 restarts each; 30 epochs of Adam, batch 64, lr 1e-3, no
early stopping (every model runs all 30 epochs, and its final weights are scored).

1. scikit-learn ``MLPClassifier``, one model at a time (alpha=0, so the same objective);
2. plain PyTorch ``nn.Sequential`` + ``torch.optim.Adam``, one model at a time, from the same
   initial weights as the stack (``member(i)`` at init);
3. ``justenough``: one stack per architecture (8 members), ``train()``.

All single-threaded (``torch.set_num_threads(1)``). The headline adds the stacks run in two
worker processes with one thread each (a 'spawn' pool, one task per architecture), labelled as
such. Useful FLOP/s counts forward + backward (3 x forward) of the training steps plus the
validation passes, against a measured single-thread float32 matmul peak.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_train.py [--smoke]``. The last line is JSON.
``--smoke`` checks that the script still runs (the test suite runs it): one architecture (8,), 2
restarts, 3 epochs; its numbers mean nothing.
Figures on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from justenough.nets.stack import MemberSpec, MLPStack
from justenough.train import TrainSettings, epoch_orders, train

__all__ = ["main"]

BATCH = 64
LR = 1e-3
INIT = "he_uniform"


@dataclass(frozen=True)
class Workload:
    """What is trained: the architectures, the restarts of each and the epochs of every restart."""

    archs: tuple[tuple[int, ...], ...]
    restarts: int
    epochs: int

    def specs(self, arch: tuple[int, ...]) -> list[MemberSpec]:
        return [MemberSpec(widths=arch, init=INIT, seed=s, lr=LR) for s in range(self.restarts)]

    def settings(self) -> TrainSettings:
        return TrainSettings(optimizer="adam", batch_size=BATCH, max_epochs=self.epochs, patience=None,
                             restore_best=False)


FULL = Workload(archs=((32,), (64,), (128,), (64, 64), (128, 128)), restarts=8, epochs=30)
SMOKE = Workload(archs=((8,),), restarts=2, epochs=3)


@dataclass
class Data:
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    task: str = "classification"
    n_outputs: int = 10


def load() -> tuple[Data, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, train_size=0.6, random_state=0, stratify=y)
    X_va, _X_te, y_va, _y_te = train_test_split(X_rest, y_rest, train_size=0.5, random_state=0, stratify=y_rest)
    sc = StandardScaler().fit(X_tr)
    Z_tr, Z_va = sc.transform(X_tr).astype(np.float32), sc.transform(X_va).astype(np.float32)
    d = Data(torch.from_numpy(Z_tr), torch.from_numpy(y_tr).long(), torch.from_numpy(Z_va), torch.from_numpy(y_va).long())
    return d, Z_tr, y_tr, Z_va, y_va


def run_sklearn(w: Workload, Z_tr: np.ndarray, y_tr: np.ndarray, Z_va: np.ndarray, y_va: np.ndarray) -> tuple[float, list[float]]:
    accs = []
    t0 = time.perf_counter()
    for arch in w.archs:
        for s in range(w.restarts):
            clf = MLPClassifier(
                hidden_layer_sizes=arch, solver="adam", alpha=0.0, batch_size=BATCH, learning_rate_init=LR,
                max_iter=w.epochs, tol=0.0, n_iter_no_change=w.epochs + 1, random_state=s,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(Z_tr, y_tr)
            accs.append(float((clf.predict(Z_va) == y_va).mean()))
    return time.perf_counter() - t0, accs


def run_torch(w: Workload, d: Data) -> tuple[float, list[float]]:
    """One model at a time: the textbook loop, on the same batches and initial weights as the stack."""
    accs = []
    nets = [(MLPStack(64, 10, w.specs(arch)), arch) for arch in w.archs]
    N = d.X_train.shape[0]
    t0 = time.perf_counter()
    for stack, arch in nets:
        for i, spec in enumerate(stack.members):
            net = stack.member(i)
            opt = torch.optim.Adam(net.parameters(), lr=LR)
            for epoch in range(1, w.epochs + 1):
                order = epoch_orders([spec.seed], N, epoch)[0]
                for idx in order.split(BATCH):
                    loss = F.cross_entropy(net(d.X_train[idx]), d.y_train[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                with torch.no_grad():  # the same per-epoch validation the stack does
                    F.cross_entropy(net(d.X_val), d.y_val)
            with torch.no_grad():
                accs.append(float((net(d.X_val).argmax(1) == d.y_val).float().mean()))
    return time.perf_counter() - t0, accs


def _stack_task(job: tuple[Workload, tuple[int, ...]]) -> tuple[float, list[float]]:
    w, arch = job
    torch.set_num_threads(1)
    d, *_ = load()
    stack = MLPStack(64, 10, w.specs(arch))
    t0 = time.perf_counter()
    res = train(stack, d, w.settings())
    dt = time.perf_counter() - t0
    return dt, [m.metrics["accuracy"] for m in res.members]


def run_stack(w: Workload, d: Data) -> tuple[float, list[float]]:
    accs: list[float] = []
    t0 = time.perf_counter()
    for arch in w.archs:
        res = train(MLPStack(64, 10, w.specs(arch)), d, w.settings())
        accs.extend(m.metrics["accuracy"] for m in res.members)
    return time.perf_counter() - t0, accs


def run_stack_2proc(w: Workload) -> tuple[float, list[float]]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_noop, range(2))  # start the workers (imports) before the clock starts
        t0 = time.perf_counter()
        # The two deepest/widest first, so the pool balances.
        order = sorted(w.archs, key=lambda a: -sum(a) * len(a))
        out = pool.map(_stack_task, [(w, arch) for arch in order], chunksize=1)
        dt = time.perf_counter() - t0
    by_arch = dict(zip(order, out))
    return dt, [a for arch in w.archs for a in by_arch[arch][1]]


def _noop(_: Any) -> None:
    import justenough.train  # noqa: F401

    torch.set_num_threads(1)


def useful_flops(w: Workload, d: Data) -> float:
    n_tr, n_va = d.X_train.shape[0], d.X_val.shape[0]
    total = 0.0
    for arch in w.archs:
        f = sum(MLPStack(64, 10, w.specs(arch)[:1]).flop_counts())  # forward FLOPs per sample
        total += w.restarts * w.epochs * (3 * f * n_tr + f * n_va)
    return total


def matmul_peak() -> float:
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: one architecture (8,), 2 restarts, 3 epochs (a check that it runs)")
    w = SMOKE if parser.parse_args().smoke else FULL
    torch.set_num_threads(1)
    d, Z_tr, y_tr, Z_va, y_va = load()
    n_models = len(w.archs) * w.restarts
    print(f"workload: digits {len(Z_tr)}/{len(Z_va)} train/val rows; {len(w.archs)} architectures x {w.restarts} restarts = {n_models} models; "
          f"{w.epochs} epochs Adam, batch {BATCH}, lr {LR}; 1 thread each")
    peak = matmul_peak()
    t_sk, acc_sk = run_sklearn(w, Z_tr, y_tr, Z_va, y_va)
    print(f"scikit-learn MLPClassifier, one at a time:   {t_sk:6.2f} s   val acc {100 * np.mean(acc_sk):.2f}%")
    t_pt, acc_pt = run_torch(w, d)
    print(f"plain PyTorch, one at a time:                {t_pt:6.2f} s   val acc {100 * np.mean(acc_pt):.2f}%")
    t_st, acc_st = run_stack(w, d)
    print(f"justenough stacks, 1 process x 1 thread:     {t_st:6.2f} s   val acc {100 * np.mean(acc_st):.2f}%")
    t_2p, acc_2p = run_stack_2proc(w)
    print(f"justenough stacks, 2 processes x 1 thread:   {t_2p:6.2f} s   val acc {100 * np.mean(acc_2p):.2f}%  (headline)")
    flops = useful_flops(w, d)
    gflops = flops / t_st / 1e9
    print(f"speed-up, single process: {t_sk / t_st:.1f}x vs scikit-learn, {t_pt / t_st:.1f}x vs PyTorch")
    print(f"speed-up, 2 processes:    {t_sk / t_2p:.1f}x vs scikit-learn, {t_pt / t_2p:.1f}x vs PyTorch")
    print(f"useful FLOP/s (1 process): {gflops:.1f} GFLOP/s = {100 * gflops / peak:.0f}% of the measured 1-thread float32 matmul peak {peak:.1f} GFLOP/s")
    print("note: the machine is shared; timings are noisy")
    print(json.dumps({
        "speedup_vs_sklearn": round(t_sk / t_2p, 2),
        "speedup_vs_torch": round(t_pt / t_2p, 2),
        "speedup_vs_sklearn_1proc": round(t_sk / t_st, 2),
        "speedup_vs_torch_1proc": round(t_pt / t_st, 2),
        "acc_gap_points": round(100 * (np.mean(acc_st) - np.mean(acc_sk)), 2),
        "gflops": round(gflops, 2),
        "peak_gflops": round(peak, 2),
        "seconds": {"sklearn": round(t_sk, 2), "torch": round(t_pt, 2), "stack_1proc": round(t_st, 2), "stack_2proc": round(t_2p, 2)},
    }))


if __name__ == "__main__":
    main()
