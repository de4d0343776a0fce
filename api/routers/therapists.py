"""``/v1/therapists``: profiles of the pool. Every write also swaps the served engine's pool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from api.deps import RuntimeDep, SessionDep, TherapistsKey
from api.frames import body_frame
from api.routers.common import AUTHENTICATED, NOT_FOUND
from api.runtime import Runtime
from api.schemas import (
    MAX_ID,
    PATH_ID,
    BulkResult,
    Therapist,
    TherapistBulk,
    TherapistPage,
    TherapistPatch,
    TherapistUpsert,
    clean_text,
    identifier,
)
from api.storage.changes import Topic, bump
from api.storage.therapists import (
    delete_therapists,
    get_therapist,
    list_therapists,
    upsert_therapists,
)
from features.schemas import THERAPISTS

router = APIRouter(tags=["therapists"], responses=AUTHENTICATED)

TherapistId = Annotated[
    str,
    Path(min_length=1, max_length=MAX_ID, pattern=PATH_ID, description="Therapist id (no `/`)."),
    AfterValidator(identifier),
]


def write_pool(
    runtime: Runtime,
    session: Session,
    *,
    upserted: pd.DataFrame | None = None,
    removed: Sequence[str] = (),
) -> set[str]:
    """Persist a change of the pool and swap the served engine, all or nothing.

    The new engine is built before the commit; it is published only after the commit succeeds.
    Returns the ids created (not updated) by the upsert.
    """
    with runtime.engines.pool_writer() as writer:
        writer.stage_changes(upserted, removed)
        revision = bump(session, Topic.THERAPISTS)
        created: set[str] = set()
        if upserted is not None:
            created = upsert_therapists(session, upserted, revision=revision)
        if removed:
            delete_therapists(session, removed, revision=revision)
        session.commit()
        writer.revision = revision
    return created


def _found(session: Session, therapist_id: str) -> dict[str, Any]:
    record = get_therapist(session, therapist_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"no therapist {therapist_id!r}")
    return record


@router.put(
    "/v1/therapists/{therapist_id}",
    summary="Create or replace a therapist",
    responses={201: {"model": Therapist, "description": "Created."}},
)
def put_therapist(
    therapist_id: TherapistId,
    body: TherapistUpsert,
    _key: TherapistsKey,
    runtime: RuntimeDep,
    session: SessionDep,
    response: Response,
) -> Therapist:
    """Store a full profile under `therapist_id` (201 when new, 200 when replaced)."""
    if body.therapist_id is not None and body.therapist_id != therapist_id:
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "loc": ["body", "therapist_id"],
                    "msg": "must match the therapist_id in the path",
                    "type": "value_error",
                }
            ],
        )
    record = {**body.record(), "therapist_id": therapist_id}
    frame = body_frame(THERAPISTS, [record])
    created = write_pool(runtime, session, upserted=frame)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Therapist.model_validate(_found(session, therapist_id))


@router.get("/v1/therapists/{therapist_id}", summary="Read a therapist", responses=NOT_FOUND)
def read_therapist(
    therapist_id: TherapistId, _key: TherapistsKey, session: SessionDep
) -> Therapist:
    """The stored profile."""
    return Therapist.model_validate(_found(session, therapist_id))


@router.patch("/v1/therapists/{therapist_id}", summary="Change some fields", responses=NOT_FOUND)
def patch_therapist(
    therapist_id: TherapistId,
    body: TherapistPatch,
    _key: TherapistsKey,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Therapist:
    """Change the given fields (e.g. `current_caseload`, `accepting_new_clients`); `null` clears
    an optional field. The merged profile must satisfy the contract."""
    with runtime.engines.pool_writer() as writer:
        current = _found(session, therapist_id)
        merged = {**current, **body.record(exclude_unset=True), "therapist_id": therapist_id}
        frame = body_frame(THERAPISTS, [merged])
        writer.stage_changes(frame)
        revision = bump(session, Topic.THERAPISTS)
        upsert_therapists(session, frame, revision=revision)
        session.commit()
        writer.revision = revision
    return Therapist.model_validate(_found(session, therapist_id))


@router.delete(
    "/v1/therapists/{therapist_id}",
    summary="Remove a therapist from the pool",
    status_code=204,
    responses=NOT_FOUND,
)
def delete_therapist(
    therapist_id: TherapistId, _key: TherapistsKey, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Take the therapist out of the pool (past impressions keep referring to the profile)."""
    _found(session, therapist_id)
    write_pool(runtime, session, removed=[therapist_id])
    return Response(status_code=204)


@router.post("/v1/therapists:bulk", summary="Create or replace many therapists")
def bulk_upsert(
    body: TherapistBulk, _key: TherapistsKey, runtime: RuntimeDep, session: SessionDep
) -> BulkResult:
    """Insert or replace up to 1000 full profiles in one transaction (all or nothing)."""
    records = [t.record() for t in body.therapists]
    frame = body_frame(THERAPISTS, records, at="body/therapists", many=True)
    created = write_pool(runtime, session, upserted=frame)
    return BulkResult(created=len(created), updated=len(records) - len(created))


@router.get("/v1/therapists", summary="List therapists")
def page_therapists(
    _key: TherapistsKey,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
    after: Annotated[
        str | None,
        Query(max_length=MAX_ID, description="Last id of the previous page."),
        AfterValidator(lambda v: v if v is None else clean_text(v)),
    ] = None,
) -> TherapistPage:
    """Active therapists ordered by id, `limit` at a time (keyset pagination)."""
    items = list_therapists(session, limit=limit, after=after)
    next_after = items[-1]["therapist_id"] if len(items) == limit else None
    return TherapistPage(items=[Therapist.model_validate(i) for i in items], next_after=next_after)


__all__ = ["router", "write_pool"]
