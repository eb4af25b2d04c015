"""The training step: the stack's forward pass and a hand-written backward pass, no autograd."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from justenough.nets.activations import ACTIVATIONS
from justenough.nets.periodic import periodic_backward, periodic_forward
from justenough.nets.stack import MLPStack
from justenough.vocab import Precision, Task

# bfloat16 matmuls pay for layers at least this big (fan_in x fan_out); smaller ones are bound by
# per-op overhead, which the casts add to (measured: break-even near 64 x 64 on a 2-core CPU).
_LOW_PRECISION_MIN = 64 * 64


class Step:
    """Loss and gradients of one training step, without autograd.

    The forward pass is the stack's (``baddbmm``, activation, unit mask per layer); the backward
    pass is written out: ``dW = h^T dz`` and ``db = sum_B dz`` per layer, written straight into
    the flat gradient buffer, ``dh = dz W^T``, then the activation's derivative. The losses and
    their derivatives are the per-member means of cross-entropy (``(softmax - onehot) / B``) or
    squared error (``2 (out - y) / (B C)``). Every op is batched over members, so member i's
    numbers never depend on its stack-mates. A periodic embedding (``nets/periodic.py``) runs
    before layer 0, and its gradients follow from layer 0's input gradient ``dh0 = dz0 W0^T``.


    ``label_smoothing=eps`` (classification): the target is ``q = (1 - eps) onehot + eps / C``,
    the loss ``-sum_c q_c log p_c = (1 - eps) (-log p_target) + eps (-mean_c log p_c)`` (as
    ``F.cross_entropy(label_smoothing=eps)``) and its derivative ``(softmax - q) / B``.
    """

    def __init__(self, stack: MLPStack, task: str, grad_views: Sequence[torch.Tensor], precision: str = "float32",
                 label_smoothing: float = 0.0) -> None:
        L = stack.depth + 1
        self.task = task
        self.eps = float(label_smoothing)
        # Layers whose matmuls run in bfloat16 (mixed precision), by size; see TrainSettings.
        sizes = stack.sizes
        self.low = [precision == Precision.BFLOAT16 and sizes[l] * sizes[l + 1] >= _LOW_PRECISION_MIN for l in range(L)]
        self.W = list(stack.weights)  # [M, in, out] each (avoids ParameterList lookups per step)
        self.b = [bias.unsqueeze(1) for bias in stack.biases]  # [M, 1, out] each (views)
        self.masks = [stack.unit_mask(l).unsqueeze(1) for l in range(stack.depth)] if stack.padded else None  # [M, 1, w]
        self.act = stack.activate
        self.act_backward = ACTIVATIONS[stack.activation].backward  # the same ATen kernels autograd calls
        self.gW, self.gb = list(grad_views[:L]), list(grad_views[L : 2 * L])
        # The periodic embedding's (frequencies, phases) [M, F, K] and their gradients, if any.
        self.emb = list(stack.embedding)
        self.gemb = list(grad_views[2 * L :])
        self._neg_inv: dict[int, torch.Tensor] = {}
        self.softmax_transposed = stack.device.type == "cpu" and stack.n_out < 16

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """``xb`` ``[M, B, F]``, ``yb`` ``[M, B]`` or ``[M, B, C]``: losses ``[M]``; fills the gradients.

        Call it under ``torch.no_grad()`` (the training loop does, once per epoch rather than per step).
        """
        W, b, masks, low = self.W, self.b, self.masks, self.low
        depth = len(W) - 1
        # bfloat16 copies of the weights and layer inputs of the low-precision layers (this step's).
        W16 = [w.to(torch.bfloat16) if lo else None for w, lo in zip(W, low)]
        ins: list[torch.Tensor] = []  # each layer's input (bfloat16 for low-precision layers)
        zs: list[torch.Tensor] = []
        acts: list[torch.Tensor] = []
        u = None
        if self.emb:
            h, u = periodic_forward(xb, self.emb[0], self.emb[1])  # [M, B, F + F K], u [M, B, F, K]
        else:
            h = xb
        for l in range(depth + 1):
            if low[l]:
                h = h.to(torch.bfloat16)
                z = torch.bmm(h, W16[l]).float().add_(b[l])  # type: ignore[arg-type]  # [M, B, width_l], float32
            else:
                z = torch.baddbmm(b[l], h, W[l])  # [M, B, width_l]
            ins.append(h)
            if l == depth:
                break
            a = self.act(z)
            h = a * masks[l] if masks is not None else a  # padded units exactly 0
            zs.append(z)
            acts.append(a)
        out = z  # [M, B, C]
        M, B, C = out.shape
        if self.task == Task.CLASSIFICATION:
            if self.softmax_transposed:
                # The same numbers over a [M, C, B] view: on the CPU, torch's log_softmax over a
                # last dimension shorter than 16 is up to 10x slower than over a strided one.
                logp = torch.log_softmax(out.transpose(1, 2), dim=1).transpose(1, 2)  # [M, B, C]
            else:
                logp = torch.log_softmax(out, dim=2)  # [M, B, C]
            t = yb.unsqueeze(2)  # [M, B, 1]
            losses = logp.gather(2, t).squeeze(2).mean(1).neg_()  # [M]: mean of -log p(target)
            if self.eps:
                # (1 - eps) * nll + eps * mean over the batch of -mean_c log p_c   [M]
                losses = losses.mul_(1.0 - self.eps).sub_(logp.mean(2).mean(1), alpha=self.eps)
                g = logp.exp_().mul_(1.0 / B).sub_(self.eps / (C * B))  # (softmax - eps / C) / B
                g.scatter_add_(2, t, self._neg(M, B, out, -(1.0 - self.eps) / B))  # (softmax - q) / B
            else:
                g = logp.exp_().mul_(1.0 / B)  # softmax / B
                g.scatter_add_(2, t, self._neg(M, B, out, -1.0 / B))  # (softmax - onehot) / B
        else:
            diff = out - yb  # [M, B, C]
            losses = diff.square().mean((1, 2))  # [M]
            g = diff.mul_(2.0 / (B * C))
        for l in range(depth, -1, -1):
            if low[l]:
                g16 = g.to(torch.bfloat16)
                self.gW[l].copy_(torch.bmm(ins[l].transpose(1, 2), g16))  # dW = h^T dz  [M, in, out]
            else:
                torch.bmm(ins[l].transpose(1, 2), g, out=self.gW[l])  # dW = h^T dz  [M, in, out]
            torch.sum(g, 1, out=self.gb[l])  # db  [M, out]
            if l == 0:
                if u is not None:  # on through the embedding: dh0 = dz0 W0^T, then the cosines
                    dh0 = torch.bmm(g, W[0].transpose(1, 2))  # [M, B, F + F K]
                    periodic_backward(dh0, xb, u, self.gemb[0], self.gemb[1])
                break
            if low[l]:
                dh = torch.bmm(g16, W16[l].transpose(1, 2)).float()  # type: ignore[union-attr]  # [M, B, in]
            else:
                dh = torch.bmm(g, W[l].transpose(1, 2))  # [M, B, in]
            if masks is not None:
                dh.mul_(masks[l - 1])
            g = self.act_backward(dh, zs[l - 1], acts[l - 1])  # dz  [M, B, width]
        return losses

    def _neg(self, M: int, B: int, out: torch.Tensor, value: float) -> torch.Tensor:
        """``value`` as an ``[M, B, 1]`` view of one cached element, per batch size (the last
        batch of an epoch is shorter), for ``scatter_add_`` onto each row's target class."""
        neg = self._neg_inv.get(B)
        if neg is None:
            neg = self._neg_inv[B] = torch.full((1, 1, 1), value, dtype=out.dtype, device=out.device).expand(M, B, 1)
        return neg
