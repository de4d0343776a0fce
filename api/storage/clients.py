"""Erasure of everything stored about one client."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from api.storage.experiments import erase_intakes
from api.storage.models import EventRow, ImpressionRow, IntakeRow


@dataclass(frozen=True)
class Erased:
    """How many rows of each kind were deleted."""

    intakes: int
    impressions: int
    events: int


def erase_client(session: Session, client_id: str) -> Erased:
    """Delete the client's intakes, impressions, events and experiment log rows (arms served,
    shadow lists) in one transaction, and commit."""
    intake_ids = select(IntakeRow.intake_id).where(IntakeRow.client_id == client_id)
    events = session.execute(
        delete(EventRow).where(
            or_(EventRow.client_id == client_id, EventRow.intake_id.in_(intake_ids))
        )
    )
    impressions = session.execute(
        delete(ImpressionRow).where(
            or_(ImpressionRow.client_id == client_id, ImpressionRow.intake_id.in_(intake_ids))
        )
    )
    erase_intakes(session, intake_ids)
    intakes = session.execute(delete(IntakeRow).where(IntakeRow.client_id == client_id))
    session.commit()
    return Erased(
        intakes=int(getattr(intakes, "rowcount", 0) or 0),
        impressions=int(getattr(impressions, "rowcount", 0) or 0),
        events=int(getattr(events, "rowcount", 0) or 0),
    )


__all__ = ["Erased", "erase_client"]
