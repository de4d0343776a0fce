"""`matcher serve` freezes its startup heap; an app sharing its process (tests, embedding) does
not."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from api_support import FakeLoader, Service
from fastapi.testclient import TestClient

from api import create_app
from core.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_served_app_moves_its_startup_heap_out_of_collections(
    unfrozen: None, settings_factory: Callable[..., Settings]
) -> None:
    loader = FakeLoader()
    app = create_app(settings_factory(), engine_loader=loader, freeze_heap=True)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert loader.calls == 1
        # What was alive once startup was done (the libraries, the pool, the engine) is frozen.
        assert gc.get_freeze_count() > 10_000


def test_an_app_sharing_its_process_leaves_the_heap_alone(
    unfrozen: None, service_factory: Callable[..., Service]
) -> None:
    service = service_factory()
    assert service.client.get("/readyz").status_code == 200
    assert gc.get_freeze_count() == 0
