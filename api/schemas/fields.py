"""Field types shared by the request models: bounded ids, clean text, JSON integers, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

INT32_MAX = 2**31 - 1
"""Integers without a contract maximum are bounded by the 32-bit database column."""
MAX_ID = 64
MAX_STR = 256
MAX_LIST = 100
MAX_TOP_K = 50
MAX_COHORT = 500
MAX_BULK = 1000
MIN_YEAR, MAX_YEAR = 1900, 2199


def clean_text(value: str) -> str:
    """Reject text a database cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def list_item(value: str) -> str:
    """A list item must say something (the contract strips items, so blank ones would vanish)."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def identifier(value: str) -> str:
    """An id as used in a path: clean text without surrounding white space."""
    clean_text(value)
    if value != value.strip():
        raise ValueError("must not start or end with white space")
    return value


def utc_time(value: datetime) -> datetime:
    """An aware UTC time (naive times are UTC), within years 1900–2200."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not MIN_YEAR <= aware.year <= MAX_YEAR:
        raise ValueError(f"year must be within {MIN_YEAR}-{MAX_YEAR}")
    return aware.astimezone(UTC)


def whole_number(value: Any) -> Any:
    """JSON Schema counts ``5.0`` as an integer: accept it as 5 (strings and bools stay errors)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


NO_NUL = r"^[^\x00]*$"
"""Text a database can store: the schema says so, so schema-driven clients never send NUL."""


PATH_ID = r"^[^/\s\x00]([^/\x00]*[^/\s\x00])?$"
"""An id in a URL path: no ``/`` (it would change the route), no NUL, no surrounding space."""
NON_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
"""The same, and not only white space (a blank value is a missing one)."""


def text(
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    strip: bool = False,
    nonblank: bool = False,
) -> Any:
    """Text within bounds: the constraints come first (their messages name characters and
    reach the JSON schema), then the cleanliness check. A stripped value with a minimum length,
    or ``nonblank``, must hold a non-space character, and the schema's pattern says so."""
    bounds = StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length)
    blank_refused = nonblank or (strip and (min_length or 0) > 0)
    schema_only = Field(json_schema_extra={"pattern": NON_BLANK if blank_refused else NO_NUL})
    return Annotated[str, bounds, AfterValidator(clean_text), schema_only]


def iso_time_only(value: Any) -> Any:
    """A time in a body must be an ISO-8601 string, not a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("must be an ISO-8601 date-time string, e.g. 2026-01-05T10:00:00Z")
    return value


Text = text()


def integer(minimum: float | None = None, maximum: float | None = None) -> Any:
    """A JSON integer within bounds (constraints first, so they reach the JSON schema)."""
    return Annotated[int, Field(ge=minimum, le=maximum), Strict(), BeforeValidator(whole_number)]


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(iso_time_only),
    AfterValidator(utc_time),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^(19\d\d|2[01]\d\d)-",
            "description": "ISO-8601; naive times are UTC; years 1900-2199.",
        }
    ),
]
Identifier = text(min_length=1, max_length=MAX_ID)


__all__ = [
    "INT32_MAX",
    "MAX_BULK",
    "MAX_COHORT",
    "MAX_ID",
    "MAX_LIST",
    "MAX_STR",
    "MAX_TOP_K",
    "NON_BLANK",
    "NO_NUL",
    "PATH_ID",
    "Identifier",
    "Text",
    "UtcDatetime",
    "clean_text",
    "identifier",
    "integer",
    "iso_time_only",
    "list_item",
    "text",
    "utc_time",
    "whole_number",
]
