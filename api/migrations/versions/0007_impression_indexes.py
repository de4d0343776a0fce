"""Two fewer indexes on ``impressions`` (issue 10): every answered match writes ten rows there,
and each index is one more B-tree insert per row.

- ``ix_impressions_request_id`` repeats the unique constraint on (request_id, intake_id,
  therapist_id), whose leading column serves every lookup by request id.
- ``ix_impressions_therapist_id`` serves no query: impressions are read by intake (outcome
  events, erasure), client (erasure), request (experiments) or whole (exports, reports).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

DROPPED = ("request_id", "therapist_id")


def upgrade() -> None:
    """Drop the two indexes."""
    for column in DROPPED:
        op.drop_index(f"ix_impressions_{column}", table_name="impressions")


def downgrade() -> None:
    """Create them again."""
    for column in DROPPED:
        op.create_index(f"ix_impressions_{column}", "impressions", [column])
