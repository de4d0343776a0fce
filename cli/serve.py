"""``matcher serve`` and ``matcher demo``: the HTTP service, alone or after a sample run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import SAMPLE_DATA, app, console, out

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from fastapi import FastAPI

    from core.settings import Settings
    from matcher.engine import Matcher
    from matcher.model import MatchModel


def _engine_loader(settings: Settings) -> Callable[[pd.DataFrame], Matcher]:
    """Loads the served model (registry or local copy) and builds a Matcher over a pool.

    Cold start: while nothing is registered under the champion alias (and
    ``settings.cold_start``), the Matcher ranks by the rules baseline (:class:`RulesModel`,
    version ``rules``), unless the database shows lists served by a registered model (the
    tracking store moved or was lost: not-ready instead); every other unresolvable URI raises
    as before.
    """
    import logging

    from core.errors import ModelNotFoundError, NoModelRegisteredError
    from matcher.engine import Matcher
    from matcher.rules import RulesModel
    from training.registry import load_served_model

    rules: list[RulesModel] = []  # built once per process, on the first cold load

    def load(therapists: pd.DataFrame) -> Matcher:
        try:
            model: MatchModel | RulesModel = load_served_model(settings)
        except NoModelRegisteredError as err:
            if not settings.cold_start:
                raise
            served = _served_before(settings)
            if served is not None:
                # Not a new install: the registry it served from is gone or moved.
                raise ModelNotFoundError(
                    f"{err}; this database has served {served} before, so this is not a cold "
                    "start: is MATCHER_TRACKING_URI (or MLFLOW_TRACKING_URI) pointing at the "
                    "tracking store it was trained into?"
                ) from err
            if not rules:
                rules.append(RulesModel())
                logging.getLogger("api").info(
                    "cold start: %s; ranking by the rules baseline until a model is registered",
                    err,
                )
            model = rules[0]
        return Matcher(model, therapists, settings.serving)

    return load


def _served_before(settings: Settings) -> str | None:
    """A registered model version this install's database has shown lists from (None when it
    has only ever served the rules baseline): the cold start is for new installs only."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from api.storage import ImpressionRow, open_database
    from matcher.rules import RULES_VERSION

    database = open_database(settings.database, migrate=False)
    try:
        with database.read_session() as session:
            return session.scalar(
                select(ImpressionRow.model_version)
                .where(ImpressionRow.model_version != RULES_VERSION)
                .limit(1)
            )
    except SQLAlchemyError:
        return None  # the service's own startup reports an unusable database
    finally:
        database.dispose()


def _arm_loader(settings: Settings) -> Callable[[str, pd.DataFrame], Matcher]:
    """Builds the engine of an experiment arm: the rules scorer (``rules``) or the model at a
    registry URI (loaded without touching the served model's local copy)."""
    from matcher.engine import Matcher
    from matcher.rules import RULES_VERSION, RulesModel
    from training.model_uris import load_model_uri

    rules: list[RulesModel] = []

    def load(uri: str, therapists: pd.DataFrame) -> Matcher:
        if uri == RULES_VERSION:
            if not rules:
                rules.append(RulesModel())
            return Matcher(rules[0], therapists, settings.serving)
        return Matcher(load_model_uri(settings, uri), therapists, settings.serving)

    return load


def ensure_port_free(host: str, port: int) -> None:
    """Fail before doing any work (training, minting a key) when the port is taken."""
    import socket

    from core.errors import ConfigError

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); pass --port to use another"
            ) from None


def limit_blas_threads() -> None:
    """Give this process one BLAS thread (OpenBLAS's default is one per core).

    A server process parallelises across requests and ``--workers`` processes. Matching several
    intakes in one call (``/v1/matches/allocate``, a cohort on a large regional pool) runs
    matrix-vector products that are large enough for OpenBLAS to spread them over every core.
    On a 2-core machine that doubled the CPU time of such a call and barely changed its wall
    time (``match_frame`` of 8 intakes on a 20,000-therapist region: 99–103 ms CPU and 52–55 ms
    wall with the default threads, 51 ms of each with one). The second core's time was taken
    from the other requests and workers.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def build_app() -> FastAPI:
    """The service as ``matcher serve`` runs it, from the environment's settings (the factory
    each ``--workers`` process calls)."""
    from core.settings import get_settings

    limit_blas_threads()
    return build_app_from(get_settings())


def build_app_from(settings: Settings) -> FastAPI:
    """The service over ``settings``: the real engine, arm loader and experiment report."""
    from api import create_app
    from training.experiment_report import experiment_report

    return create_app(
        settings,
        engine_loader=_engine_loader(settings),
        arm_loader=_arm_loader(settings),
        experiment_report=experiment_report,
        freeze_heap=True,
    )


def run_app(app: FastAPI | str, host: str, port: int, *, workers: int = 1) -> None:
    """Run ``app`` (or, for several workers, the import string of an app factory) under
    uvicorn with the scrubbing JSON log configuration and uvicorn's raw-path access log off."""
    import uvicorn

    from api.logsafe import server_log_config

    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers if isinstance(app, str) else None,
        factory=isinstance(app, str),
        access_log=False,
        log_config=server_log_config("info"),
        timeout_graceful_shutdown=30,
    )


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    from api.storage.database import check_database

    check_database(settings.database).dispose()  # a bad database stops here, in one line
    if workers > 1:
        run_app("cli.serve:build_app", host, port, workers=workers)
        return

    limit_blas_threads()
    run_app(build_app_from(settings), host, port)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (MATCHER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (MATCHER_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Server processes on one port (MATCHER_WORKERS).")
    ] = None,
) -> None:
    """Run the HTTP service (OpenAPI docs at /docs).

    With ``--workers N`` N processes share the port and the database; changes made through any
    of them reach the others within ``MATCHER_SYNC_INTERVAL`` seconds (docs/deployment.md).
    """
    from core.settings import get_settings

    settings = get_settings()
    _serve(settings, host or settings.host, port or settings.port, workers or settings.workers)


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
    from core.errors import ModelNotFoundError
    from core.settings import get_settings
    from features.dataset import load_dataset
    from synth import WorldConfig, generate_world
    from training.config import TrainConfig
    from training.job import run_training
    from training.registry import load_served_model

    settings = get_settings()
    ensure_port_free(host, port)
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
