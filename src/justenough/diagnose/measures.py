"""Symmetry and signal diagnostics for every model of a stack, vectorized over members.

Why these numbers: units of a layer that start identical receive identical gradients and stay
identical, so a layer of 64 units is then worth one (its *effective width* is 1). Random initial
weights break that symmetry. Their scale decides whether the signal survives the depth: too
small and activations and gradients vanish layer by layer, too large and they saturate or
explode. The diagnostics below make both visible, per member and per layer:

- ``effective_width``: the number of distinct units. Two units are the same when their incoming
  vectors ``[w; b]`` are equal within a relative tolerance (``||v_i - v_j|| <= rtol * max(||v_i||,
  ||v_j||)``); the count is the number of connected components of that "same" relation.
- ``max_cosine``, ``mean_cosine``: the largest and the mean pairwise cosine similarity of the
  units' incoming vectors ``[w; b]`` (two all-zero units count as cosine 1: they are duplicates).
- ``dead_fraction``: the fraction of units that are zero (relu) or saturated (tanh ``|a| > 0.99``,
  sigmoid ``|2a - 1| > 0.99``) on every sample of the batch. For gelu, leaky_relu and selu a unit
  is dead when its pre-activation is ``<= 0`` on every sample (the flat side); identity units are
  never dead.
- ``preact_mean``, ``preact_std``, ``act_mean``, ``act_std``: the forward signal on the batch.
- ``grad_norm``: the Frobenius norm of the loss gradient with respect to the layer's weights
  (bias excluded). ``grad_ratio`` is the first hidden layer's over the output layer's; below
  ``1e-3`` the member is flagged ``vanishing``, above ``1e3`` ``exploding``.
- ``update_ratio``: ``||dW|| / ||W||`` for the weights of the layer, where ``dW`` is the last
  optimizer step of the epoch (the trainer's ``TrainState.update_norms``); ``diagnose`` gives it
  when passed ``previous``, the weights before an update. None at epoch 0.

The symmetry measures (effective width, cosines, and how wide layers are sampled) live in
``justenough.diagnose.symmetry``. ``diagnose(stack, X, y)`` returns a DataFrame (one row per
member and layer) from one batch (one backward pass when ``y`` is given).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import pandas as pd
import torch
import torch.nn.functional as F

from justenough.diagnose.layers import LayerView, activation_fn, stack_activation, stack_layers
from justenough.diagnose.symmetry import DEFAULT_RTOL, MAX_UNITS, layer_symmetry, unit_vectors
from justenough.errors import ConfigError, DataError
from justenough.vocab import Activation, Task

__all__ = ["COLUMNS", "VANISHING", "EXPLODING", "diagnose", "dead_fractions", "check_batch", "measure", "member_inputs", "member_records"]

VANISHING = 1e-3  # grad_ratio below this: the gradient vanishes on its way to the first layer
EXPLODING = 1e3  # grad_ratio above this: it explodes
SATURATION = 0.99  # |a| above this (tanh; |2a - 1| for sigmoid) is saturated

# The per-layer keys of a record, in order (JSON-ready floats, None where not available).
COLUMNS: tuple[str, ...] = (
    "epoch",
    "layer",
    "effective_width",
    "dead_fraction",
    "act_mean",
    "act_std",
    "preact_mean",
    "preact_std",
    "grad_norm",
    "update_ratio",
    "max_cosine",
    "mean_cosine",
    "grad_ratio",
    "vanishing",
    "exploding",
    "symmetry_units",
)
_VALUES: tuple[str, ...] = COLUMNS[2:]  # the measured values, in the order of measure's first axis


# ----------------------------------------------------------------------------------------------
# Forward signal and dead units
# ----------------------------------------------------------------------------------------------


def dead_fractions(pre: torch.Tensor, act: torch.Tensor, activation: str, mask: torch.Tensor) -> torch.Tensor:
    """Fraction of real units dead on every sample: float [M].

    pre, act: [M, B, n] pre-activations and activations; mask: bool [M, n].
    """
    # One reduction over the batch per unit (cheaper than an elementwise test and all()).
    if activation == Activation.RELU:
        dead = act.amax(dim=1) == 0  # [M, n]: zero on every sample (relu >= 0)
    elif activation == Activation.TANH:
        dead = act.abs().amin(dim=1) > SATURATION
    elif activation == Activation.SIGMOID:
        dead = (2 * act - 1).abs().amin(dim=1) > SATURATION
    elif activation in (Activation.GELU, Activation.LEAKY_RELU, Activation.SELU):
        dead = pre.amax(dim=1) <= 0
    else:
        dead = torch.zeros(act.shape[0], act.shape[2], dtype=torch.bool, device=act.device)
    unit_dead = dead & mask  # [M, n]
    return unit_dead.sum(dim=1).double() / mask.sum(dim=1).clamp_min(1).double()


def _masked_mean_std(t: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) std over samples and real units: t [..., M, B, n], mask [M, n] -> [..., M] twice.

    Two passes per unit in t's dtype (well conditioned), then the pooled variance over real units
    in float64: var = mean_u(within_u + (mean_u - mean)^2). (torch.var_mean over the sample
    dimension was 3x slower on the CPU.)
    """
    unit_mean = t.mean(dim=-2)  # [..., M, n]
    within = (t - unit_mean.unsqueeze(-2)).square_().mean(dim=-2)  # [..., M, n]
    m = mask.to(torch.float64)  # [M, n]
    units = m.sum(dim=1).clamp_min(1)  # [M]
    um = unit_mean.double()
    mean = (um * m).sum(dim=-1) / units  # [..., M]
    var = ((within.double() + (um - mean.unsqueeze(-1)).square()) * m).sum(dim=-1) / units
    return mean, var.sqrt()


