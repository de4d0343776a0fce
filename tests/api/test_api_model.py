"""GET /v1/model and POST /v1/model/reload, including reload under load."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from api_support import FakeLoader, Service, intake

from core.errors import ModelNotFoundError


def test_model_info(service: Service) -> None:
    response = service.client.get("/v1/model", headers=service.auth("reports"))
    assert response.status_code == 200
    body = response.json()
    assert body["loaded"] is True
    assert body["model_version"] == "v1"
    assert body["uri"] == "models:/therapist-matcher@champion"
    assert body["therapists"] == 3
    assert body["loaded_at"]


def test_reload_swaps_version(service_factory) -> None:
    svc = service_factory(loader=FakeLoader(["v1", "v2"]))
    response = svc.client.post("/v1/model/reload", headers=svc.auth("admin"))
    assert response.status_code == 200
    assert response.json()["model_version"] == "v2"
    assert response.json()["previous_version"] == "v1"
    matched = svc.client.post("/v1/matches", json=intake(), headers=svc.auth()).json()
    assert matched["model_version"] == "v2"
    assert 'matcher_model_info{version="v2"} 1.0' in svc.client.get("/metrics").text


def test_failed_reload_keeps_the_old_engine(service_factory) -> None:
    loader = FakeLoader(["v1", "v2"])
    svc = service_factory(loader=loader)
    loader.fail_with = ModelNotFoundError("no model at models:/therapist-matcher@champion")
    response = svc.client.post("/v1/model/reload", headers=svc.auth("admin"))
    assert response.status_code == 409
    assert "still serving" in response.json()["detail"]
    loader.fail_with = OSError("registry unreachable")
    assert svc.client.post("/v1/model/reload", headers=svc.auth("admin")).status_code == 503
    # The configured URI does not resolve: not ready (say why), but v1 keeps serving.
    ready = svc.client.get("/readyz")
    assert ready.status_code == 503
    assert any("cannot be resolved" in r and "v1" in r for r in ready.json()["reasons"])
    info = svc.client.get("/v1/model", headers=svc.auth()).json()
    assert info["model_version"] == "v1"
    assert "therapist-matcher@champion" in info["problem"]
    matched = svc.client.post("/v1/matches", json=intake(), headers=svc.auth())
    assert matched.status_code == 200
    assert matched.json()["model_version"] == "v1"


def test_reload_without_loader_is_409(service_factory) -> None:
    svc = service_factory(no_loader=True)
    assert svc.client.post("/v1/model/reload", headers=svc.auth("admin")).status_code == 409


def test_reload_under_load_fails_no_request(service_factory) -> None:
    loader = FakeLoader([f"v{i}" for i in range(1, 50)], delay=0.02)
    svc = service_factory(loader=loader)
    stop = threading.Event()
    versions: set[str] = set()
    failures: list[int] = []
    answered = threading.Condition()
    served = [0]

    def hammer() -> int:
        sent = 0
        while not stop.is_set():
            response = svc.client.post("/v1/matches", json=intake(), headers=svc.auth())
            sent += 1
            if response.status_code != 200:
                failures.append(response.status_code)
            else:
                versions.add(response.json()["model_version"])
            with answered:
                served[0] += 1
                answered.notify_all()
        return sent

    def traffic_since(mark: int, at_least: int = 4) -> bool:
        """Wait (bounded) until requests were answered after ``mark``: reloads interleave with
        real traffic instead of relying on a sleep."""
        with answered:
            return answered.wait_for(lambda: served[0] >= mark + at_least, timeout=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(hammer) for _ in range(4)]
        reload_statuses = []
        for i in range(8):
            if i == 4:
                loader.fail_with = ModelNotFoundError("gone")
            mark = served[0]
            reload_statuses.append(
                svc.client.post("/v1/model/reload", headers=svc.auth("admin")).status_code
            )
            assert traffic_since(mark), "no request was answered around a reload"
        stop.set()
        sent = sum(f.result() for f in futures)
    assert failures == []
    assert sent >= 8 * 4
    assert reload_statuses == [200] * 4 + [409] * 4
    assert len(versions) >= 2


def test_reload_that_only_finds_a_stale_copy_is_409_and_keeps_the_model(service_factory) -> None:
    loader = FakeLoader(["v1", "v2"])
    svc = service_factory(loader=loader)
    loader.stale_from = "/srv/matcher/served-model"
    response = svc.client.post("/v1/model/reload", headers=svc.auth("admin"))
    assert response.status_code == 409
    assert svc.client.get("/v1/model", headers=svc.auth()).json()["model_version"] == "v1"
    loader.stale_from = None
    assert svc.client.post("/v1/model/reload", headers=svc.auth("admin")).status_code == 200
    assert svc.client.get("/readyz").status_code == 200


def test_serving_a_fallback_copy_is_not_ready_and_says_stale(service_factory) -> None:
    loader = FakeLoader(["v1"])
    loader.stale_from = "/srv/matcher/served-model"
    svc = service_factory(loader=loader)
    ready = svc.client.get("/readyz")
    assert ready.status_code == 503
    assert "model v1 is stale, from /srv/matcher/served-model" in ready.json()["reasons"]
    info = svc.client.get("/v1/model", headers=svc.auth()).json()
    assert info["freshness"] == "stale, from /srv/matcher/served-model"
    assert svc.client.post("/v1/matches", json=intake(), headers=svc.auth()).status_code == 200
