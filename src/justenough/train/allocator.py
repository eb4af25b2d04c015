"""Keep freed memory for reuse: glibc's allocator, tuned once per process for training.

Training and the diagnostics allocate and free the same few tensor sizes over and over (a
step's activations, a recorder's ``[M, B, n]`` statistics). By default glibc hands blocks over
128 KiB (a threshold that adapts, up to 32 MiB) straight to and from the kernel with mmap and
munmap, and gives the top of its heap back with trim, so each such tensor costs fresh pages and
page faults every time. Raising the mmap threshold to its maximum (32 MiB) and the trim
threshold to 1 GiB keeps those blocks in the heap for the next step instead. On the digits
diagnostics workload this took the recorder's extra time from about 26% to about 18%
(benchmarks/bench_diagnose.py); the cost is that a process keeps up to that much freed memory.

Only on Linux with glibc; ``JUSTENOUGH_MALLOC_TUNING=0`` leaves the allocator alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
_TRIM_THRESHOLD = 1 << 30

_done = False


def keep_freed_memory() -> bool:
    """Tune glibc's allocator once per process; True when it was tuned (now or before)."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("JUSTENOUGH_MALLOC_TUNING", "1") == "0":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    _done = ok
    return ok
