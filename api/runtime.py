"""Everything a running app holds: settings, database, served engine, limiter, metrics."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import pandas as pd

from api.auth import Authenticator
from api.engine_port import EngineLoader
from api.engine_state import EngineState
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.storage.database import Database
from api.storage.therapists import load_pool
from core.settings import Settings

log = logging.getLogger("api")


@dataclass
class Runtime:
    """The services behind the routes (built by the app's lifespan)."""

    settings: Settings
    database: Database
    engines: EngineState
    keys: Authenticator
    limiter: RateLimiter
    metrics: Metrics
    match_slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2)
    )
    """Bounds how many CPU-bound matches run at once (``Settings.match_concurrency``)."""

    def read_pool(self) -> pd.DataFrame:
        """The active therapists as stored (a typed frame)."""
        with self.database.session() as session:
            return load_pool(session)


def start_runtime(
    settings: Settings, loader: EngineLoader | None, metrics: Metrics, limiter: RateLimiter
) -> Runtime:
    """Open and migrate the database, read the pool and load the engine once.

    A failing loader does not stop the service: it starts unready (``/readyz`` 503) and a later
    ``POST /v1/model/reload`` can load the model.
    """
    database = Database.open(settings.database)
    with database.session() as session:
        pool = load_pool(session)
    engines = EngineState(
        loader,
        settings.model_uri,
        pool,
        on_change=lambda loaded: metrics.set_model(None if loaded is None else loaded.version),
    )
    runtime = Runtime(
        settings,
        database,
        engines,
        Authenticator(database),
        limiter,
        metrics,
        threading.BoundedSemaphore(settings.match_concurrency),
    )
    metrics.set_model(None)
    if loader is None:
        log.warning("no engine loader configured: serving without a model")
        return runtime
    try:
        loaded = engines.load(runtime.read_pool)
    except Exception as err:
        log.warning("model not loaded (%s: %s); /readyz stays 503", type(err).__name__, err)
    else:
        log.info("serving model %s over %d therapists", loaded.version, len(engines.pool))
    return runtime


__all__ = ["Runtime", "start_runtime"]
