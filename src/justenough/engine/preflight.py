"""What a search checks before it creates anything: the run directory, and the memory of its
largest network.

A search that cannot succeed must say so at once and leave nothing behind (no ``study.db``, no
run directory), not fail after minutes with an out-of-memory kill. ``check_out_dir`` refuses an
``out`` that is a file, or that cannot be created or written (``/proc/nope``, a read-only folder). ``check_memory`` estimates one member's working set (``train.member_bytes``:
parameters, gradients, best copy, optimizer state, the activations of one training batch and of
one evaluation chunk; plus ``diagnose.diagnostics_bytes`` when diagnostics are recorded) for the
largest network the space holds; when not even one member fits the memory budget, it refuses and
names the largest width that fits. Stacks of several members that do not fit are split by the
trainer into sub-stacks that do (``train/memory.py``: ``plan_substacks``).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from justenough.errors import ConfigError
from justenough.space.config import architecture_label
from justenough.space.search_space import resolve_embed
from justenough.vocab import Embed, Optimizer

if TYPE_CHECKING:
    import torch

__all__ = ["check_out_dir", "parse_bytes", "format_bytes", "default_memory_budget", "check_memory", "MemoryBudgetError"]

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12,
          "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def check_out_dir(out: str | Path, option: str) -> Path:
    """``out`` as a Path, refused (``ConfigError``) when it or a folder above it is an existing file.

    ``option`` is how the user gave it (``--out`` on the command line, ``out`` in Python), so the
    message names the user's path and option, never a temporary file.
    """
    path = Path(out)
    for candidate in (path, *path.parents):
        if candidate.exists() and not candidate.is_dir():
            if candidate == path:
                example = f"{option} {path.with_suffix('')}-run" if option.startswith("--") else f"{option}={str(path.with_suffix('')) + '-run'!r}"
                where = f"is an existing file, not a folder: a run needs a directory (a new one, or a run to resume), e.g. {example}"
            else:
                where = f"lies under {str(candidate)!r}, which is a file, not a folder: give a run directory elsewhere"
            raise ConfigError(f"{option} {str(path)!r} {where}")
    _check_writable(path, option)
    return path


def _check_writable(path: Path, option: str) -> None:
    """Refuse a run directory that cannot be created or written, naming the option and the path.

    The probe is a temporary entry in ``path`` (when it exists) or in its nearest existing folder,
    removed at once: ``path`` itself is never created here, so two searches starting together into
    one new run directory never see each other's probe.
    """
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    try:
        probe = tempfile.mkdtemp(prefix=".justenough-probe-", dir=existing)
        os.rmdir(probe)
    except OSError as exc:
        from justenough.run.disk_full import disk_full_error, is_disk_full

        if is_disk_full(exc):  # a resume into a full disk: the same answer as a disk that fills mid-search
            raise disk_full_error(path) from None
        what = "cannot be written" if existing == path else f"cannot be created in {str(existing)!r}"
        reason = exc.strerror or type(exc).__name__
        example = f"{option} runs/NAME" if option.startswith("--") else f"{option}='runs/NAME'"
        raise ConfigError(
            f"{option} {str(path)!r}: the run directory {what} ({reason}); give a folder you can write, e.g. {example}"
        ) from None


def parse_bytes(text: Any) -> int:
    """``2GB``, ``512MiB``, ``1.5g``, ``1e9`` or a number of bytes -> bytes (positive int)."""
    if isinstance(text, bool):
        raise ConfigError(f"cannot read the memory size {text!r}: write e.g. 512MB, 2GB or 1.5GiB")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*", str(text).lower())
        if not m or m.group(2) not in _UNITS:
            raise ConfigError(f"cannot read the memory size {text!r}: write e.g. 512MB, 2GB or 1.5GiB")
        value = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(value) or value < 1:
        raise ConfigError(f"a memory size must be at least one byte, got {text!r}")
    return int(value)


def format_bytes(n: float) -> str:
    """``1.5 GB``, ``320 MB``, ``12 kB``: decimal units, 2-3 significant digits."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def default_memory_budget(device: "torch.device") -> int:
    """What one stack may use when no budget is given: ``TrainSettings.memory_fraction`` of the
    free memory of ``device`` (free RAM for the CPU, free GPU memory for CUDA), as the settings
    read it (``SearchSettings.torch_device``)."""
    from justenough.train import TrainSettings, available_memory

    return max(1, int(TrainSettings().memory_fraction * available_memory(device)))


