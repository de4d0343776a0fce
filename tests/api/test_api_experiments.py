"""Experiments in serving: ``/v1/experiments`` sets the arms, each client gets one arm (sticky),
every list is logged with its arm, shadow arms are logged apart and never shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_support import FakeArmLoader, Service, intake, therapist
from sqlalchemy import func, select

from api.storage.experiments import ExperimentRequestRow, ShadowImpressionRow
from api.storage.models import ImpressionRow
from training.experiment_report import experiment_report

EXPERIMENT = {
    "name": "ab-1",
    "arms": [
        {"name": "challenger", "model_uri": "models:/therapist-matcher/2", "share": 0.5},
        {"name": "shadow", "model_uri": "models:/therapist-matcher@next", "shadow": True},
    ],
}


@pytest.fixture
def svc(service_factory: Callable[..., Service]) -> Service:
    service = service_factory(arm_loader=FakeArmLoader(), experiment_report=experiment_report)
    response = service.client.post(
        "/v1/therapists:bulk",
        json={"therapists": [therapist("t1"), therapist("t2"), therapist("t3")]},
        headers=service.auth("therapists"),
    )
    assert response.status_code == 200, response.text
    return service


def _match(svc: Service, client: str, **changes: Any) -> dict[str, Any]:
    response = svc.client.post(
        "/v1/matches", json=intake(client_id=client, **changes), headers=svc.auth("matches")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _count(svc: Service, *where: Any, table: Any = ImpressionRow) -> int:
    with svc.runtime.database.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def test_clients_are_split_sticky_and_logged_with_their_arm(svc: Service) -> None:
    put = svc.client.put("/v1/experiments", json=EXPERIMENT, headers=svc.auth("admin"))
    assert put.status_code == 200, put.text
    status = put.json()
    assert status["experiment"] == "ab-1" and status["champion_share"] == 0.5
    assert all(a["loaded"] for a in status["arms"])

    arms: dict[str, str] = {}
    for k in range(40):
        body = _match(svc, f"client-{k}")
        assert body["experiment"] == "ab-1" and body["arm"] in {"champion", "challenger"}
        version = "v1" if body["arm"] == "champion" else "arm:models:/therapist-matcher/2"
        assert body["model_version"] == version
        arms[f"client-{k}"] = body["arm"]
    assert set(arms.values()) == {"champion", "challenger"}
    for client, arm in list(arms.items())[:10]:  # sticky: the same arm on the next request
        assert _match(svc, client)["arm"] == arm

    shown = _count(svc)
    assert shown > 0 and _count(svc, ImpressionRow.arm.is_(None)) == 0
    assert _count(svc, ImpressionRow.arm == "shadow") == 0  # shadow lists are never impressions
    assert _count(svc, table=ExperimentRequestRow) == 50
    # the shadow arm ranked every matched request, logged apart
    shadow = _count(svc, ShadowImpressionRow.arm == "shadow", table=ShadowImpressionRow)
    assert shadow == shown


def test_shadow_arms_never_reach_the_response(svc: Service) -> None:
    shadow_only = {"name": "s", "arms": [{"name": "s1", "model_uri": "rules", "shadow": True}]}
    assert (
        svc.client.put("/v1/experiments", json=shadow_only, headers=svc.auth()).status_code == 200
    )
    for k in range(10):
        body = _match(svc, f"c{k}")
        assert body["arm"] == "champion" and body["model_version"] == "v1"
    assert _count(svc, table=ShadowImpressionRow) == _count(svc) > 0


def test_an_arm_that_does_not_resolve_is_refused_and_nothing_changes(svc: Service) -> None:
    bad = {"name": "bad", "arms": [{"name": "b", "model_uri": "models:/missing/1", "share": 0.5}]}
    response = svc.client.put("/v1/experiments", json=bad, headers=svc.auth("admin"))
    assert response.status_code == 409 and "missing" in response.json()["detail"]
    listing = svc.client.get("/v1/experiments", headers=svc.auth("reports")).json()
    assert listing["current"]["experiment"] is None and listing["stored"] == []
    assert _match(svc, "c1")["arm"] is None


def test_ending_an_experiment_serves_the_champion_to_everyone(svc: Service) -> None:
    assert svc.client.put("/v1/experiments", json=EXPERIMENT, headers=svc.auth()).status_code == 200
    ended = svc.client.delete("/v1/experiments", headers=svc.auth("admin"))
    assert ended.status_code == 200 and ended.json()["experiment"] is None
    assert all(_match(svc, f"c{k}")["arm"] is None for k in range(5))
    stored = svc.client.get("/v1/experiments", headers=svc.auth()).json()["stored"]
    assert [(s["definition"]["name"], s["active"]) for s in stored] == [("ab-1", False)]


def test_only_admin_keys_change_experiments(svc: Service) -> None:
    for scope in ("matches", "reports"):
        put = svc.client.put("/v1/experiments", json=EXPERIMENT, headers=svc.auth(scope))
        assert put.status_code == 403
    too_much = {"name": "x", "arms": [{"name": "a", "model_uri": "rules", "share": 1.5}]}
    assert svc.client.put("/v1/experiments", json=too_much, headers=svc.auth()).status_code == 422


def test_an_experiment_from_the_settings_is_served_until_ended(
    service_factory: Callable[..., Service],
) -> None:
    svc = service_factory(arm_loader=FakeArmLoader(), experiment=EXPERIMENT)
    svc.client.put("/v1/therapists/t1", json=therapist("t1"), headers=svc.auth())
    status = svc.client.get("/v1/experiments", headers=svc.auth()).json()["current"]
    assert status["experiment"] == "ab-1" and status["source"] == "settings"
    assert _match(svc, "c1")["experiment"] == "ab-1"
    assert svc.client.delete("/v1/experiments", headers=svc.auth()).status_code == 200
    svc.runtime.sync_once()
    assert _match(svc, "c1")["arm"] is None  # the database now says: no experiment


def test_erasing_a_client_erases_their_experiment_rows(svc: Service) -> None:
    assert svc.client.put("/v1/experiments", json=EXPERIMENT, headers=svc.auth()).status_code == 200
    _match(svc, "gone", intake_id="i-gone")
    assert svc.client.delete("/v1/clients/gone", headers=svc.auth("matches")).status_code == 200
    assert _count(svc, ExperimentRequestRow.intake_id == "i-gone", table=ExperimentRequestRow) == 0
    assert _count(svc, ShadowImpressionRow.intake_id == "i-gone", table=ShadowImpressionRow) == 0


def _event(svc: Service, intake_id: str, kind: str, n: int, **extra: Any) -> None:
    body = {
        "event_id": f"{intake_id}-{kind}-{n}",
        "intake_id": intake_id,
        "therapist_id": "t1",
        "type": kind,
        "occurred_at": "2025-03-02T09:00:00Z",
        **extra,
    }
    response = svc.client.post("/v1/events", json=body, headers=svc.auth("events"))
    assert response.status_code in (200, 201), response.text


def test_the_report_gives_each_arm_its_figures_or_says_it_has_too_little_data(
    svc: Service,
) -> None:
    assert svc.client.get("/v1/reports/experiments", headers=svc.auth()).status_code == 404
    assert svc.client.put("/v1/experiments", json=EXPERIMENT, headers=svc.auth()).status_code == 200
    arms: dict[str, str] = {}
    for k in range(90):
        body = _match(svc, f"client-{k}", intake_id=f"i-{k}")
        arms[body["intake_id"]] = body["arm"]
        if k % 2:  # half the clients book t1 and stay for four sessions
            _event(svc, body["intake_id"], "chosen", 0)
            for n in range(4):
                _event(svc, body["intake_id"], "session_attended", n)
            _event(svc, body["intake_id"], "improvement", 0, value=k % 4 == 1)
    response = svc.client.get("/v1/reports/experiments", headers=svc.auth("reports"))
    assert response.status_code == 200, response.text
    report = response.json()
    by_arm = {a["arm"]: a for a in report["arms"]}
    assert set(by_arm) == {"champion", "challenger", "shadow"}
    for arm in ("champion", "challenger"):
        row = by_arm[arm]
        assert row["requests"] == row["lists"] == sum(a == arm for a in arms.values())
        if row["enough_data"]:
            chose = next(m for m in row["metrics"] if m["metric"] == "chose")["estimate"]
            assert chose["ci_low"] <= chose["value"] <= chose["ci_high"]
        else:
            assert row["metrics"] == [] and "too little data" in row["note"]
    shadow = by_arm["shadow"]
    assert shadow["shadow"] and shadow["lists"] == 90

    few = svc.client.get("/v1/reports/experiments?experiment=nope", headers=svc.auth())
    assert few.status_code == 404
    page = svc.client.get("/v1/reports/experiments", headers=svc.auth() | {"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Experiment report" in page.text and "http" not in page.text.split("<body>")[0]
