"""The live display of a search on the command line, in three modes.

- ``LiveProgress`` (a terminal): a rich display that redraws in place: configs done of the
  total, restarts done, the configs of the stacks in flight, the best validation score so far and
  an estimate of the time left.
- ``PlainProgress`` (a log: CI, a pipe, a file): one line per finished config, so logs stay
  readable and diff-able, plus one line at the start and one at the end (``engine/progress.py``,
  where the search estimators' ``verbose`` takes it from too).
- ``QuietProgress`` (``-q``): nothing at all.

All three implement the hooks of ``justenough.engine.SearchProgress``. ``make_progress`` picks
one: quiet when asked, live when the console is a terminal, plain otherwise.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from justenough.display_numbers import counted, format_seconds
from justenough.engine.progress import SearchProgress
from justenough.engine.progress import OPEN_ENDED, PlainProgress, ProgressTally
from justenough.space.config import Config

__all__ = ["LiveProgress", "QuietProgress", "make_progress", "open_ended_text"]

def open_ended_text(strategy: str = "grid", time_budget: str | float | None = None, grow_patience: int = 2) -> str:
    """What a search whose number of configs is not known up front will train, for its first line:
    a grow search says how it grows (its count depends on what each step shows), a sampler with
    only a time budget says so."""
    if strategy == "grow":
        text = ("configs grown from the simplest one: wider or deeper while the bigger config beats the best by more "
                f"than one paired SE; a direction stops after {grow_patience} step(s) that do not")
        return text + (f", or at the time budget ({time_budget})" if time_budget is not None else "")
    return OPEN_ENDED + (f" ({time_budget})" if time_budget is not None else "")


class QuietProgress(SearchProgress):
    """``-q``: shows nothing."""


class LiveProgress(SearchProgress):
    """A display that redraws in place on a terminal (rich ``Live``); gone when the search ends."""

    def __init__(self, console: Console, refresh_per_second: float = 4.0, open_ended: str = OPEN_ENDED) -> None:
        self.console = console
        self.tally = ProgressTally()
        self.open_ended = open_ended  # said once at the start when the number of configs is unknown
        self.live = Live(console=console, refresh_per_second=refresh_per_second, transient=True, get_renderable=self.render)
        self.epochs: dict[str, tuple[int, int]] = {}  # config key -> (epoch, max epochs) of its stack

    def render(self) -> RenderableType:
        """The current state: a bar with counts and times, the best so far, the configs in flight."""
        t = self.tally
        head = Table.grid(padding=(0, 2))
        head.add_row(
            Text("searching", style="bold"),
            ProgressBar(total=float(t.total) if t.total else None, completed=float(t.done), width=30),
            Text(f"{t.of_total()} configs"),
            Text(counted(t.restarts_done, "restart")),
            Text(f"elapsed {format_seconds(t.elapsed)}"),
            Text(f"eta {format_seconds(t.eta())}", style="cyan"),
        )
        best = Text("best so far: ", style="dim")
        if t.best is None:
            best.append("-")
        else:
            best.append(f"{t.best:.4f}", style="bold green")
            if t.best_label:
                best.append(f"  ({t.best_label})")
        if t.diverged:
            best.append(f"   {t.diverged} diverged restart(s)", style="yellow")
        flight = Text("training: ", style="dim")
        if t.in_flight:
            labels = [
                cfg.label + (f" (epoch {self.epochs[key][0]}/{self.epochs[key][1]})" if key in self.epochs else "")
                for key, cfg in t.in_flight.items()
            ]
            shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
            flight.append(f"{shown}  ({counted(len(labels) * t.n_init, 'restart')} in flight)")
        else:
            flight.append("-")
        return Group(head, best, flight)

    def on_start(self, total: int | None, done: int, n_init: int) -> None:
        self.tally.start(total, done, n_init)
        if done:
            self.console.print(f"resuming: {counted(done, 'config')} already done", highlight=False)
        if total is None:
            self.console.print(f"search: {n_init} restarts per config, {self.open_ended}", highlight=False)
        self.live.start()

    def on_submit(self, configs: Sequence[Config]) -> None:
        self.tally.submit(configs)
        self.live.refresh()

    def on_config_done(self, config: Config, stats: dict[str, Any], best_so_far: float | None) -> None:
        self.tally.finish(config, stats, best_so_far)
        self.live.refresh()

    def on_epoch(self, configs: Sequence[Config], epoch: int, max_epochs: int) -> None:
        for cfg in configs:
            self.epochs[cfg.key] = (epoch, max_epochs)

    def on_message(self, text: str) -> None:
        # Printed above the live display, which redraws below it.
        self.console.print(f"[dim]note:[/] {text}", highlight=False)

    def on_stop(self) -> None:
        if self.live.is_started:
            self.live.stop()

    def on_end(self) -> None:
        self.on_stop()
        t = self.tally
        self.console.print(
            f"search done: {counted(t.done - t.done_before, 'config')} x {counted(t.n_init, 'restart')} "
            f"in {format_seconds(t.elapsed)}",
            highlight=False,
        )


def make_progress(console: Console, *, quiet: bool = False, live: bool | None = None,
                  open_ended: str = OPEN_ENDED) -> SearchProgress:
    """Quiet when asked; live when ``console`` is a terminal (or ``live=True``); plain lines otherwise.
    ``open_ended``: what the search trains when its number of configs is unknown (``open_ended_text``)."""
    if quiet:
        return QuietProgress()
    if live is None:
        live = console.is_terminal and not console.is_dumb_terminal
    return LiveProgress(console, open_ended=open_ended) if live else PlainProgress(console, open_ended=open_ended)
