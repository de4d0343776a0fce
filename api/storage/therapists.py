"""Therapist profiles: upsert, read, page, soft delete, and the pool the engine serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from api.storage.changes import Topic, bump
from api.storage.models import TherapistRow
from api.storage.records import frame_records, typed_frame
from api.storage.types import utcnow
from api.storage.upsert import upsert
from features.schemas import THERAPISTS


def upsert_therapists(session: Session, therapists: pd.DataFrame) -> set[str]:
    """Insert or replace profiles from a typed therapists frame (un-deleting any); no commit.

    Returns the ids that did not exist before (created).
    """
    records = frame_records(therapists, THERAPISTS)
    if not records:
        return set()
    ids = [r["therapist_id"] for r in records]
    existing = set(
        session.scalars(select(TherapistRow.therapist_id).where(TherapistRow.therapist_id.in_(ids)))
    )
    now = utcnow()
    rows = [{**r, "created_at": now, "updated_at": now, "deleted_at": None} for r in records]
    upsert(session, TherapistRow, rows, key="therapist_id", keep=("created_at",))
    bump(session, Topic.THERAPISTS)
    return set(ids) - existing


_CONTRACT = [TherapistRow.__table__.c[name] for name in THERAPISTS.names]


def _records(query: Select[Any], session: Session) -> list[dict[str, Any]]:
    return [dict(row) for row in session.execute(query).mappings()]


def get_therapist(session: Session, therapist_id: str) -> dict[str, Any] | None:
    """One active profile as a contract record, or None."""
    found = _records(
        select(*_CONTRACT).where(
            TherapistRow.therapist_id == therapist_id, TherapistRow.deleted_at.is_(None)
        ),
        session,
    )
    return found[0] if found else None


def list_therapists(
    session: Session, *, limit: int, after: str | None = None
) -> list[dict[str, Any]]:
    """Active profiles ordered by id, ``limit`` after the id ``after`` (keyset pagination)."""
    query = select(*_CONTRACT).where(TherapistRow.deleted_at.is_(None))
    if after is not None:
        query = query.where(TherapistRow.therapist_id > after)
    return _records(query.order_by(TherapistRow.therapist_id).limit(limit), session)


def delete_therapists(session: Session, therapist_ids: Sequence[str]) -> int:
    """Soft-delete active profiles (history still refers to them); no commit. Returns the count."""
    result = session.execute(
        update(TherapistRow)
        .where(
            TherapistRow.therapist_id.in_(list(therapist_ids)), TherapistRow.deleted_at.is_(None)
        )
        .values(deleted_at=utcnow())
    )
    bump(session, Topic.THERAPISTS)
    return int(getattr(result, "rowcount", 0) or 0)


def therapist_records(session: Session, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    """Every (active) profile as a contract record, ordered by id."""
    query = select(*_CONTRACT).order_by(TherapistRow.therapist_id)
    if not include_deleted:
        query = query.where(TherapistRow.deleted_at.is_(None))
    return _records(query, session)


def load_pool(session: Session) -> pd.DataFrame:
    """The active therapists as a typed contract frame: the pool the engine serves."""
    return typed_frame(THERAPISTS, therapist_records(session), file="database:therapists")


__all__ = [
    "delete_therapists",
    "get_therapist",
    "list_therapists",
    "load_pool",
    "therapist_records",
    "upsert_therapists",
]