class MemoryBudgetError(ConfigError):
    """Not even one network of the space fits the memory budget.

    ``str()`` speaks Python (``widths=``, ``memory_budget=``); ``cli_message`` speaks the command
    line (``--widths``, ``--memory-budget``).
    """

    def __init__(self, *, depth: int, widths: tuple[int, ...], need: int, budget: int, largest: int | None, diagnose: bool, explicit: bool) -> None:
        self.depth, self.widths, self.need, self.budget, self.largest = depth, widths, need, budget, largest
        self.diagnose, self.explicit = diagnose, explicit
        super().__init__(self._message(cli=False))
        self.cli_message = self._message(cli=True)

    def _message(self, *, cli: bool) -> str:
        opt = (lambda name, value: f"--{name.replace('_', '-')} {value}") if cli else (lambda name, value: f"{name}={value}")
        label = architecture_label(self.depth, self.widths)
        what = "parameters, optimizer state, activations, evaluation" + (" and diagnostics" if self.diagnose else "")
        budget = format_bytes(self.budget) + ("" if self.explicit else " (a quarter of the free memory)")
        text = f"one {label} network needs about {format_bytes(self.need)} to train ({what}), more than the memory budget of {budget}: "
        if self.largest:
            text += f"the largest width that fits at depth {self.depth} is {self.largest:,}: use {opt('widths', f'up to {self.largest}')}"
        elif self.depth == 0:
            text += f"with no hidden layer to narrow, use a smaller {'--batch-size' if cli else 'batch_size'}"
        else:
            text += f"no width fits at depth {self.depth}: use a smaller {'--batch-size' if cli else 'batch_size'} or fewer layers"
        need = f"{math.ceil(self.need / 1e8) / 10:g}GB" if self.need >= 1e9 else f"{math.ceil(self.need / 1e6)}MB"
        more = opt("memory_budget", need if cli else repr(need))
        return text + f", or raise the budget ({more}, if the machine has it)"


def _dim_max(dim: Any) -> float:
    return max(v for v in dim.values if v is not None) if dim.values is not None else dim.high


def check_memory(
    space: Any, *, n_features: int, n_outputs: int, n_val: int, budget: int, diagnose: bool, explicit: bool = True
) -> int:
    """Refuse (``MemoryBudgetError``) when one member of the space's largest network does not fit
    ``budget`` bytes; else return its estimated bytes.

    The largest network: the deepest depth, the widest width, each listed shape (layer by layer,
    the widest of them: what a padded stack holds), the largest batch size and the optimizer with
    the most state, and the periodic embedding's wider first layer when the space lists it. The
    bytes only grow with each of these, so no config of the space needs more.
    """
    from justenough.diagnose import diagnostics_bytes
    from justenough.network_size import embedding_parameter_count, first_layer_inputs
    from justenough.space.config import layer_widths
    from justenough.train import member_bytes

    depth = int(_dim_max(space.depth))
    width = int(_dim_max(space.widths))
    shapes = list(space.shape.values or ("same",))
    batch = int(_dim_max(space.batch_size))
    optimizers = [str(o) for o in (space.optimizer.values or ("adam",))]
    optimizer = Optimizer.ADAM if any(o in (Optimizer.ADAM, Optimizer.ADAMW) for o in optimizers) else optimizers[0]

    def hidden(w: int) -> tuple[int, ...]:
        per_shape = [layer_widths(w, depth, s) for s in shapes]
        return tuple(max(layer) for layer in zip(*per_shape)) if depth else ()

    listed = getattr(getattr(space, "embed", None), "values", None) or (Embed.NONE,)
    embeds = resolve_embed(listed, int(n_features))  # "auto" before the space is resolved: what these inputs make of it
    n_first = max(first_layer_inputs(int(n_features), str(e)) for e in embeds)  # layer 0's fan-in
    embedding = max(embedding_parameter_count(int(n_features), str(e)) for e in embeds)

    def need(w: int) -> int:
        sizes = [n_first, *hidden(w), int(n_outputs)]
        extra = diagnostics_bytes(sizes) if diagnose and depth > 0 else 0
        return member_bytes(sizes, batch, optimizer, int(n_val), embedding) + extra

    bytes_needed = need(width)
    if bytes_needed <= budget:
        return bytes_needed
    largest = None
    if depth > 0 and need(1) <= budget:
        lo, hi = 1, width  # need(lo) fits, need(hi) does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if need(mid) <= budget else (lo, mid)
        largest = lo
    raise MemoryBudgetError(depth=depth, widths=hidden(width) or (0,), need=bytes_needed, budget=budget, largest=largest,
                            diagnose=diagnose and depth > 0, explicit=explicit)
