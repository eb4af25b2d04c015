"""The typer app, its root options and the entry point: errors print one line and exit with
their status (2 for bad input, 1 for run-time failures); usage errors exit with 2; a traceback
only with ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer
from rich.console import Console

from justenough import __version__
from justenough.errors import JustEnoughError

__all__ = ["app", "main", "cli_text", "err", "out_console"]

app = typer.Typer(
    name="justenough",
    help="Find the just-enough neural network: init schemes you can see, restarts as evidence, "
    "and the simplest depth x width that is good enough.\n\n"
    "Example: justenough search iris --depth 1-2 --widths 8,16,32",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
err = Console(stderr=True, soft_wrap=True)  # one message, one line: no wrapping at 80 columns
_state = {"debug": False}


def out_console() -> Console:
    """stdout; a log (not a terminal) gets wide lines so tables are not squeezed to 80 columns."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=160)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"justenough {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors (may also follow the command)."),
) -> None:
    _state["debug"] = debug


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the ``justenough`` executable."""
    args = list(sys.argv[1:] if argv is None else argv)
    from justenough.cli.stdout import guard_stdout

    guard_stdout()  # `justenough search ... | head`: a reader that leaves must not stop the search
    debug = "--debug" in args
    if debug:
        # --debug is an option of the root command; accept it anywhere on the line.
        args = ["--debug", *[a for a in args if a != "--debug"]]
    try:
        app(args=args, prog_name="justenough", standalone_mode=False)
    except JustEnoughError as exc:
        if debug:
            raise
        # An error that knows its command-line wording (preflight.MemoryBudgetError) uses it.
        err.print(f"[bold red]error:[/] {cli_text(str(getattr(exc, 'cli_message', exc)))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors and real failures
        # Usage errors come from the click that typer uses (its own copy in typer >= 0.2x): they
        # show themselves and carry their exit code (2 for usage, 1 otherwise).
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            _print_usage_error(exc)
            sys.exit(code)
        if debug:
            raise
        if isinstance(exc, OSError) and exc.strerror:
            where = f": {exc.filename}" if exc.filename else ""
            err.print(f"[bold red]error:[/] {exc.strerror}{where}", highlight=False)
            sys.exit(1)
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n(run again with --debug for the traceback)", highlight=False)
        sys.exit(1)


def _print_usage_error(exc: Exception) -> None:
    """click's usage error as one line, in the style of every other error: ``error: ...``."""
    format_message = getattr(exc, "format_message", None)
    message = " ".join(str(format_message() if callable(format_message) else exc).split())
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "justenough"
    err.print(f"[bold red]error:[/] {message} (see `{path} --help`)", highlight=False)


def cli_text(message: str) -> str:
    """``message`` with its option references (``errors.option``) written as this CLI's flags."""
    from justenough.cli.language import flag_table, to_cli

    if "flags" not in _FLAGS:
        group = typer.main.get_command(app)
        _FLAGS["flags"] = flag_table(getattr(group, "commands", {}).values())
    return to_cli(message, _FLAGS["flags"])


_FLAGS: dict[str, Any] = {}
