"""Domain exceptions → HTTP responses (the only place that knows both)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from api.storage.database import is_read_only, refused_write
from core.errors import (
    DataNotFoundError,
    DataValidationError,
    MatcherError,
    ModelFormatError,
    ModelNotFoundError,
    NotFittedError,
    Problem,
    UnknownTherapistError,
)

log = logging.getLogger("api.errors")


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def problem_issue(problem: Problem) -> dict[str, Any]:
    """A contract problem as a validation issue: ``loc`` from the body location, row and column."""
    loc: list[str | int] = [part for part in problem.file.split("/") if part]
    if problem.row is not None:
        loc.append(problem.row - 1)
    if problem.column is not None:
        loc.append(problem.column)
    msg = problem.message if problem.value is None else f"{problem.message} (got {problem.value!r})"
    return {"loc": loc, "msg": msg, "type": "contract"}


def _issues(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        out.append(
            {
                "loc": loc,
                "msg": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "value_error")),
            }
        )
    return out


async def on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    """422 listing every invalid field (enum messages name the allowed values)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": _issues(exc.errors())})


async def on_data_validation(request: Request, exc: Exception) -> JSONResponse:
    """422 for bodies that pass the schema but break the data contract."""
    assert isinstance(exc, DataValidationError)
    return JSONResponse(
        status_code=422, content={"detail": [problem_issue(p) for p in exc.problems]}
    )


def _status_of(exc: MatcherError) -> int:
    if isinstance(exc, (DataNotFoundError, UnknownTherapistError)):
        return 404
    if isinstance(exc, (ModelNotFoundError, ModelFormatError, NotFittedError)):
        return 503
    return 500


async def on_matcher_error(request: Request, exc: Exception) -> JSONResponse:
    """Engine errors: not found → 404, no usable model → 503, anything else → 500 (logged)."""
    assert isinstance(exc, MatcherError)
    status = _status_of(exc)
    if status >= 500:
        log.error("request %s: engine error %s", _request_id(request), type(exc).__name__)
    detail = str(exc) if status < 500 else f"engine unavailable ({type(exc).__name__})"
    return JSONResponse(status_code=status, content={"detail": detail})


async def on_storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database is down or locked beyond the timeout: 503, retry later. When it refuses
    writes (read-only file, folder or server), the answer and the log line say so: waiting
    will not fix that."""
    if isinstance(exc, DBAPIError) and is_read_only(exc):
        # The driver's fixed wording (no statement, no parameters): safe to log and to answer.
        refused = refused_write(exc)
        log.error("request %s: %s", _request_id(request), refused)
        return JSONResponse(
            status_code=503, content={"detail": f"{refused}; an operator must fix it"}
        )
    log.error("request %s: storage unavailable (%s)", _request_id(request), type(exc).__name__)
    return JSONResponse(
        status_code=503,
        content={"detail": "storage unavailable, retry later"},
        headers={"Retry-After": "5"},
    )


async def on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """A concurrent write won a uniqueness race: 409, the client may retry."""
    return JSONResponse(status_code=409, content={"detail": "conflicting concurrent write"})


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: log type and stack (never the message, which may quote input) and 500."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("request %s: unhandled %s\n%s", _request_id(request), type(exc).__name__, stack)
    return JSONResponse(
        status_code=500,
        content={"detail": f"internal error (request {_request_id(request)})"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(DataValidationError, on_data_validation)
    app.add_exception_handler(MatcherError, on_matcher_error)
    app.add_exception_handler(OperationalError, on_storage_unavailable)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(Exception, on_unexpected)


__all__ = ["install_error_handlers", "problem_issue"]
