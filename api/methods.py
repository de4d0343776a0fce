"""405 answers that list every method the path supports.

Starlette answers a method a path does not serve from the first route that matched the path
alone, so ``Allow`` named only that route's method (``OPTIONS /v1/therapists/t1`` → ``Allow:
PUT``) although GET, PATCH and DELETE exist too. This handler gathers the methods of every
documented path template that matches.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path


def method_table(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """(path regex, methods) of every documented path template."""
    table = []
    for template, operations in app.openapi()["paths"].items():
        regex, _, _ = compile_path(template)
        methods = {m.upper() for m in operations}
        table.append((regex, frozenset(methods | ({"HEAD"} if "GET" in methods else set()))))
    return table


def install_method_not_allowed(app: FastAPI) -> None:
    """Register the 405 handler (other HTTP errors keep the default handling)."""

    table: list[tuple[re.Pattern[str], frozenset[str]]] = []

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        if not table:
            table.extend(method_table(app))
        path = request.url.path
        allowed = set().union(*(methods for regex, methods in table if regex.match(path)))
        allow = ", ".join(sorted(allowed))
        return JSONResponse(
            {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": allow}
        )

    app.add_exception_handler(StarletteHTTPException, on_http_exception)


__all__ = ["install_method_not_allowed", "method_table"]
