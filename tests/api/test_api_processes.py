"""Several server processes on one database serve one truth: a change made through one process
(a therapist delete) or straight in the database (a key revoked by ``matcher keys revoke``) is
honoured by every process within the sync bound."""

from __future__ import annotations

from pathlib import Path

from api_support import intake, therapist
from processes import ServerProcess, wait_for

from api import create_api_key, open_database
from api.storage import revoke_key

DEADLINE_S = 20.0
"""Generous bound for the test to give up; the documented bound is MATCHER_SYNC_INTERVAL."""


def _ids(server: ServerProcess, auth: dict[str, str]) -> list[str]:
    response = server.request("POST", "/v1/matches", json=intake(), headers=auth)
    assert response.status_code == 200, response.text
    return [m["therapist_id"] for m in response.json()["matches"]]


def _status(server: ServerProcess, auth: dict[str, str]) -> int:
    return server.request("GET", "/v1/model", headers=auth).status_code


def test_changes_through_one_process_or_the_database_are_honoured_by_the_other(
    tmp_path: Path, database_url: str
) -> None:
    database = open_database(database_url)
    with database.session() as session:
        key = create_api_key(session, "key-all", ["admin"])
        doomed = create_api_key(session, "key-doomed", ["admin"])
    env = {"MATCHER_HOME": str(tmp_path / "home"), "MATCHER_DATABASE_URL": database_url}
    first = ServerProcess(tmp_path, env, "first").start()
    second = ServerProcess(tmp_path, env, "second").start()
    auth = {"Authorization": f"Bearer {key}"}
    try:
        for tid in ("t1", "t2"):
            put = first.request("PUT", f"/v1/therapists/{tid}", json=therapist(tid), headers=auth)
            assert put.status_code == 201, put.text
        wait_for(lambda: set(_ids(second, auth)) == {"t1", "t2"}, DEADLINE_S, "the upserts")
        assert first.request("DELETE", "/v1/therapists/t1", headers=auth).status_code == 204
        wait_for(lambda: _ids(second, auth) == ["t2"], DEADLINE_S, "the delete")

        doomed_auth = {"Authorization": f"Bearer {doomed}"}
        assert _status(first, doomed_auth) == 200
        assert _status(second, doomed_auth) == 200  # both processes now hold the key as valid
        with database.session() as session:
            assert revoke_key(session, "key-doomed")
        wait_for(lambda: _status(first, doomed_auth) == 401, DEADLINE_S, "the revocation (1)")
        wait_for(lambda: _status(second, doomed_auth) == 401, DEADLINE_S, "the revocation (2)")
        assert _status(second, auth) == 200
    finally:
        first.stop()
        second.stop()
        database.dispose()


def test_every_process_gives_a_client_the_same_arm(tmp_path: Path, database_url: str) -> None:
    database = open_database(database_url)
    with database.session() as session:
        key = create_api_key(session, "key-all", ["admin"])
    env = {"MATCHER_HOME": str(tmp_path / "home"), "MATCHER_DATABASE_URL": database_url}
    first = ServerProcess(tmp_path, env, "first").start()
    second = ServerProcess(tmp_path, env, "second").start()
    auth = {"Authorization": f"Bearer {key}"}
    experiment = {
        "name": "ab",
        "arms": [{"name": "b", "model_uri": "models:/therapist-matcher/2", "share": 0.5}],
    }

    def arm(server: ServerProcess, client: str) -> str:
        body = intake(client_id=client)
        response = server.request("POST", "/v1/matches", json=body, headers=auth)
        assert response.status_code == 200, response.text
        return str(response.json()["arm"])

    try:
        put = first.request("PUT", "/v1/therapists/t1", json=therapist(), headers=auth)
        assert put.status_code == 201, put.text
        put = first.request("PUT", "/v1/experiments", json=experiment, headers=auth)
        assert put.status_code == 200, put.text
        wait_for(lambda: arm(second, "probe") != "None", DEADLINE_S, "the experiment")
        clients = [f"client-{k}" for k in range(20)]
        seen = [(arm(first, c), arm(second, c)) for c in clients]
        assert all(a == b for a, b in seen), seen
        assert {a for a, _ in seen} == {"champion", "b"}
    finally:
        first.stop()
        second.stop()
        database.dispose()
