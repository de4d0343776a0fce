"""Response models (they mirror :mod:`matcher.results` and the storage outcomes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.contract import Therapist
from matcher.results import Flag, Status


class BulkResult(BaseModel):
    """Outcome of a bulk upsert."""

    created: int
    updated: int


class TherapistPage(BaseModel):
    """One page of therapists ordered by id; pass ``next_after`` as ``after`` for the next."""

    items: list[Therapist]
    next_after: str | None


class MatchOut(BaseModel):
    """One therapist offered (``contributions`` filled only with ``explain``)."""

    therapist_id: str
    display_name: str
    rank: int
    score: float = Field(description="Ranking score; higher ranks first.")
    predicted_benefit: float | None = Field(
        default=None,
        description="Predicted P(good outcome: ≥4 sessions and reliable improvement) "
        "if the client starts with this therapist.",
    )
    reasons: list[str] = Field(description="Plain-language reasons, strongest first.")
    contributions: dict[str, float] | None = Field(
        default=None,
        description="With `explain=true`: each feature's contribution to the raw score "
        "(log-odds, plus `bias`); null otherwise.",
    )


class SuggestionOut(BaseModel):
    """What a client nobody fits could change, and how many therapists would then fit."""

    constraint: str = Field(description="The hard constraint concerned (see `excluded`).")
    message: str = Field(description="The change in the client's terms, ready to show.")
    therapists: int = Field(
        description="Therapists who would fit after the change; 0 for a plain statement of a "
        "reason the client cannot change (e.g. no therapist licensed in the region)."
    )


class CrisisResourceOut(BaseModel):
    """A crisis line or service for the client's region."""

    region: str
    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None


class MatchResponse(BaseModel):
    """The answer to one intake."""

    request_id: str
    intake_id: str
    model_version: str
    status: Status
    matches: list[MatchOut]
    excluded: dict[str, int] = Field(
        description="Therapists removed by each hard constraint (a funnel, in order)."
    )
    crisis_resources: list[CrisisResourceOut]
    flags: list[Flag]
    notes: list[str]
    candidates: int
    eligible: int
    suggestions: list[SuggestionOut] = Field(
        default_factory=list,
        description="For `no_eligible_match`: changes that would let someone fit, most first.",
    )
    experiment: str | None = Field(
        default=None, description="The experiment this request was part of (None: none)."
    )
    arm: str | None = Field(
        default=None,
        description="The experiment arm that served the list (`champion` or a challenger).",
    )


class AssignmentOut(BaseModel):
    """One intake's place in an allocation (``therapist_id`` null when unplaced)."""

    intake_id: str
    status: Status
    therapist_id: str | None
    score: float | None
    reason: str
    suggestions: list[SuggestionOut] = Field(
        default_factory=list, description="For an intake nobody fits: what the client could change."
    )


class AllocationResponse(BaseModel):
    """A cohort allocation."""

    request_id: str
    model_version: str
    method: str
    total_score: float
    placed: int
    assignments: list[AssignmentOut]


class EventAck(BaseModel):
    """An event was stored (``duplicate``: it already had been, under the same id)."""

    event_id: str
    duplicate: bool


class ErasureResult(BaseModel):
    """Rows deleted for a client."""

    client_id: str
    intakes: int
    impressions: int
    events: int


class ModelInfo(BaseModel):
    """The model being served."""

    loaded: bool
    model_version: str | None
    loaded_at: datetime | None
    uri: str
    therapists: int
    freshness: str | None = Field(
        default=None,
        description="`current`, `stale, from <folder>` when the configured URI did not "
        "resolve and a local copy is served, or `cold start: ...` on the rules baseline.",
    )
    problem: str | None = Field(
        default=None, description="Why the last load or reload of the configured URI failed."
    )
    cold_start: bool = Field(
        default=False,
        description="True while no model is registered and the service ranks by the rules "
        "baseline (`model_version` `rules`); a reload after registering a champion switches.",
    )


class ReloadResult(ModelInfo):
    """The model after a successful reload."""

    previous_version: str | None


class Health(BaseModel):
    """Liveness."""

    status: str


class Readiness(BaseModel):
    """Readiness: a model is loaded and the database answers."""

    status: str
    model_version: str | None = None
    reasons: list[str] = Field(default_factory=list)
    detail: str | None = Field(
        default=None,
        description="Set while ready on the cold-start rules baseline (no model registered), or"
        " with an empty therapist pool.",
    )


class ErrorMessage(BaseModel):
    """An error."""

    detail: str


class ValidationIssue(BaseModel):
    """One invalid input: where, what is wrong, and (for vocabularies) the allowed values."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """Every invalid input of a request."""

    detail: list[ValidationIssue]


__all__ = [
    "AllocationResponse",
    "AssignmentOut",
    "BulkResult",
    "CrisisResourceOut",
    "ErasureResult",
    "ErrorMessage",
    "EventAck",
    "Health",
    "MatchOut",
    "MatchResponse",
    "ModelInfo",
    "Readiness",
    "ReloadResult",
    "SuggestionOut",
    "TherapistPage",
    "ValidationErrorBody",
    "ValidationIssue",
]
