"""Entry point: runs the app and turns domain errors into one line and an exit code."""

from __future__ import annotations

import sys

import click
import typer

import cli.commands  # noqa: F401  (registers every command)
from cli.app import MAX_PROBLEMS_SHOWN, app, console, show_warnings
from core.errors import DataValidationError, MatcherError


def _report_problems(err: DataValidationError) -> None:
    for problem in err.problems[:MAX_PROBLEMS_SHOWN]:
        console.print(f"[red]error:[/red] {problem}", highlight=False)
    if len(err.problems) > MAX_PROBLEMS_SHOWN:
        console.print(f"… and {len(err.problems) - MAX_PROBLEMS_SHOWN} more problem(s)")


def _usage_line(exc: Exception) -> str:
    """A usage error as one line: what is wrong and where to read more."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = " ".join(message.split())
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "matcher"
    return f"{message} (see `{command} --help`)"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``matcher`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    show_warnings()
    try:
        app(args=args, standalone_mode=False, prog_name="matcher")
    except (typer.Exit, click.exceptions.Exit) as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        console.print("aborted")
        sys.exit(130)
    except (typer.TyperException, click.ClickException) as exc:
        # typer ≥ 0.29 bundles its own click: its usage errors are TyperExceptions.
        if debug:
            raise
        console.print(f"[red]error:[/red] {_usage_line(exc)}", highlight=False)
        sys.exit(getattr(exc, "exit_code", 2))
    except DataValidationError as exc:
        if debug:
            raise
        _report_problems(exc)
        sys.exit(1)
    except MatcherError as exc:
        if debug:
            raise
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        console.print(f"[red]error:[/red] {where}{exc.strerror or exc}", highlight=False)
        sys.exit(1)
    except ValueError as exc:
        if debug:
            raise
        console.print(f"[red]error:[/red] {str(exc).splitlines()[0]}", highlight=False)
        sys.exit(1)


__all__ = ["main"]
