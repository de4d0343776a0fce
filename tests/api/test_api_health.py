"""Liveness, readiness and metrics."""

from __future__ import annotations

from api_support import FakeLoader, Service, intake

from core.errors import ModelNotFoundError


def test_healthz_is_always_ok(service: Service) -> None:
    response = service.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ready_with_engine(service: Service) -> None:
    response = service.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["model_version"] == "v1"


def test_readyz_503_without_loader(service_factory) -> None:
    svc = service_factory(no_loader=True)
    response = svc.client.get("/readyz")
    assert response.status_code == 503
    assert "no model loaded" in response.json()["reasons"]
    assert svc.client.get("/healthz").status_code == 200
    matched = svc.client.post("/v1/matches", json=intake(), headers=svc.auth())
    assert matched.status_code == 503
    assert matched.headers["Retry-After"]


def test_startup_survives_a_failing_loader(service_factory) -> None:
    loader = FakeLoader()
    loader.fail_with = ModelNotFoundError("no champion")
    svc = service_factory(loader=loader)
    assert svc.client.get("/readyz").status_code == 503
    loader.fail_with = None
    assert svc.client.post("/v1/model/reload", headers=svc.auth("admin")).status_code == 200
    assert svc.client.get("/readyz").status_code == 200


def test_metrics_by_route_template_status_and_model(service: Service) -> None:
    service.client.get("/v1/therapists/t1", headers=service.auth())
    service.client.get("/v1/therapists/nope", headers=service.auth())
    service.client.post("/v1/matches", json=intake(), headers=service.auth())
    text = service.client.get("/metrics").text
    assert 'route="/v1/therapists/{therapist_id}",status="200"' in text
    assert 'route="/v1/therapists/{therapist_id}",status="404"' in text
    assert "/v1/therapists/nope" not in text
    assert 'matcher_model_info{version="v1"} 1.0' in text
    assert 'matcher_match_status_total{status="matched"} 1.0' in text
    assert "matcher_http_request_duration_seconds_bucket" in text


def test_every_response_carries_a_request_id(service: Service) -> None:
    response = service.client.post("/v1/matches", json=intake(), headers=service.auth())
    assert response.headers["X-Request-ID"] == response.json()["request_id"]
