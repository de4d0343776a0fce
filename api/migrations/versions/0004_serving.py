"""Production serving: change counters shared by every service process (``serve_changes``),
the audit trail of data access (``audit_log``) and the installation's audit secret.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from api.storage.types import UTCDateTime, utcnow

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

TOPICS = ("therapists", "keys", "model")


def upgrade() -> None:
    """Create the tables; seed one counter row per topic and a random audit secret."""
    changes = op.create_table(
        "serve_changes",
        sa.Column("topic", sa.String(32), primary_key=True),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )
    op.bulk_insert(
        changes,
        [{"topic": t, "counter": 0, "changed_at": utcnow()} for t in TOPICS],
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("key_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("intake_id", sa.String(64), nullable=True),
        sa.Column("client_hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_intake_id", "audit_log", ["intake_id"])
    op.create_index("ix_audit_log_client_hash", "audit_log", ["client_hash"])
    secret = op.create_table(
        "serve_secrets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.bulk_insert(secret, [{"name": "audit_hash_key", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("serve_secrets")
    op.drop_index("ix_audit_log_client_hash", table_name="audit_log")
    op.drop_index("ix_audit_log_intake_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("serve_changes")
