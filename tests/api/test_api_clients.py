"""DELETE /v1/clients/{client_id}: erasure of intakes, impressions and events."""

from __future__ import annotations

from api_support import Service, intake
from sqlalchemy import func, select

from api.storage.models import EventRow, ImpressionRow, IntakeRow


def _counts(service: Service, client_id: str) -> tuple[int, int, int]:
    with service.runtime.database.session() as session:
        return tuple(
            session.scalar(
                select(func.count()).select_from(model).where(model.client_id == client_id)
            )
            for model in (IntakeRow, ImpressionRow, EventRow)
        )


def test_erasure(service: Service) -> None:
    for i, client in enumerate(["gone", "gone", "kept"]):
        body = intake(intake_id=f"i{i}", client_id=client)
        assert (
            service.client.post("/v1/matches", json=body, headers=service.auth()).status_code == 200
        )
        ev = {
            "event_id": f"e{i}",
            "intake_id": f"i{i}",
            "therapist_id": "t1",
            "type": "chosen",
            "occurred_at": "2025-03-02T09:00:00Z",
        }
        assert service.client.post("/v1/events", json=ev, headers=service.auth()).status_code == 201
    assert _counts(service, "gone") == (2, 4, 2)
    response = service.client.delete("/v1/clients/gone", headers=service.auth("matches"))
    assert response.status_code == 200
    assert response.json() == {"client_id": "gone", "intakes": 2, "impressions": 4, "events": 2}
    assert _counts(service, "gone") == (0, 0, 0)
    assert _counts(service, "kept") == (1, 2, 1)
    again = service.client.delete("/v1/clients/gone", headers=service.auth("matches"))
    assert again.json()["intakes"] == 0
    # An event for an erased intake has nothing to attach to.
    late = {
        "event_id": "late",
        "intake_id": "i0",
        "therapist_id": "t1",
        "type": "chosen",
        "occurred_at": "2025-03-03T09:00:00Z",
    }
    assert service.client.post("/v1/events", json=late, headers=service.auth()).status_code == 404


def test_erasure_needs_matches_scope(service: Service) -> None:
    response = service.client.delete("/v1/clients/x", headers=service.auth("reports"))
    assert response.status_code == 403
