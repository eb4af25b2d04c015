"""Whether bfloat16 matrix products are fast here, and what ``precision="bfloat16"`` becomes where not.

bfloat16 is the fast option only on hardware that multiplies in bfloat16: CPUs with AVX-512 BF16
or AMX (``avx512_bf16``, ``amx_bf16`` in /proc/cpuinfo) and CUDA GPUs that support it. Elsewhere
torch emulates it, and a search ran about 7x slower than in float32 on a plain AVX2 CPU, with no
word of why. So a search asked for bfloat16 where it is not supported trains in float32 instead,
and says so in a notice (a slower run with different rounding is never what was asked for).

``bf16_support`` is the detector, ``effective_precision`` the decision; they are apart so that the
decision can be tested on both answers on any machine.
"""

from __future__ import annotations

from pathlib import Path

import torch

from justenough.errors import option
from justenough.vocab import Precision

__all__ = ["bf16_support", "effective_precision", "CPU_BF16_FLAGS", "cpu_flags"]

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags (Linux), or None where /proc/cpuinfo cannot be read."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return None


def bf16_support(device: torch.device | str = "cpu") -> tuple[bool, str]:
    """(fast bfloat16 matrix products on ``device``, why): a CUDA device asks torch; a CPU is read
    from its feature flags (AVX-512 BF16 or AMX), and counts as unsupported where they cannot be read."""
    dev = torch.device(device)
    if dev.type == "cuda":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return True, f"{torch.cuda.get_device_name(dev)} supports bfloat16"
        return False, "this GPU does not support bfloat16 (torch.cuda.is_bf16_supported() is False)"
    if dev.type != "cpu":
        return False, f"bfloat16 support on a {dev.type} device is not known"
    flags = cpu_flags()
    capability = torch.backends.cpu.get_cpu_capability()
    if flags is None:
        return False, f"this CPU's features cannot be read (torch reports {capability}), so AVX-512 BF16 is not known to be there"
    found = [flag for flag in CPU_BF16_FLAGS if flag in flags]
    if found:
        return True, f"this CPU has {' and '.join(found)}"
    return False, f"this CPU has neither AVX-512 BF16 nor AMX (torch reports {capability}): bfloat16 is emulated, several times slower"


def effective_precision(precision: str, supported: bool, why: str) -> tuple[str, str | None]:
    """The precision a search trains in, and a notice when it is not the one asked for:
    bfloat16 where it is not supported falls back to float32."""
    if precision != Precision.BFLOAT16 or supported:
        return precision, None
    return str(Precision.FLOAT32), (
        f"{option('precision', 'bfloat16')} asked for, but {why}; training in float32 instead (as fast or faster here, "
        "and the default's rounding)"
    )
