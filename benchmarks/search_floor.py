"""How fast could the default search possibly be on this machine? Two floors, both generous.

Both count only the matrix products that the search cannot avoid: for every restart, for every
epoch it actually ran under the stopping rule, the forward product, the weight gradient and the
input gradient (of every layer but the first: the data needs none) over the training rows, and
the forward product over the validation rows. Activations, losses, the optimizer, Python and
process start-up are all left out, so any real implementation takes longer than either floor.

- ``peak_floor``: those FLOPs at this thread's float32 matmul peak (the best of a large square
  product), split perfectly over the workers.
- ``shape_floor``: the same products timed as ``torch.baddbmm``/``torch.bmm`` at the shapes the
  search trains (5 restarts of one architecture, batches of 64 rows), split perfectly over the
  workers. Small products run well below the peak, so this floor is the higher, truer one.

``bench_search.py`` imports ``floors``. Run on its own, it runs the default search on digits (2
workers) and prints both floors of it, the last line one JSON object:

    OMP_NUM_THREADS=1 python benchmarks/search_floor.py [--workers 2] [--smoke]

``--smoke`` checks that the script still runs (the test suite runs it): depth 1 x width 8, 5
epochs, 2 restarts, one worker; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402
import torch  # noqa: E402


def _layers(widths: list[int], n_in: int, n_out: int) -> list[tuple[int, int]]:
    sizes = [n_in, *widths, n_out]
    return list(zip(sizes[:-1], sizes[1:]))


def _widths(row: object) -> list[int]:
    """A restart row's hidden widths ("64-32"); none for the linear model (depth 0: "" or, read back by pandas, NaN)."""
    text = getattr(row, "widths")
    if not isinstance(text, str) and pd.isna(text):
        return []
    return [int(w) for w in str(text).split("-") if w]


def matmul_flops(widths: list[int], n_in: int, n_out: int, epochs: int, n_train: int, n_val: int) -> float:
    """The matrix-product FLOPs of one restart that ran ``epochs`` epochs."""
    layers = [2.0 * fi * fo for fi, fo in _layers(widths, n_in, n_out)]
    forward = sum(layers)
    per_train_row = forward + forward + (forward - layers[0])
    return epochs * (n_train * per_train_row + n_val * forward)


def _best_seconds(fn: Callable[[], object], repeats: int) -> float:
    for _ in range(max(3, repeats // 10)):  # warm the caches and the allocator
        fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeats)
    return best


def float32_matmul_peak(size: int = 768) -> float:
    """FLOP/s of a large square float32 product on this thread."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2.0 * size**3 / _best_seconds(lambda: torch.mm(a, b), repeats=10)


def _stack_products_seconds(widths: list[int], n_in: int, n_out: int, rows: int, members: int,
                            backward: bool) -> float:
    """Seconds of the products of one pass of a ``members``-stack over ``rows`` rows each."""
    sizes = _layers(widths, n_in, n_out)
    weights = [torch.randn(members, fi, fo) for fi, fo in sizes]  # [M, fan_in, fan_out]
    biases = [torch.randn(members, 1, fo) for _, fo in sizes]  # [M, 1, fan_out]
    inputs = [torch.randn(members, rows, fi) for fi, _ in sizes]  # [M, B, fan_in]
    grads = [torch.randn(members, rows, fo) for _, fo in sizes]  # [M, B, fan_out]

    def one_pass() -> None:
        for x, w, b in zip(inputs, weights, biases):
            torch.baddbmm(b, x, w)  # forward [M, B, out]
        if backward:
            for layer, (x, w, g) in enumerate(zip(inputs, weights, grads)):
                torch.bmm(x.transpose(1, 2), g)  # weight gradient [M, in, out]
                if layer > 0:
                    torch.bmm(g, w.transpose(1, 2))  # input gradient [M, B, in]

    flops = sum(2.0 * fi * fo for fi, fo in sizes) * members * rows
    return _best_seconds(one_pass, repeats=max(5, min(200, int(2e9 / max(flops, 1.0)))))


def floors(restarts: pd.DataFrame, n_in: int, n_out: int, n_train: int, n_val: int, batch_size: int,
           workers: int, members: int = 5) -> dict[str, float]:
    """Both floors (seconds of wall time on ``workers`` processes) for the restarts as they ran."""
    flops = sum(matmul_flops(_widths(r), n_in, n_out, int(r.epochs_run), n_train, n_val)
                for r in restarts.itertuples())
    peak = float32_matmul_peak()
    per_member_epoch: dict[str, float] = {}
    shaped = 0.0
    for r in restarts.itertuples():
        key = str(r.widths)
        if key not in per_member_epoch:
            widths = _widths(r)
            step = _stack_products_seconds(widths, n_in, n_out, batch_size, members, backward=True)
            val = _stack_products_seconds(widths, n_in, n_out, n_val, members, backward=False)
            per_member_epoch[key] = (step * n_train / batch_size + val) / members
        shaped += per_member_epoch[key] * int(r.epochs_run)
    return {
        "gflop": flops / 1e9,
        "peak_gflops": peak / 1e9,
        "peak_floor_seconds": flops / peak / workers,
        "shape_floor_seconds": shaped / workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="the floors of one search on digits")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: depth 1 x width 8, 5 epochs, 2 restarts, 1 worker (a check that it runs)")
    args = parser.parse_args()
    from justenough import search
    from justenough.data import load, prepare

    options: dict[str, object] = {}
    n_init = 5
    if args.smoke:
        options, n_init, args.workers = dict(depth=1, widths=[8], max_epochs=5), 2, 1
    prepared = prepare(load("digits"), seed=0)
    t0 = time.perf_counter()
    result = search(prepared, n_init=n_init, workers=args.workers, report=False, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    floor = floors(result.restarts, prepared.n_features, prepared.n_outputs, len(prepared.X_train),
                   len(prepared.X_val), batch_size=64, workers=args.workers, members=n_init)
    print(f"the search: {len(result.restarts)} restarts in {seconds:.1f} s on {args.workers} workers; "
          f"{floor['gflop']:.1f} GFLOP of matrix products: {floor['peak_floor_seconds']:.2f} s at the float32 peak "
          f"({floor['peak_gflops']:.0f} GFLOP/s per thread), {floor['shape_floor_seconds']:.2f} s at the search's shapes")
    print(json.dumps({"search_seconds": round(seconds, 2), **{k: round(v, 3) for k, v in floor.items()}}))


if __name__ == "__main__":
    main()
