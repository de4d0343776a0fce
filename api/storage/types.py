"""Column types shared by the models and the migrations: UTC times and JSON lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

JSONValue = JSON().with_variant(JSONB(), "postgresql")
"""JSON (lists, feature dicts): ``jsonb`` on PostgreSQL, JSON text on SQLite."""

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""An auto-increment key: SQLite only auto-increments ``INTEGER PRIMARY KEY``."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC (naive input is taken as UTC); naive for SQLite."""
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        aware = aware.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always hand back an aware UTC time."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


__all__ = ["BigId", "JSONValue", "UTCDateTime", "utcnow"]
