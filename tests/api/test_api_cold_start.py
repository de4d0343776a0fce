"""Cold start: before any model is registered the service ranks by the rules baseline (the real
loader of ``matcher serve``), logs its lists as policy ``rules``, and switches to the champion on
reload once one is registered; a configured URI that is broken stays an honest problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from api_support import Service, intake, therapist
from sqlalchemy import select

from api.storage.models import ImpressionRow
from cli.serve import _arm_loader, _engine_loader
from core.settings import Settings


def register_champion(settings: Settings, model_dir: Path) -> str:
    """Register ``model_dir`` as a version of the install's model and point @champion at it
    (the registry layout ``matcher train`` writes, without training)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from training.registry import ARTIFACT, CHAMPION

    mlflow.set_tracking_uri(settings.tracking)
    client = MlflowClient(settings.tracking, settings.tracking)
    # An explicit experiment: the process-wide active one may belong to another test's store.
    experiment = mlflow.set_experiment("register-champion")
    with mlflow.start_run(experiment_id=experiment.experiment_id) as run:
        mlflow.log_artifacts(str(model_dir), artifact_path=f"model/artifacts/{ARTIFACT}")
    client.create_registered_model(settings.model_name)
    version = client.create_model_version(
        settings.model_name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
    )
    client.set_registered_model_alias(settings.model_name, CHAMPION, version.version)
    return f"{settings.model_name}/{version.version}"


POOL = [
    therapist("t-other", specialties=["grief_loss", "relationships"]),
    therapist("t-fit", specialties=["anxiety", "sleep"]),
    therapist("t-crisis", specialties=["depression"], crisis_trained=True),
]


