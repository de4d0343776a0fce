"""Keys, scopes, rate limit and what the access log may contain."""

from __future__ import annotations

import logging

import pytest
from api_support import Service, intake
from sqlalchemy import select

from api import create_api_key, revoke_api_key
from api.auth import hash_key
from api.logsafe import ACCESS_FIELDS, JsonFormatter
from api.storage.models import ApiKeyRow
from core.errors import ConfigError


def test_401_without_or_with_a_bad_key(service: Service) -> None:
    assert service.client.get("/v1/model").status_code == 401
    missing = service.client.post("/v1/matches", json=intake())
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad = service.client.get("/v1/model", headers={"Authorization": "Bearer mk_nope"})
    assert bad.status_code == 401
    basic = service.client.get("/v1/model", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


def test_403_without_the_scope(service: Service) -> None:
    response = service.client.post("/v1/matches", json=intake(), headers=service.auth("events"))
    assert response.status_code == 403
    assert "matches" in response.json()["detail"]
    assert service.client.get("/v1/therapists", headers=service.auth("matches")).status_code == 403
    admin_only = service.client.post("/v1/model/reload", headers=service.auth("therapists"))
    assert admin_only.status_code == 403


def test_admin_implies_every_scope(service: Service) -> None:
    assert service.client.get("/v1/therapists", headers=service.auth("admin")).status_code == 200
    response = service.client.post("/v1/matches", json=intake(), headers=service.auth("admin"))
    assert response.status_code == 200


def test_revoked_key_is_refused(service: Service) -> None:
    headers = service.auth("therapists")
    assert service.client.get("/v1/therapists", headers=headers).status_code == 200
    with service.runtime.database.session() as session:
        assert revoke_api_key(session, "key-therapists")
        assert not revoke_api_key(session, "key-therapists")
    service.runtime.keys.forget()
    assert service.client.get("/v1/therapists", headers=headers).status_code == 401


def test_keys_are_stored_hashed(service: Service) -> None:
    with service.runtime.database.session() as session:
        rows = session.scalars(select(ApiKeyRow)).all()
    stored = {r.key_hash for r in rows}
    for secret in service.keys.values():
        assert secret not in stored
        assert hash_key(secret) in stored


def test_create_api_key_validates(service: Service) -> None:
    with service.runtime.database.session() as session:
        with pytest.raises(ConfigError, match="allowed: matches"):
            create_api_key(session, "x", ["matches", "root"])
        with pytest.raises(ConfigError, match="already exists"):
            create_api_key(session, "key-all", ["admin"])
        with pytest.raises(ConfigError, match="invalid key name"):
            create_api_key(session, "bad name!", ["admin"])
        with pytest.raises(ConfigError, match="at least one scope"):
            create_api_key(session, "empty", [])
        secret = create_api_key(session, "ops", ["reports", "reports"])
    assert secret.startswith("mk_")


def test_rate_limit_per_key_with_retry_after(service_factory) -> None:
    svc = service_factory(rate_limit_per_minute=2)
    statuses = [
        svc.client.get("/v1/model", headers=svc.auth("matches")).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = svc.client.get("/v1/model", headers=svc.auth("matches"))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert svc.client.get("/v1/model", headers=svc.auth("events")).status_code == 200


def test_access_log_holds_no_request_content(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "my private words about panic"
    with caplog.at_level(logging.DEBUG):
        response = service.client.post(
            "/v1/matches",
            json=intake(client_id="client-777", free_text=secret_text),
            headers=service.auth(),
        )
        service.client.delete("/v1/clients/client-777", headers=service.auth())
    assert response.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("api")]
    access = [r for r in caplog.records if r.name == "api.access"]
    assert any(r.route == "/v1/matches" and r.status == 200 for r in access)
    assert any(r.route == "/v1/clients/{client_id}" and r.method == "DELETE" for r in access)
    assert all(r.key == "key-all" and len(r.request_id) == 32 for r in access)
    rendered = [JsonFormatter(ACCESS_FIELDS).format(r) for r in access]
    for line in lines + rendered:
        assert secret_text not in line
        assert "client-777" not in line
        assert "anxiety" not in line
