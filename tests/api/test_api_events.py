"""POST /v1/events: idempotency (also under concurrent ingest), value rules, unknown intakes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from api_support import Service, intake
from sqlalchemy import func, select

from api.storage.models import EventRow


@pytest.fixture
def matched(service: Service) -> Service:
    response = service.client.post(
        "/v1/matches", json=intake(intake_id="i-ev", client_id="c-ev"), headers=service.auth()
    )
    assert response.status_code == 200
    return service


def event(event_id: str = "e1", **changes) -> dict:
    body = {
        "event_id": event_id,
        "intake_id": "i-ev",
        "therapist_id": "t1",
        "type": "chosen",
        "occurred_at": "2025-03-02T09:00:00Z",
    }
    body.update(changes)
    return body


def _post(service: Service, body: dict, key: str = "events"):
    return service.client.post("/v1/events", json=body, headers=service.auth(key))


def _stored(service: Service) -> list[str]:
    with service.runtime.database.session() as session:
        return list(session.scalars(select(EventRow.event_id).order_by(EventRow.event_id)))


def test_event_stored_once(matched: Service) -> None:
    first = _post(matched, event())
    assert first.status_code == 201
    assert first.json() == {"event_id": "e1", "duplicate": False}
    again = _post(matched, event(occurred_at="2025-03-02T10:00:00+01:00"))
    assert again.status_code == 200
    assert again.json() == {"event_id": "e1", "duplicate": True}
    assert _stored(matched) == ["e1"]


def test_reused_event_id_with_other_facts_is_409(matched: Service) -> None:
    assert _post(matched, event()).status_code == 201
    assert _post(matched, event(type="dropout")).status_code == 409


def test_unknown_intake_is_404(matched: Service) -> None:
    assert _post(matched, event(intake_id="never")).status_code == 404


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"type": "alliance", "value": 4.5}, True),
        ({"type": "alliance"}, False),
        ({"type": "alliance", "value": 0.5}, False),
        ({"type": "improvement", "value": 1}, True),
        ({"type": "improvement", "value": 0.5}, False),
        ({"type": "improvement"}, False),
        ({"type": "dropout"}, True),
        ({"type": "dropout", "value": 3}, False),
        ({"type": "session_attended"}, True),
        ({"type": "chosen", "value": 2}, False),
        ({"type": "cancelled"}, False),
    ],
)
def test_value_rules(matched: Service, changes: dict, ok: bool) -> None:
    response = _post(matched, event(**changes))
    assert response.status_code == (201 if ok else 422), response.text
    if not ok:
        assert response.json()["detail"][0]["loc"][0] == "body"


def test_non_finite_values_are_422(matched: Service) -> None:
    raw = (
        b'{"event_id": "e-nan", "intake_id": "i-ev", "therapist_id": "t1", "type": "alliance",'
        b' "value": NaN, "occurred_at": "2025-03-02T09:00:00Z"}'
    )
    headers = {**matched.auth("events"), "Content-Type": "application/json"}
    response = matched.client.post("/v1/events", content=raw, headers=headers)
    assert response.status_code == 422


def test_scope_events_required(matched: Service) -> None:
    assert _post(matched, event(), key="matches").status_code == 403


def test_concurrent_ingest_loses_and_duplicates_nothing(matched: Service) -> None:
    ids = [f"ev-{i}" for i in range(40)]
    # Every id is sent three times, interleaved, from eight threads at once.
    work = [event(i, type="session_attended") for i in ids] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda b: _post(matched, b).status_code, work))
    assert statuses.count(201) == len(ids)
    assert statuses.count(200) == 2 * len(ids)
    stored = _stored(matched)
    assert stored == sorted(ids)
    with matched.runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == len(ids)
