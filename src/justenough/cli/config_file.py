"""Options from a TOML config file, merged under the flags of the command line.

A config file holds the options of one command, with the option names as keys (``n-init`` and
``n_init`` are the same key)::

    # search.toml
    data = "iris"
    depth = "1-2"
    widths = [8, 16, 32]        # a list is the same as "8,16,32"
    n-init = 3
    rule = "tolerance=0.01"
    halving = true

Keys may also sit in a table named after the command (``[search]``, ``[init-lab]``); a file can
so hold the options of several commands. Flags given on the command line override the file, and
the file overrides the defaults. An unknown key, or a value of the wrong type, raises
``ConfigError`` naming the key and the file, before anything runs.
"""

from __future__ import annotations

import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Callable, Iterable

from justenough.errors import ConfigError

__all__ = ["read_config", "merge_config", "normalize_key"]

# Options that make no sense inside a config file.
_NOT_IN_FILE = frozenset({"config", "help", "ctx"})
# Where a value counts as given by the user, so the file must not replace it.
_EXPLICIT = frozenset({"COMMANDLINE", "ENVIRONMENT", "PROMPT"})


def normalize_key(key: str) -> str:
    """``"n-init"``, ``"n_init"`` and ``"--n-init"`` -> ``"n_init"`` (the Python parameter name)."""
    return key.strip().lstrip("-").replace("-", "_").lower()


def read_config(path: str | Path, command: str | None = None, commands: Iterable[str] = ()) -> dict[str, Any]:
    """Read a TOML config file and return its options with normalized keys.

    Top-level keys apply to any command; a table named ``command`` (``[search]``, ``[init-lab]``
    or ``[init_lab]``) applies to that command and wins over the top level. Tables named after
    other commands (``commands``) are skipped. Raises ``ConfigError`` for a missing or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found: check the path given to --config")
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    sections = {normalize_key(c) for c in commands}
    if command:
        sections.add(normalize_key(command))
    here = normalize_key(command) if command else None
    options: dict[str, Any] = {}
    section: dict[str, Any] = {}
    for raw_key, value in doc.items():
        key = normalize_key(raw_key)
        if isinstance(value, dict) and key in sections:
            if key == here:
                section = {normalize_key(k): v for k, v in value.items()}
            continue
        if key in options:
            raise ConfigError(f"config file {path}: the key {raw_key!r} is given twice (as - and _ spellings)")
        options[key] = value
    options.update(section)
    return options


def _option_type(hint: Any) -> Any:
    """``Optional[int]`` -> ``int``; ``Path`` stays ``Path``; anything else as written."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1 else hint


def _as_option_value(value: Any, kind: Any, key: str, path: Path) -> Any:
    """TOML value -> what the option takes. Lists become the comma form the CLI reads."""
    where = f"config file {path}: key {key!r}"
    if isinstance(value, dict):
        raise ConfigError(f"{where}: expected a value, got a table; write e.g. {key} = \"...\"")
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected {'a number' if kind in (int, float) else 'text'}, got {str(value).lower()}")
    if kind is int:
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return int(value)
        raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    if kind is float:
        if isinstance(value, (int, float)):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, list):
        if any(isinstance(v, (list, dict)) for v in value):
            raise ConfigError(f"{where}: a list may hold plain values only, got {value!r}")
        value = ",".join(str(v) for v in value)
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):  # dates and times
        raise ConfigError(f"{where}: expected text, got {value!r}")
    return Path(value) if kind is Path else value


def merge_config(ctx: Any, function: Callable[..., Any], config: str | Path | None) -> dict[str, Any]:
    """The command's option values with the config file filled in under the command line.

    ``ctx`` is the command's context (``ctx.params``: what the command line parsed) and
    ``function`` the command function, whose type hints say what each option takes. A value given
    on the command line (or by an environment variable) is kept; any other is replaced by the
    file's, when the file has it. Unknown keys raise ``ConfigError`` naming them and listing the
    known ones.
    """
    merged = dict(ctx.params)
    if config is None:
        return merged
    path = Path(config)
    command = ctx.info_name or getattr(ctx.command, "name", None)
    group = ctx.parent.command if ctx.parent is not None else None
    siblings = list(getattr(group, "commands", {}) or {})
    options = read_config(path, command, siblings)
    hints = {k: _option_type(v) for k, v in typing.get_type_hints(function).items() if k != "return"}
    known = {name for name in merged if name not in _NOT_IN_FILE and name in hints}
    unknown = sorted(k for k in options if k not in known)
    if unknown:
        listed = ", ".join(sorted(k.replace("_", "-") for k in known))
        raise ConfigError(
            f"config file {path}: unknown key(s) {', '.join(repr(k.replace('_', '-')) for k in unknown)} "
            f"for `justenough {command}`; the keys are the option names: {listed}"
        )
    for key, value in options.items():
        source = ctx.get_parameter_source(key)
        if source is not None and source.name in _EXPLICIT:
            continue
        merged[key] = _as_option_value(value, hints[key], key, path)
    return merged
