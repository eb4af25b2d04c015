"""Messages in the command line's language: option references become flags.

Messages name options in Python syntax between backticks (``errors.option``): `` `task="regression"` ``,
`` `max_categories=100` ``, `` `target=...` ``. That is what the Python API prints. The command
line shows the same message with its own flags (`` `--task regression` ``, `` `--max-categories 100` ``,
`` `--target ...` ``). The flags come from the click command's real parameters, so a renamed or
removed option cannot leave a stale translation behind; only the few Python keywords whose CLI
name differs are listed here (``API_TO_CLI``). A reference to a keyword the CLI lacks stays in
Python syntax.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from typing import Any, Iterable, Mapping

__all__ = ["API_TO_CLI", "flag_table", "to_cli"]

# Python keyword -> the CLI parameter that means the same (where the names differ).
API_TO_CLI: dict[str, str] = {"test": "test_file", "val": "val_file"}

# `name=value` between backticks, as ``errors.option`` writes it.
_REFERENCE = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)=([^`]*)`")


def flag_table(commands: Iterable[Any]) -> dict[str, tuple[str, str | None]]:
    """Parameter name -> (flag, negative flag or None) over the given click commands' options.

    The first command that has a parameter decides its flag (the commands agree on shared names).
    Typer carries its own copy of click, so commands and options are recognized by what they
    hold (``params``, ``param_type_name``), not by class.
    """
    table: dict[str, tuple[str, str | None]] = {}
    for command in commands:
        for param in command.params:
            if getattr(param, "param_type_name", None) != "option" or param.name is None or param.name in table:
                continue
            longs = [o for o in param.opts if o.startswith("--")] or list(param.opts)
            negative = next((o for o in param.secondary_opts if o.startswith("--")), None)
            table[param.name] = (longs[0], negative)
    for api_name, cli_name in API_TO_CLI.items():
        if cli_name in table and api_name not in table:
            table[api_name] = table[cli_name]
    return table


def _value(text: str) -> Any:
    """The Python literal a reference holds (``"regression"``, ``100``, ``[8, 32]``), or the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _as_cli(flag: str, negative: str | None, text: str) -> str:
    if text == "...":
        return f"{flag} ..."
    value = _value(text)
    if isinstance(value, bool):
        return flag if value or negative is None else negative
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    if value is None:
        value = "none"
    if value == "\t":
        value = "tab"  # what --delimiter takes for a tab
    return f"{flag} {shlex.quote(str(value))}"


def to_cli(message: str, flags: Mapping[str, tuple[str, str | None]]) -> str:
    """``message`` with each option reference written as the CLI's flag and value."""

    def replace(match: re.Match[str]) -> str:
        name, text = match.group(1), match.group(2)
        if name not in flags:
            return match.group(0)
        flag, negative = flags[name]
        return f"`{_as_cli(flag, negative, text)}`"

    return _REFERENCE.sub(replace, message)
