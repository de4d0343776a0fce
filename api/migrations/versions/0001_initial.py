"""Initial schema: therapists, intakes, impressions, events, api_keys.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "therapists",
        sa.Column("therapist_id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("license_type", sa.String(32), nullable=False),
        sa.Column("licensed_regions", _JSON, nullable=False),
        sa.Column("years_experience", sa.Integer(), nullable=False),
        sa.Column("specialties", _JSON, nullable=False),
        sa.Column("modalities", _JSON, nullable=False),
        sa.Column("formats", _JSON, nullable=False),
        sa.Column("languages", _JSON, nullable=False),
        sa.Column("cultural_competencies", _JSON, nullable=False),
        sa.Column("gender", sa.String(32), nullable=True),
        sa.Column("ethnicity", sa.String(64), nullable=True),
        sa.Column("age_groups_served", _JSON, nullable=False),
        sa.Column("payers_accepted", _JSON, nullable=False),
        sa.Column("session_fee", sa.Float(), nullable=True),
        sa.Column("availability", _JSON, nullable=False),
        sa.Column("max_caseload", sa.Integer(), nullable=False),
        sa.Column("current_caseload", sa.Integer(), nullable=False),
        sa.Column("accepting_new_clients", sa.Boolean(), nullable=False),
        sa.Column("crisis_trained", sa.Boolean(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _time("deleted_at", nullable=True),
    )
    op.create_index("ix_therapists_deleted_at", "therapists", ["deleted_at"])

    op.create_table(
        "intakes",
        sa.Column("intake_id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        _time("submitted_at"),
        sa.Column("age_group", sa.String(32), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("concerns", _JSON, nullable=False),
        sa.Column("phq9", sa.Integer(), nullable=True),
        sa.Column("gad7", sa.Integer(), nullable=True),
        sa.Column("phq9_item9", sa.Integer(), nullable=True),
        sa.Column("crisis_now", sa.Boolean(), nullable=True),
        sa.Column("preferred_formats", _JSON, nullable=False),
        sa.Column("languages", _JSON, nullable=False),
        sa.Column("preferred_therapist_genders", _JSON, nullable=False),
        sa.Column("cultural_preferences", _JSON, nullable=False),
        sa.Column("preferred_modalities", _JSON, nullable=False),
        sa.Column("client_gender", sa.String(32), nullable=True),
        sa.Column("client_ethnicity", sa.String(64), nullable=True),
        sa.Column("prefers_same_ethnicity", sa.Boolean(), nullable=True),
        sa.Column("availability", _JSON, nullable=False),
        sa.Column("payment", sa.String(64), nullable=False),
        sa.Column("max_session_fee", sa.Float(), nullable=True),
        sa.Column("low_bandwidth", sa.Boolean(), nullable=True),
        sa.Column("free_text", sa.Text(), nullable=True),
        _time("received_at"),
    )
    op.create_index("ix_intakes_client_id", "intakes", ["client_id"])

    op.create_table(
        "impressions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("intake_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("therapist_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("features", _JSON, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        _time("shown_at"),
        sa.UniqueConstraint("request_id", "intake_id", "therapist_id"),
    )
    for column in ("request_id", "intake_id", "client_id", "therapist_id"):
        op.create_index(f"ix_impressions_{column}", "impressions", [column])

    op.create_table(
        "events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("intake_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("therapist_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        _time("occurred_at"),
        _time("received_at"),
    )
    op.create_index("ix_events_client_id", "events", ["client_id"])
    op.create_index("ix_events_pair", "events", ["intake_id", "therapist_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", _JSON, nullable=False),
        _time("created_at"),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _time("revoked_at", nullable=True),
    )


def downgrade() -> None:
    """Drop every table."""
    for table in ("api_keys", "events", "impressions", "intakes", "therapists"):
        op.drop_table(table)
