"""Outcome events, idempotent by ``event_id`` through the database's unique constraint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import EventRow, ImpressionRow, IntakeRow
from api.storage.types import utcnow
from api.storage.upsert import insert_for
from core.errors import DataValidationError, Problem


class EventType(StrEnum):
    """What happened after a match list was shown."""

    CHOSEN = "chosen"
    """The client booked this therapist."""
    SESSION_ATTENDED = "session_attended"
    """One session attended (one event per session)."""
    ALLIANCE = "alliance"
    """A working-alliance rating (WAI-SR, ``value`` 1–5); the latest counts."""
    IMPROVEMENT = "improvement"
    """Reliable improvement measured (``value`` 1) or not (0); the latest counts."""
    DROPOUT = "dropout"
    """Ended early without agreement (``value`` 1, the default), or retracted (0)."""


@dataclass(frozen=True)
class Event:
    """An outcome event as stored."""

    event_id: str
    intake_id: str
    therapist_id: str
    type: EventType
    value: float | None
    occurred_at: datetime

    def same_as(self, other: Event) -> bool:
        """Whether two events carry the same facts (a true retry, not a reused id)."""
        return (
            self.intake_id == other.intake_id
            and self.therapist_id == other.therapist_id
            and self.type == other.type
            and self.value == other.value
            and self.occurred_at == other.occurred_at
        )


@dataclass(frozen=True)
class Recorded:
    """The outcome of recording an event: the stored event and whether it was there already."""

    event: Event
    duplicate: bool


def _stored(row: EventRow) -> Event:
    return Event(
        row.event_id,
        row.intake_id,
        row.therapist_id,
        EventType(row.type),
        row.value,
        row.occurred_at,
    )


def _check_facts(session: Session, event: Event, submitted_at: datetime) -> None:
    """An outcome needs a list that showed this therapist to this intake, and cannot precede the
    intake: either broken is a DataValidationError naming the body field."""
    shown = session.scalar(
        select(ImpressionRow.id)
        .where(
            ImpressionRow.intake_id == event.intake_id,
            ImpressionRow.therapist_id == event.therapist_id,
        )
        .limit(1)
    )
    problems = []
    if shown is None:
        problems.append(
            Problem("body", None, "therapist_id", None, "was never shown to this intake")
        )
    if event.occurred_at < submitted_at:
        problems.append(
            Problem("body", None, "occurred_at", None, "is before the intake was submitted")
        )
    if problems:
        session.rollback()
        raise DataValidationError(problems)


def record_event(session: Session, event: Event) -> Recorded | None:
    """Store ``event`` once (``INSERT … ON CONFLICT DO NOTHING``) and commit.

    Safe under concurrent ingest: the unique ``event_id`` decides the one winner; every other
    attempt reports ``duplicate`` with the stored event. ``None`` when the intake is unknown
    (never stored, or erased); DataValidationError when the therapist was never shown to the
    intake or the event predates it.
    """
    intake = session.execute(
        select(IntakeRow.client_id, IntakeRow.submitted_at).where(
            IntakeRow.intake_id == event.intake_id
        )
    ).first()
    if intake is None:
        session.rollback()
        return None
    _check_facts(session, event, intake.submitted_at)
    client_id = intake.client_id
    stmt = (
        insert_for(session, EventRow)
        .values(
            event_id=event.event_id,
            intake_id=event.intake_id,
            client_id=client_id,
            therapist_id=event.therapist_id,
            type=event.type.value,
            value=event.value,
            occurred_at=event.occurred_at,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(EventRow.id)
    )
    inserted = session.execute(stmt).scalar_one_or_none()
    session.commit()
    if inserted is not None:
        return Recorded(event, duplicate=False)
    row = session.scalars(select(EventRow).where(EventRow.event_id == event.event_id)).one()
    return Recorded(_stored(row), duplicate=True)


__all__ = ["Event", "EventType", "Recorded", "record_event"]
