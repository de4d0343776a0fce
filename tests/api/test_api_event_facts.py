"""Events must agree with what the service did: the therapist was shown, after the intake."""

from __future__ import annotations

import pytest
from api_support import Service, intake


@pytest.fixture
def matched(service: Service) -> Service:
    body = intake(intake_id="i-f", client_id="c-f", submitted_at="2025-03-01T12:00:00Z")
    answer = service.client.post("/v1/matches", json=body, headers=service.auth())
    assert answer.status_code == 200 and answer.json()["matches"]
    return service


def _post(service: Service, **changes: object):
    body = {
        "event_id": "e1",
        "intake_id": "i-f",
        "therapist_id": "t1",
        "type": "chosen",
        "occurred_at": "2025-03-02T09:00:00Z",
    } | changes
    return service.client.post("/v1/events", json=body, headers=service.auth("events"))


def test_event_for_a_therapist_never_shown_is_422_naming_the_field(matched: Service) -> None:
    response = _post(matched, therapist_id="nobody")
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["body", "therapist_id"] and "never shown" in issue["msg"]


def test_event_dated_before_the_intake_is_422(matched: Service) -> None:
    response = _post(matched, occurred_at="2025-02-01T09:00:00Z")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "occurred_at"]


def test_each_event_type_says_in_the_schema_what_value_it_takes(service: Service) -> None:
    schemas = service.client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ChosenEvent"]["properties"]["value"]["anyOf"][0] == {
        "const": 1,
        "type": "integer",
    }
    assert schemas["AllianceEvent"]["required"] == [
        "event_id",
        "intake_id",
        "therapist_id",
        "occurred_at",
        "type",
        "value",
    ]
