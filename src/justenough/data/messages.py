"""How the data package speaks: notices (collected and logged, never warnings) and lists of names
quoted in messages."""

from __future__ import annotations

import logging
from typing import Any, Iterable

log = logging.getLogger("justenough")


def note(notices: list[str], message: str) -> None:
    """Record a notice for the caller and log it (notices are not warnings)."""
    notices.append(message)
    log.info(message)


def quote_list(names: Iterable[Any], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")
