"""The service side of ``matcher simulate``: an HTTP client with the bearer key, the service
it starts for a run, and the store (pool, key, starting champion) it prepares."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from core.errors import MatcherError

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from core.settings import Settings

START_DEADLINE_S = 120.0
HTTP_TIMEOUT_S = 60.0
EVENT_WORKERS = 4
"""Events are posted by a few threads at once (the service is I/O bound on them)."""
SERVE_LOG = "simulate-server.log"


class ServiceError(MatcherError):
    """The service answered something the simulator cannot go on from (one-line CLI error)."""


class Service:
    """The HTTP side: one keep-alive client with the bearer key, retries on 429; requests go
    out ``workers`` at a time."""

    def __init__(self, client: httpx.Client, key: str, *, workers: int = EVENT_WORKERS) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}
        self.workers = workers

    @classmethod
    def connect(cls, url: str, key: str) -> Service:
        """A service at ``url``."""
        import httpx

        return cls(
            httpx.Client(base_url=url.rstrip("/"), timeout=HTTP_TIMEOUT_S, trust_env=False), key
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a 429 waits ``Retry-After`` and tries again (at most 20 times)."""
        headers = self.headers | kwargs.pop("headers", {})
        for _ in range(20):
            response = self.client.request(method, path, headers=headers, **kwargs)
            if response.status_code != 429:
                return response
            threading.Event().wait(float(response.headers.get("Retry-After", "1")))
        return response

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a 2xx answer; anything else is a :class:`ServiceError` naming it."""
        response = self.call(method, path, **kwargs)
        if response.status_code >= 300:
            raise ServiceError(
                f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json()

    def close(self) -> None:
        self.client.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_service(settings: Settings) -> Iterator[str]:
    """``matcher serve`` as a subprocess on a free loopback port, its store the simulator's
    (``MATCHER_HOME``); safe exploration on so the logs carry propensities; stopped at the end.
    Yields its base URL."""
    import httpx

    port = _free_port()
    env = {
        **os.environ,
        "MATCHER_HOME": str(settings.home),
        "MATCHER_DATABASE_URL": settings.database,
        "MLFLOW_TRACKING_URI": settings.tracking,
        "MATCHER_RATE_LIMIT_PER_MINUTE": "100000000",
        "MATCHER_SERVING__EXPLORATION": "true",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = settings.home / SERVE_LOG
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        end = time.monotonic() + START_DEADLINE_S
        pause = threading.Event()
        while True:
            if proc.poll() is not None:
                raise ServiceError(f"the service exited at start (see {log_path})")
            try:
                if httpx.get(f"{base}/healthz", timeout=2.0, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > end:
                raise ServiceError(f"the service did not start in {START_DEADLINE_S:.0f} s")
            pause.wait(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def prepare_store(settings: Settings, therapists: pd.DataFrame) -> str:
    """Load the world's pool into the simulator's own database and mint an admin key."""
    from api import create_api_key, open_database
    from api.storage import upsert_therapists

    settings.home.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.database)
    try:
        with db.session() as session:
            upsert_therapists(session, therapists)
            session.commit()
            return create_api_key(session, f"simulate-{time.time_ns()}", ["admin"])
    finally:
        db.dispose()


def choose_start(settings: Settings, *, cold_start: bool, model: str | None) -> str:
    """Make the registry's ``@champion`` what the run starts from; returns a description."""
    from core.errors import ConfigError
    from training import tracking
    from training.promotion import load_champion
    from training.registry import CHAMPION, promote

    registry = tracking.configure(settings)
    champion, version = load_champion(settings, registry)
    if cold_start:
        if champion is not None:
            raise ConfigError(
                f"--cold-start needs a registry without @{CHAMPION} ({version} is one); "
                "set MATCHER_HOME to an empty folder"
            )
        return "cold start (rules)"
    if model is not None:
        name, _, number = model.removeprefix("models:/").partition("/")
        if not model.startswith("models:/") or not number.isdigit():
            raise ConfigError("--model must be models:/NAME/VERSION from the registry")
        if name != settings.model_name:
            raise ConfigError(f"--model must be a version of {settings.model_name}")
        promote(registry, name, number)
        return f"{name}/{number}"
    if champion is None:
        raise ConfigError(
            f"no @{CHAMPION} to start from: pass --cold-start, or train one (matcher train)"
        )
    return str(version)
