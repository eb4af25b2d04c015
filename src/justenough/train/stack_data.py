"""The training and validation data on the stack's device, checked; passes over them in row chunks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch

from justenough.errors import DataError
from justenough.nets.stack import MLPStack
from justenough.train.metrics import stack_loss
from justenough.vocab import Task

__all__ = ["row_evidence", "row_shares", "OUTPUT_VALUES", "TrainData", "StackData", "EVAL_ROWS", "check_data", "evaluate_stack", "stack_outputs"]

EVAL_ROWS = 8192  # validation rows per forward pass (bounds the activation memory)


class TrainData(Protocol):
    """What ``train()`` reads from its data: the one type it takes.

    The prepared table (``data/prepared.py``'s ``Prepared``), a stack task's tensors
    (``executors/training_data.py``'s ``TensorData``), the refit's rows (``engine/refit.py``) and the
    fixed estimators' split (``estimators/fixed.py``) all have these attributes; ``check_data`` turns
    any of them into a ``StackData`` on the stack's device, checked. Tensors or arrays alike:

    - ``X_train [N, F]``, ``X_val [N_val, F]``: float features;
    - ``y_train [N]``, ``y_val [N_val]``: int64 class indices (classification), or float32 ``[N]`` or
      ``[N, n_outputs]`` targets (regression);
    - ``task``: ``"classification"`` or ``"regression"``; ``n_outputs``: classes, or target columns.

    With cross-validation folds as members, the data also has ``member_rows [M, n]`` and
    ``val_mask [M, N_val]`` (``StackData``'s fields of those names); they are read when present, so a
    plain split need not carry them.
    """

    @property
    def task(self) -> str: ...

    @property
    def n_outputs(self) -> int: ...

    @property
    def X_train(self) -> Any: ...

    @property
    def y_train(self) -> Any: ...

    @property
    def X_val(self) -> Any: ...

    @property
    def y_val(self) -> Any: ...


@dataclass
class StackData:
    task: str
    X_train: torch.Tensor  # [N, F]
    y_train: torch.Tensor  # [N] int64 or [N, C] float32
    X_val: torch.Tensor
    y_val: torch.Tensor
    # Cross-validation folds as stack members (None: every member trains on all training rows and
    # validates on all validation rows). member_rows: each member's own training rows, as indices
    # into X_train, [M, n] (as many for every member); val_mask: each member's own validation rows,
    # [M, N_val] float32 (1: the member validates on that row).
    member_rows: torch.Tensor | None = None
    val_mask: torch.Tensor | None = None


def check_data(data: TrainData, stack: MLPStack) -> StackData:
    """``data`` on the stack's device as a ``StackData``: shapes, dtypes, class indices and finite values
    checked, with a ``DataError`` that names what to fix."""
    missing = [a for a in ("X_train", "y_train", "X_val", "y_val", "task", "n_outputs") if not hasattr(data, a)]
    if missing:
        raise DataError(f"train() needs data with X_train, y_train, X_val, y_val, task, n_outputs; missing {', '.join(missing)}")
    task = str(data.task)
    if task not in tuple(Task):
        raise DataError(f"data.task must be 'classification' or 'regression', got {task!r}")
    if int(data.n_outputs) != stack.n_out:
        raise DataError(f"data.n_outputs is {data.n_outputs} but the stack has {stack.n_out} outputs: build the stack with n_out={data.n_outputs}")
    dev = stack.device
    out = {}
    for split in ("train", "val"):
        X = torch.as_tensor(getattr(data, f"X_{split}")).to(dev, torch.float32)
        y = torch.as_tensor(getattr(data, f"y_{split}")).to(dev)
        if X.ndim != 2 or X.shape[1] != stack.n_in:
            raise DataError(f"X_{split} must be [N, {stack.n_in}] (the stack's n_in), got {list(X.shape)}")
        if X.shape[0] < 1 or y.shape[0] != X.shape[0]:
            raise DataError(f"X_{split} and y_{split} must hold the same number (>= 1) of rows, got {X.shape[0]} and {y.shape[0]}")
        if not bool(torch.isfinite(X).all()):
            raise DataError(f"X_{split} holds NaN or infinite values: impute or drop them before training")
        if task == Task.CLASSIFICATION:
            if y.ndim != 1 or y.dtype.is_floating_point:
                raise DataError(f"y_{split} must be int64 class indices [N] for classification, got {y.dtype} {list(y.shape)}")
            y = y.long()
            if int(y.min()) < 0 or int(y.max()) >= stack.n_out:
                raise DataError(f"y_{split} class indices must lie in 0..{stack.n_out - 1}, got {int(y.min())}..{int(y.max())}")
        else:
            y = y.to(torch.float32)
            if y.ndim == 1:
                y = y.unsqueeze(1)  # [N, 1]
            if y.ndim != 2 or y.shape[1] != stack.n_out:
                raise DataError(f"y_{split} must be [N] or [N, {stack.n_out}] for regression, got {list(y.shape)}")
            if not bool(torch.isfinite(y).all()):
                raise DataError(f"y_{split} holds NaN or infinite values: drop those rows before training")
        out[f"X_{split}"], out[f"y_{split}"] = X, y
    rows, mask = getattr(data, "member_rows", None), getattr(data, "val_mask", None)
    if (rows is None) != (mask is None):
        raise DataError("member_rows and val_mask come together (cross-validation folds as members): give both or neither")
    if rows is not None:
        rows = torch.as_tensor(rows).to(dev, torch.long)
        mask = torch.as_tensor(mask).to(dev, torch.float32)
        n_train, n_val = out["X_train"].shape[0], out["X_val"].shape[0]
        if rows.ndim != 2 or rows.shape[0] != stack.M or rows.shape[1] < 1 or int(rows.min()) < 0 or int(rows.max()) >= n_train:
            raise DataError(f"member_rows must be [{stack.M}, n] row indices into X_train, got {list(rows.shape)}")
        if mask.shape != (stack.M, n_val) or not bool((mask.sum(1) > 0).all()):
            raise DataError(f"val_mask must be [{stack.M}, {n_val}] with at least one validation row per member, got {list(mask.shape)}")
        out["member_rows"], out["val_mask"] = rows, mask
    return StackData(task=task, **out)


@torch.no_grad()
def evaluate_stack(stack: MLPStack, X: torch.Tensor, y: torch.Tensor, task: str,
              mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss ``[M]`` and score ``[M]`` (accuracy or R^2) over all rows, in row chunks; with
    ``mask [M, N]`` (1: the row counts for that member) over each member's own rows."""
    if mask is not None:
        return _evaluate_masked(stack, X, y, task, mask)
    N = X.shape[0]
    loss_sum = torch.zeros(stack.M, dtype=torch.float64, device=X.device)
    hit = torch.zeros(stack.M, dtype=torch.float64, device=X.device)
    sse = torch.zeros(stack.M, stack.n_out, dtype=torch.float64, device=X.device)
    for s in range(0, N, EVAL_ROWS):
        xb, yb = X[s : s + EVAL_ROWS], y[s : s + EVAL_ROWS]
        out = stack(xb)  # [M, b, C]
        loss_sum += stack_loss(task, out, yb).to(torch.float64) * xb.shape[0]
        if task == Task.CLASSIFICATION:
            hit += (out.argmax(-1) == yb).sum(1).to(torch.float64)
        else:
            sse += ((out.to(torch.float64) - yb.to(torch.float64)) ** 2).sum(1)  # [M, C]
    loss = loss_sum / N
    if task == Task.CLASSIFICATION:
        return loss, hit / N
    y64 = y.to(torch.float64)
    sst = ((y64 - y64.mean(0)) ** 2).sum(0)  # [C]
    safe = torch.where(sst > 0, sst, torch.ones_like(sst))
    r2 = torch.where(sst > 0, 1.0 - sse / safe, (sse == 0).to(torch.float64))  # [M, C]
    return loss, r2.mean(1)


@torch.no_grad()
def _evaluate_masked(stack: MLPStack, X: torch.Tensor, y: torch.Tensor, task: str,
                     mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``evaluate_stack`` over each member's own rows (``mask [M, N]``): the loss and accuracy are means
    over its rows, R^2 uses its rows' own target mean. The same numbers as ``evaluate_stack`` on those
    rows alone (the member-fold oracle test checks it)."""
    w = mask.to(torch.float64)  # [M, N]
    count = w.sum(1)  # [M]
    loss_sum = torch.zeros(stack.M, dtype=torch.float64, device=X.device)
    hit = torch.zeros(stack.M, dtype=torch.float64, device=X.device)
    sse = torch.zeros(stack.M, stack.n_out, dtype=torch.float64, device=X.device)
    for s in range(0, X.shape[0], EVAL_ROWS):
        xb, yb, wb = X[s : s + EVAL_ROWS], y[s : s + EVAL_ROWS], w[:, s : s + EVAL_ROWS]
        out = stack(xb).to(torch.float64)  # [M, b, C]
        if task == Task.CLASSIFICATION:
            logp = torch.log_softmax(out, dim=-1)
            nll = -logp.gather(-1, yb.view(1, -1, 1).expand(out.shape[0], -1, 1)).squeeze(-1)  # [M, b]
            loss_sum += (nll * wb).sum(1)
            hit += ((out.argmax(-1) == yb).to(torch.float64) * wb).sum(1)
        else:
            err = (out - yb.to(torch.float64)) ** 2  # [M, b, C]
            loss_sum += (err.mean(-1) * wb).sum(1)
            sse += (err * wb.unsqueeze(-1)).sum(1)  # [M, C]
    loss = loss_sum / count
    if task == Task.CLASSIFICATION:
        return loss, hit / count
    y64 = y.to(torch.float64)  # [N, C]
    mean = (w @ y64) / count.unsqueeze(1)  # [M, C]: each member's own target mean
    sst = (w.unsqueeze(-1) * (y64.unsqueeze(0) - mean.unsqueeze(1)) ** 2).sum(1)  # [M, C]
    safe = torch.where(sst > 0, sst, torch.ones_like(sst))
    r2 = torch.where(sst > 0, 1.0 - sse / safe, (sse == 0).to(torch.float64))  # [M, C]
    return loss, r2.mean(1)


@torch.no_grad()
def stack_outputs(stack: MLPStack, X: torch.Tensor) -> torch.Tensor:
    """Outputs ``[M, N, C]`` over all rows, in row chunks."""
    return torch.cat([stack(X[s : s + EVAL_ROWS]) for s in range(0, X.shape[0], EVAL_ROWS)], dim=1)


# The outputs kept as per-row evidence, at most this many values (rows x outputs) per restart: they
# let the choice judge a config's ensemble (select/ensemble_noise.py) and cost 4 bytes each.
OUTPUT_VALUES = 200_000


@torch.no_grad()
def row_evidence(stack: MLPStack, X: torch.Tensor, y: torch.Tensor, task: str,
                 keep_outputs: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Each validation row's share of each member's score, its loss and the member's output there:
    ``(shares [M, N], losses [M, N], outputs [M, N, C] or None)``, float32, in row chunks, with the
    weights the stack holds now (``row_shares`` reads the outputs). The outputs (logits, or the
    standardized targets predicted) are kept when ``keep_outputs`` and N x C is at most
    ``OUTPUT_VALUES``; ``select/noise.py`` reads the shares as the evidence of the noise model, and
    ``select/ensemble_noise.py`` the outputs, averaged over a config's restarts."""
    N = X.shape[0]
    y = y.reshape(N, -1)  # [N, 1] labels, or [N, C] targets: cut in row chunks below
    scale = None if task == Task.CLASSIFICATION else _target_variance(y)  # [C], over all N rows
    keep = keep_outputs and N * int(stack.n_out) <= OUTPUT_VALUES
    shares, losses, outputs = [], [], []
    for s in range(0, N, EVAL_ROWS):
        out = stack(X[s : s + EVAL_ROWS])  # [M, b, C]
        share, loss = row_shares(out, y[s : s + EVAL_ROWS], task, variance=scale)
        shares.append(share)
        losses.append(loss)
        if keep:
            outputs.append(out.float())
    return torch.cat(shares, dim=1), torch.cat(losses, dim=1), torch.cat(outputs, dim=1) if keep else None


def _target_variance(y: torch.Tensor) -> torch.Tensor:
    """The variance of each target column ``[C]`` over the rows of ``y [N, C]`` (float64)."""
    y64 = y.to(torch.float64)
    return ((y64 - y64.mean(0)) ** 2).mean(0)


def row_shares(outs: torch.Tensor, y: torch.Tensor, task: str,
               variance: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's share of the score of each of ``outs [M, N, C]`` (members' outputs, or ensembles'
    from ``nets.ensemble.mean_prediction``) and its loss: ``(shares [M, N], losses [M, N])`` float32.

    A share is the row's 0/1 correctness (classification: their mean over rows is the accuracy),
    or ``1 - mean_c(e_c / v_c)`` (regression: ``e`` the squared error, ``v`` the N targets' variance
    per output, so their mean is R^2; a constant target column: 1 where exact, else 0, as R^2 is
    then defined; ``variance [C]``: ``v`` when ``y`` is a chunk of the rows). The loss is the row's
    log-loss, or its squared error averaged over the outputs.
    """
    out = outs.to(torch.float64)
    N = out.shape[1]
    if task == Task.CLASSIFICATION:
        yc = y.reshape(-1).to(device=out.device, dtype=torch.long)  # [N]
        shares = (out.argmax(-1) == yc).to(torch.float32)  # [M, N]
        logp = torch.log_softmax(out, dim=-1)  # [M, N, C]
        losses = -logp.gather(-1, yc.view(1, -1, 1).expand(out.shape[0], -1, 1)).squeeze(-1).float()
        return shares, losses
    y64 = y.reshape(N, -1).to(device=out.device, dtype=torch.float64)  # [N, C]
    var = _target_variance(y64) if variance is None else variance.to(out.device)  # [C]
    err = (out - y64) ** 2  # [M, N, C]
    safe = torch.where(var > 0, var, torch.ones_like(var))
    share = torch.where(var > 0, 1.0 - err / safe, (err == 0).to(torch.float64))
    return share.mean(-1).float(), err.mean(-1).float()
