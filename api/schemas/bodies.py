"""Request bodies that wrap contract rows: cohorts, bulk upserts, outcome events."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
)

from api.schemas.contract import Intake, Therapist
from api.schemas.fields import MAX_BULK, MAX_COHORT, Identifier, UtcDatetime
from api.storage.events import EventType


class AllocationRequest(BaseModel):
    """A cohort of waiting intakes to assign at most one therapist each."""

    model_config = ConfigDict(extra="forbid")

    intakes: list[Intake] = Field(min_length=1, max_length=MAX_COHORT)


class TherapistBulk(BaseModel):
    """Profiles to insert or replace in one transaction."""

    model_config = ConfigDict(extra="forbid")

    therapists: list[Therapist] = Field(min_length=1, max_length=MAX_BULK)


class OutcomeEvent(BaseModel):
    """Something that happened after a list was shown. ``value``: alliance 1–5 (required),
    improvement 0/1 (required), dropout 0/1 (default 1); none for chosen and session_attended."""

    model_config = ConfigDict(extra="forbid")

    event_id: Identifier
    intake_id: Identifier
    therapist_id: Identifier
    type: EventType
    value: Annotated[float, Strict(), Field(ge=0, le=5, allow_inf_nan=False)] | None = None
    occurred_at: UtcDatetime


__all__ = [
    "AllocationRequest",
    "OutcomeEvent",
    "TherapistBulk",
]
