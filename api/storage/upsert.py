"""``INSERT … ON CONFLICT`` for the two supported backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.storage.models import Base


def insert_for(session: Session, model: type[Base]) -> Any:
    """The dialect's ``insert`` construct (it has ``on_conflict_do_*``)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    key: str,
    keep: Sequence[str] = (),
    chunk: int = 500,
) -> None:
    """Insert ``rows``, updating every column but ``key`` and ``keep`` where ``key`` exists."""
    for start in range(0, len(rows), chunk):
        part = list(rows[start : start + chunk])
        stmt = insert_for(session, model).values(part)
        skip = {key, *keep}
        updates = {name: stmt.excluded[name] for name in part[0] if name not in skip}
        statement: Insert = stmt.on_conflict_do_update(index_elements=[key], set_=updates)
        session.execute(statement)


__all__ = ["insert_for", "upsert"]
