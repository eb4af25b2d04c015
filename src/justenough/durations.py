"""Durations as the options write them: ``90``, ``90s``, ``10m``, ``1.5h``, ``2ms``.

A time budget and a latency limit are both durations, but of very different sizes: an example that
fits one misleads for the other, so a message about a bad value gives examples of its own kind
(``BUDGET_EXAMPLES``, ``LATENCY_EXAMPLES``) and names the option it came from.
"""

from __future__ import annotations

import math

from justenough.errors import ConfigError, option

__all__ = ["parse_duration", "BUDGET_EXAMPLES", "LATENCY_EXAMPLES"]

BUDGET_EXAMPLES = "90s, 10m or 1.5h"
LATENCY_EXAMPLES = "2ms or 0.5ms (per sample, at batch 1)"


def parse_duration(text: str | float | int | None, *, latency: bool = False) -> float | None:
    """``90``, ``90s``, ``10m``, ``1.5h``, ``2ms`` -> seconds. ``latency``: the text is a latency
    limit (``max_latency``), not a time budget: its message names that option and gives latencies."""
    if text is None or text == "":
        return None
    given = option("max_latency", text) if latency else option("time_budget", text)
    examples = LATENCY_EXAMPLES if latency else BUDGET_EXAMPLES
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _positive(float(text), given, examples)
    t = str(text).strip().lower()
    units = {"ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
    for suffix in sorted(units, key=len, reverse=True):
        if t.endswith(suffix):
            num = t[: -len(suffix)]
            break
    else:
        suffix, num = "s", t
    try:
        value = float(num) * units[suffix]
    except ValueError:
        raise ConfigError(f"cannot read {given} as a duration: write e.g. {examples}") from None
    return _positive(value, given, examples)


def _positive(value: float, given: str, examples: str) -> float:
    """``value`` (seconds) if it is a positive, finite duration; a number given as such is checked
    like text (a negative or infinite budget would otherwise stop a search at once, or never)."""
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{given}: a duration must be positive and finite, e.g. {examples}")
    return value
