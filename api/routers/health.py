"""Liveness, readiness and Prometheus metrics (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.routers.model import COLD_START
from api.runtime import Runtime
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> Health:
    """200 while the process serves HTTP."""
    return Health(status="ok")


def readiness_problems(runtime: Runtime) -> list[str]:
    """Every reason this process should not receive traffic (empty: ready)."""
    reasons = []
    loaded = runtime.engines.current
    problem = runtime.engines.problem
    if loaded is None:
        reasons.append("no model loaded" + (f": {problem}" if problem else ""))
    else:
        if problem:
            reasons.append(
                f"configured model cannot be resolved ({problem}); still serving {loaded.version}"
            )
        if loaded.stale_from is not None:
            reasons.append(f"model {loaded.version} is stale, from {loaded.stale_from}")
    experiment = runtime.engines.experiment
    if experiment is not None and experiment.problem:
        reasons.append(f"experiment {experiment.config.name}: {experiment.problem}")
    if not runtime.database.ping():
        reasons.append("database unavailable")
    else:
        writable = runtime.not_writable()
        if writable:
            reasons.append(writable)
    return reasons


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the configured model is loaded (not a stale fallback copy) — or, before any
    model is registered, the rules baseline (`detail` says cold start) — and the database
    answers and takes writes; 503 with every reason otherwise."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        body = Readiness(status="not_ready", reasons=["starting"])
        return JSONResponse(status_code=503, content=body.model_dump())
    reasons = await run_in_threadpool(readiness_problems, runtime)
    loaded = runtime.engines.current
    body = Readiness(
        status="not_ready" if reasons else "ready",
        model_version=None if loaded is None else loaded.version,
        reasons=reasons,
        detail=_detail(runtime),
    )
    return JSONResponse(status_code=503 if reasons else 200, content=body.model_dump())


EMPTY_POOL = "no therapists loaded: every match answers no_eligible_match until the pool is loaded"


def _detail(runtime: Runtime) -> str | None:
    """What a ready process still wants an operator to know: a cold start, an empty pool (not
    a reason to pull it from traffic: the pool is loaded through this same API)."""
    loaded = runtime.engines.current
    notes = [COLD_START] if loaded is not None and loaded.cold_start else []
    if loaded is not None and len(runtime.engines.pool) == 0:
        notes.append(EMPTY_POOL)
    return "; ".join(notes) or None


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
