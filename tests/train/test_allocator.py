"""The allocator tuning: on in a fresh Linux/glibc process (once), off when asked."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

CHECK = "from justenough.train.allocator import keep_freed_memory as k; print(k(), k())"


def _run(env_extra: dict[str, str]) -> str:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_tunes_glibc_once_and_can_be_turned_off():
    assert _run({"JUSTENOUGH_MALLOC_TUNING": "1"}) == "True True"
    assert _run({"JUSTENOUGH_MALLOC_TUNING": "0"}) == "False False"

