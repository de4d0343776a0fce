"""``/v1/clients``: erasure of a client's data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import AfterValidator
from sqlalchemy import select

from api.deps import MatchesKey, RequestIdDep, RuntimeDep, SessionDep
from api.routers.common import AUTHENTICATED
from api.schemas import MAX_ID, PATH_ID, ErasureResult, identifier
from api.storage.audit import Action, client_hash, erase_audit, record_access
from api.storage.clients import erase_client
from api.storage.models import IntakeRow

router = APIRouter(tags=["clients"], responses=AUTHENTICATED)

ClientId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID,
        pattern=PATH_ID,
        description="The pseudonymous client id (no `/`).",
    ),
    AfterValidator(identifier),
]


@router.delete("/v1/clients/{client_id}", summary="Erase a client's data")
def erase(
    client_id: ClientId,
    key: MatchesKey,
    runtime: RuntimeDep,
    session: SessionDep,
    request_id: RequestIdDep,
) -> ErasureResult:
    """Delete every intake, impression and event of the client (needs scope `matches`, the
    scope client data arrives under), and the audit entries that name them; one `erase` audit
    entry naming neither the client nor its intakes is kept. No copy stays in the database
    files (SQLite: secure delete and a WAL checkpoint). Idempotent: erasing again reports zeros."""
    hashed = client_hash(runtime.audit_key, client_id)
    intake_ids = list(
        session.scalars(select(IntakeRow.intake_id).where(IntakeRow.client_id == client_id))
    )
    assert hashed is not None
    erase_audit(session, hashed, intake_ids)
    record_access(
        session,
        key_name=key.name,
        action=Action.ERASE,
        route="/v1/clients/{client_id}",
        status=200,
        request_id=request_id,
    )
    erased = erase_client(session, client_id)  # commits the audit changes with the erasure
    runtime.database.purge_deleted()
    return ErasureResult(
        client_id=client_id,
        intakes=erased.intakes,
        impressions=erased.impressions,
        events=erased.events,
    )


__all__ = ["router"]
