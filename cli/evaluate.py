"""``matcher evaluate``: off-policy estimates of models and ranked files on logged history (§7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, console, out


@app.command()
def evaluate(
    data: Annotated[
        Path,
        typer.Option("--data", help="Folder of contract tables with logged history."),
    ],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Model URI or folder (repeatable; default: the champion)."),
    ] = None,
    ranked: Annotated[
        list[Path] | None,
        typer.Option("--ranked", help="`matcher rank` output (intake_id, therapist_id, rank)."),
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 5,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (policies and caveats).",
        ),
    ] = False,
) -> None:
    """Estimate each policy's good-outcome rate per intake from logged lists alone (IPS, SNIPS,
    PBM, PBM doubly robust and the choice-aware doubly robust ``choice_dr``, which models the
    client's single choice over the whole list), beside the logging policy's observed rate and
    the rules baseline."""
    import pandas as pd

    from core.settings import get_settings
    from features.dataset import load_dataset
    from training.model_uris import load_model_uri
    from training.offpolicy.evaluate import evaluate_policies
    from training.offpolicy.report import HEADLINE, OBSERVED

    settings = get_settings()
    uris = list(model) if model else [settings.model_uri]
    with console.status("loading"):
        dataset = load_dataset(data)
        models = {uri: load_model_uri(settings, uri) for uri in uris}
        files = {}
        for path in ranked or []:
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            missing = {"intake_id", "therapist_id", "rank"} - set(frame.columns)
            if missing:
                raise typer.BadParameter(f"{path.name}: missing column(s) {sorted(missing)}")
            files[str(path)] = frame
    with console.status("estimating"):
        report = evaluate_policies(dataset, models, files, top_k=top_k)
    if as_json:
        out.print_json(json.dumps(report.to_json()))
        return
    from rich.table import Table

    table = Table(title=f"good outcomes per intake, top-{top_k} (95% intervals)")
    for col in ("policy", "estimator", "value", "95% interval", "n"):
        table.add_column(col, justify="left" if col in ("policy", "estimator") else "right")
    for e in report.estimates:
        table.add_row(
            e.name,
            e.estimator,
            f"{e.value:.3f}",
            f"{e.ci_low:.3f} – {e.ci_high:.3f}",
            f"{e.n:,}",
            style="bold" if e.estimator in (HEADLINE, OBSERVED) else None,
        )
    out.print(table)
    out.print(
        f"headline estimator: {HEADLINE} (single-choice model over the list, "
        "doubly robust); the others are shown for comparison"
    )
    for caveat in report.caveats:
        out.print(f"[yellow]caveat:[/yellow] {caveat}")
