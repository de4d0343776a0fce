"""A real server process for the multi-process tests: the app as ``matcher serve`` runs it
(same uvicorn runner and log configuration) with the deterministic fake engine.

Run: ``python tests/api/serve_child.py PORT``; settings come from the environment (MATCHER_*).
``SERVE_CHILD_SQLITE_MAX_LENGTH=N`` caps SQLite strings at N bytes on every connection, so any
longer value fails to bind: a database failure in the middle of a request, on demand.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

from api_support import FakeArmLoader, FakeLoader
from sqlalchemy import Engine, event

from api import create_app
from cli.serve import run_app
from core.settings import Settings


def _cap_strings(limit: int) -> None:
    @event.listens_for(Engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)


def main() -> None:
    port = int(sys.argv[1])
    cap = os.environ.get("SERVE_CHILD_SQLITE_MAX_LENGTH")
    if cap:
        _cap_strings(int(cap))
    app = create_app(Settings(), engine_loader=FakeLoader(), arm_loader=FakeArmLoader())
    run_app(app, "127.0.0.1", port)


if __name__ == "__main__":
    main()
