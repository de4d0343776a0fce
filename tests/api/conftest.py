"""Fixtures for the HTTP service tests: apps on a real database (SQLite, or PostgreSQL when
MATCHER_TEST_POSTGRES_URL is set), started with a fake engine and one key per scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from api_support import FakeLoader, Service, add_keys, fresh_database, therapist

from api import create_app, open_database
from api.storage import Database
from core.settings import Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def pytest_configure(config: pytest.Config) -> None:
    """Starlette nudges towards httpx2, which is not a dependency of this project."""
    config.addinivalue_line("filterwarnings", "ignore:.*install `httpx2`")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database: a SQLite file, or a new schema on the PostgreSQL test server."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The storage layer opened on :func:`database_url`, disposed after the test."""
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file database."""
    return f"sqlite:///{tmp_path / 'matcher.db'}"


@pytest.fixture
def settings_factory(tmp_path: Path, sqlite_url: str) -> Callable[..., Settings]:
    """Settings rooted in tmp_path (generous rate limit unless a test says otherwise)."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "home": tmp_path / "home",
            "database_url": sqlite_url,
            "rate_limit_per_minute": 1_000_000,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def service_factory(
    settings_factory: Callable[..., Settings],
) -> Iterator[Callable[..., Service]]:
    """Start apps; each is shut down at the end of the test."""
    stack: list[TestClient] = []

    def start(
        *,
        loader: FakeLoader | None = None,
        no_loader: bool = False,
        arm_loader: Any = None,
        experiment_report: Any = None,
        **overrides: Any,
    ) -> Service:
        if loader is None and not no_loader:
            loader = FakeLoader()
        from fastapi.testclient import TestClient

        app = create_app(
            settings_factory(**overrides),
            engine_loader=loader,
            arm_loader=arm_loader,
            experiment_report=experiment_report,
        )
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        stack.append(client)
        return Service(client, loader, add_keys(app))

    yield start
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture
def service(service_factory: Callable[..., Service]) -> Service:
    """A started app with a fake model loaded and three therapists in the pool."""
    svc = service_factory()
    response = svc.client.post(
        "/v1/therapists:bulk",
        json={
            "therapists": [
                therapist("t1"),
                therapist("t2", languages=["en", "es"]),
                therapist("t3", licensed_regions=["US-NY"]),
            ]
        },
        headers=svc.auth("therapists"),
    )
    assert response.status_code == 200, response.text
    return svc
