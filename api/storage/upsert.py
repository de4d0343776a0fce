"""``INSERT … ON CONFLICT`` for the two supported backends."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.storage.models import Base


def insert_for(session: Session, model: type[Base]) -> Any:
    """The dialect's Core ``insert`` on the model's table (it has ``on_conflict_do_*``).

    Executed with a list of rows as parameters, one cached statement serves every request
    (``.values(rows)`` would compile new SQL each time and take the slower ORM bulk path).
    """
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, model: type[Base], key: str, skip: frozenset[str], names: tuple[str, ...]
) -> Insert:
    """The ``INSERT … ON CONFLICT (key) DO UPDATE`` for one column set, built once: building
    ``excluded`` and the update clause costs more than executing the statement."""
    table = cast(Table, model.__table__)
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    updates = {name: stmt.excluded[name] for name in names if name not in skip}
    return stmt.on_conflict_do_update(index_elements=[key], set_=updates)


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
    dialect = session.get_bind().dialect.name
    for start in range(0, len(rows), chunk):
        part = list(rows[start : start + chunk])
        statement = _upsert_statement(dialect, model, key, frozenset((key, *keep)), tuple(part[0]))
        session.execute(statement, part)


__all__ = ["insert_for", "upsert"]
