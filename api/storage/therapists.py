"""Therapist profiles: upsert, read, page, soft delete, and the pool the engine serves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, Text, cast, select, update
from sqlalchemy.orm import Session

from api.storage.changes import Topic, bump, counter
from api.storage.models import TherapistRow
from api.storage.records import frame_records, gc_paused, stored_frame
from api.storage.types import utcnow
from api.storage.upsert import upsert
from features.schemas import THERAPISTS


def upsert_therapists(
    session: Session, therapists: pd.DataFrame, *, revision: int | None = None
) -> set[str]:
    """Insert or replace profiles from a typed therapists frame (un-deleting any); no commit.

    The rows get ``revision`` (the caller's :func:`bump` of the ``therapists`` counter in this
    transaction), or a bump of their own when it is None. Returns the ids that did not exist
    before (created).
    """
    records = frame_records(therapists, THERAPISTS)
    if not records:
        return set()
    ids = [r["therapist_id"] for r in records]
    existing = set(
        session.scalars(select(TherapistRow.therapist_id).where(TherapistRow.therapist_id.in_(ids)))
    )
    if revision is None:
        revision = bump(session, Topic.THERAPISTS)
    now = utcnow()
    rows = [
        {**r, "created_at": now, "updated_at": now, "deleted_at": None, "revision": revision}
        for r in records
    ]
    upsert(session, TherapistRow, rows, key="therapist_id", keep=("created_at",))
    return set(ids) - existing


_CONTRACT = [TherapistRow.__table__.c[name] for name in THERAPISTS.names]
_STORED = [
    cast(c, Text) if col.kind.is_list else c
    for c, col in zip(_CONTRACT, THERAPISTS.columns, strict=True)
]
"""The contract columns as stored: list columns as their JSON text (``jsonb::text`` on
PostgreSQL), decoded column-wise by :func:`stored_frame` instead of cell by cell."""


def _stored_frame(session: Session, query: Select[Any]) -> tuple[pd.DataFrame, list[Any]]:
    """(typed contract frame of the query's leading :data:`_STORED` columns, the cells of
    any further columns, one sequence per column)."""
    width = len(query.selected_columns)
    with gc_paused():
        rows = session.connection().execute(query).all()  # Core rows: no ORM loading
        columns = list(zip(*rows, strict=True)) if rows else [()] * width
        del rows
        frame = stored_frame(THERAPISTS, columns[: len(_STORED)])
    return frame, columns[len(_STORED) :]


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


def delete_therapists(
    session: Session, therapist_ids: Sequence[str], *, revision: int | None = None
) -> int:
    """Soft-delete active profiles (history still refers to them); no commit. Returns the count.
    ``revision`` as for :func:`upsert_therapists`."""
    if revision is None:
        revision = bump(session, Topic.THERAPISTS)
    now = utcnow()
    result = session.execute(
        update(TherapistRow)
        .where(
            TherapistRow.therapist_id.in_(list(therapist_ids)), TherapistRow.deleted_at.is_(None)
        )
        .values(deleted_at=now, updated_at=now, revision=revision)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def therapist_records(session: Session, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    """Every (active) profile as a contract record, ordered by id."""
    query = select(*_CONTRACT).order_by(TherapistRow.therapist_id)
    if not include_deleted:
        query = query.where(TherapistRow.deleted_at.is_(None))
    return _records(query, session)


def load_pool(session: Session) -> pd.DataFrame:
    """The active therapists as a typed contract frame, ordered by id (code point order, as
    :func:`api.engine_state.merged_pool` keeps it, whatever the database's collation): the
    pool the engine serves. A typed column-wise read (:func:`api.storage.records.stored_frame`):
    the rows were validated by the contract when they were written and are not re-parsed."""
    query = (
        select(*_STORED)
        .where(TherapistRow.deleted_at.is_(None))
        .order_by(TherapistRow.therapist_id)
    )
    pool = _stored_frame(session, query)[0]
    if not pool["therapist_id"].is_monotonic_increasing:  # a collation other than code points
        pool = pool.sort_values("therapist_id", kind="stable").reset_index(drop=True)
    return pool


@dataclass(frozen=True)
class PoolChanges:
    """What changed in the pool after some revision (see :func:`pool_changes`)."""

    revision: int
    """The ``therapists`` counter these changes bring a pool up to (read before the rows, so
    every change up to it is included; a few later ones may be too)."""
    upserted: pd.DataFrame
    """The active profiles written after the revision asked about (a typed frame)."""
    removed: list[str]
    """Ids soft-deleted after it."""

    def __bool__(self) -> bool:
        return bool(len(self.upserted) or self.removed)


def pool_snapshot(session: Session) -> tuple[int, pd.DataFrame]:
    """(revision, the whole active pool as of at least that revision)."""
    revision = counter(session, Topic.THERAPISTS)
    return revision, load_pool(session)


def pool_changes(session: Session, since: int) -> PoolChanges:
    """The profiles written (upserted or deleted) by changes after revision ``since``: a
    primary-index range read, so its cost follows the size of the change, not of the pool."""
    revision = counter(session, Topic.THERAPISTS)
    query = (
        select(*_STORED, TherapistRow.deleted_at.is_not(None))
        .where(TherapistRow.revision > since)
        .order_by(TherapistRow.therapist_id)
    )
    frame, (deleted_cells,) = _stored_frame(session, query)
    deleted = np.asarray(deleted_cells, dtype=bool)
    removed = [str(t) for t in frame["therapist_id"][deleted]]
    upserted = frame[~deleted].reset_index(drop=True) if deleted.any() else frame
    return PoolChanges(revision, upserted, removed)


__all__ = [
    "PoolChanges",
    "delete_therapists",
    "get_therapist",
    "list_therapists",
    "load_pool",
    "pool_changes",
    "pool_snapshot",
    "therapist_records",
    "upsert_therapists",
]
