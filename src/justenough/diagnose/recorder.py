"""The trainer's hook: ``DiagnosticsRecorder`` records the diagnostics at epoch 0 and every
``every`` epochs; ``diagnostics_bytes`` is what that costs in memory."""

from __future__ import annotations

import time
from typing import Any, Sequence

import pandas as pd
import torch

from justenough.diagnose.layers import stack_activation, stack_layers
from justenough.diagnose.measures import COLUMNS, check_batch, measure, member_inputs, member_records
from justenough.diagnose.symmetry import BLOCK_ELEMENTS, DEFAULT_RTOL, MAX_UNITS
from justenough.errors import ConfigError
from justenough.vocab import Task

__all__ = ["MAX_ROWS", "DiagnosticsRecorder", "diagnostics_bytes"]

MAX_ROWS = 256  # rows of the batch used by the recorder (a fixed prefix: cheap and seed-free)


def diagnostics_bytes(sizes: Sequence[int], *, rows: int = MAX_ROWS, max_units: int = MAX_UNITS) -> int:
    """One member's peak memory, in bytes, while the recorder measures a stack of layer ``sizes``
    (``[n_in, w_1, ..., n_out]``), on top of what training holds.

    Counted: copies of the weights (the unit vectors [n, fan_in + 1], the previous weights), the
    forward pass on ``rows`` rows (pre-activations, activations and their stacked copy), and the
    largest layer's pairwise temporaries: about 40 bytes a pair (float32 cosines, float64 Gram and
    distances, the int64 labels of the components) over ``n^2`` pairs up to ``max_units`` units,
    over at most ``BLOCK_ELEMENTS`` pairs (plus the sample's float64 vectors) above it.
    """
    layers = list(zip(sizes[:-1], sizes[1:]))
    params = sum(a * b + b for a, b in layers)
    widest = max((a + 1) * b for a, b in layers)
    forward = rows * sum(sizes[1:]) * 4 * 4
    pairwise = 0
    for fan_in, n in layers:
        if n <= max_units:
            pairwise = max(pairwise, 40 * n * n)
        else:
            pairwise = max(pairwise, 40 * min(max_units * n, BLOCK_ELEMENTS) + 12 * max_units * (fan_in + 1))
    return 4 * (2 * params + widest) + forward + pairwise


