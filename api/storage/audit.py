"""The audit trail of data access: who (key name) did what (action, route, status) to which
intake, for which client (a keyed hash, never the id), and when. Never intake contents."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.storage.models import Base
from api.storage.types import BigId, UTCDateTime, utcnow
from api.storage.upsert import insert_for


class Action(StrEnum):
    """Audited kinds of data access."""

    MATCH = "match"
    ALLOCATE = "allocate"
    ERASE = "erase"
    EXPORT = "export"
    REPORT = "report_read"
    AUDIT = "audit_read"


class AuditRow(Base):
    """One audited request."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    key_name: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(128))
    status: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    intake_id: Mapped[str | None] = mapped_column(String(64), index=True)
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)


class SecretRow(Base):
    """Installation secrets shared by every process (created by migration 0004)."""

    __tablename__ = "serve_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


def audit_secret(session: Session) -> bytes:
    """The key of :func:`client_hash` (random per installation, kept in the database)."""
    value = session.scalar(select(SecretRow.value).where(SecretRow.name == "audit_hash_key"))
    if value is None:
        raise RuntimeError("audit secret missing: run the database migrations")
    return bytes.fromhex(value)


def client_hash(secret: bytes, client_id: str | None) -> str | None:
    """HMAC-SHA256 of the client id under the installation's audit secret (hex), or None.

    Keyed, so the trail cannot be joined back to ids by hashing guesses without the secret.
    """
    if client_id is None:
        return None
    return hmac.new(secret, client_id.encode(), hashlib.sha256).hexdigest()


def record_access(
    session: Session,
    *,
    key_name: str,
    action: Action,
    route: str,
    status: int,
    request_id: str | None = None,
    intakes: list[tuple[str | None, str | None]] | None = None,
) -> None:
    """Add audit rows (one per (intake id, client hash), or one without); no commit.

    One Core insert (a cached statement with the rows as parameters): every answered request
    writes one, and the ORM's unit of work would cost more than the insert itself."""
    now = utcnow()
    rows = [
        {
            "at": now,
            "key_name": key_name,
            "action": action.value,
            "route": route,
            "status": status,
            "request_id": request_id,
            "intake_id": intake_id,
            "client_hash": hashed,
        }
        for intake_id, hashed in intakes or [(None, None)]
    ]
    session.execute(insert_for(session, AuditRow), rows)


def erase_audit(session: Session, hashed: str, intake_ids: list[str]) -> int:
    """Delete the rows that identify the client (its hash, or one of its intakes); no commit."""
    result = session.execute(
        delete(AuditRow).where(
            (AuditRow.client_hash == hashed) | AuditRow.intake_id.in_(intake_ids)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def audit_page(session: Session, *, limit: int, before: int | None) -> list[AuditRow]:
    """Newest first, ``limit`` rows with ids below ``before`` (keyset paging)."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditRow.id < before)
    return list(session.scalars(query))


__all__ = [
    "Action",
    "AuditRow",
    "SecretRow",
    "audit_page",
    "audit_secret",
    "client_hash",
    "erase_audit",
    "record_access",
]
