"""``matcher serve`` and ``matcher demo``: the HTTP service, alone or after a sample run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import SAMPLE_DATA, app, console, out

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from core.settings import Settings
    from matcher.engine import Matcher


def _engine_loader(settings: Settings) -> Callable[[pd.DataFrame], Matcher]:
    """Loads the served model (registry or local copy) and builds a Matcher over a pool."""
    from matcher.engine import Matcher, MatcherConfig
    from training.registry import load_served_model

    config = MatcherConfig(
        phase_one_size=settings.phase_one_size,
        load_penalty=settings.load_penalty,
        exposure_mitigation=settings.exposure_mitigation,
        exploration=settings.exploration,
        exploration_tolerance=settings.exploration_tolerance,
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
    from core.settings import get_settings

    settings = get_settings()
    _serve(settings, host or settings.host, port or settings.port)


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
