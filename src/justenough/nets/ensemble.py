"""RestartEnsemble: the k restarts of one config as one network that predicts with their mean.

``search(ensemble=True)`` (``--ensemble``) makes the chosen config's model the mean of its
restarts rather than its best one (TabM's members, which a restart stack already trains at once).
The k members share one architecture; member i is a plain ``nn.Sequential`` (``stack.plain_mlp``)
holding restart i's weights. For input ``x [B, F]`` with member outputs ``z_i = f_i(x)``:

- classification: the mean of the members' probabilities, returned as its log so that the output
  keeps the meaning of logits (``argmax`` is the predicted class, ``softmax`` the probabilities)::

      log p̄(x) = log( (1/k) sum_i softmax(z_i) ) = logsumexp_i( log_softmax(z_i) ) - log k   # [B, K]

  ``softmax(log p̄) = p̄`` exactly in real arithmetic, as p̄ sums to one.
- regression: the mean of the members' standardized outputs, ``(1/k) sum_i z_i`` ``[B, 1]``; the
  target's decoding is affine, so this is also the mean of their predictions in the target's units.

One module holds the k networks and the averaging, so an ONNX or TorchScript export is one graph.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from justenough.errors import ArtifactError
from justenough.vocab import Task

__all__ = ["RestartEnsemble", "mean_prediction"]


def mean_prediction(outs: torch.Tensor, task: str, log_k: float | None = None) -> torch.Tensor:
    """The ensemble's output from its members' ``outs`` ``[k, B, K]``: the log of the mean softmax
    probability (classification) or the mean output (regression); see the module docstring.
    ``log_k``: ``log k`` as a constant (a traced graph's), else taken from ``outs``."""
    if task == Task.CLASSIFICATION:
        log_p = torch.log_softmax(outs, dim=-1)  # [k, B, K]
        return torch.logsumexp(log_p, dim=0) - (math.log(outs.shape[0]) if log_k is None else log_k)  # [B, K]
    return outs.mean(dim=0)  # [B, K]: the mean standardized target


class RestartEnsemble(nn.Module):
    """``members``: k plain networks of one architecture; ``task``: how their outputs are averaged
    (classification: probabilities, returned as their log; regression: the outputs)."""

    def __init__(self, members: Sequence[nn.Module], task: str) -> None:
        super().__init__()
        if not members:
            raise ArtifactError("an ensemble needs at least one member network")
        if task not in tuple(Task):
            raise ArtifactError(f"unknown task {task!r} for an ensemble: use one of {', '.join(Task)}")
        self.members = nn.ModuleList(members)
        self.task = Task(task)
        self.log_k = math.log(len(members))  # a constant in the traced graph

    @property
    def k(self) -> int:
        """How many networks the mean is over."""
        return len(self.members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = torch.stack([member(x) for member in self.members])  # [k, B, K] logits or [k, B, 1] targets
        return mean_prediction(outs, self.task, self.log_k)
