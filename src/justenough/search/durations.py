"""Durations as the options write them: ``90``, ``90s``, ``10m``, ``1.5h``."""

from __future__ import annotations

from justenough.errors import ConfigError

__all__ = ["parse_duration"]


def parse_duration(text: str | float | int | None) -> float | None:
    """``90``, ``90s``, ``10m``, ``1.5h`` -> seconds."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
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
        raise ConfigError(f"cannot read the duration {text!r}: write e.g. 90s, 10m or 1.5h") from None
    if value <= 0:
        raise ConfigError(f"a duration must be positive, got {text!r}")
    return value
