"""The therapist change revision (issue 10): ``therapists.revision`` holds the ``therapists``
change counter of the transaction that last wrote the row (an upsert or a soft delete), so a
process that has applied every change up to revision *r* reads only the rows with a higher one.
Rows written before this migration have revision 0.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``therapists.revision`` (0 for every existing row) and its index."""
    with op.batch_alter_table("therapists") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index("ix_therapists_revision", "therapists", ["revision"])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_index("ix_therapists_revision", table_name="therapists")
    with op.batch_alter_table("therapists") as batch:
        batch.drop_column("revision")
