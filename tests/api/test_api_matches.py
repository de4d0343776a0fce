"""POST /v1/matches and /v1/matches/allocate: answers, validation, and what gets logged."""

from __future__ import annotations

from api_support import Service, intake
from sqlalchemy import select

from api.storage.models import ImpressionRow, IntakeRow


def _match(service: Service, body: dict, key: str = "matches"):
    return service.client.post("/v1/matches", json=body, headers=service.auth(key))


def test_match_happy_path(service: Service) -> None:
    response = _match(service, intake(intake_id="i-1", top_k=5))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "matched"
    assert body["intake_id"] == "i-1"
    assert body["model_version"] == "v1"
    assert [m["rank"] for m in body["matches"]] == [1, 2]
    assert {m["therapist_id"] for m in body["matches"]} == {"t1", "t2"}
    assert body["excluded"]["region"] == 1
    assert body["candidates"] == 3 and body["eligible"] == 2
    first = body["matches"][0]
    assert first["display_name"] and first["reasons"] and 0 <= first["score"] <= 1
    assert first["contributions"] is None
    assert "features" not in first


def test_explain_adds_contributions_and_top_k_limits(service: Service) -> None:
    body = _match(service, intake(explain=True, top_k=1)).json()
    assert len(body["matches"]) == 1
    assert set(body["matches"][0]["contributions"]) == {"fit", "experience"}


def test_top_k_bounds(service: Service) -> None:
    for top_k in (0, 51, "3", 2.5):
        response = _match(service, intake(top_k=top_k))
        assert response.status_code == 422, top_k
        assert response.json()["detail"][0]["loc"] == ["body", "top_k"]


def test_unknown_vocabulary_names_field_and_allowed_values(service: Service) -> None:
    response = _match(service, intake(preferred_formats=["fax"], age_group="baby"))
    assert response.status_code == 422
    detail = {tuple(d["loc"]): d["msg"] for d in response.json()["detail"]}
    assert "'video', 'phone', 'chat' or 'in_person'" in detail[("body", "preferred_formats", 0)]
    assert "'adult'" in detail[("body", "age_group")]


def test_contract_problems_are_422_with_location(service: Service) -> None:
    response = _match(service, intake(region="   ", payment=" "))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "region"], ["body", "payment"]]
    assert all(d["msg"] for d in detail)
    schema_level = _match(service, intake(availability=[200]))
    assert schema_level.json()["detail"][0]["loc"] == ["body", "availability", 0]


def test_bad_bodies_are_422(service: Service) -> None:
    bodies = [
        {**intake(), "unknown_field": 1},
        intake(concerns=[]),
        intake(concerns=["anxiety"] * 6),
        intake(phq9=28),
        intake(max_session_fee=float("inf")) | {"max_session_fee": -1},
        intake(submitted_at="yesterday"),
        intake(submitted_at="0001-01-01T00:00:00"),
        intake(client_id="x" * 65),
        intake(client_id="nul\x00byte"),
        intake(crisis_now="yes"),
    ]
    for body in bodies:
        assert _match(service, body).status_code == 422, body
    raw = service.client.post(
        "/v1/matches",
        content=b"{not json",
        headers={**service.auth(), "Content-Type": "application/json"},
    )
    assert raw.status_code == 422


def test_intake_and_impressions_are_logged(service: Service) -> None:
    body = _match(service, intake(intake_id="i-log", client_id="c-9")).json()
    with service.runtime.database.session() as session:
        stored = session.get(IntakeRow, "i-log")
        rows = session.scalars(
            select(ImpressionRow).where(ImpressionRow.intake_id == "i-log")
        ).all()
    assert stored is not None
    assert stored.client_id == "c-9"
    assert stored.concerns == ["anxiety"]
    assert stored.free_text is None
    assert len(rows) == len(body["matches"])
    by_position = {r.position: r for r in rows}
    for m in body["matches"]:
        row = by_position[m["rank"]]
        assert row.therapist_id == m["therapist_id"]
        assert row.request_id == body["request_id"]
        assert row.client_id == "c-9"
        assert row.model_version == "v1"
        assert row.score == m["score"]
        assert row.features is not None and row.features["fit"] == m["score"]
        assert row.source == "match"


def test_free_text_stored_only_when_configured(service_factory) -> None:
    svc = service_factory(store_free_text=True)
    assert _match(svc, intake(intake_id="i-ft", free_text="hello")).status_code == 200
    with svc.runtime.database.session() as session:
        assert session.get(IntakeRow, "i-ft").free_text == "hello"


def test_intake_id_assigned_when_missing(service: Service) -> None:
    body = _match(service, {k: v for k, v in intake().items() if k != "submitted_at"}).json()
    assert len(body["intake_id"]) == 32
    with service.runtime.database.session() as session:
        assert session.get(IntakeRow, body["intake_id"]) is not None


def test_crisis_returns_resources_and_logs_no_impressions(service: Service) -> None:
    body = _match(service, intake(intake_id="i-crisis", phq9_item9=3)).json()
    assert body["status"] == "crisis"
    assert body["matches"] == []
    assert body["crisis_resources"][0]["phone"] == "988"
    assert body["flags"] == ["clinical_follow_up"]
    with service.runtime.database.session() as session:
        assert session.get(IntakeRow, "i-crisis") is not None
        assert not session.scalars(
            select(ImpressionRow).where(ImpressionRow.intake_id == "i-crisis")
        ).all()


def test_no_eligible_match_says_why(service: Service) -> None:
    body = _match(service, intake(region="GB-LND")).json()
    assert body["status"] == "no_eligible_match"
    assert body["excluded"]["region"] == 3


def test_allocate(service: Service) -> None:
    cohort = [intake(intake_id=f"a{i}", client_id=f"c{i}") for i in range(3)]
    cohort.append(intake(intake_id="a-far", region="GB-LND"))
    response = service.client.post(
        "/v1/matches/allocate", json={"intakes": cohort}, headers=service.auth("matches")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["placed"] == 3
    assert {a["intake_id"] for a in body["assignments"]} == {"a0", "a1", "a2", "a-far"}
    unplaced = next(a for a in body["assignments"] if a["intake_id"] == "a-far")
    assert unplaced["therapist_id"] is None
    with service.runtime.database.session() as session:
        rows = session.scalars(select(ImpressionRow).where(ImpressionRow.source == "allocate"))
        assert {r.intake_id for r in rows} == {"a0", "a1", "a2"}


def test_allocate_validation(service: Service) -> None:
    headers = service.auth("matches")
    dup = [intake(intake_id="same"), intake(intake_id="same")]
    response = service.client.post("/v1/matches/allocate", json={"intakes": dup}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "intakes", 1, "intake_id"]
    empty = service.client.post("/v1/matches/allocate", json={"intakes": []}, headers=headers)
    assert empty.status_code == 422
    too_many = {"intakes": [intake()] * 501}
    response = service.client.post("/v1/matches/allocate", json=too_many, headers=headers)
    assert response.status_code == 422
