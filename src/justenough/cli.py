"""The command line: a thin layer over the Python API.

Errors that are answers (``JustEnoughError``) print one message and exit with their status
(2 for bad input, 1 for run-time failures); a traceback only with ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.console import Console

from justenough import __version__
from justenough.errors import JustEnoughError

__all__ = ["app", "main"]

app = typer.Typer(
    name="justenough",
    help="Find the just-enough neural network: init schemes you can see, restarts as evidence, "
    "and the simplest depth x width that is good enough.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
_state = {"debug": False}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"justenough {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    _state["debug"] = debug


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the ``justenough`` executable."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False)
    except JustEnoughError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors and real failures
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2 if isinstance(exc, click.UsageError) else 1)
        if isinstance(exc, click.exceptions.Abort):
            err.print("aborted")
            sys.exit(130)
        if debug:
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n(run again with --debug for the traceback)", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
