"""The ``matcher`` command line — the composition root, the one module that imports every package.

Errors are one clear line and a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console

from features.errors import DataValidationError, MatcherError

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


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Therapist matching engine."""


def _show_warnings() -> None:
    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        console.print(f"[yellow]warning:[/yellow] {message}")

    warnings.showwarning = show  # type: ignore[assignment]


@app.command()
def validate(
    folder: Annotated[Path, typer.Argument(help="Folder with therapists/intakes/interactions.")],
) -> None:
    """Check a data folder against the data contract; every problem on its own line."""
    from features.dataset import load_dataset

    dataset = load_dataset(folder)
    counts = ", ".join(f"{n:,} {name}" for name, n in dataset.summary().items())
    out.print(f"[green]ok[/green] {folder}: {counts}")


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the world to.")],
    therapists: Annotated[int, typer.Option(min=10, help="Number of therapists.")] = 300,
    intakes: Annotated[int, typer.Option(min=10, help="Number of intakes.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same world).")] = 0,
) -> None:
    """Generate a synthetic world (tables + hidden truth) calibrated to SPEC §5."""
    from features.dataset import load_dataset
    from training.synth import WorldConfig, generate_world

    with console.status("generating world"):
        world = generate_world(WorldConfig(n_therapists=therapists, n_intakes=intakes, seed=seed))
        world.write(out_dir)
    dataset = load_dataset(out_dir)
    counts = ", ".join(f"{n:,} {name}" for name, n in dataset.summary().items())
    out.print(f"[green]wrote[/green] {out_dir}: {counts} (validated)")


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", help="Folder of SPEC §2 tables.")],
    config: Annotated[Path | None, typer.Option(help="JSON/TOML TrainConfig file.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the config's seed.")] = None,
    promote: Annotated[
        bool | None, typer.Option("--promote/--no-promote", help="Force the promotion decision.")
    ] = None,
) -> None:
    """Train, evaluate against baselines, log to MLflow, register, gate promotion."""
    from rich.table import Table

    from training.config import TrainConfig
    from training.job import run_training
    from training.settings import get_settings

    cfg = TrainConfig.from_file(config) if config else TrainConfig()
    if seed is not None:
        cfg = cfg.with_overrides(seed=seed)
    with console.status("training") as status:
        result = run_training(
            data,
            cfg,
            get_settings(),
            promote_override=promote,
            progress=lambda step: status.update(f"training: {step}"),
        )
    table = Table(title=f"validation ({result.version})")
    table.add_column("ranker")
    cols = [c for c in result.scorecard.columns if c.startswith(("ndcg", "uplift"))]
    for c in cols:
        table.add_column(c, justify="right")
    for name, row in result.scorecard.iterrows():
        table.add_row(str(name), *("" if row[c] != row[c] else f"{row[c]:.3f}" for c in cols))
    out.print(table)
    decision = result.decision
    if decision is not None:
        verdict = "promoted to @champion" if decision.promoted else "not promoted"
        out.print(f"{result.version}: {verdict} — {decision.reason}")
    out.print(
        f"run {result.run_id}; timings "
        + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    )


@app.command()
def rank(
    data: Annotated[Path, typer.Option("--data", help="Folder with therapists.csv/.parquet.")],
    intakes: Annotated[Path, typer.Option("--intakes", help="Intakes file (CSV/Parquet).")],
    out_file: Annotated[Path, typer.Option("--out", help="Output .csv or .parquet.")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 10,
) -> None:
    """Rank therapists for a file of intakes with the served model and the API's rules."""
    import pandas as pd

    from features.dataset import find_table, load_table
    from features.schemas import INTAKES, THERAPISTS
    from matcher.engine import Matcher
    from training.registry import load_served_model
    from training.settings import get_settings

    settings = get_settings()
    therapists = load_table(find_table(data, "therapists"), THERAPISTS)
    frame = load_table(intakes, INTAKES)
    model = load_served_model(settings)
    matcher = Matcher(model, therapists)
    rows: list[dict[str, object]] = []
    with console.status(f"ranking {len(frame):,} intakes"):
        for start in range(0, len(frame), 2000):
            for result in matcher.match_frame(frame.iloc[start : start + 2000], top_k=top_k):
                rows += [
                    {
                        "intake_id": result.intake_id,
                        "therapist_id": m.therapist_id,
                        "rank": m.rank,
                        "score": m.score,
                    }
                    for m in result.matches
                ]
    table = pd.DataFrame(rows, columns=["intake_id", "therapist_id", "rank", "score"])
    if out_file.suffix not in (".csv", ".parquet"):
        raise typer.BadParameter("--out must end in .csv or .parquet")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".partial")
    if out_file.suffix == ".parquet":
        table.to_parquet(tmp, index=False)
    else:
        table.to_csv(tmp, index=False)
    tmp.replace(out_file)
    out.print(
        f"[green]wrote[/green] {out_file}: {len(table):,} rows "
        f"for {len(frame):,} intakes ({model.version})"
    )


def _report_problems(err: DataValidationError) -> None:
    for problem in err.problems[:MAX_PROBLEMS_SHOWN]:
        console.print(f"[red]error:[/red] {problem}", highlight=False)
    if len(err.problems) > MAX_PROBLEMS_SHOWN:
        console.print(f"… and {len(err.problems) - MAX_PROBLEMS_SHOWN} more problem(s)")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``matcher`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    _show_warnings()
    try:
        app(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        console.print("aborted")
        sys.exit(130)
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


__all__ = ["app", "main"]
