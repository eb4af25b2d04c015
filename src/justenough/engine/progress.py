"""The hooks a search calls as it goes (``SearchProgress``), and the plain log of them.

- ``PlainProgress`` (a log: CI, a pipe, a file; the search estimators' ``verbose``): one line per
  finished config, so logs stay readable and diff-able, plus one line at the start and one at the end.
- ``ProgressTally``: what every display counts (done of total, restarts, in flight, best, rate);
  the CLI's live display (``cli/search_progress.py``) counts with it too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from justenough.space.config import Config

# numbers.py and space/labels.py (counted, format_seconds, config_text) are imported where a line is
# written: they load NumPy, which ``import justenough`` (and so this module) must not.
if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["SearchProgress", "PlainProgress", "ProgressTally", "OPEN_ENDED"]

# A search without a known number of configs, when nothing more is known about it.
OPEN_ENDED = "configs until the time budget"


@dataclass
class SearchProgress:
    """Hooks the CLI uses for its live display; every method is optional to override."""

    def on_start(self, total: int | None, done: int, n_init: int) -> None: ...

    def on_submit(self, configs: Sequence[Config]) -> None: ...

    def on_config_done(self, config: Config, stats: dict[str, Any], best_so_far: float | None) -> None: ...

    def on_epoch(self, configs: Sequence[Config], epoch: int, max_epochs: int) -> None: ...

    def on_message(self, text: str) -> None: ...

    def on_end(self) -> None:
        """The search trained everything it was asked to."""

    def on_stop(self) -> None:
        """The search stopped before its end (Ctrl-C, a full disk, an error): close the display
        without claiming it is done; the error that follows says what happened."""


def _score(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"


class ProgressTally:
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
        from justenough.space.labels import config_text

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


class PlainProgress(SearchProgress):
    """One line per finished config, for logs that are not a terminal.

    ``[ 3/12] 1x16 relu he_normal adam lr=0.001  val 0.9612 +/- 0.0041 sd  best 0.9667  0/5 diverged
    1.2s | best so far 0.9631 | eta 8.0s``
    """

    def __init__(self, console: Console, open_ended: str = OPEN_ENDED) -> None:
        self.console = console
        self.tally = ProgressTally()
        self.open_ended = open_ended  # the first line's "what" when the number of configs is unknown

    def _line(self, text: str) -> None:
        # soft_wrap: one log line per event, however narrow the (virtual) console is.
        self.console.print(text, soft_wrap=True, highlight=False, markup=False)

    def on_start(self, total: int | None, done: int, n_init: int) -> None:
        from justenough.display_numbers import counted

        self.tally.start(total, done, n_init)
        resumed = f" ({done} already done: resuming)" if done else ""
        if total is not None:
            self._line(f"search: {counted(total, 'config')} x {counted(n_init, 'restart')}{resumed}")
        else:
            self._line(f"search: {n_init} restarts per config, {self.open_ended}{resumed}")

    def on_submit(self, configs: Sequence[Config]) -> None:
        self.tally.submit(configs)

    def on_config_done(self, config: Config, stats: dict[str, Any], best_so_far: float | None) -> None:
        from justenough.display_numbers import format_seconds
        from justenough.space.labels import config_text

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
        from justenough.display_numbers import counted, format_seconds

        t = self.tally
        self._line(
            f"search done: {counted(t.done - t.done_before, 'config')} "
            f"({counted(t.restarts_done - t.done_before * t.n_init, 'restart')}) "
            f"in {format_seconds(t.elapsed)}"
        )
