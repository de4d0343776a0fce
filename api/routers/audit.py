"""``/v1/audit``: who read or erased client data, and when (admin keys only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminKey, SessionDep
from api.routers.common import AUTHENTICATED
from api.schemas.audit import AuditEntry, AuditPage
from api.storage.audit import audit_page

router = APIRouter(tags=["audit"], responses=AUTHENTICATED)


@router.get("/v1/audit", summary="The audit trail of data access")
def read_audit(
    _key: AdminKey,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Entries per page.")] = 100,
    before: Annotated[
        int | None, Query(ge=1, description="Only entries older than this id (paging).")
    ] = None,
) -> AuditPage:
    """Matches, allocations, erasures and report reads: key name, action, route, status,
    intake id and a keyed hash of the client id, newest first. Erasing a client deletes the
    entries that name its intakes or its hash and keeps one `erase` entry naming neither."""
    rows = audit_page(session, limit=limit, before=before)
    items = [
        AuditEntry(
            id=r.id,
            at=r.at,
            key_name=r.key_name,
            action=r.action,
            route=r.route,
            status=r.status,
            request_id=r.request_id,
            intake_id=r.intake_id,
            client_hash=r.client_hash,
        )
        for r in rows
    ]
    return AuditPage(items=items, next_before=items[-1].id if len(items) == limit else None)


__all__ = ["router"]
