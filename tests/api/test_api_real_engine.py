"""The service with the real engine: a model trained on a small synthetic world serves its pool.

Most API tests use a deterministic fake engine to isolate HTTP behaviour; these run the real
``matcher.engine.Matcher`` behind the same routes, so what the engine promises (hard constraints,
safety routing, explanations, suggestions) is checked where a platform meets it.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from api_support import Service

from features.dataset import Dataset, load_dataset
from features.pipeline import FEATURE_NAMES
from matcher.engine import Matcher
from matcher.model import MatchModel


class RealLoader:
    """Builds the real engine from a saved model folder over whatever pool the service has."""

    def __init__(self, model_dir: Path) -> None:
        self.model = MatchModel.load(model_dir)
        self.model.version = "small/1"

    def __call__(self, pool: pd.DataFrame) -> Matcher:
        return Matcher(self.model, pool)


def _json(record: dict[str, Any]) -> dict[str, Any]:
    """A typed table row as a JSON body (lists as lists, times as ISO strings, no NaN)."""
    out: dict[str, Any] = {}
    for key, raw in record.items():
        value = raw
        if isinstance(raw, pd.Timestamp):
            value = raw.isoformat()
        elif (isinstance(raw, float) and math.isnan(raw)) or raw is pd.NA:
            value = None
        out[key] = value
    return json.loads(json.dumps(out, default=lambda v: v.item()))


@pytest.fixture(scope="module")
def world(small_world: Path) -> Dataset:
    return load_dataset(small_world)


@pytest.fixture
def real(service_factory: Callable[..., Service], small_model: Path, world: Dataset) -> Service:
    svc = service_factory(loader=RealLoader(small_model))
    bodies = [_json(r) for r in world.therapists.to_dict("records")]
    response = svc.client.post(
        "/v1/therapists:bulk", json={"therapists": bodies}, headers=svc.auth("therapists")
    )
    assert response.status_code == 200, response.text
    return svc


def _intake(world: Dataset, n: int, **changes: Any) -> dict[str, Any]:
    body = _json(world.intakes.iloc[n].to_dict())
    # a fresh intake id per request: the service refuses an id reused with other answers
    body.update(crisis_now=False, phq9_item9=0, intake_id=f"{body['intake_id']}-{uuid.uuid4().hex}")
    return body | changes


def _match(svc: Service, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = svc.client.post("/v1/matches", json=body | extra, headers=svc.auth("matches"))
    assert response.status_code == 200, response.text
    return response.json()


def test_real_matches_respect_hard_constraints_and_explain_themselves(
    real: Service, world: Dataset
) -> None:
    pool = world.therapists.set_index("therapist_id")
    answered = 0
    for n in range(30):
        body = _intake(world, n)
        answer = _match(real, body, top_k=5)
        assert answer["model_version"] == "small/1"
        if answer["status"] != "matched":
            continue
        answered += 1
        scores = [m["score"] for m in answer["matches"]]
        assert scores == sorted(scores, reverse=True)
        for m in answer["matches"]:
            t = pool.loc[m["therapist_id"]]
            country = body["region"].split("-")[0]
            assert body["region"] in t["licensed_regions"] or country in t["licensed_regions"]
            assert set(body["languages"]) & set(t["languages"])
            assert set(body["preferred_formats"]) & set(t["formats"])
            assert set(body["availability"]) & set(t["availability"])
            assert 0 < m["predicted_benefit"] < 1
            assert m["reasons"] and all(isinstance(r, str) and r for r in m["reasons"])
    assert answered >= 10


def test_explain_gives_every_feature_and_the_bias(real: Service, world: Dataset) -> None:
    for n in range(30):
        answer = _match(real, _intake(world, n), explain=True, top_k=3)
        if answer["matches"]:
            contributions = answer["matches"][0]["contributions"]
            assert set(contributions) == {*FEATURE_NAMES, "bias"}
            return
    pytest.fail("no intake was matched")


def test_safety_routing_with_the_real_engine(real: Service, world: Dataset) -> None:
    crisis = _match(real, _intake(world, 0, crisis_now=True))
    assert crisis["status"] == "crisis" and crisis["matches"] == []
    assert crisis["crisis_resources"] and "clinical_follow_up" in crisis["flags"]
    trained = set(world.therapists.loc[world.therapists["crisis_trained"], "therapist_id"])
    for n in range(20):
        watch = _match(real, _intake(world, n, phq9_item9=1))
        assert {m["therapist_id"] for m in watch["matches"]} <= trained
        assert "risk_review" in watch["flags"] and watch["crisis_resources"]


def test_nobody_fits_comes_with_suggestions(real: Service, world: Dataset) -> None:
    far = _match(real, _intake(world, 0, region="DE"))
    assert far["status"] == "no_eligible_match" and far["excluded"]["region"] == len(
        world.therapists
    )
    assert far["suggestions"] == [
        {"constraint": "region", "message": "No therapist here is licensed in DE.", "therapists": 0}
    ]
    night = _match(real, _intake(world, 1, availability=[3], preferred_formats=["chat"]))
    if night["status"] == "no_eligible_match":
        assert night["suggestions"] and all(s["message"] for s in night["suggestions"])


def test_allocation_with_the_real_engine_respects_open_slots(real: Service, world: Dataset) -> None:
    cohort = [_intake(world, n, intake_id=f"cohort-{n}") for n in range(40)]
    response = real.client.post(
        "/v1/matches/allocate", json={"intakes": cohort}, headers=real.auth("matches")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    placed = pd.Series([a["therapist_id"] for a in body["assignments"] if a["therapist_id"]])
    slots = (world.therapists["max_caseload"] - world.therapists["current_caseload"]).clip(lower=0)
    open_slots = dict(zip(world.therapists["therapist_id"], slots, strict=True))
    assert all(n <= open_slots[t] for t, n in placed.value_counts().items())
    assert body["placed"] == len(placed) > 0


def test_an_unknown_payer_code_is_warned_about(real: Service, world: Dataset) -> None:
    n = next(k for k in range(30) if _match(real, _intake(world, k))["status"] == "matched")
    answer = _match(real, _intake(world, n, payment="not-a-payer", intake_id="payer-x"))
    assert answer["status"] == "no_eligible_match"
    assert any("payer code" in note for note in answer["notes"])
    assert [s["constraint"] for s in answer["suggestions"]] == ["payment"]


def test_an_empty_pool_is_ready_but_said_and_matches_say_why(
    service_factory: Callable[..., Service], small_model: Path, world: Dataset
) -> None:
    """Before the therapists are loaded (through this same API) the process stays ready, and
    both /readyz and a match say the pool is empty instead of blaming the intake's payer."""
    svc = service_factory(loader=RealLoader(small_model))
    ready = svc.client.get("/readyz")
    assert ready.status_code == 200 and "no therapists loaded" in ready.json()["detail"]
    answer = _match(svc, _intake(world, 0, payment="not-a-payer"))
    assert answer["status"] == "no_eligible_match"
    assert any("No therapists are available" in n for n in answer["notes"])
    assert not any("payer" in n for n in answer["notes"])
