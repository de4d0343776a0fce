"""The request models are derived from the contract, and the OpenAPI document shows it."""

from __future__ import annotations

from api_support import Service

from api.schemas import Intake, MatchRequest, Therapist, TherapistPatch
from features.schemas import INTAKES, THERAPISTS
from features.vocab import Concern, Format, License, values


def test_models_have_one_field_per_contract_column() -> None:
    assert list(Therapist.model_fields) == THERAPISTS.names
    assert list(Intake.model_fields) == INTAKES.names
    assert list(MatchRequest.model_fields) == [*INTAKES.names, "top_k", "explain"]
    assert "therapist_id" not in TherapistPatch.model_fields


def test_requiredness_follows_the_contract() -> None:
    required = {name for name, f in Therapist.model_fields.items() if f.is_required()}
    assert required == {c.name for c in THERAPISTS.columns if c.required}
    intake_required = {name for name, f in Intake.model_fields.items() if f.is_required()}
    assigned = {"intake_id", "submitted_at"}
    assert intake_required == {c.name for c in INTAKES.columns if c.required} - assigned
    assert not any(f.is_required() for f in TherapistPatch.model_fields.values())


def test_openapi_lists_allowed_values_and_security(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["Concern"]["enum"] == values(Concern)
    assert schemas["Format"]["enum"] == values(Format)
    assert schemas["License"]["enum"] == values(License)
    top_k = schemas["MatchRequest"]["properties"]["top_k"]
    assert (top_k["minimum"], top_k["maximum"], top_k["default"]) == (1, 50, 10)
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert {"/v1/matches", "/v1/matches/allocate", "/v1/therapists:bulk", "/v1/events"} <= set(
        paths
    )
    assert "429" in paths["/v1/matches"]["post"]["responses"]
