"""``matcher train``: the training job from a folder or the service's database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box

from cli.app import app, console, out

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from features.dataset import Dataset


SHOWN = {
    "uplift_at_1": "uplift@1",
    "uplift_at_5": "uplift@5",
    "ndcg_at_5": "ndcg@5 *",
}
"""The scorecard columns printed (the run's evaluation.json in MLflow holds every column)."""


def _scorecard_table(scorecard: pd.DataFrame, version: str) -> Table:
    """The held-out scorecard in 80 columns: headline columns only, rows with figures only."""
    from rich.table import Table

    cols = [c for c in SHOWN if c in scorecard.columns]
    table = Table(
        title=f"held-out validation, {version}",
        caption="* ndcg counts clicks, not outcomes · all columns: MLflow evaluation.json",
        box=box.SIMPLE,
    )
    table.add_column("ranker")
    for c in cols:
        table.add_column(SHOWN[c], justify="right")
    for name, row in scorecard[cols].dropna(how="all").iterrows():
        table.add_row(str(name), *("" if row[c] != row[c] else f"{row[c]:.3f}" for c in cols))
    return table


@app.command()
def train(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Folder of contract tables (docs/data-contract.md)."),
    ] = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="Train on what the service logged.")
    ] = False,
    config: Annotated[Path | None, typer.Option(help="JSON/TOML TrainConfig file.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the config's seed.")] = None,
    promote: Annotated[
        bool | None, typer.Option("--promote/--no-promote", help="Force the promotion decision.")
    ] = None,
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
) -> None:
    """Train, evaluate against baselines, log to MLflow, register, gate promotion."""
    from core.settings import get_settings
    from training.config import TrainConfig
    from training.job import run_training

    if (data is None) == (not from_db):
        raise typer.BadParameter("give exactly one of --data DIR or --from-db")
    if engine not in ("local", "dask"):
        raise typer.BadParameter("--engine must be local or dask")
    if engine == "dask" and not scheduler:
        raise typer.BadParameter("--engine dask needs --scheduler ADDR")
    client = None
    if engine == "dask":
        from distributed import Client

        client = Client(scheduler, timeout="20s")
    cfg = TrainConfig.from_file(config) if config else TrainConfig()
    if seed is not None:
        cfg = cfg.with_overrides(seed=seed)
    source: Path | Dataset
    if from_db:
        from api import export_database

        with console.status("exporting the service's logs"):
            source = export_database(get_settings().database)
    else:
        assert data is not None
        source = data
    with console.status("training") as status:
        result = run_training(
            source,
            cfg,
            get_settings(),
            promote_override=promote,
            progress=lambda step: status.update(f"training: {step}"),
            client=client,
        )
    if client is not None:
        client.close()
    out.print(_scorecard_table(result.scorecard, str(result.version)))
    decision = result.decision
    if decision is not None:
        verdict = "promoted to @champion" if decision.promoted else "not promoted"
        out.print(f"{result.version}: {verdict} — {decision.reason}")
    from training.promotion import summary_lines

    counts = result.fairness.level_counts() if result.fairness is not None else None
    out.print("[bold]summary[/bold]")
    for line in summary_lines(
        result.evidence,
        None if decision is None else decision.promoted,
        "" if decision is None else decision.reason,
        counts,
    ):
        out.print(f"  {line}", highlight=False)
    out.print(
        f"run {result.run_id}; timings "
        + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    )
