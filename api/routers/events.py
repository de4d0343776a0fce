"""``/v1/events``: outcomes after a list was shown, idempotent by ``event_id``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from api.deps import EventsKey, RuntimeDep, SessionDep
from api.routers.common import AUTHENTICATED, CONFLICT, NOT_FOUND
from api.schemas import EventAck, OutcomeEvent
from api.storage.events import Event, EventType, record_event

router = APIRouter(tags=["events"], responses=AUTHENTICATED)

VALUELESS = frozenset({EventType.CHOSEN, EventType.SESSION_ATTENDED})


@router.post(
    "/v1/events",
    summary="Record an outcome event",
    status_code=201,
    responses={
        200: {"model": EventAck, "description": "Already recorded under this event_id."},
        **NOT_FOUND,
        **CONFLICT,
    },
)
def post_event(
    body: OutcomeEvent,
    _key: EventsKey,
    runtime: RuntimeDep,
    session: SessionDep,
    response: Response,
) -> EventAck:
    """Store an event once per `event_id`: a retry gets 200 with `duplicate: true`; the same id
    with different facts is a 409. The intake must be one this service matched (404 otherwise)
    and the therapist one it showed to that intake, at or after the intake (422 otherwise).

    Types: `chosen` (booked this therapist), `session_attended` (one per session), `alliance`
    (`value` 1-5, WAI-SR), `improvement` (`value` 1 reliable improvement, 0 none), `dropout`
    (`value` 1, the default, or 0 to retract).
    """
    kind = EventType(body.type)
    event = Event(
        event_id=body.event_id,
        intake_id=body.intake_id,
        therapist_id=body.therapist_id,
        type=kind,
        value=None if body.value is None or kind in VALUELESS else float(body.value),
        occurred_at=body.occurred_at,
    )
    recorded = record_event(session, event)
    if recorded is None:
        raise HTTPException(status_code=404, detail=f"no intake {body.intake_id!r}")
    if recorded.duplicate and not recorded.event.same_as(event):
        raise HTTPException(
            status_code=409, detail=f"event_id {body.event_id!r} was used for a different event"
        )
    runtime.metrics.events.labels(kind.value, str(recorded.duplicate).lower()).inc()
    response.status_code = status.HTTP_200_OK if recorded.duplicate else status.HTTP_201_CREATED
    return EventAck(event_id=body.event_id, duplicate=recorded.duplicate)


__all__ = ["router"]
