"""``Annotated`` dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import Principal, Scope
from api.engine_state import LoadedEngine
from api.runtime import Runtime
from core.settings import Settings

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="`Authorization: Bearer <key>`; create keys with `matcher keys create`.",
)


async def get_runtime(request: Request) -> Runtime:
    """The app's runtime (503 while the app is starting).

    Dependencies that do no I/O are ``async`` so they run on the event loop instead of
    hopping through the thread pool (each hop costs GIL contention under load).
    """
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise HTTPException(status_code=503, detail="service starting")
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings_dep(runtime: RuntimeDep) -> Settings:
    """The settings the app runs with."""
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A database session for one request (routes commit explicitly).

    Opening a session does no I/O, nor does closing one whose work was committed, so both run
    on the event loop; a session left mid-transaction (the route failed) is rolled back and
    closed in the thread pool, shielded from cancellation so its connection is always released.
    """
    session = runtime.database.new_session()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(_discard, session)
        else:
            session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_engine(runtime: RuntimeDep) -> LoadedEngine:
    """The engine serving now; 503 with Retry-After when no model is loaded (saying why)."""
    loaded = runtime.engines.current
    if loaded is None:
        problem = runtime.engines.problem
        raise HTTPException(
            status_code=503,
            detail=f"no model loaded ({problem or 'none configured'}); fix it, then POST "
            "/v1/model/reload",
            headers={"Retry-After": "30"},
        )
    return loaded


EngineDep = Annotated[LoadedEngine, Depends(get_engine)]


async def get_request_id(request: Request) -> str:
    """This request's id (as in the ``X-Request-ID`` header and the access log)."""
    return str(getattr(request.state, "request_id", ""))


RequestIdDep = Annotated[str, Depends(get_request_id)]

Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def authenticate(
    request: Request, runtime: RuntimeDep, credentials: Credentials
) -> Principal:
    """The caller's key: 401 without a valid one, 429 over its rate limit.

    A cached key is checked on the event loop; only a cache miss reads the database, in the
    thread pool.
    """
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status_code=401,
            detail="missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = runtime.keys.cached(credentials.credentials)
    if principal is None:
        principal = await run_in_threadpool(runtime.keys.authenticate, credentials.credentials)
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="invalid or revoked API key",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    request.state.key_name = principal.name
    wait = runtime.limiter.acquire(principal.name)
    if wait:
        raise HTTPException(
            status_code=429,
            detail=f"rate limit of {runtime.settings.rate_limit_per_minute} requests/minute "
            "exceeded",
            headers={"Retry-After": str(wait)},
        )
    return principal


AnyKey = Annotated[Principal, Depends(authenticate)]


def require(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller's key must carry ``scope`` (or ``admin``), else 403."""

    async def check(principal: AnyKey) -> Principal:
        if not principal.allows(scope):
            raise HTTPException(
                status_code=403, detail=f"API key {principal.name!r} lacks scope {scope.value!r}"
            )
        return principal

    check.__name__ = f"require_{scope.value}"
    return check


MatchesKey = Annotated[Principal, Depends(require(Scope.MATCHES))]
TherapistsKey = Annotated[Principal, Depends(require(Scope.THERAPISTS))]
EventsKey = Annotated[Principal, Depends(require(Scope.EVENTS))]
ReportsKey = Annotated[Principal, Depends(require(Scope.REPORTS))]
AdminKey = Annotated[Principal, Depends(require(Scope.ADMIN))]

__all__ = [
    "AdminKey",
    "AnyKey",
    "EngineDep",
    "EventsKey",
    "MatchesKey",
    "ReportsKey",
    "RequestIdDep",
    "RuntimeDep",
    "SessionDep",
    "SettingsDep",
    "TherapistsKey",
    "authenticate",
    "get_engine",
    "get_runtime",
    "get_session",
    "require",
]
