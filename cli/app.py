"""The typer application and the consoles every command module shares."""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="matcher",
    help="Therapist matching engine: synthesise, validate, train, rank, serve, audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

MAX_PROBLEMS_SHOWN = 50
SAMPLE_DATA = Path(__file__).resolve().parent.parent / "data" / "sample"


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Therapist matching engine."""


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
"""Terminal escape codes some libraries put inside their messages."""


def show_warnings() -> None:
    """Print warnings as one yellow line each (no source line, no escape codes), and keep the
    libraries' INFO chatter (MLflow's "creating tables") out of the user's terminal."""

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        text = ANSI.sub("", str(message)).strip()
        console.print(f"[yellow]warning:[/yellow] {text}", highlight=False, markup=False)

    warnings.showwarning = show  # type: ignore[assignment]
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # read when mlflow is imported
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


__all__ = [
    "MAX_PROBLEMS_SHOWN",
    "SAMPLE_DATA",
    "app",
    "console",
    "keys_app",
    "out",
    "show_warnings",
]
