"""The live display of a search on the command line, in three modes.

- ``LiveProgress`` (a terminal): a rich display that redraws in place: configs done of the
  total, restarts done, the configs of the stacks in flight, the best validation score so far and
  an estimate of the time left.
- ``PlainProgress`` (a log: CI, a pipe, a file): one line per finished config, so logs stay
  readable and diff-able, plus one line at the start and one at the end.
- ``QuietProgress`` (``-q``): nothing at all.

All three implement the hooks of ``justenough.search.SearchProgress``. ``make_progress`` picks
one: quiet when asked, live when the console is a terminal, plain otherwise.
"""

from __future__ import annotations

import math
import time
from typing import Any, Sequence

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from justenough.cli.labels import PROGRESS_SETTINGS, config_label
from justenough.display_numbers import counted
from justenough.search import SearchProgress
from justenough.space.config import Config

__all__ = ["LiveProgress", "PlainProgress", "QuietProgress", "make_progress", "config_text", "format_seconds",
           "open_ended_text"]

# A search without a known number of configs, when nothing more is known about it.
_OPEN_ENDED = "configs until the time budget"


def open_ended_text(strategy: str = "grid", time_budget: str | float | None = None, grow_patience: int = 2) -> str:
    """What a search whose number of configs is not known up front will train, for its first line:
    a grow search says how it grows (its count depends on what each step shows), a sampler with
    only a time budget says so."""
    if strategy == "grow":
        text = ("configs grown from the simplest one: wider or deeper while the bigger config beats the best by more "
                f"than one paired SE; a direction stops after {grow_patience} step(s) that do not")
        return text + (f", or at the time budget ({time_budget})" if time_budget is not None else "")
    return _OPEN_ENDED + (f" ({time_budget})" if time_budget is not None else "")


def format_seconds(seconds: float | None) -> str:
    """``4.2`` -> ``"4.2s"``, ``95`` -> ``"1m35s"``, ``4000`` -> ``"1h06m"``; None or inf -> ``"?"``."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m}m{s:02d}s"
    h, rest = divmod(int(round(seconds)), 3600)
    return f"{h}h{rest // 60:02d}m"


def config_text(config: Config) -> str:
    """``"2x32 relu he_normal adam lr=0.001"``: the label plus the settings that tell configs apart,
    written as the leaderboard table writes them (``labels.py``; a linear model has no hidden
    activation to show)."""
    return config_label({**config.to_dict(), "label": config.label}, PROGRESS_SETTINGS)


def _score(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"


class _Tally:
    """What every display counts: done of total, restarts, in flight, best, rate."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.done_before = 0  # finished by an earlier run of a resumed search
        self.n_init = 1
        self.restarts_done = 0
        self.diverged = 0
        self.in_flight: dict[str, Config] = {}
        self.best: float | None = None
        self.best_label: str | None = None
        self.started = time.monotonic()

    def start(self, total: int | None, done: int, n_init: int) -> None:
        self.total, self.done, self.done_before, self.n_init = total, done, done, max(1, n_init)
        self.restarts_done = done * self.n_init
        self.started = time.monotonic()

    def submit(self, configs: Sequence[Config]) -> None:
        for cfg in configs:
            self.in_flight[cfg.key] = cfg

    def finish(self, config: Config, stats: dict[str, Any], best_so_far: float | None) -> None:
        self.in_flight.pop(config.key, None)
        self.done += 1
        self.restarts_done += int(stats.get("n_restarts") or self.n_init)
        self.diverged += int(stats.get("n_diverged") or 0)
        mean = stats.get("val_mean")
        if mean is not None and math.isfinite(mean) and (self.best is None or mean > self.best):
            self.best, self.best_label = float(mean), config_text(config)
        if best_so_far is not None and (self.best is None or best_so_far > self.best):
            # The study knows better (another driver may have finished a better config).
            self.best, self.best_label = float(best_so_far), None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def eta(self) -> float | None:
        """Seconds left, from this session's rate of finished configs; None when unknown."""
        if self.total is None:
            return None
        fresh = self.done - self.done_before
        left = max(0, self.total - self.done)
        if left == 0:
            return 0.0
        if fresh <= 0:
            return None
        return self.elapsed / fresh * left

    def of_total(self) -> str:
        return f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"


class QuietProgress(SearchProgress):
    """``-q``: shows nothing."""


class PlainProgress(SearchProgress):
    """One line per finished config, for logs that are not a terminal.

    ``[ 3/12] 1x16 relu he_normal adam lr=0.001  val 0.9612 +/- 0.0041 sd  best 0.9667  0/5 diverged
    1.2s | best so far 0.9631 | eta 8.0s``
    """

    def __init__(self, console: Console, open_ended: str = _OPEN_ENDED) -> None:
        self.console = console
        self.tally = _Tally()
        self.open_ended = open_ended  # the first line's "what" when the number of configs is unknown

    def _line(self, text: str) -> None:
        # soft_wrap: one log line per event, however narrow the (virtual) console is.
        self.console.print(text, soft_wrap=True, highlight=False, markup=False)

    def on_start(self, total: int | None, done: int, n_init: int) -> None:
        self.tally.start(total, done, n_init)
        resumed = f" ({done} already done: resuming)" if done else ""
        if total is not None:
            self._line(f"search: {counted(total, 'config')} x {counted(n_init, 'restart')}{resumed}")
        else:
            self._line(f"search: {n_init} restarts per config, {self.open_ended}{resumed}")

    def on_submit(self, configs: Sequence[Config]) -> None:
        self.tally.submit(configs)

    def on_config_done(self, config: Config, stats: dict[str, Any], best_so_far: float | None) -> None:
        t = self.tally
        t.finish(config, stats, best_so_far)
        width = len(str(t.total)) if t.total is not None else 1
        std = stats.get("val_std")
        spread = f" +/- {std:.4f} sd" if std is not None and math.isfinite(std) else ""
        n = int(stats.get("n_restarts") or t.n_init)
        line = (
            f"[{t.done:>{width}}/{t.total if t.total is not None else '?'}] {config_text(config)}  "
            f"val {_score(stats.get('val_mean'))}{spread}  best {_score(stats.get('val_max'))}  "
            f"{int(stats.get('n_diverged') or 0)}/{n} diverged  {format_seconds(stats.get('train_time'))}"
            f" | best so far {_score(t.best)} | eta {format_seconds(t.eta())}"
        )
        self._line(line)

    def on_message(self, text: str) -> None:
        self._line(f"note: {text}")

    def on_end(self) -> None:
        t = self.tally
        self._line(
            f"search done: {counted(t.done - t.done_before, 'config')} "
            f"({counted(t.restarts_done - t.done_before * t.n_init, 'restart')}) "
            f"in {format_seconds(t.elapsed)}"
        )


class LiveProgress(SearchProgress):
    """A display that redraws in place on a terminal (rich ``Live``); gone when the search ends."""

    def __init__(self, console: Console, refresh_per_second: float = 4.0, open_ended: str = _OPEN_ENDED) -> None:
        self.console = console
        self.tally = _Tally()
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
                  open_ended: str = _OPEN_ENDED) -> SearchProgress:
    """Quiet when asked; live when ``console`` is a terminal (or ``live=True``); plain lines otherwise.
    ``open_ended``: what the search trains when its number of configs is unknown (``open_ended_text``)."""
    if quiet:
        return QuietProgress()
    if live is None:
        live = console.is_terminal and not console.is_dumb_terminal
    return LiveProgress(console, open_ended=open_ended) if live else PlainProgress(console, open_ended=open_ended)
