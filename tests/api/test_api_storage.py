"""Storage on SQLite and (with MATCHER_TEST_POSTGRES_URL) PostgreSQL: migrations, repositories,
concurrent idempotent events, erasure, and the export for ``matcher train --from-db``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_support import intake, therapist
from sqlalchemy import func, inspect, select

from api.storage import (
    Database,
    Event,
    EventRow,
    EventType,
    Impression,
    ImpressionRow,
    IntakeRow,
    TherapistRow,
    delete_therapists,
    erase_client,
    export_database,
    export_dataset,
    load_pool,
    record_event,
    save_impressions,
    save_intakes,
    upsert_therapists,
)
from api.storage.database import normalize_url
from api.storage.records import typed_frame
from core.errors import ConfigError, DataValidationError
from features.dataset import load_dataset, write_dataset
from features.schemas import INTAKES, THERAPISTS

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)


def _therapists(*ids: str, **changes) -> pd.DataFrame:
    return typed_frame(THERAPISTS, [therapist(i, **changes) for i in ids], file="test")


def _intakes(*rows: dict) -> pd.DataFrame:
    return typed_frame(INTAKES, list(rows), file="test")


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, TherapistRow.metadata) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "therapists",
        "intakes",
        "impressions",
        "events",
        "api_keys",
        "alembic_version",
    } <= tables
    db.migrate()  # running again is a no-op


def test_models_carry_exactly_the_contract_columns() -> None:
    # status / n_eligible: what each match request answered (for online fairness reports);
    # revision: the change that last wrote a therapist row (how other processes catch up).
    bookkeeping = {
        "created_at",
        "updated_at",
        "deleted_at",
        "received_at",
        "status",
        "n_eligible",
        "revision",
    }
    for model, table in ((TherapistRow, THERAPISTS), (IntakeRow, INTAKES)):
        columns = [c.name for c in model.__table__.columns]
        assert [c for c in columns if c not in bookkeeping] == table.names


def test_database_urls() -> None:
    assert normalize_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(ConfigError, match="unsupported"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="invalid"):
        normalize_url("not a url")


def test_therapist_pool_round_trip(db: Database) -> None:
    frame = _therapists("t2", "t1", bio=None, crisis_trained=None)
    with db.session() as session:
        assert upsert_therapists(session, frame) == {"t1", "t2"}
        session.commit()
        assert upsert_therapists(session, _therapists("t1")) == set()
        session.commit()
        pool = load_pool(session)
    assert list(pool["therapist_id"]) == ["t1", "t2"]
    assert pool.dtypes.equals(frame.dtypes)
    assert pool.iloc[1]["availability"] == [10, 11, 12]
    assert pool.iloc[0]["bio"] == "CBT for anxiety."
    with db.session() as session:
        assert delete_therapists(session, ["t1", "nope"]) == 1
        session.commit()
        assert list(load_pool(session)["therapist_id"]) == ["t2"]


def test_concurrent_event_ingest(db: Database) -> None:
    with db.session() as session:
        clients = save_intakes(session, _intakes(intake(intake_id="i1")), store_free_text=False)
        save_impressions(session, [Impression("r1", "i1", "t1", 1, 0.9, "v1")], clients)
        session.commit()
    events = [
        Event(f"e{i}", "i1", "t1", EventType.SESSION_ATTENDED, None, T0 + timedelta(days=i))
        for i in range(25)
    ]

    def ingest(event: Event) -> bool:
        with db.session() as session:
            recorded = record_event(session, event)
        assert recorded is not None
        return recorded.duplicate

    with ThreadPoolExecutor(max_workers=8) as pool:
        duplicates = list(pool.map(ingest, events * 4))
    assert duplicates.count(False) == len(events)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == len(events)
        stored = set(session.scalars(select(EventRow.event_id)))
    assert stored == {e.event_id for e in events}


def _log_world(db: Database) -> None:
    with db.session() as session:
        upsert_therapists(session, _therapists("t1", "t2", "t3"))
        clients = save_intakes(
            session,
            _intakes(
                intake(intake_id="i1", client_id="c1"),
                intake(intake_id="i2", client_id="c2"),
            ),
            store_free_text=False,
        )
        shown = [
            Impression("r1", "i1", "t1", 1, 0.9, "v1", {"fit": 0.9}),
            Impression("r1", "i1", "t2", 2, 0.8, "v1", {"fit": 0.8}),
            Impression("r2", "i1", "t2", 1, 0.85, "v1"),  # shown again later: first position kept
            Impression("r3", "i2", "t3", 1, 0.7, "v2"),
        ]
        save_impressions(session, shown[:2], clients)
        session.commit()
        save_impressions(session, shown[2:], clients)
        delete_therapists(session, ["t3"])  # still exported: history refers to it
        session.commit()
    facts = [
        ("chosen", "i1", "t2", None, 0),
        ("session_attended", "i1", "t2", None, 1),
        ("session_attended", "i1", "t2", None, 2),
        ("alliance", "i1", "t2", 3.0, 1),
        ("alliance", "i1", "t2", 4.5, 3),
        ("improvement", "i1", "t2", 1.0, 5),
        ("dropout", "i2", "t3", 1.0, 2),
    ]
    with db.session() as session:
        for n, (kind, intake_id, therapist_id, value, day) in enumerate(facts):
            event = Event(
                f"e{n}", intake_id, therapist_id, EventType(kind), value, T0 + timedelta(days=day)
            )
            assert record_event(session, event) is not None
        never_shown = Event("e-x", "i1", "t3", EventType.CHOSEN, None, T0)
        with pytest.raises(DataValidationError, match="never shown"):
            record_event(session, never_shown)


def test_export_builds_the_contract_tables(db: Database, tmp_path) -> None:
    _log_world(db)
    with db.session() as session:
        dataset = export_dataset(session)
    assert dataset.summary() == {"therapists": 3, "intakes": 2, "interactions": 3}
    assert dataset.intakes["free_text"].isna().all()
    rows = dataset.interactions.set_index(["intake_id", "therapist_id"])
    assert rows.loc[("i1", "t2"), "position"] == 2
    assert bool(rows.loc[("i1", "t2"), "chosen"]) is True
    assert rows.loc[("i1", "t2"), "sessions_attended"] == 2
    assert rows.loc[("i1", "t2"), "alliance"] == 4.5
    assert bool(rows.loc[("i1", "t2"), "reliable_improvement"]) is True
    assert bool(rows.loc[("i1", "t1"), "chosen"]) is False
    assert pd.isna(rows.loc[("i1", "t1"), "sessions_attended"])
    assert bool(rows.loc[("i2", "t3"), "dropped_out"]) is True
    assert bool(rows.loc[("i2", "t3"), "chosen"]) is False
    # The export is a valid dataset folder for `matcher train`.
    write_dataset(dataset, tmp_path / "export")
    reloaded = load_dataset(tmp_path / "export")
    assert reloaded.summary() == dataset.summary()


def test_export_database_by_url(db: Database, database_url: str) -> None:
    _log_world(db)
    assert export_database(database_url).summary()["interactions"] == 3


def test_erase_client(db: Database) -> None:
    _log_world(db)
    with db.session() as session:
        erased = erase_client(session, "c1")
        assert (erased.intakes, erased.impressions, erased.events) == (1, 3, 6)
        assert session.scalar(select(func.count()).select_from(ImpressionRow)) == 1
        assert session.get(IntakeRow, "i2") is not None
        assert export_dataset(session).summary()["interactions"] == 1


def test_service_on_this_database(service_factory, database_url: str) -> None:
    svc = service_factory(database_url=database_url)
    headers = svc.auth()
    bulk = {"therapists": [therapist("t1"), therapist("t2")]}
    assert svc.client.post("/v1/therapists:bulk", json=bulk, headers=headers).status_code == 200
    matched = svc.client.post(
        "/v1/matches", json=intake(intake_id="i1", client_id="c1"), headers=headers
    )
    assert matched.status_code == 200
    event = {
        "event_id": "e1",
        "intake_id": "i1",
        "therapist_id": "t1",
        "type": "chosen",
        "occurred_at": "2025-03-02T09:00:00Z",
    }
    assert svc.client.post("/v1/events", json=event, headers=headers).status_code == 201
    assert svc.client.post("/v1/events", json=event, headers=headers).status_code == 200
    erased = svc.client.delete("/v1/clients/c1", headers=headers).json()
    assert erased == {"client_id": "c1", "intakes": 1, "impressions": 2, "events": 1}
