"""``matcher experiment-report``: the experiment report from the service's database (§7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, console, out


@app.command("experiment-report")
def experiment_report_command(
    experiment: Annotated[
        str | None,
        typer.Option("--experiment", help="Experiment name (default: the active, else newest)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--out", help="Also write the report as a HTML page.")
    ] = None,
) -> None:
    """Per arm of an experiment: requests, lists, choices, retained ≥ 4, reliable improvement
    and mean alliance with 95% intervals, the difference to the champion, and an off-policy
    estimate for shadow arms (reads MATCHER_DATABASE_URL; see docs/experiments.md)."""
    from api import open_database
    from api.storage.experiments import experiment_log
    from core.errors import ConfigError
    from core.settings import get_settings
    from reports.experiments import render_html, report_json
    from training.experiment_report import experiment_report

    settings = get_settings()
    with console.status("reading the experiment logs"):
        database = open_database(settings.database)
        try:
            with database.read_session() as session:
                log = experiment_log(session, experiment)
        finally:
            database.dispose()
    if log is None:
        which = f" named {experiment!r}" if experiment else ""
        raise ConfigError(f"no experiment{which} in {settings.database}")
    report = experiment_report(log)
    if html is not None:
        html.write_text(render_html(report), encoding="utf-8")
    if as_json:
        out.print_json(json.dumps(report_json(report)))
        return
    from rich.table import Table

    from reports.experiments.html import interval

    arms = Table(title=f"experiment {report.experiment}: arms")
    for col in ("arm", "model", "requests", "lists", "outcomes", "status"):
        arms.add_column(
            col, justify="right" if col in ("requests", "lists", "outcomes") else "left"
        )
    for a in report.arms:
        arms.add_row(
            a.arm + (" (shadow)" if a.shadow else ""),
            ", ".join(a.model_versions) or "-",
            f"{a.requests:,}",
            f"{a.lists:,}",
            f"{a.outcomes:,}",
            "enough data" if a.enough_data else (a.note or ""),
        )
    out.print(arms)
    table = Table(title="outcomes per intake with a list (95% intervals)")
    for col in ("arm", "outcome", "estimate", "arm − champion"):
        table.add_column(col, justify="left" if col in ("arm", "outcome") else "right")
    for a in report.arms:
        for m in a.metrics:
            rate = m.metric != "alliance"
            table.add_row(
                a.arm,
                m.label,
                interval(m.estimate, rate=rate),
                interval(m.difference, rate=rate, signed=True) if m.difference else "-",
            )
        if a.off_policy is not None:
            table.add_row(
                a.arm,
                f"good outcome, off-policy ({a.off_policy.estimator})",
                interval(a.off_policy.estimate),
                f"shown: {interval(a.off_policy.logged)}",
            )
    out.print(table)
    for caveat in report.caveats:
        out.print(f"[yellow]caveat:[/yellow] {caveat}")
    if html is not None:
        out.print(f"wrote {html}")