def _forward(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    masks: Sequence[torch.Tensor],
    X: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    *,
    last_is_output: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Pre-activations and activations of every layer: lists of [M, B, n_l] (output: act = pre).

    The same computation as ``MLPStack.forward``: padded units are exactly zero.
    ``last_is_output=False``: the layers given are all hidden ones (the activation applies).
    X: [B, n_in] shared by every member, or [M, B, fan_in] each member's own (``member_inputs``).
    """
    M = weights[0].shape[0]
    h = X if X.dim() == 3 else X.unsqueeze(0).expand(M, *X.shape)  # [M, B, fan_in], no copy
    pres, acts = [], []
    last = len(weights) - 1 if last_is_output else -1
    for i, (w, b, m) in enumerate(zip(weights, biases, masks)):
        z = torch.baddbmm(b.unsqueeze(1), h, w)  # [M, B, fan_out]
        h = z if i == last else act(z) * m.unsqueeze(1).to(z.dtype)
        pres.append(z)
        acts.append(h)
    return pres, acts


def _loss(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    """Sum over members of each member's mean loss (so each member's gradient is its own)."""
    M, B, K = out.shape
    if task == Task.CLASSIFICATION:
        per = F.cross_entropy(out.reshape(M * B, K), y.long().repeat(M), reduction="none").view(M, B)
    else:
        target = y.to(out.dtype).view(1, B, -1).expand(M, B, out.shape[2])
        per = ((out - target) ** 2).mean(dim=2)
    return per.mean(dim=1).sum()


# ----------------------------------------------------------------------------------------------
# All diagnostics of a stack on one batch
# ----------------------------------------------------------------------------------------------


def _signal(
    views: Sequence[LayerView],
    X: torch.Tensor,
    act: Callable[[torch.Tensor], torch.Tensor],
    *,
    y: torch.Tensor | None,
    task: str,
    grads: Sequence[torch.Tensor] | None,
    output_stats: bool,
) -> tuple[list[torch.Tensor], list[torch.Tensor], Sequence[torch.Tensor] | None]:
    """Pre-activations and activations of every layer on ``X`` (lists of [M, B, n_l]) and the
    weight gradients: from one backward pass on (X, y) when ``y`` is given, else ``grads`` as passed."""
    L = len(views)
    dev = views[0].weight.device
    masks = [v.mask for v in views]
    if y is not None:
        # One backward pass on (X, y), on detached copies: the trainer's state is untouched.
        ws = [v.weight.clone().requires_grad_(True) for v in views]
        bs = [v.bias.clone() for v in views]
        with torch.enable_grad():
            pres, acts = _forward(ws, bs, masks, X, act)
            loss = _loss(acts[-1], y.to(dev), task)
            grads = list(torch.autograd.grad(loss, ws, allow_unused=True))
        pres = [p.detach() for p in pres]
        acts = [a.detach() for a in acts]
    else:
        # Without targets the output layer's outputs are needed only for its own statistics.
        upto = L if output_stats else L - 1
        with torch.no_grad():
            pres, acts = _forward([v.weight for v in views[:upto]], [v.bias for v in views[:upto]], masks[:upto], X, act, last_is_output=output_stats)
    return pres, acts, grads


def _gradient_flags(grad_norms: list[torch.Tensor], nan: torch.Tensor) -> dict[str, torch.Tensor]:
    """``grad_ratio``, ``vanishing`` and ``exploding`` per member ([M] each) from the gradient
    norms of every layer (L tensors [M]; the last is the output layer)."""
    L = len(grad_norms)
    grad = torch.stack(grad_norms, dim=1)  # [M, L]
    ratio = grad[:, 0] / grad[:, L - 1]  # [M]: first hidden layer over output layer
    known = torch.isfinite(ratio)
    return {
        "grad_ratio": ratio,
        "vanishing": torch.where(known, (ratio < VANISHING).double(), nan),
        "exploding": torch.where(known, (ratio > EXPLODING).double(), nan),
    }


def measure(
    views: Sequence[LayerView],
    activation: str,
    X: torch.Tensor,
    *,
    y: torch.Tensor | None,
    task: str,
    grads: Sequence[torch.Tensor] | None,
    previous: Sequence[torch.Tensor] | None,
    update_norms: Sequence[torch.Tensor] | None,
    rtol: float,
    activate: Callable[[torch.Tensor], torch.Tensor] | None = None,
    output_stats: bool = True,
    seed: int = 0,
    max_units: int = MAX_UNITS,
) -> torch.Tensor:
    """Every diagnostic as one float64 tensor [K, M, L] (K = ``_VALUES``, NaN where not available),
    L = layers including the output layer. X: [B, n_in] shared, or [M, B, fan_in] per member
    (``member_inputs``: an embedded stack's periodic features).

    ``output_stats=False`` measures only the output layer's gradient norm (the gradient ratio
    needs it) and leaves its other entries NaN: the recorder does not keep them by default.

    grads: dW per layer [M, fan_in, fan_out] (used when ``y`` is None); previous: the weights
    before the update per layer; update_norms: ``||dW||`` per layer [M] (wins over ``previous``).
    seed, max_units: layers wider than ``max_units`` are measured on a sample drawn from ``seed``.
    """
    M = views[0].weight.shape[0]
    L = len(views)
    dev = views[0].weight.device
    act = activate or activation_fn(activation)
    X = X.to(device=dev, dtype=views[0].weight.dtype)
    pres, acts, grads = _signal(views, X, act, y=y, task=task, grads=grads, output_stats=output_stats)

    nan = torch.full((M,), math.nan, dtype=torch.float64, device=dev)
    cols: dict[str, list[torch.Tensor]] = {k: [] for k in _VALUES}  # per key: L tensors [M]
    with torch.no_grad():
        for l, view in enumerate(views):
            if l == L - 1 and not output_stats:
                for key in _VALUES:
                    cols[key].append(nan)
                g = grads[l] if grads is not None else None
                cols["grad_norm"][-1] = _norm(g.detach()) if g is not None else nan
                continue
            vec = unit_vectors(view)  # [M, n, fan_in + 1]
            widths, cmax, cmean, sampled = layer_symmetry(vec, view.mask, rtol, max_units=max_units, seed=seed, layer=l + 1)
            cols["effective_width"].append(widths.double())
            cols["symmetry_units"].append(sampled)
            cols["max_cosine"].append(cmax)
            cols["mean_cosine"].append(cmean)
            # Pre-activations and activations in one pass of the same ops: [2, M, B, n].
            mean, std = _masked_mean_std(torch.stack([pres[l], acts[l]]), view.mask)  # [2, M] each
            for i, key in enumerate(("preact", "act")):
                cols[f"{key}_mean"].append(mean[i])
                cols[f"{key}_std"].append(std[i])
            hidden = l < L - 1
            cols["dead_fraction"].append(dead_fractions(pres[l], acts[l], activation, view.mask) if hidden else nan)
            # Padded weights are exactly zero and get exactly zero gradient: plain norms are the
            # norms over the real weights.
            g = grads[l] if grads is not None else None
            cols["grad_norm"].append(_norm(g.detach()) if g is not None else nan)
            wn = _norm(view.weight)  # [M]
            if update_norms is not None:
                cols["update_ratio"].append(update_norms[l].to(dev).double() / wn)  # inf/NaN where ||W|| = 0
            elif previous is not None:
                cols["update_ratio"].append(_norm(view.weight - previous[l].to(dev)) / wn)
            else:
                cols["update_ratio"].append(nan)
        for k, v in _gradient_flags(cols["grad_norm"], nan).items():
            cols[k] = [v] * L
        return torch.stack([torch.stack(cols[k], dim=1) for k in _VALUES])  # [K, M, L]


def _norm(t: torch.Tensor) -> torch.Tensor:
    """Frobenius norm per member, accumulated in float64: [M, ...] -> [M]."""
    return torch.linalg.vector_norm(t.flatten(1), dim=1, dtype=torch.float64)


def member_records(values: torch.Tensor, epoch: int, layers: int) -> list[list[dict[str, Any]]]:
    """Records per member from ``measure``'s [K, M, L]: one JSON-ready dict per layer (from layer 1)."""
    table = values[:, :, :layers].permute(1, 2, 0).cpu().tolist()  # [M][layers][K]
    ints = {i for i, k in enumerate(_VALUES) if k in ("effective_width", "symmetry_units")}
    flags = {i for i, k in enumerate(_VALUES) if k in ("vanishing", "exploding")}
    out = []
    for member in table:
        rows = []
        for l, vals in enumerate(member):
            row: dict[str, Any] = {"epoch": int(epoch), "layer": l + 1}
            for i, (k, x) in enumerate(zip(_VALUES, vals)):
                if not math.isfinite(x):
                    row[k] = None
                elif i in ints:
                    row[k] = int(x)
                elif i in flags:
                    row[k] = bool(x)
                else:
                    row[k] = x
            rows.append(row)
        out.append(rows)
    return out