class DiagnosticsRecorder:
    """A trainer callback that records diagnostics at epoch 0 and every ``every`` epochs.

    ``recorder = DiagnosticsRecorder(X_val, every=k)``; pass it as ``callback`` to ``train``
    (it returns ``[]``: it never stops a member). ``records_for(i)`` gives member i's records,
    one JSON-ready dict per (epoch, hidden layer) with the ``COLUMNS`` keys.

    X: [N, n_in] a batch of preprocessed features (the first ``max_rows`` rows are used).
    y: optional targets of X; with them each record's ``grad_norm`` comes from one backward pass
    on (X, y), at every record including epoch 0. Without them the recorder reads the gradients
    of the trainer's last step (``TrainState.grads``), and ``grad_norm`` is None at epoch 0.
    ``update_ratio`` is the trainer's last step (``TrainState.update_norms``) over the weights'
    norm; None at epoch 0. Called without a state, it compares with the previous record's weights.
    include_output: also record the output layer (as layer ``depth + 1``).
    seed, max_units: a layer of more than ``max_units`` real units has its symmetry measured on a
    sample of that many units, drawn from ``seed`` and the layer (the same units at every epoch);
    its records say so in ``symmetry_units``.
    """

    def __init__(
        self,
        X: Any,
        every: int = 1,
        *,
        y: Any = None,
        task: str = Task.CLASSIFICATION,
        rtol: float = DEFAULT_RTOL,
        max_rows: int = MAX_ROWS,
        include_output: bool = False,
        seed: int = 0,
        max_units: int = MAX_UNITS,
    ) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ConfigError(f"DiagnosticsRecorder: every must be a positive integer of epochs, got {every!r}")
        if task not in tuple(Task):
            raise ConfigError(f"DiagnosticsRecorder: task must be 'classification' or 'regression', got {task!r}")
        if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 2:
            raise ConfigError(f"DiagnosticsRecorder: max_units must be an integer of at least 2 units, got {max_units!r}")
        X = X if isinstance(X, torch.Tensor) else torch.as_tensor(X, dtype=torch.float32)
        self.X = X[:max_rows]
        self.y = None if y is None else torch.as_tensor(y)[:max_rows]
        self.every = every
        self.task = task
        self.rtol = rtol
        self.include_output = include_output
        self.seed = int(seed)
        self.max_units = max_units
        self.epochs: list[int] = []
        self._values: list[tuple[int, torch.Tensor]] = []  # (epoch, [K, M, layers] on the CPU)
        self._records: list[list[dict[str, Any]]] | None = None  # built on first read
        self._previous: list[torch.Tensor] | None = None
        self.seconds = 0.0  # time spent measuring, for the overhead benchmark

    def __call__(self, epoch: int, stack: Any, state: Any = None) -> list[int]:
        if epoch % self.every != 0 or epoch in self.epochs:
            return []
        if getattr(stack, "depth", 1) == 0 and not self.include_output:
            return []  # no hidden layer (a linear model): no units whose symmetry or signal to follow
        t0 = time.perf_counter()
        views = stack_layers(stack)
        X = check_batch(self.X, int(getattr(stack, "n_in", views[0].weight.shape[1])), "DiagnosticsRecorder")
        # An embedded stack's layer 0 reads each member's own periodic features of X: [M, B, n_in (1 + K)].
        X = member_inputs(stack, X)
        grads = None
        if self.y is None and getattr(state, "grads", None) is not None:
            grads = [dW for dW, _ in state.grads]  # the trainer's last step: [M, fan_in, fan_out] each
        update_norms = getattr(state, "update_norms", None) if epoch > 0 else None
        values = measure(
            views,
            stack_activation(stack),
            X,
            y=self.y,
            task=self.task,
            grads=grads,
            previous=self._previous if update_norms is None and epoch > 0 else None,
            update_norms=update_norms,
            rtol=self.rtol,
            activate=getattr(stack, "activate", None),
            output_stats=self.include_output,
            seed=self.seed,
            max_units=self.max_units,
        )
        layers = len(views) if self.include_output else len(views) - 1
        # Keep the numbers; the JSON-ready dicts are built once, when first read (cheaper in bulk).
        self._values.append((int(epoch), values[:, :, :layers].cpu()))
        self._records = None
        self._previous = None if update_norms is not None else [v.weight.clone() for v in views]
        self.epochs.append(int(epoch))
        self.seconds += time.perf_counter() - t0
        return []

    def member_bytes(self, sizes: Sequence[int]) -> int:
        """Peak bytes a member of layer ``sizes`` needs while this recorder measures it (``diagnostics_bytes``)."""
        return diagnostics_bytes(sizes, rows=int(self.X.shape[0]), max_units=self.max_units)

    def _all_records(self) -> list[list[dict[str, Any]]]:
        if self._records is None:
            per_member: list[list[dict[str, Any]]] = []
            for epoch, values in self._values:
                layers = values.shape[2]
                for m, rows in enumerate(member_records(values, epoch, layers)):
                    if m == len(per_member):
                        per_member.append([])
                    per_member[m].extend(rows)
            self._records = per_member
        return self._records

    def records_for(self, member: int) -> list[dict[str, Any]]:
        """Member ``member``'s records (copies), in epoch then layer order; [] for an unknown member."""
        records = self._all_records()
        m = int(member)
        return [dict(r) for r in records[m]] if 0 <= m < len(records) else []

    def table(self) -> pd.DataFrame:
        """All records as one DataFrame with a ``member`` column."""
        rows = [{"member": m, **r} for m, recs in enumerate(self._all_records()) for r in recs]
        return pd.DataFrame(rows, columns=["member", *COLUMNS])
