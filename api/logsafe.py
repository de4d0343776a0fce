"""Logging that cannot carry client data: exception messages are scrubbed, lines are JSON.

Exception messages are the one way client data slips into a log without anyone writing it there
(a database error quotes its statement's values, a validation error quotes its input). So every
record's exception is rendered here as its type names and stack frames only, never ``str(exc)``,
before any handler sees it: :class:`ScrubbingFilter` is attached to the loggers the service and
its ASGI server write to (logger filters run before propagation, so test capture handlers see the
scrubbed record too) and to every handler of the server's log configuration.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

SERVICE_LOGGERS = (
    "api",
    "api.access",
    "api.errors",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.asgi",
    "starlette",
    "fastapi",
    "sqlalchemy",
    "alembic",
)
"""Loggers the service, its ASGI server and its libraries log through."""

MAX_CHAIN = 5


def scrubbed_exception(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> str:
    """A traceback without any exception message: frames and qualified type names, with the
    ``__cause__`` / ``__context__`` chain (bounded), newest last like Python prints it."""
    chain: list[BaseException] = []
    current = exc
    while current is not None and len(chain) < MAX_CHAIN and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts: list[str] = []
    for depth, item in enumerate(reversed(chain)):
        if depth:
            parts.append("\nDuring handling, another exception occurred (message withheld):\n")
        frames = "".join(traceback.format_tb(item.__traceback__ if item is not exc else tb))
        kind = type(item)
        parts.append(
            f"Traceback (most recent call last):\n{frames}"
            f"{kind.__module__}.{kind.__qualname__}: <message withheld>"
        )
    if not chain and exc_type is not None:
        parts.append(f"{exc_type.__module__}.{exc_type.__qualname__}: <message withheld>")
    return "".join(parts)


class ScrubbingFilter(logging.Filter):
    """Replaces a record's exception and stack with a message-free rendering (keeps the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub in place; never drops a record."""
        if record.exc_info and record.exc_info != (None, None, None):
            exc_type, exc, tb = record.exc_info
            record.exc_text = scrubbed_exception(exc_type, exc, tb)
            record.exc_info = None
        elif record.exc_text and not getattr(record, "scrubbed", False):
            record.exc_text = "<exception text withheld>"
        record.scrubbed = True
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, any ``extra`` fields given in
    ``fields`` (e.g. the access log's request id), and the scrubbed exception if any."""

    def __init__(self, fields: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.fields = fields

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.fields:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = scrubbed_exception(*record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


ACCESS_FIELDS = ("request_id", "key", "method", "route", "status", "latency_ms")
"""The only fields of an access line (never bodies, query values or raw paths)."""


def install_scrubbing(loggers: tuple[str, ...] = SERVICE_LOGGERS) -> None:
    """Attach one :class:`ScrubbingFilter` to each named logger and to every root handler."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
            logger.addFilter(ScrubbingFilter())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ScrubbingFilter) for f in handler.filters):
            handler.addFilter(ScrubbingFilter())


def server_log_config(level: str = "info") -> dict[str, Any]:
    """``logging.config.dictConfig`` for the ASGI server: JSON lines on stderr, every handler
    scrubbing, uvicorn's own access log off (it prints raw paths, which hold client ids)."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": "api.logsafe.ScrubbingFilter"}},
        "formatters": {
            "json": {"()": "api.logsafe.JsonFormatter"},
            "access": {"()": "api.logsafe.JsonFormatter", "fields": ACCESS_FIELDS},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["scrub"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["scrub"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "api": {"handlers": ["default"], "level": upper, "propagate": False},
            "api.access": {"handlers": ["access"], "level": upper, "propagate": False},
            "training": {"handlers": ["default"], "level": upper, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


__all__ = [
    "ACCESS_FIELDS",
    "JsonFormatter",
    "ScrubbingFilter",
    "install_scrubbing",
    "scrubbed_exception",
    "server_log_config",
]
