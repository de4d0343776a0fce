"""Region and language codes in HTTP bodies: normalised, and a 422 naming the field when unknown."""

from __future__ import annotations

from api_support import Service, intake, therapist


def test_lower_case_codes_are_normalised_and_matched(service: Service) -> None:
    headers = service.auth("all")
    body = therapist("t9", licensed_regions=["us-ca"], languages=["EN"])
    assert service.client.put("/v1/therapists/t9", json=body, headers=headers).status_code in (
        200,
        201,
    )
    stored = service.client.get("/v1/therapists/t9", headers=headers).json()
    assert stored["licensed_regions"] == ["US-CA"] and stored["languages"] == ["en"]
    answer = service.client.post(
        "/v1/matches", json=intake(region="us-ca", languages=["En"]), headers=headers
    ).json()
    assert answer["status"] == "matched"
    assert "t9" in [m["therapist_id"] for m in answer["matches"]]


def test_unknown_codes_are_422_naming_the_field(service: Service) -> None:
    response = service.client.post(
        "/v1/matches",
        json=intake(region="Narnia", languages=["english"]),
        headers=service.auth("matches"),
    )
    assert response.status_code == 422
    detail = {tuple(d["loc"]): d["msg"] for d in response.json()["detail"]}
    assert "ISO 3166" in detail[("body", "region")]
    assert "ISO 639-1" in detail[("body", "languages", 0)]
