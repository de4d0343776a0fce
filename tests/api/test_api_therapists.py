"""/v1/therapists: CRUD, bulk upsert, paging, and the served pool following every write."""

from __future__ import annotations

import pandas as pd
import pytest
from api_support import FakeEngine, Service, intake, therapist


def _pool_ids(service: Service) -> list[str]:
    return list(service.runtime.engines.current.engine.pool["therapist_id"])


def test_put_creates_then_replaces(service: Service) -> None:
    headers = service.auth("therapists")
    body = therapist("t9")
    del body["therapist_id"]
    created = service.client.put("/v1/therapists/t9", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["therapist_id"] == "t9"
    assert "t9" in _pool_ids(service)
    replaced = service.client.put(
        "/v1/therapists/t9", json=therapist("t9", years_experience=30), headers=headers
    )
    assert replaced.status_code == 200
    assert replaced.json()["years_experience"] == 30
    pool = service.runtime.engines.current.engine.pool
    assert pool.loc[pool["therapist_id"] == "t9", "years_experience"].item() == 30


def test_put_rejects_mismatched_id_and_bad_profiles(service: Service) -> None:
    headers = service.auth("therapists")
    mismatch = service.client.put("/v1/therapists/t9", json=therapist("t8"), headers=headers)
    assert mismatch.status_code == 422
    assert mismatch.json()["detail"][0]["loc"] == ["body", "therapist_id"]
    bad = service.client.put(
        "/v1/therapists/t9", json=therapist("t9", license_type="shaman"), headers=headers
    )
    assert bad.status_code == 422
    assert "psychologist" in bad.json()["detail"][0]["msg"]
    blank = service.client.put(
        "/v1/therapists/t9", json=therapist("t9", display_name="  "), headers=headers
    )
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["loc"] == ["body", "display_name"]
    too_long = service.client.put("/v1/therapists/" + "x" * 65, json=therapist(), headers=headers)
    assert too_long.status_code == 422


def test_get_and_404(service: Service) -> None:
    headers = service.auth("therapists")
    got = service.client.get("/v1/therapists/t2", headers=headers)
    assert got.status_code == 200
    assert got.json() == therapist("t2", languages=["en", "es"])
    assert service.client.get("/v1/therapists/zzz", headers=headers).status_code == 404


def test_patch_changes_fields_and_the_served_pool(service: Service) -> None:
    headers = service.auth("therapists")
    response = service.client.patch(
        "/v1/therapists/t1",
        json={"accepting_new_clients": False, "bio": None},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepting_new_clients"] is False
    assert response.json()["bio"] is None
    assert response.json()["display_name"] == "Dr t1"
    matched = service.client.post("/v1/matches", json=intake(), headers=service.auth()).json()
    assert [m["therapist_id"] for m in matched["matches"]] == ["t2"]
    assert matched["excluded"]["capacity"] == 1


def test_patch_errors(service: Service) -> None:
    headers = service.auth("therapists")
    assert service.client.patch("/v1/therapists/no", json={}, headers=headers).status_code == 404
    cleared = service.client.patch(
        "/v1/therapists/t1", json={"display_name": None}, headers=headers
    )
    assert cleared.status_code == 422
    assert cleared.json()["detail"][0]["loc"] == ["body", "display_name"]
    renamed = service.client.patch(
        "/v1/therapists/t1", json={"therapist_id": "t7"}, headers=headers
    )
    assert renamed.status_code == 422


def test_delete_removes_from_pool_and_reads(service: Service) -> None:
    headers = service.auth("therapists")
    assert service.client.delete("/v1/therapists/t1", headers=headers).status_code == 204
    assert service.client.get("/v1/therapists/t1", headers=headers).status_code == 404
    assert service.client.delete("/v1/therapists/t1", headers=headers).status_code == 404
    assert "t1" not in _pool_ids(service)
    matched = service.client.post("/v1/matches", json=intake(), headers=service.auth()).json()
    assert [m["therapist_id"] for m in matched["matches"]] == ["t2"]
    again = service.client.put("/v1/therapists/t1", json=therapist("t1"), headers=headers)
    assert again.status_code == 200
    assert "t1" in _pool_ids(service)


def test_bulk_upsert_counts_and_validation(service: Service) -> None:
    headers = service.auth("therapists")
    body = {"therapists": [therapist("t1", years_experience=1), therapist("t4")]}
    response = service.client.post("/v1/therapists:bulk", json=body, headers=headers)
    assert response.json() == {"created": 1, "updated": 1}
    assert _pool_ids(service) == ["t1", "t2", "t3", "t4"]
    dup = {"therapists": [therapist("t5"), therapist("t5")]}
    response = service.client.post("/v1/therapists:bulk", json=dup, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "therapists", 1, "therapist_id"]
    assert "t5" not in _pool_ids(service)
    too_many = {"therapists": [therapist(f"b{i}") for i in range(1001)]}
    response = service.client.post("/v1/therapists:bulk", json=too_many, headers=headers)
    assert response.status_code in (413, 422)


def test_list_pages_by_id(service: Service) -> None:
    headers = service.auth("therapists")
    first = service.client.get("/v1/therapists?limit=2", headers=headers).json()
    assert [t["therapist_id"] for t in first["items"]] == ["t1", "t2"]
    assert first["next_after"] == "t2"
    second = service.client.get("/v1/therapists?limit=2&after=t2", headers=headers).json()
    assert [t["therapist_id"] for t in second["items"]] == ["t3"]
    assert second["next_after"] is None
    assert service.client.get("/v1/therapists?limit=0", headers=headers).status_code == 422


def test_failed_engine_swap_persists_nothing(service: Service, monkeypatch) -> None:
    def broken(self: FakeEngine, therapists: pd.DataFrame) -> FakeEngine:
        raise RuntimeError("cannot encode pool")

    monkeypatch.setattr(FakeEngine, "with_therapists", broken)
    headers = service.auth("therapists")
    with pytest.raises(RuntimeError):
        service.client.put("/v1/therapists/t8", json=therapist("t8"), headers=headers)
    monkeypatch.undo()
    assert service.client.get("/v1/therapists/t8", headers=headers).status_code == 404
    assert "t8" not in _pool_ids(service)
