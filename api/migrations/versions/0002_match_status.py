"""Match answers on the stored intake: ``status`` and ``n_eligible`` (for the fairness report),
and an index on ``received_at`` (the report's date range).

Intakes stored before this revision keep NULL in both: how they were answered is not known, so
the online fairness report leaves them out rather than guess.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the two nullable columns and the index (batch mode: SQLite and PostgreSQL alike)."""
    with op.batch_alter_table("intakes") as batch:
        batch.add_column(sa.Column("status", sa.String(32), nullable=True))
        batch.add_column(sa.Column("n_eligible", sa.Integer(), nullable=True))
    op.create_index("ix_intakes_received_at", "intakes", ["received_at"])


def downgrade() -> None:
    """Drop the index and the two columns."""
    op.drop_index("ix_intakes_received_at", table_name="intakes")
    with op.batch_alter_table("intakes") as batch:
        batch.drop_column("n_eligible")
        batch.drop_column("status")
