"""No client data in any log line, even when the database fails in the middle of a match."""

from __future__ import annotations

import json
from pathlib import Path

from api_support import intake, therapist
from processes import ServerProcess

from api import create_api_key, open_database

CLIENT_ID = "client-QX7-distinctive"
MARKER = "ZEBRA-MOONLIGHT-4471"


def test_database_failure_during_a_match_logs_no_client_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'matcher.db'}"
    database = open_database(url)
    with database.session() as session:
        key = create_api_key(session, "key-all", ["admin"])
    database.dispose()
    server = ServerProcess(
        tmp_path,
        {
            "MATCHER_HOME": str(tmp_path / "home"),
            "MATCHER_DATABASE_URL": url,
            "MATCHER_STORE_FREE_TEXT": "true",
            # Strings over 1,000 bytes cannot be bound: storing this intake's free text fails.
            "SERVE_CHILD_SQLITE_MAX_LENGTH": "1000",
        },
    ).start()
    auth = {"Authorization": f"Bearer {key}"}
    try:
        put = server.request("PUT", "/v1/therapists/t1", json=therapist("t1"), headers=auth)
        assert put.status_code in (200, 201), put.text
        free_text = f"{MARKER} I cannot sleep. " + "I worry about everything. " * 60
        body = intake(client_id=CLIENT_ID, free_text=free_text[:1900])
        response = server.request("POST", "/v1/matches", json=body, headers=auth)
    finally:
        server.stop()
    assert response.status_code == 500
    assert CLIENT_ID not in response.text and MARKER not in response.text
    log = server.log()
    # The failure was logged (type and stack), and the request got its access line ...
    assert "DataError" in log
    access = [json.loads(line) for line in log.splitlines() if '"route": "/v1/matches"' in line]
    assert [line["status"] for line in access] == [500]
    # ... but nothing the client sent reached the log.
    assert CLIENT_ID not in log
    assert MARKER not in log
    assert "worry about everything" not in log
