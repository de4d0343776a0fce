"""API key rows: only hashes are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.storage.changes import Topic, bump
from api.storage.models import ApiKeyRow
from api.storage.types import utcnow


@dataclass(frozen=True)
class KeyRecord:
    """What is known about a key (never the secret)."""

    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked: bool


def _record(row: ApiKeyRow) -> KeyRecord:
    return KeyRecord(row.name, tuple(row.scopes), row.created_at, row.revoked)


def key_name_taken(session: Session, name: str) -> bool:
    """Whether a key (revoked or not) already has this name."""
    return session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == name)) is not None


def insert_key(session: Session, name: str, key_hash: str, scopes: list[str]) -> None:
    """Add a key row; no commit."""
    session.add(ApiKeyRow(name=name, key_hash=key_hash, scopes=scopes, revoked=False))


def find_key(session: Session, key_hash: str) -> KeyRecord | None:
    """The key with this hash, revoked or not."""
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash)).one_or_none()
    return None if row is None else _record(row)


def revoke_key(session: Session, name: str) -> bool:
    """Revoke the key called ``name`` and commit; False if there is no such live key."""
    result = session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.name == name, ApiKeyRow.revoked.is_(False))
        .values(revoked=True, revoked_at=utcnow())
    )
    bump(session, Topic.KEYS)
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def list_keys(session: Session) -> list[KeyRecord]:
    """Every key, oldest first."""
    return [_record(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]


__all__ = ["KeyRecord", "find_key", "insert_key", "key_name_taken", "list_keys", "revoke_key"]
