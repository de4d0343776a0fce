"""``/v1/clients``: erasure of a client's data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import AfterValidator

from api.deps import MatchesKey, SessionDep
from api.routers.common import AUTHENTICATED
from api.schemas import MAX_ID, ErasureResult, identifier
from api.storage.clients import erase_client

router = APIRouter(tags=["clients"], responses=AUTHENTICATED)

ClientId = Annotated[
    str,
    Path(min_length=1, max_length=MAX_ID, description="The pseudonymous client id."),
    AfterValidator(identifier),
]


@router.delete("/v1/clients/{client_id}", summary="Erase a client's data")
def erase(client_id: ClientId, _key: MatchesKey, session: SessionDep) -> ErasureResult:
    """Delete every intake, impression and event of the client (needs scope `matches`, the
    scope client data arrives under). Idempotent: erasing again reports zeros."""
    erased = erase_client(session, client_id)
    return ErasureResult(
        client_id=client_id,
        intakes=erased.intakes,
        impressions=erased.impressions,
        events=erased.events,
    )


__all__ = ["router"]
