"""What the engine returns: match lists, allocation results, crisis resources.

These plain dataclasses are the contract between the engine (:mod:`matcher.engine`), the batch
CLI and the HTTP adapter (``api/``), which maps them 1:1 onto response models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one match request."""

    MATCHED = "matched"
    NO_ELIGIBLE_MATCH = "no_eligible_match"
    CRISIS = "crisis"


class Flag(StrEnum):
    """Flags a platform acts on."""

    CLINICAL_FOLLOW_UP = "clinical_follow_up"
    """Crisis: someone must contact the client."""
    RISK_REVIEW = "risk_review"
    """phq9_item9 = 1: only crisis-trained therapists shown; review the case."""
    HIGHER_LEVEL_OF_CARE = "higher_level_of_care"
    """Severe symptoms: suggest a higher level of care; in-person options favoured."""


CONSTRAINTS: tuple[str, ...] = (
    "region",
    "age_group",
    "language",
    "format",
    "payment",
    "capacity",
    "availability",
    "crisis_training",
)
"""Hard constraints in the order they are applied; ``excluded`` counts are a funnel in this order
(each therapist is counted once, under the first constraint it fails)."""


@dataclass(frozen=True)
class CrisisResource:
    """A crisis line or service for a region."""

    region: str
    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """What a client without an eligible therapist could change (see :mod:`matcher.suggestions`).

    ``therapists`` is how many would fit after the change; 0 for a plain statement of a reason
    the client cannot change ("No therapist here is licensed in DE.").
    """

    constraint: str
    message: str
    therapists: int = 0


@dataclass(frozen=True)
class Match:
    """One therapist offered to a client."""

    therapist_id: str
    rank: int
    score: float
    """The ranking score (higher ranks first): predicted benefit after load-aware re-ranking."""
    display_name: str = ""
    predicted_benefit: float | None = None
    """The model's estimate of P(good outcome | the client starts with this therapist), 0–1."""
    reasons: list[str] = field(default_factory=list)
    contributions: dict[str, float] | None = None
    """Per-feature contributions to the raw score (only with ``explain=True``)."""
    features: dict[str, float] | None = None
    """The feature values scored (kept for impression logging; not returned by the API)."""
    propensity: float = 1.0
    """P(this therapist at this rank | intake) under the serving policy (1 without exploration)."""
    shown_propensity: float = 1.0
    """P(this therapist on the list at all | intake)."""


@dataclass(frozen=True)
class MatchResult:
    """The answer to one intake."""

    intake_id: str
    status: Status
    model_version: str
    matches: list[Match] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    crisis_resources: list[CrisisResource] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    candidates: int = 0
    """Therapists in the pool before the hard constraints."""
    eligible: int = 0
    """Therapists passing every hard constraint."""
    notes: list[str] = field(default_factory=list)
    """Plain-language notes for the client (e.g. a higher level of care is suggested)."""
    suggestions: list[Suggestion] = field(default_factory=list)
    """For ``no_eligible_match``: what the client could change so that someone fits."""
    policy: str = ""
    """Policy that produced the list (``explore:<model version>`` when it was randomised)."""


@dataclass(frozen=True)
class RankedList:
    """The list an engine would show one intake, without explanations (a shadow arm's list)."""

    intake_id: str
    model_version: str
    therapist_ids: list[str]
    """In rank order (empty for a crisis or no eligible therapist)."""
    scores: list[float]
    """Predicted benefit of each, in the same order."""


@dataclass(frozen=True)
class Assignment:
    """One intake's place in a cohort allocation (``therapist_id`` None when unplaced)."""

    intake_id: str
    status: Status
    therapist_id: str | None = None
    score: float | None = None
    reason: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)
    """For an intake nobody fits: what the client could change (as for a match request)."""


@dataclass(frozen=True)
class AllocationResult:
    """A cohort allocation: at most one therapist per intake, within every open slot."""

    model_version: str
    assignments: list[Assignment]
    total_score: float
    placed: int
    method: str = "min_cost_flow"


__all__ = [
    "CONSTRAINTS",
    "AllocationResult",
    "Assignment",
    "CrisisResource",
    "Flag",
    "Match",
    "MatchResult",
    "RankedList",
    "Status",
]
