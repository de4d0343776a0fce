"""Experiments (issue 11): definitions (``experiments``), the arm that served each match request
(``experiment_requests``), shadow arms' lists (``shadow_impressions``, never shown) and the arm
of each logged impression (``impressions.arm``, NULL outside an experiment).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from api.storage.types import UTCDateTime, utcnow

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the three tables, add ``impressions.arm`` and the ``experiments`` counter."""
    op.create_table(
        "experiments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("definition", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_experiments_active", "experiments", ["active"])
    op.create_table(
        "experiment_requests",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("intake_id", sa.String(64), nullable=False),
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    for column in ("request_id", "intake_id", "experiment"):
        op.create_index(f"ix_experiment_requests_{column}", "experiment_requests", [column])
    op.create_table(
        "shadow_impressions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("intake_id", sa.String(64), nullable=False),
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("therapist_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("shown_at", UTCDateTime(), nullable=False),
    )
    for column in ("request_id", "intake_id", "experiment"):
        op.create_index(f"ix_shadow_impressions_{column}", "shadow_impressions", [column])
    with op.batch_alter_table("impressions") as batch:
        batch.add_column(sa.Column("arm", sa.String(64), nullable=True))
    changes = sa.table(
        "serve_changes",
        sa.column("topic", sa.String),
        sa.column("counter", sa.BigInteger),
        sa.column("changed_at", UTCDateTime),
    )
    op.bulk_insert(changes, [{"topic": "experiments", "counter": 0, "changed_at": utcnow()}])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.execute("DELETE FROM serve_changes WHERE topic = 'experiments'")
    with op.batch_alter_table("impressions") as batch:
        batch.drop_column("arm")
    for table in ("shadow_impressions", "experiment_requests"):
        for column in ("experiment", "intake_id", "request_id"):
            op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_experiments_active", table_name="experiments")
    op.drop_table("experiments")
