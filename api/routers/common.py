"""Error responses every authenticated route documents."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorMessage, ValidationErrorBody


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorMessage, "description": description}


AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed request (e.g. a body that is not UTF-8 JSON)."),
    401: _error("Missing, invalid or revoked API key."),
    403: _error("The API key lacks the scope this route needs."),
    413: _error("Request body too large."),
    422: {"model": ValidationErrorBody, "description": "Invalid input: field and allowed values."},
    429: _error("Rate limit exceeded; see Retry-After."),
    503: _error("Starting, no model loaded, or storage unavailable; retry later."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("Not found.")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _error("Conflicts with stored data.")}

__all__ = ["AUTHENTICATED", "CONFLICT", "NOT_FOUND"]