def member_inputs(stack: Any, X: torch.Tensor) -> torch.Tensor:
    """``X`` [B, n_in] as the members' layer 0 reads it: ``X`` itself, shared; or, for a stack with
    a periodic embedding (``MLPStack.first_layer_input``), each member's own raw and periodic
    features, [M, B, n_in (1 + K)], computed without gradient (the diagnostics measure the layers,
    not the embedding)."""
    if not len(getattr(stack, "embedding", ())):
        return X
    with torch.no_grad():
        shared = X.to(device=stack.embedding[0].device, dtype=stack.embedding[0].dtype)
        return stack.first_layer_input(shared.unsqueeze(0).expand(stack.M, *shared.shape))


def check_batch(X: Any, n_in: int, where: str) -> torch.Tensor:
    if not isinstance(X, torch.Tensor):
        try:
            X = torch.as_tensor(X, dtype=torch.float32)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where}: X must be a 2-D array of numbers [N, {n_in}]: {exc}") from None
    if X.dim() != 2 or X.shape[1] != n_in or X.shape[0] == 0:
        raise DataError(
            f"{where}: X must have shape [N, {n_in}] with N >= 1 (the stack's input width), got {tuple(X.shape)}; "
            "pass preprocessed features (Prepared.X_val)"
        )
    return X


