"""SQLAlchemy models of what the service stores.

``therapists`` and ``intakes`` carry exactly the contract columns of SPEC §2 (lists as JSON) plus
bookkeeping times — and, on ``intakes``, how the last match request was answered (``status``,
``n_eligible``: what the fairness report reads); a test keeps them in step with
:data:`features.schemas.TABLES`.
``impressions`` and ``events`` are the logs that :func:`api.storage.export.export_dataset` turns
into the contract's ``interactions`` table. No foreign keys: logs must survive in any order of
arrival, and client erasure deletes from all three tables in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.storage.types import BigId, JSONValue, UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base: one metadata for the models and the migrations."""


class TherapistRow(Base):
    """A therapist profile (contract columns). Deletion is soft so history keeps its references."""

    __tablename__ = "therapists"

    therapist_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    license_type: Mapped[str] = mapped_column(String(32))
    licensed_regions: Mapped[list[str]] = mapped_column(JSONValue)
    years_experience: Mapped[int]
    specialties: Mapped[list[str]] = mapped_column(JSONValue)
    modalities: Mapped[list[str]] = mapped_column(JSONValue)
    formats: Mapped[list[str]] = mapped_column(JSONValue)
    languages: Mapped[list[str]] = mapped_column(JSONValue)
    cultural_competencies: Mapped[list[str]] = mapped_column(JSONValue)
    gender: Mapped[str | None] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(String(64))
    age_groups_served: Mapped[list[str]] = mapped_column(JSONValue)
    payers_accepted: Mapped[list[str]] = mapped_column(JSONValue)
    session_fee: Mapped[float | None] = mapped_column(Float)
    availability: Mapped[list[int]] = mapped_column(JSONValue)
    max_caseload: Mapped[int]
    current_caseload: Mapped[int]
    accepting_new_clients: Mapped[bool]
    crisis_trained: Mapped[bool | None]
    bio: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    revision: Mapped[int] = mapped_column(BigInteger, index=True, default=0, server_default="0")
    """The ``therapists`` change counter of the transaction that last wrote this row."""


class IntakeRow(Base):
    """An intake as received (``free_text`` only when ``store_free_text`` is on)."""

    __tablename__ = "intakes"

    intake_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    age_group: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(16))
    concerns: Mapped[list[str]] = mapped_column(JSONValue)
    phq9: Mapped[int | None]
    gad7: Mapped[int | None]
    phq9_item9: Mapped[int | None]
    crisis_now: Mapped[bool | None]
    preferred_formats: Mapped[list[str]] = mapped_column(JSONValue)
    languages: Mapped[list[str]] = mapped_column(JSONValue)
    preferred_therapist_genders: Mapped[list[str]] = mapped_column(JSONValue)
    cultural_preferences: Mapped[list[str]] = mapped_column(JSONValue)
    preferred_modalities: Mapped[list[str]] = mapped_column(JSONValue)
    client_gender: Mapped[str | None] = mapped_column(String(32))
    client_ethnicity: Mapped[str | None] = mapped_column(String(64))
    prefers_same_ethnicity: Mapped[bool | None]
    availability: Mapped[list[int]] = mapped_column(JSONValue)
    payment: Mapped[str] = mapped_column(String(64))
    max_session_fee: Mapped[float | None] = mapped_column(Float)
    low_bandwidth: Mapped[bool | None]
    free_text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    """How the last ``POST /v1/matches`` for this intake was answered: ``matched``,
    ``no_eligible_match`` or ``crisis`` (None: only allocated, or stored before migration 0002)."""
    n_eligible: Mapped[int | None]
    """Therapists who passed every hard constraint in that answer."""


class ImpressionRow(Base):
    """One therapist shown to one intake in one response (the future ``interactions`` row)."""

    __tablename__ = "impressions"
    __table_args__ = (UniqueConstraint("request_id", "intake_id", "therapist_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Looked up by request id through the unique constraint's leading column (migration 0007).
    request_id: Mapped[str] = mapped_column(String(64))
    intake_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    therapist_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(128))
    features: Mapped[dict[str, float | None] | None] = mapped_column(JSONValue)
    source: Mapped[str] = mapped_column(String(16), default="match")
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # issue 8 (migration 0003): what off-policy evaluation weights each showing by
    propensity: Mapped[float | None] = mapped_column(Float, nullable=True)
    shown_propensity: Mapped[float | None] = mapped_column(Float, nullable=True)
    policy: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # issue 11 (migration 0005): the experiment arm that served the list (NULL: no experiment)
    arm: Mapped[str | None] = mapped_column(String(64), nullable=True)


class EventRow(Base):
    """An outcome event, stored once per ``event_id`` (the database enforces it)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_pair", "intake_id", "therapist_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    intake_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    therapist_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["ApiKeyRow", "Base", "EventRow", "ImpressionRow", "IntakeRow", "TherapistRow"]
