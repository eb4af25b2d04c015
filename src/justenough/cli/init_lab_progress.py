"""The init lab's progress on the command line, so that half a minute of training is not silence.

The lab trains its restarts in stacks (every scheme x restart, 32 members a stack), each for the
same number of epochs, so its work is known up front: stacks x epochs. On a terminal a rich bar
redraws in place and is gone when the lab ends (as the search's live display); in a log (CI, a
pipe, a file) one line per finished stack keeps the log readable.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from justenough.display_numbers import format_seconds

__all__ = ["LabProgress", "LiveLabProgress", "PlainLabProgress", "make_lab_progress"]


class LabProgress:
    """``progress(stack, n_stacks, epoch, epochs)``, as ``diagnose.lab.init_lab`` calls it; a
    context manager, so that a live display is taken down however the lab ends."""

    def __call__(self, stack: int, n_stacks: int, epoch: int, epochs: int) -> None: ...

    def __enter__(self) -> "LabProgress":
        return self

    def __exit__(self, *exc: object) -> None: ...


class PlainLabProgress(LabProgress):
    """One line per finished stack: ``init lab: stack 1/2 trained (30 epochs; 4.1s elapsed)``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()

    def __call__(self, stack: int, n_stacks: int, epoch: int, epochs: int) -> None:
        if epoch == epochs:
            elapsed = format_seconds(time.monotonic() - self.started)
            self.console.print(f"init lab: stack {stack}/{n_stacks} trained ({epochs} epochs; {elapsed} elapsed)",
                               soft_wrap=True, highlight=False, markup=False)


class LiveLabProgress(LabProgress):
    """A bar over every stack's epochs, with the time elapsed and an estimate of the time left."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("[bold]init lab[/] {task.description}"), BarColumn(bar_width=30), MofNCompleteColumn(),
            TextColumn("epochs"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=console, transient=True,
        )
        self.task = self.bar.add_task("starting", total=None)

    def __call__(self, stack: int, n_stacks: int, epoch: int, epochs: int) -> None:
        self.bar.update(self.task, total=n_stacks * epochs, completed=(stack - 1) * epochs + epoch,
                        description=f"stack {stack}/{n_stacks}")

    def __enter__(self) -> "LiveLabProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def make_lab_progress(console: Console, *, live: bool | None = None) -> LabProgress:
    """Live when ``console`` is a terminal (or ``live=True``); one line per stack otherwise."""
    if live is None:
        live = console.is_terminal and not console.is_dumb_terminal
    return LiveLabProgress(console) if live else PlainLabProgress(console)
