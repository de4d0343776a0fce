"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from api.engine_port import ArmLoader, EngineLoader, ExperimentReporter
from api.errors import install_error_handlers
from api.heap import freeze_startup_heap
from api.logsafe import install_scrubbing
from api.methods import install_method_not_allowed
from api.metrics import Metrics
from api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from api.ratelimit import RateLimiter
from api.routers import ROUTERS
from api.runtime import start_runtime
from api.schemas.contract import with_code_lists
from core.settings import Settings, get_settings

log = logging.getLogger("api")

DESCRIPTION = """Ranked, explained, capacity-aware therapist matches for client intakes.

Every `/v1` route needs `Authorization: Bearer <key>` with the route's scope (`matches`,
`therapists`, `events`, `reports`, `admin`; `admin` implies all). Invalid input gets a 422 naming
the field and the allowed values.
"""


def _with_code_lists(app: FastAPI) -> None:
    """Add the ISO code lists the contract fields refer to as OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_code_lists(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    engine_loader: EngineLoader | None = None,
    arm_loader: ArmLoader | None = None,
    experiment_report: ExperimentReporter | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """Build the service.

    On startup the lifespan opens the database (migrating it to head), reads the therapist pool
    and calls ``engine_loader`` once with it. Without a loader, or if it fails, the service runs
    unready (``/readyz`` 503, matches 503) until ``POST /v1/model/reload`` succeeds.
    ``arm_loader`` builds the engines of experiment arms (without it, experiments are refused);
    ``experiment_report`` computes ``GET /v1/reports/experiments``. ``freeze_heap`` (for a
    process that runs this one app, as ``matcher serve`` does) freezes the heap once startup is
    done (:func:`api.heap.freeze_startup_heap`).
    """
    settings = settings or get_settings()
    install_scrubbing()
    metrics = Metrics()
    limiter = RateLimiter(settings.rate_limit_per_minute)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await anyio.to_thread.run_sync(
            start_runtime, settings, engine_loader, metrics, limiter, arm_loader
        )
        runtime.experiment_report = experiment_report
        app.state.runtime = runtime
        if freeze_heap:
            frozen = freeze_startup_heap()
            log.debug("startup heap frozen: %d objects", frozen)
        try:
            yield
        finally:
            app.state.runtime = None
            runtime.close()

    # The docs pages load Swagger UI and ReDoc from the installed package, never from a CDN.
    app = FastAPIOffline(
        title="Therapist matcher",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    _with_code_lists(app)
    app.state.metrics = metrics
    app.state.runtime = None
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    install_method_not_allowed(app)
    # Added innermost first: RequestContext (outermost) → CORS → body size limit → routes.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


__all__ = ["create_app"]
