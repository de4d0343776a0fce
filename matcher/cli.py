"""The ``matcher`` command line — the composition root, the one module that imports every package.

Errors are one clear line and a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.console import Console

from features.errors import ConfigError, DataValidationError, MatcherError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import pandas as pd
    from rich.console import Group

    from features.dataset import Dataset
    from matcher.engine import Matcher
    from matcher.fairness import FairnessReport, Tradeoff
    from training.settings import Settings

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
    data: Annotated[Path | None, typer.Option("--data", help="Folder of SPEC §2 tables.")] = None,
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
    from rich.table import Table

    from training.config import TrainConfig
    from training.job import run_training
    from training.settings import get_settings

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


def _with_source(report: FairnessReport, source: str) -> FairnessReport:
    """The report with a first note saying where its figures come from."""
    import dataclasses

    return dataclasses.replace(report, notes=(f"Source: {source}.", *report.notes))


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
    formats to MATCHER_HOME/reports/ (served by GET /v1/reports/fairness).
    """
    from matcher.fairness import FairnessConfig, build_report
    from training.fairness import publish_report, report_format, write_report
    from training.settings import get_settings

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
        from features.errors import DataNotFoundError

        span = f"{since or 'the first request'} to {until or 'now'} (UTC)"
        with console.status("reading the service's logs"):
            db = open_database(settings.database)
            try:
                with db.session() as session:
                    inputs = load_fairness_inputs(session, start, end)
            finally:
                db.dispose()
        if inputs.intakes.empty:
            raise DataNotFoundError(
                f"no answered match requests in the service's database from {span}"
            )
        with console.status(f"bootstrap intervals over {len(inputs.intakes):,} requests"):
            report = build_report(inputs, config)
        report = _with_source(report, f"service logs, match requests received from {span}")
        tradeoff = None
    else:
        from features.dataset import load_dataset
        from matcher.engine import MatcherConfig
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
            serving = MatcherConfig(
                phase_one_size=settings.phase_one_size,
                load_penalty=settings.load_penalty,
                exposure_mitigation=settings.exposure_mitigation,
            )
            inputs = offline_inputs(served, dataset, truth=truth, matcher_config=serving)
            status.update("replaying exposure-aware re-ranking at 4 strengths")
            tradeoff = offline_tradeoff(inputs, config)
            status.update(f"bootstrap intervals over {len(inputs.intakes):,} held-out intakes")
            report = build_report(inputs, config, tradeoff=tradeoff)
        report = _with_source(
            report,
            f"offline, model {served.version} answering the held-out split of {folder}"
            + (" (scored against the world's truth)" if truth is not None else ""),
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


def _engine_loader(settings: Settings) -> Callable[[pd.DataFrame], Matcher]:
    """Loads the served model (registry or local copy) and builds a Matcher over a pool."""
    from matcher.engine import Matcher, MatcherConfig
    from training.registry import load_served_model

    config = MatcherConfig(
        phase_one_size=settings.phase_one_size,
        load_penalty=settings.load_penalty,
        exposure_mitigation=settings.exposure_mitigation,
    )

    def load(therapists: pd.DataFrame) -> Matcher:
        return Matcher(load_served_model(settings), therapists, config)

    return load


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from api import create_app

    app = create_app(settings, engine_loader=_engine_loader(settings))
    # uvicorn's access log prints raw paths (client ids): the service logs its own safe lines.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (MATCHER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (MATCHER_PORT).")] = None,
) -> None:
    """Run the HTTP service (OpenAPI docs at /docs)."""
    from training.settings import get_settings

    settings = get_settings()
    _serve(settings, host or settings.host, port or settings.port)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A name for the key (shown in logs).")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: matches, therapists, events, reports, admin.")
    ],
) -> None:
    """Create an API key; the secret is printed once and stored only as a hash."""
    from api import create_api_key, open_database
    from training.settings import get_settings

    db = open_database(get_settings().database)
    try:
        with db.session() as session:
            secret = create_api_key(session, name, [s.strip() for s in scopes.split(",") if s])
    finally:
        db.dispose()
    out.print(secret, highlight=False)
    console.print(f"key {name!r} created; store it now, it is not shown again")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    retrain: Annotated[bool, typer.Option(help="Train even if a champion exists.")] = False,
) -> None:
    """Sample world → validate → train → register → load therapists → API key → serve."""
    import time

    from api import create_api_key, open_database
    from api.storage import upsert_therapists
    from features.dataset import load_dataset
    from features.errors import ModelNotFoundError
    from training.config import TrainConfig
    from training.job import run_training
    from training.registry import load_served_model
    from training.settings import get_settings
    from training.synth import WorldConfig, generate_world

    settings = get_settings()
    data = SAMPLE_DATA
    if not (data / "therapists.csv").exists():
        data = settings.home / "sample"
        with console.status(f"generating a sample world in {data}"):
            generate_world(WorldConfig(n_therapists=300, n_intakes=6000, seed=7)).write(data)
    with console.status("validating"):
        dataset = load_dataset(data)
    out.print(
        f"[green]valid[/green] {data}: "
        + ", ".join(f"{n:,} {k}" for k, n in dataset.summary().items())
    )
    try:
        if retrain:
            raise ModelNotFoundError("retrain requested")
        version = load_served_model(settings).version
        out.print(f"serving the current champion {version}")
    except ModelNotFoundError:
        with console.status("training") as status:
            result = run_training(
                data,
                TrainConfig(),
                settings,
                progress=lambda step: status.update(f"training: {step}"),
            )
        metrics = ", ".join(
            f"{k} {result.metrics[k]:.3f}"
            for k in ("ndcg_at_5", "uplift_at_5")
            if k in result.metrics
        )
        decision = result.decision.reason if result.decision else ""
        out.print(f"trained {result.version}: {metrics} ({decision})")
    db = open_database(settings.database)
    try:
        with db.session() as session:
            upsert_therapists(session, dataset.therapists)
            session.commit()
            secret = create_api_key(session, f"demo-{int(time.time())}", ["admin"])
    finally:
        db.dispose()
    first = dataset.intakes.iloc[0]
    example = (
        '{"age_group": "adult", "region": "' + str(first["region"]) + '", '
        '"concerns": ["anxiety", "sleep"], "preferred_formats": ["video", "phone"], '
        '"languages": ["en"], "availability": ' + str(first["availability"][:6]) + ", "
        '"payment": "self_pay", "phq9": 9, "gad7": 11, "top_k": 3}'
    )
    out.print(f"\nAPI key (admin, shown once): [bold]{secret}[/bold]\n", highlight=False)
    out.print(
        f"curl -s -X POST http://{host}:{port}/v1/matches \\\n"
        f"  -H 'Authorization: Bearer {secret}' -H 'Content-Type: application/json' \\\n"
        f"  -d '{example}'\n",
        highlight=False,
    )
    out.print(f"OpenAPI docs: http://{host}:{port}/docs  (Ctrl-C to stop)")
    _serve(settings, host, port)


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


__all__ = ["app", "main"]
