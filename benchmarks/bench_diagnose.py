"""What the diagnostics cost: the digits workload trained with and without the recorder, side by side.

The workload (DESIGN.md's "digits workload"): 5 architectures x 8 seeds x 30 epochs, one stack
per architecture, Adam at lr 1e-3, batch 64, no early stopping. The recorder runs at epoch 0 and
after every epoch (k=1), exactly as ``executors/task.py`` calls it (validation rows, no targets: the
gradients and update norms come from the trainer's state). Each side runs ``--repeats`` times,
alternating, and the best time of each side is compared. The target: extra time under 20%.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_diagnose.py [--repeats 3] [--every 1] [--smoke]

The last line is one JSON object: ``cpu_ratio`` and ``wall_ratio`` (with diagnostics over
without) and the best seconds of each side. ``--smoke`` checks that the script still runs (the
test suite runs it): one architecture (8,), 2 seeds, 3 epochs, one repeat; its numbers mean nothing.

Not a test: the numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from justenough.data import load, prepare  # noqa: E402
from justenough.diagnose import DiagnosticsRecorder  # noqa: E402
from justenough.nets.stack import MemberSpec, MLPStack  # noqa: E402
from justenough.train.seeds import restart_seed  # noqa: E402
from justenough.train import TrainSettings, train  # noqa: E402

ARCHITECTURES: tuple[tuple[int, ...], ...] = ((32,), (64,), (64, 64), (128, 128), (64, 64, 64))
SEEDS = 8
EPOCHS = 30
# --smoke: the same code on a workload of a fraction of a second.
SMOKE_ARCHITECTURES: tuple[tuple[int, ...], ...] = ((8,),)
SMOKE_SEEDS = 2
SMOKE_EPOCHS = 3


def run(prepared: object, every: int | None, architectures: tuple[tuple[int, ...], ...] = ARCHITECTURES,
        seeds: int = SEEDS, epochs: int = EPOCHS) -> tuple[float, float, float]:
    """Wall seconds and CPU seconds of the whole workload, and wall seconds inside the recorder.

    CPU time (this process only) is the fairer measure on a shared machine: another process
    taking the core inflates wall time but not CPU time.
    """
    total, cpu, inside = 0.0, 0.0, 0.0
    for widths in architectures:
        members = [MemberSpec(widths=widths, init="he_normal", seed=restart_seed(0, k)) for k in range(seeds)]
        stack = MLPStack(prepared.n_features, prepared.n_outputs, members, activation="relu")  # type: ignore[attr-defined]
        recorder = DiagnosticsRecorder(prepared.X_val, every=every) if every else None  # type: ignore[attr-defined]
        settings = TrainSettings(max_epochs=epochs, patience=None, batch_size=64, callback_every=every or 0)
        t0, c0 = time.perf_counter(), time.process_time()
        train(stack, prepared, settings, callback=recorder)
        total += time.perf_counter() - t0
        cpu += time.process_time() - c0
        inside += recorder.seconds if recorder is not None else 0.0
    return total, cpu, inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--every", type=int, default=1, help="record every k epochs")
    parser.add_argument("--smoke", action="store_true",
                        help="a fraction of a second: one architecture (8,), 2 seeds, 3 epochs, 1 repeat (a check that it runs)")
    args = parser.parse_args()
    workload = (ARCHITECTURES, SEEDS, EPOCHS)
    if args.smoke:
        workload, args.repeats = (SMOKE_ARCHITECTURES, SMOKE_SEEDS, SMOKE_EPOCHS), 1
    architectures, seeds, epochs = workload
    torch.set_num_threads(1)
    prepared = prepare(load("digits"), seed=0)
    run(prepared, None, *workload)  # warm-up: allocator, kernels, imports
    plain: list[tuple[float, float, float]] = []
    diag: list[tuple[float, float, float]] = []
    for _ in range(args.repeats):
        plain.append(run(prepared, None, *workload))
        diag.append(run(prepared, args.every, *workload))
    wall_plain, wall_diag = min(p[0] for p in plain), min(d[0] for d in diag)
    cpu_plain, cpu_diag = min(p[1] for p in plain), min(d[1] for d in diag)
    print(f"workload: {len(architectures)} architectures x {seeds} seeds x {epochs} epochs on digits, 1 thread, best of {args.repeats}")
    print(f"{'':32s}{'wall s':>10s}{'cpu s':>10s}")
    print(f"{'without diagnostics':32s}{wall_plain:10.2f}{cpu_plain:10.2f}")
    print(f"{f'with diagnostics every {args.every}':32s}{wall_diag:10.2f}{cpu_diag:10.2f}")
    print(f"{'inside the recorder':32s}{min(d[2] for d in diag):10.2f}")
    print(f"ratio (cpu): {cpu_diag / cpu_plain:.3f}, extra {100 * (cpu_diag / cpu_plain - 1):.1f}% (target: under 20%)")
    print(f"ratio (wall): {wall_diag / wall_plain:.3f}, extra {100 * (wall_diag / wall_plain - 1):.1f}%")
    print(json.dumps({"cpu_ratio": round(cpu_diag / cpu_plain, 3), "wall_ratio": round(wall_diag / wall_plain, 3),
                      "cpu_seconds": {"plain": round(cpu_plain, 3), "diagnostics": round(cpu_diag, 3)},
                      "wall_seconds": {"plain": round(wall_plain, 3), "diagnostics": round(wall_diag, 3)}}))


if __name__ == "__main__":
    main()