def diagnose(
    stack: Any,
    X: Any,
    y: Any = None,
    task: str = Task.CLASSIFICATION,
    *,
    rtol: float = DEFAULT_RTOL,
    epoch: int = 0,
    previous: Sequence[torch.Tensor] | None = None,
    include_output: bool = True,
    seed: int = 0,
    max_units: int = MAX_UNITS,
) -> pd.DataFrame:
    """Every diagnostic of every member and layer of ``stack`` on the batch ``X``.

    X: [N, n_in] preprocessed features. With ``y`` (class indices [N] for classification, targets
    [N] or [N, n_out] for regression) one backward pass gives the gradient norms; without it they
    are None. ``previous`` (the weights of each layer before an update, [M, fan_in, fan_out] each)
    gives the update ratios. Returns one row per member and layer: ``member``, ``layer`` (1-based;
    the output layer is ``depth + 1``), ``kind`` ("hidden" or "output"), ``width`` (real units)
    and the ``COLUMNS``. Layers wider than ``max_units`` have their symmetry measured on a sample
    of that many units drawn from ``seed`` (``symmetry_units`` says how many; None: all).
    """
    if task not in tuple(Task):
        raise ConfigError(f"diagnose: task must be 'classification' or 'regression', got {task!r}")
    views = stack_layers(stack)
    X = check_batch(X, int(getattr(stack, "n_in", views[0].weight.shape[1])), "diagnose")
    yt = None
    if y is not None:
        yt = torch.as_tensor(y)
        if yt.shape[0] != X.shape[0]:
            raise DataError(f"diagnose: y has {yt.shape[0]} rows but X has {X.shape[0]}; pass matching rows")
    values = measure(
        views, stack_activation(stack), member_inputs(stack, X), y=yt, task=task, grads=None, previous=previous, update_norms=None, rtol=rtol,
        activate=getattr(stack, "activate", None), seed=seed, max_units=max_units,
    )
    L = len(views) if include_output else len(views) - 1
    rows = []
    for m, member_rows in enumerate(member_records(values, epoch, L)):
        for l, row in enumerate(member_rows):
            row = {"member": m, **row}
            row["kind"] = "output" if l == len(views) - 1 else "hidden"
            row["width"] = int(views[l].mask[m].sum())
            rows.append(row)
    front = ["member", "epoch", "layer", "kind", "width"]
    return pd.DataFrame(rows, columns=front + [c for c in COLUMNS if c not in front])