@pytest.fixture
def cold(
    service_factory: Callable[..., Service],
    settings_factory: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> tuple[Service, Settings]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking = f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    settings = settings_factory(tracking_uri=tracking)
    svc = service_factory(
        loader=_engine_loader(settings), arm_loader=_arm_loader(settings), tracking_uri=tracking
    )
    response = svc.client.post(
        "/v1/therapists:bulk", json={"therapists": POOL}, headers=svc.auth("therapists")
    )
    assert response.status_code == 200, response.text
    return svc, settings


def _match(svc: Service, **changes: Any) -> dict[str, Any]:
    response = svc.client.post(
        "/v1/matches", json=intake(**changes) | {"explain": True}, headers=svc.auth("matches")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_before_any_model_the_rules_baseline_serves_and_logs(
    cold: tuple[Service, Settings],
) -> None:
    svc, _ = cold
    ready = svc.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["model_version"] == "rules" and "cold start" in ready.json()["detail"]
    info = svc.client.get("/v1/model", headers=svc.auth("reports")).json()
    assert info["model_version"] == "rules" and info["cold_start"] is True
    assert info["problem"] is None

    answer = _match(svc, concerns=["anxiety", "sleep"], intake_id="i-1")
    assert answer["status"] == "matched" and answer["model_version"] == "rules"
    ranked = [m["therapist_id"] for m in answer["matches"]]
    assert ranked[0] == "t-fit"  # the only therapist whose specialties fit both concerns
    assert any("Specializes in anxiety" in r for r in answer["matches"][0]["reasons"])
    assert answer["matches"][0]["contributions"]["concern_fit"] > 0

    with svc.runtime.database.read_session() as session:
        rows = session.execute(
            select(
                ImpressionRow.therapist_id,
                ImpressionRow.policy,
                ImpressionRow.model_version,
                ImpressionRow.propensity,
            ).where(ImpressionRow.intake_id == "i-1")
        ).all()
    assert {r[0] for r in rows} == set(ranked)
    assert {tuple(r[1:]) for r in rows} == {("rules", "rules", 1.0)}


def test_safety_routing_applies_at_a_cold_start(cold: tuple[Service, Settings]) -> None:
    svc, _ = cold
    crisis = _match(svc, crisis_now=True)
    assert crisis["status"] == "crisis" and crisis["matches"] == []
    assert crisis["crisis_resources"] and crisis["model_version"] == "rules"
    risk = _match(svc, phq9_item9=1)
    assert [m["therapist_id"] for m in risk["matches"]] == ["t-crisis"]
    far = _match(svc, region="DE")
    assert far["status"] == "no_eligible_match" and far["excluded"]["region"] == len(POOL)


def test_registering_a_champion_and_reloading_switches_from_rules(
    cold: tuple[Service, Settings], small_model: Path
) -> None:
    svc, settings = cold
    version = register_champion(settings, small_model)
    reload = svc.client.post("/v1/model/reload", headers=svc.auth("admin"))
    assert reload.status_code == 200, reload.text
    assert reload.json()["previous_version"] == "rules"
    assert reload.json()["model_version"] == version and reload.json()["cold_start"] is False
    assert _match(svc)["model_version"] == version
    assert svc.client.get("/readyz").json()["detail"] is None


def test_a_registered_model_can_be_a_challenger_of_the_rules(
    cold: tuple[Service, Settings], small_model: Path
) -> None:
    svc, settings = cold
    version = register_champion(settings, small_model)  # registered, not reloaded: still rules
    experiment = {
        "name": "rules-vs-model",
        "arms": [{"name": "model", "model_uri": f"models:/{version}", "share": 0.5}],
    }
    put = svc.client.put("/v1/experiments", json=experiment, headers=svc.auth("admin"))
    assert put.status_code == 200, put.text
    seen = {}
    for k in range(16):
        answer = _match(svc, client_id=f"client-{k}", concerns=["anxiety"])
        assert answer["status"] == "matched"
        seen[answer["arm"]] = answer["model_version"]
    assert seen == {"champion": "rules", "model": version}


@pytest.mark.parametrize("uri", ["{tmp}/no-such-model", "models:/therapist-matcher/3"])
def test_a_broken_configured_uri_is_a_problem_not_a_cold_start(
    service_factory: Callable[..., Service],
    settings_factory: Callable[..., Settings],
    tmp_path: Path,
    uri: str,
) -> None:
    uri = uri.format(tmp=tmp_path)
    settings = settings_factory(model_uri=uri, tracking_uri=f"sqlite:///{tmp_path}/ml.db")
    svc = service_factory(loader=_engine_loader(settings), model_uri=uri)
    ready = svc.client.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["model_version"] is None and "no model" in ready.json()["reasons"][0]
    assert svc.client.post("/v1/matches", json=intake(), headers=svc.auth()).status_code == 503


def test_a_lost_tracking_store_is_not_a_cold_start_once_a_model_has_served(
    cold: tuple[Service, Settings], small_model: Path, tmp_path: Path
) -> None:
    """The install served lists from a registered model; a server started on the same database
    with the tracking store gone (moved: another path) and no local copy says so and is not
    ready, instead of quietly ranking by the rules baseline."""
    from fastapi.testclient import TestClient

    from api import create_app

    svc, settings = cold
    version = register_champion(settings, small_model)
    assert svc.client.post("/v1/model/reload", headers=svc.auth("admin")).status_code == 200
    assert _match(svc)["model_version"] == version
    moved = tmp_path / "moved"
    fresh = settings.model_copy(
        update={"tracking_uri": f"sqlite:///{moved / 'mlflow.db'}", "home": tmp_path / "other"}
    )
    with TestClient(create_app(fresh, engine_loader=_engine_loader(fresh))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        reason = ready.json()["reasons"][0]
        assert f"has served {version} before" in reason and "not a cold start" in reason
        refused = client.post("/v1/matches", json=intake(), headers=svc.auth())
        assert refused.status_code == 503 and "not a cold start" in refused.json()["detail"]
        reload = client.post("/v1/model/reload", headers=svc.auth("admin"))
        assert reload.status_code == 409 and "no model is loaded" in reload.json()["detail"]
    assert not moved.exists(), "serving never creates a tracking store"
