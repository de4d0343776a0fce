"""Impression propensities (issue 8): ``propensity``, ``shown_propensity`` and ``policy`` on each
logged impression, so off-policy evaluation can weight what the service showed.

Impressions logged before this revision keep NULL: their propensities are unknown, and
``matcher evaluate`` estimates them with a caveat rather than assume a value.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add three nullable columns (batch mode: SQLite and PostgreSQL alike)."""
    with op.batch_alter_table("impressions") as batch:
        batch.add_column(sa.Column("propensity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("shown_propensity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("policy", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table("impressions") as batch:
        batch.drop_column("policy")
        batch.drop_column("shown_propensity")
        batch.drop_column("propensity")
