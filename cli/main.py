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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``matcher`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    show_warnings()
    try:
        app(args=args, standalone_mode=False)
    except (typer.Exit, click.exceptions.Exit) as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        console.print("aborted")
        sys.exit(130)
    except (typer.TyperException, click.ClickException) as exc:
        # typer ≥ 0.29 bundles its own click: its usage errors are TyperExceptions.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            console.print(f"[red]error:[/red] {exc}", highlight=False)
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
    except (OSError, ValueError) as exc:
        if debug:
            raise
        console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", highlight=False)
        sys.exit(1)


__all__ = ["main"]
