"""Liveness, readiness and Prometheus metrics (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> Health:
    """200 while the process serves HTTP."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when a model is loaded and the database answers; 503 (with reasons) otherwise."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        body = Readiness(status="not_ready", reasons=["starting"])
        return JSONResponse(status_code=503, content=body.model_dump())
    reasons = []
    loaded = runtime.engines.current
    if loaded is None:
        reasons.append("no model loaded")
    if not await run_in_threadpool(runtime.database.ping):
        reasons.append("database unavailable")
    body = Readiness(
        status="not_ready" if reasons else "ready",
        model_version=None if loaded is None else loaded.version,
        reasons=reasons,
    )
    return JSONResponse(status_code=503 if reasons else 200, content=body.model_dump())


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """Request counts and latency by route and status, model version, match statuses."""
    rendered = request.app.state.metrics.render()
    return Response(content=rendered, media_type=CONTENT_TYPE_LATEST)


__all__ = ["router"]
