"""Schema-driven fuzzing of every operation: no 5xx, and every response matches the schema.

Each operation gets a bounded number of valid (positive) and invalid (negative) requests.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import FakeArmLoader, FakeLoader, add_keys, fresh_database, intake, therapist
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from core.settings import Settings
from training.experiment_report import experiment_report

# Deterministic and bounded by default; MATCHER_FUZZ_EXAMPLES=200 explores more (and randomly).
EXAMPLES = int(os.environ.get("MATCHER_FUZZ_EXAMPLES", "25"))
RANDOM = "MATCHER_FUZZ_EXAMPLES" in os.environ
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _cases() -> list[tuple[str, GenerationMode]]:
    """Every operation of the OpenAPI document, with valid and (where it takes input) invalid
    requests. Building the app touches no database."""
    with tempfile.TemporaryDirectory() as home:
        spec = create_app(Settings(home=Path(home))).openapi()
    cases = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            if operation.get("parameters") or operation.get("requestBody"):
                cases.append((label, GenerationMode.NEGATIVE))
    return cases


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Any]]:
    """One app per database kind, seeded with therapists, an intake and report files.

    Yields the headers of an admin key and the schema bound to the running app.
    """
    home = tmp_path_factory.mktemp("fuzz")
    with fresh_database(request.param, home) as url:
        settings = Settings(home=home, database_url=url, rate_limit_per_minute=1_000_000)
        app = create_app(
            settings,
            engine_loader=FakeLoader(),
            arm_loader=FakeArmLoader(),
            experiment_report=experiment_report,
        )
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the lifespan
        try:
            headers = {"Authorization": f"Bearer {add_keys(app)['all']}"}
            with asgi.get_client(app) as client:
                bulk = {"therapists": [therapist("t1"), therapist("t2", languages=["en", "es"])]}
                assert client.post("/v1/therapists:bulk", json=bulk, headers=headers).ok
                experiment = {
                    "name": "fuzz",
                    "arms": [
                        {"name": "b", "model_uri": "models:/m/2", "share": 0.5},
                        {"name": "s", "model_uri": "rules", "shadow": True},
                    ],
                }
                assert client.put("/v1/experiments", json=experiment, headers=headers).ok
                assert client.post("/v1/matches", json=intake(intake_id="i1"), headers=headers).ok
            (home / "reports").mkdir()
            (home / "reports" / "fairness-offline.html").write_text("<html></html>")
            (home / "reports" / "fairness-offline.json").write_text(json.dumps({"groups": []}))
            yield headers, schema
        finally:
            asgi.shutdown_lifespans()


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_operation_never_fails_and_conforms(
    fuzzed: tuple[dict[str, str], Any], label: str, mode: GenerationMode
) -> None:
    headers, schema = fuzzed
    operation = schema.find_operation_by_label(label)
    assert operation is not None

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
