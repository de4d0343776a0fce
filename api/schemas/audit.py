"""Response models of the audit trail (``GET /v1/audit``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AuditEntry(BaseModel):
    """One audited data access: never intake contents, never a client id."""

    id: int
    at: datetime
    key_name: str
    action: str = Field(description="`match`, `allocate`, `erase` or `report_read`.")
    route: str = Field(description="The route template.")
    status: int
    request_id: str | None
    intake_id: str | None
    client_hash: str | None = Field(
        description="HMAC-SHA256 of the client id under this installation's secret."
    )


class AuditPage(BaseModel):
    """Newest first; pass ``next_before`` as ``before`` for the next page (null: no more)."""

    items: list[AuditEntry]
    next_before: int | None


__all__ = ["AuditEntry", "AuditPage"]
