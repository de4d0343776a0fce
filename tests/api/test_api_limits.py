"""Body size limit, CORS."""

from __future__ import annotations

from api_support import Service, intake


def test_413_for_large_bodies(service_factory) -> None:
    svc = service_factory(max_body_bytes=2048)
    big = intake(free_text="x" * 1900, concerns=["anxiety"])
    big["client_id"] = "c" * 60
    response = svc.client.post("/v1/matches", json=big, headers=svc.auth())
    assert response.status_code == 413
    assert "2048" in response.json()["detail"]

    def chunks():
        yield b'{"region": "'
        yield b"x" * 4096
        yield b'"}'

    streamed = svc.client.post(
        "/v1/matches",
        content=chunks(),
        headers={**svc.auth(), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert svc.client.post("/v1/matches", json=intake(), headers=svc.auth()).status_code == 200


def test_cors_off_by_default(service: Service) -> None:
    response = service.client.get("/healthz", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_on_when_configured(service_factory) -> None:
    svc = service_factory(cors_origins=["https://app.example"])
    response = svc.client.options(
        "/v1/matches",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
