"""A process keeps its pool in step with the database by reading only the therapist rows that
changed since the revision it serves (not the whole pool), and never re-applies its own write."""

from __future__ import annotations

import pandas as pd
from api_support import FakeLoader, therapist

from api.engine_state import EngineState, merged_pool
from api.storage import (
    Database,
    PoolChanges,
    delete_therapists,
    pool_changes,
    pool_snapshot,
    upsert_therapists,
)
from api.storage.changes import Topic, bump
from api.storage.records import typed_frame
from features.schemas import THERAPISTS


def _frame(*ids: str, **changes: object) -> pd.DataFrame:
    return typed_frame(THERAPISTS, [therapist(t, **changes) for t in ids], file="test")


def _write(
    db: Database, upserted: pd.DataFrame | None = None, removed: list[str] | None = None
) -> None:
    """A change made by another process (or ``matcher`` on the command line)."""
    with db.session() as session:
        if upserted is not None:
            upsert_therapists(session, upserted)
        if removed:
            delete_therapists(session, removed)
        session.commit()


class Reader:
    """``pool_changes`` over ``db``, remembering what each call read."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reads: list[PoolChanges] = []

    def __call__(self, since: int) -> PoolChanges:
        with self.db.read_session() as session:
            self.reads.append(pool_changes(session, since))
        return self.reads[-1]


def _state(db: Database) -> EngineState:
    with db.read_session() as session:
        revision, pool = pool_snapshot(session)
    state = EngineState(FakeLoader(), "models:/m@champion", pool, revision=revision)
    state.load()
    return state


def _served(state: EngineState) -> dict[str, float]:
    current = state.current
    assert current is not None
    ids = list(current.engine.pool["therapist_id"])  # type: ignore[attr-defined]
    assert ids == list(state.pool["therapist_id"])  # the engine serves the pool it holds
    fees = state.pool.set_index("therapist_id")["session_fee"]
    return {str(t): float(fees[t]) for t in ids}


def test_catching_up_reads_only_the_changed_rows(db: Database) -> None:
    _write(db, _frame("t1", "t2", "t3", "t4", session_fee=100.0))
    state = _state(db)
    assert _served(state) == dict.fromkeys(["t1", "t2", "t3", "t4"], 100.0)

    _write(db, _frame("t2", session_fee=80.0), removed=["t3"])
    _write(db, _frame("t5", session_fee=90.0))
    read = Reader(db)
    assert state.catch_up(read)
    assert _served(state) == {"t1": 100.0, "t2": 80.0, "t4": 100.0, "t5": 90.0}
    (delta,) = read.reads
    assert sorted(delta.upserted["therapist_id"]) == ["t2", "t5"]  # t1 and t4 not read again
    assert delta.removed == ["t3"]

    assert not state.catch_up(read)  # nothing new: nothing rebuilt
    assert len(read.reads[-1].upserted) == 0 and read.reads[-1].removed == []

    _write(db, _frame("t3", session_fee=70.0))  # an un-delete comes back as an upsert
    assert state.catch_up(read)
    assert _served(state)["t3"] == 70.0


def _own_write(state: EngineState, db: Database, upserted: pd.DataFrame) -> int:
    """A write through this process, as ``api.routers.therapists.write_pool`` makes it."""
    with state.pool_writer() as writer, db.session() as session:
        writer.stage(merged_pool(writer.pool, upserted))
        revision = bump(session, Topic.THERAPISTS)
        upsert_therapists(session, upserted, revision=revision)
        session.commit()
        writer.revision = revision
    return revision


def test_own_write_advances_the_revision_so_it_is_not_read_back(db: Database) -> None:
    _write(db, _frame("t1", "t2", session_fee=100.0))
    state = _state(db)
    start = state.revision
    revision = _own_write(state, db, _frame("t1", session_fee=50.0))
    assert state.revision == revision == (start or 0) + 1
    read = Reader(db)
    assert not state.catch_up(read)
    assert len(read.reads[0].upserted) == 0

    # another change slipped in before ours: ours is read back, with the other one
    _write(db, _frame("t2", session_fee=60.0))
    revision = _own_write(state, db, _frame("t1", session_fee=40.0))
    assert state.revision == revision - 2
    assert state.catch_up(read)
    assert _served(state) == {"t1": 40.0, "t2": 60.0}
    assert state.revision == revision
