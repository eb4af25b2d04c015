"""One way to name a config, for every line that names one: the progress line, the printed
leaderboard (``search``, ``show``; ``cli/labels.py`` picks the settings a table shows) and the
chosen line.

A label is the architecture (``2x32``, ``3x[64,32,16]``, ``linear``) followed by settings, always
in the order of ``SETTINGS`` and always written the same way (``relu``, ``he_normal``,
``lr=0.001``). The progress line shows ``PROGRESS_SETTINGS`` (it runs before every config is
known) plus any other setting the caller asks for; a table shows the settings that differ between
its configs (``cli/labels.py``'s ``varying_settings``). So a table's label is the progress line's label with settings
left out, never a different word for the same config.

A linear model (depth 0) has no hidden activation: its recorded activation (``identity``) is never
shown, so it reads ``linear he_normal`` in both places.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from justenough.display_numbers import finite_or_none

if TYPE_CHECKING:
    from justenough.space.config import Config

__all__ = ["SETTINGS", "SETTING_NAMES", "PROGRESS_SETTINGS", "config_label", "config_text"]


def _patience(value: Any) -> str:
    f = finite_or_none(value)
    return "patience=none" if f is None else f"patience={int(f)}"


# Each setting and how a label writes it, in the order labels list them.
SETTINGS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("activation", str),
    ("init", str),
    ("optimizer", str),
    ("lr", lambda v: f"lr={float(v):g}"),
    ("weight_decay", lambda v: f"wd={float(v):g}"),
    ("batch_size", lambda v: f"batch={int(v)}"),
    ("max_epochs", lambda v: f"epochs={int(v)}"),
    ("patience", _patience),
    ("monitor", str),
    ("schedule", str),
    ("label_smoothing", lambda v: f"smoothing={float(v):g}"),
)
SETTING_NAMES = tuple(name for name, _ in SETTINGS)
# What the progress line always shows: it prints each config as it finishes, before the search
# knows every config, so it cannot know which settings will differ.
PROGRESS_SETTINGS: tuple[str, ...] = ("activation", "init", "optimizer", "lr")


def _architecture(config: Mapping[str, Any]) -> str:
    label = config.get("label")
    if label is not None and not (isinstance(label, float) and math.isnan(label)) and str(label):
        return str(label)
    depth = finite_or_none(config.get("depth"))
    if depth == 0:
        return "linear"
    return f"{int(depth) if depth is not None else '?'}x{config.get('widths', '?')}"


def _is_linear(config: Mapping[str, Any]) -> bool:
    return finite_or_none(config.get("depth")) == 0 or str(config.get("label")) == "linear"


def config_label(config: Mapping[str, Any], settings: Iterable[str]) -> str:
    """``"2x32 relu he_normal adam lr=0.001"``: the architecture, then each of ``settings`` that
    ``config`` has, in ``SETTINGS`` order (a mapping: ``Config.to_dict()`` plus ``label``, or a
    leaderboard row). A setting the label already says is not repeated."""
    wanted = set(settings)
    unknown = wanted - set(SETTING_NAMES)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}: a label shows {', '.join(SETTING_NAMES)}")
    label = _architecture(config)
    words = label.split()
    for name, fmt in SETTINGS:
        if name not in wanted or name not in config:
            continue
        if name == "activation" and _is_linear(config):
            continue  # no hidden layer, so no activation to name
        text = fmt(config[name])
        if text not in words:
            words.append(text)
    return " ".join(words)


def config_text(config: Config) -> str:
    """``"2x32 relu he_normal adam lr=0.001"``: the label plus the settings that tell configs apart,
    written as the leaderboard table writes them (a linear model has no hidden activation to show)."""
    return config_label({**config.to_dict(), "label": config.label}, PROGRESS_SETTINGS)
