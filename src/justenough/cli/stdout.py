"""A closed stdout must not stop a search.

``justenough search ... | head -2``: once ``head`` has its two lines it exits, and the next write
to the pipe fails with ``BrokenPipeError`` (Python ignores SIGPIPE). Raised in the middle of a
search, that error stopped it and lost it. ``guard_stdout()`` wraps ``sys.stdout`` so that the
first broken-pipe error points file descriptor 1 at ``/dev/null`` (so the bytes still buffered,
and the interpreter's flush at exit, go nowhere instead of failing again) and drops the rest of
the output quietly: the search completes, writes its run directory and exits 0.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

__all__ = ["guard_stdout", "PipeGuard"]


class PipeGuard:
    """A text stream that forwards to ``stream`` until the reader goes away, then drops output."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_reader = False  # True once a write or flush found the pipe closed

    def _drop(self) -> None:
        self.closed_reader = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no file descriptor (a test's StringIO): nothing to redirect
            pass

    def write(self, text: str) -> int:
        if self.closed_reader:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        if self.closed_reader:
            try:
                self._stream.flush()  # now into /dev/null: empties the buffer the pipe refused
            except OSError:
                pass
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()
            try:
                self._stream.flush()
            except OSError:
                pass

    def __getattr__(self, name: str) -> Any:
        # isatty, fileno, encoding, buffer, ...: the wrapped stream's.
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Wrap ``sys.stdout`` in a ``PipeGuard`` (once)."""
    if not isinstance(sys.stdout, PipeGuard) and sys.stdout is not None:
        sys.stdout = PipeGuard(sys.stdout)  # type: ignore[assignment]
