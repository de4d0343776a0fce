"""The audit trail of data access, and erasure that leaves no copy in the database files."""

from __future__ import annotations

from pathlib import Path

from api_support import Service, intake

CLIENT = "client-ERASE-ME-9931"


def _files(service: Service) -> bytes:
    path = Path(service.runtime.database.url.database)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_audit_lists_matches_and_erasure_removes_the_clients_entries(service: Service) -> None:
    matched = service.client.post(
        "/v1/matches", json=intake(client_id=CLIENT, intake_id="in-1"), headers=service.auth()
    )
    assert matched.status_code == 200
    other = service.client.post(
        "/v1/matches", json=intake(client_id="someone-else"), headers=service.auth()
    )
    assert other.status_code == 200
    assert service.client.get("/v1/audit", headers=service.auth("matches")).status_code == 403
    page = service.client.get("/v1/audit?limit=1", headers=service.auth("admin")).json()
    assert len(page["items"]) == 1 and page["next_before"] is not None
    rest = service.client.get(
        f"/v1/audit?before={page['next_before']}", headers=service.auth("admin")
    ).json()
    entries = page["items"] + rest["items"]
    mine = [e for e in entries if e["intake_id"] == "in-1"]
    assert [(e["action"], e["key_name"], e["route"]) for e in mine] == [
        ("match", "key-all", "/v1/matches")
    ]
    assert mine[0]["client_hash"] and CLIENT not in str(entries)
    assert CLIENT.encode() in _files(service)  # stored, before the erasure

    erased = service.client.delete(f"/v1/clients/{CLIENT}", headers=service.auth())
    assert erased.status_code == 200 and erased.json()["intakes"] == 1
    after = service.client.get("/v1/audit", headers=service.auth("admin")).json()["items"]
    assert not [e for e in after if e["intake_id"] == "in-1"]
    assert not [e for e in after if e["client_hash"] == mine[0]["client_hash"]]
    assert [e["action"] for e in after if e["action"] == "erase"] == ["erase"]
    assert [e for e in after if e["action"] == "match"]  # the other client's entry stays
    # No copy of the erased rows in the database file, its WAL or its shared memory.
    assert CLIENT.encode() not in _files(service)
    assert b"in-1" not in _files(service)
