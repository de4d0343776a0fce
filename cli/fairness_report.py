"""``matcher fairness-report``: the fairness report, offline or from the service's logs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import SAMPLE_DATA, app, console, out
from core.errors import ConfigError

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Group
    from sqlalchemy.orm import Session

    from matcher.fairness import FairnessReport, Provenance, Tradeoff


def _moment(text: str | None, option: str, *, end: bool = False) -> datetime | None:
    """An ISO 8601 date or time (UTC unless it says otherwise). A bare date is that day's
    midnight — for an end (``--until``) the next midnight, so the day is included."""
    from datetime import UTC, datetime, timedelta

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not an ISO 8601 date or time "
            "(e.g. 2025-03-01 or 2025-03-01T12:00Z)"
        ) from None
    if end and len(text) == len("2025-03-01"):
        moment += timedelta(days=1)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _tradeoff_tables(tradeoff: Tradeoff) -> Group:
    """The mitigation trade-off as two rich tables (one row per strength): benefit vs exposure
    concentration, then the exposure disparity per therapist attribute."""
    import math

    from rich.console import Group
    from rich.table import Table

    from matcher.fairness.report import scope_label

    def pct(value: float | None) -> str:
        return "—" if value is None or not math.isfinite(value) else f"{100 * value:+.1f}%"

    def num(value: float | None) -> str:
        return "—" if value is None or not math.isfinite(value) else f"{value:.3f}"

    def share(value: float | None) -> str:
        return "—" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"

    benefit = Table(
        title=f"exposure-aware re-ranking, offline replay: {tradeoff.n_intakes:,} intakes, "
        f"top {tradeoff.top_k}, {tradeoff.n_therapists:,} eligible therapists",
        caption="benefit: mean predicted (true) benefit of the top k; Gini and never shown: "
        "exposure across eligible therapists",
    )
    for column in ("strength", "benefit", "Δ benefit", "true benefit", "Δ true", "Gini"):
        benefit.add_column(column, justify="right")
    benefit.add_column("never shown", justify="right")
    disparity = Table(
        title="exposure disparity vs merit (share of attention to move between groups)"
    )
    disparity.add_column("strength", justify="right")
    for attribute in tradeoff.attributes:
        label = scope_label(attribute).removeprefix("Therapist ")
        disparity.add_column(label[:1].upper() + label[1:], justify="right")
    for row in tradeoff.rows:
        benefit.add_row(
            f"{row.strength:g}",
            num(row.benefit),
            pct(row.benefit_change),
            num(row.true_benefit),
            pct(row.true_benefit_change),
            num(row.gini),
            share(row.never_shown),
        )
        disparity.add_row(
            f"{row.strength:g}",
            *(share(row.exposure_disparity.get(a)) for a in tradeoff.attributes),
        )
    return Group(benefit, disparity)


def _with_source(report: FairnessReport, provenance: Provenance) -> FairnessReport:
    """The report with its provenance (shown at the top of the page) and a first note saying
    where its figures come from."""
    import dataclasses

    return dataclasses.replace(
        report, provenance=provenance, notes=(f"Source: {provenance.data}.", *report.notes)
    )


def _served_versions(session: Session, start: datetime | None, end: datetime | None) -> str | None:
    """Every model version that answered a match request shown in [start, end), comma-joined."""
    from sqlalchemy import select

    from api.storage import ImpressionRow

    query = select(ImpressionRow.model_version).where(ImpressionRow.source == "match").distinct()
    if start is not None:
        query = query.where(ImpressionRow.shown_at >= start)
    if end is not None:
        query = query.where(ImpressionRow.shown_at < end)
    versions = sorted(str(v) for v in session.scalars(query))
    return ", ".join(versions) or None


@app.command("fairness-report")
def fairness_report(
    out_file: Annotated[
        Path, typer.Option("--out", help="Report file: .html or .json (format by suffix).")
    ],
    from_db: Annotated[
        bool,
        typer.Option("--from-db", help="Online: the requests and events the service logged."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="With --from-db: first date/time received (ISO 8601, UTC), inclusive."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="With --from-db: last date (inclusive) or time (exclusive), UTC."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Offline: model URI or folder (default MATCHER_MODEL_URI)."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Offline: data folder (default: the shipped sample world)."),
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50, help="List depth judged.")] = 5,
    bootstrap: Annotated[int, typer.Option(min=1, help="Bootstrap resamples per interval.")] = 500,
) -> None:
    """Fairness report: do all client groups get equally good matches, do all therapist groups
    get exposure in line with merit, is anyone overloaded.

    Offline (default): the served model's answers to the held-out split of --data, with the
    trade-off of exposure-aware re-ranking. Online (--from-db): the match requests received in
    [--since, --until) and their logged lists and events. Writes --out and publishes both
    formats to MATCHER_HOME/reports/ as fairness-offline.{html,json} or
    fairness-online.{html,json}: one never replaces the other (GET /v1/reports/fairness serves
    them, ?source=offline|online|latest).
    """
    from core.settings import get_settings
    from matcher.fairness import FairnessConfig, Provenance, Source, build_report, data_window
    from training.fairness import publish_report, report_format, write_report

    report_format(out_file)  # an unusable suffix fails before any work
    if from_db and (model is not None or data is not None):
        raise ConfigError("--model and --data are for the offline report, not --from-db")
    if not from_db and (since is not None or until is not None):
        raise ConfigError("--since and --until need --from-db")
    start, end = _moment(since, "--since"), _moment(until, "--until", end=True)
    if start is not None and end is not None and start >= end:
        raise ConfigError("--since must be before --until")
    settings = get_settings()
    config = FairnessConfig(top_k=top_k, n_bootstrap=bootstrap)
    if from_db:
        from api import open_database
        from api.storage import load_fairness_inputs
        from core.errors import DataNotFoundError

        span = f"{since or 'the first request'} to {until or 'now'} (UTC)"
        with console.status("reading the service's logs"):
            db = open_database(settings.database)
            try:
                with db.session() as session:
                    inputs = load_fairness_inputs(session, start, end)
                    versions = _served_versions(session, start, end)
            finally:
                db.dispose()
        if inputs.intakes.empty:
            raise DataNotFoundError(
                f"no answered match requests in the service's database from {span}"
            )
        with console.status(f"bootstrap intervals over {len(inputs.intakes):,} requests"):
            report = build_report(inputs, config)
        report = _with_source(
            report,
            Provenance(
                Source.ONLINE,
                versions,
                *data_window(inputs.intakes),
                f"service logs, match requests received from {span}",
            ),
        )
        tradeoff = None
    else:
        from features.dataset import load_dataset
        from training.fairness import offline_inputs, offline_tradeoff
        from training.job import load_truth
        from training.registry import load_served_model

        if model is not None:
            settings = settings.model_copy(update={"model_uri": model})
        folder = data or SAMPLE_DATA
        with console.status(f"loading {folder}") as status:
            dataset = load_dataset(folder)
            truth = load_truth(folder)
            status.update(f"loading the model {settings.model_uri}")
            served = load_served_model(settings)
            status.update(f"answering the held-out intakes with {served.version}")
            inputs = offline_inputs(served, dataset, truth=truth, matcher_config=settings.serving)
            status.update("replaying exposure-aware re-ranking at 4 strengths")
            tradeoff = offline_tradeoff(inputs, config)
            status.update(f"bootstrap intervals over {len(inputs.intakes):,} held-out intakes")
            report = build_report(inputs, config, tradeoff=tradeoff)
        report = _with_source(
            report,
            Provenance(
                Source.OFFLINE,
                served.version,
                *data_window(inputs.intakes),
                f"offline, model {served.version} answering the held-out split of {folder}"
                + (" (scored against the world's truth)" if truth is not None else ""),
            ),
        )
    write_report(report, out_file)
    published = publish_report(report, settings.home / "reports")
    counts = report.level_counts()
    out.print(
        f"{counts['fail']} fail, {counts['warn']} warn, {counts['pass']} pass "
        f"({report.counts['intakes']:,} requests, {report.counts['therapists']:,} therapists)"
    )
    for headline in report.headlines():
        colour = "red" if headline.level.value == "fail" else "yellow"
        out.print(f"[{colour}]{headline.level.value}[/{colour}] {headline.text}", highlight=False)
    if tradeoff is not None:
        out.print(_tradeoff_tables(tradeoff))
    out.print(
        f"[green]wrote[/green] {out_file}; published {published['html']} and {published['json']}"
    )
