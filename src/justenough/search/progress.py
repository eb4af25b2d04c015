"""The hooks a search calls as it goes, for a live display (the CLI's, ``cli/search_progress.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from justenough.space.config import Config

__all__ = ["SearchProgress"]


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
