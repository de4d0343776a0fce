"""Request bodies that wrap contract rows: cohorts, bulk upserts, outcome events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
)

from api.schemas.contract import Intake, Therapist
from api.schemas.fields import MAX_BULK, MAX_COHORT, Identifier, UtcDatetime


class AllocationRequest(BaseModel):
    """A cohort of waiting intakes to assign at most one therapist each."""

    model_config = ConfigDict(extra="forbid")

    intakes: list[Intake] = Field(min_length=1, max_length=MAX_COHORT)


class TherapistBulk(BaseModel):
    """Profiles to insert or replace in one transaction."""

    model_config = ConfigDict(extra="forbid")

    therapists: list[Therapist] = Field(min_length=1, max_length=MAX_BULK)


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Identifier = Field(description="Your id for this event; a retry reuses it.")
    intake_id: Identifier
    therapist_id: Identifier = Field(description="A therapist shown to this intake.")
    occurred_at: UtcDatetime = Field(description="When it happened (not before the intake).")


class ChosenEvent(_EventBase):
    """The client booked this therapist."""

    type: Literal["chosen"]
    value: Literal[1] | None = Field(default=None, description="Nothing to say: leave it out.")


class SessionAttendedEvent(_EventBase):
    """One session attended (one event per session)."""

    type: Literal["session_attended"]
    value: Literal[1] | None = Field(default=None, description="Nothing to say: leave it out.")


class AllianceEvent(_EventBase):
    """A working-alliance rating (WAI-SR); the latest counts."""

    type: Literal["alliance"]
    value: Annotated[float, Strict(), Field(ge=1, le=5, allow_inf_nan=False)] = Field(
        description="The rating, 1–5."
    )


class ImprovementEvent(_EventBase):
    """Reliable improvement measured (1) or not (0); the latest counts."""

    type: Literal["improvement"]
    value: Literal[0, 1]


class DropoutEvent(_EventBase):
    """Ended early without agreement (1, the default), or a retraction (0)."""

    type: Literal["dropout"]
    value: Literal[0, 1] = 1


OutcomeEvent = Annotated[
    ChosenEvent | SessionAttendedEvent | AllianceEvent | ImprovementEvent | DropoutEvent,
    Field(discriminator="type"),
]
"""Something that happened after a list was shown; ``type`` decides what ``value`` holds."""


__all__ = [
    "AllianceEvent",
    "AllocationRequest",
    "ChosenEvent",
    "DropoutEvent",
    "ImprovementEvent",
    "OutcomeEvent",
    "SessionAttendedEvent",
    "TherapistBulk",
]
