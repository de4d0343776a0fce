"""Body rules a client meets: ISO times only, each list value once, required fields not nulled."""

from __future__ import annotations

import pytest
from api_support import Service, intake
from sqlalchemy import func, select

from api.storage.models import ImpressionRow, IntakeRow


def _detail(response) -> dict[tuple, str]:
    assert response.status_code == 422, response.text
    return {tuple(d["loc"]): d["msg"] for d in response.json()["detail"]}


@pytest.mark.parametrize(
    ("changes", "loc", "says"),
    [
        ({"submitted_at": 0}, ("body", "submitted_at"), "ISO-8601"),
        ({"concerns": ["anxiety", "anxiety"]}, ("body", "concerns"), "repeated: anxiety"),
        ({"free_text": "x" * 3000}, ("body", "free_text"), "2000 characters"),
        ({"payment": "self\x00pay"}, ("body", "payment"), "NUL"),
    ],
)
def test_match_body_rules(service: Service, changes: dict, loc: tuple, says: str) -> None:
    response = service.client.post(
        "/v1/matches", json=intake(**changes), headers=service.auth("matches")
    )
    assert says in _detail(response)[loc]


def test_patch_cannot_null_a_required_field_but_can_clear_an_optional_one(
    service: Service,
) -> None:
    headers = service.auth("therapists")
    refused = service.client.patch(
        "/v1/therapists/t1", json={"license_type": None}, headers=headers
    )
    assert ("body", "license_type") in _detail(refused)
    cleared = service.client.patch("/v1/therapists/t1", json={"bio": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["bio"] is None


def test_schema_says_lists_hold_distinct_values(service: Service) -> None:
    schemas = service.client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["MatchRequest"]["properties"]["concerns"]["uniqueItems"] is True


def test_an_over_full_caseload_is_recorded_and_takes_the_therapist_out_of_matching(
    service: Service,
) -> None:
    """Over-full caseloads happen (the fairness report counts them as overload): the fact is
    stored, and the capacity constraint keeps the therapist out of new lists."""
    headers = service.auth("all")
    patched = service.client.patch(
        "/v1/therapists/t1", json={"current_caseload": 21}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["current_caseload"] == 21
    answer = service.client.post("/v1/matches", json=intake(), headers=headers).json()
    assert "t1" not in [m["therapist_id"] for m in answer["matches"]]


def test_reusing_an_intake_id_with_other_answers_is_409(service: Service) -> None:
    headers = service.auth("matches")
    first = intake(intake_id="same", submitted_at=None, concerns=["anxiety"])
    first = {k: v for k, v in first.items() if v is not None}
    assert service.client.post("/v1/matches", json=first, headers=headers).status_code == 200
    again = service.client.post("/v1/matches", json=first, headers=headers)
    assert again.status_code == 200, "a retry with the same answers is served again"
    served = _stored(service, "same")
    other = service.client.post("/v1/matches", json=first | {"phq9": 20}, headers=headers)
    assert other.status_code == 409 and "phq9" in other.json()["detail"]
    # ranked before the check, but refused before anything is written: the stored intake keeps
    # its answers and no impression is added
    assert _stored(service, "same") == served


def _stored(service: Service, intake_id: str) -> tuple[object, int]:
    """The stored intake's phq9 and how many impressions it has."""
    with service.runtime.database.read_session() as session:
        phq9 = session.scalar(select(IntakeRow.phq9).where(IntakeRow.intake_id == intake_id))
        shown = session.scalar(
            select(func.count())
            .select_from(ImpressionRow)
            .where(ImpressionRow.intake_id == intake_id)
        )
    return phq9, int(shown or 0)
