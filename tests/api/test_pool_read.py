"""The pool is read column-wise (list columns as JSON text, no per-row re-parse): the frame it
gives is the one the contract's validating path gives for the same stored rows, on SQLite and
(with MATCHER_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

from typing import Any

import pandas as pd
from api_support import therapist

from api.storage import (
    Database,
    delete_therapists,
    load_pool,
    pool_changes,
    therapist_records,
    upsert_therapists,
)
from api.storage.changes import Topic, counter
from api.storage.records import frame_records, typed_frame
from features.schemas import THERAPISTS
from synth import WorldConfig, generate_world


def _seeded() -> pd.DataFrame:
    """Synthetic therapists plus hand-made edge cases: every optional field null, long and
    unicode text, JSON-special characters, several regions/languages/payers, many hours."""
    world = generate_world(WorldConfig(n_therapists=40, n_intakes=5, seed=11))
    synthetic = frame_records(world.dataset.therapists, THERAPISTS)
    edge: list[dict[str, Any]] = [
        therapist(
            "x-nulls",
            gender=None,
            ethnicity=None,
            session_fee=None,
            crisis_trained=None,
            bio=None,
            cultural_competencies=[],
        ),
        therapist(
            "x-unicode",
            display_name="Zoë Ørsted-Nakamura 李小龍 🌱",
            bio='Ich helfe bei Ängsten — "Zitat", Backslash \\ und\nZeilenumbruch\ttab; 日本語',
            languages=["de", "ja", "en"],
            licensed_regions=["US-CA", "US-NY", "GB"],
            payers_accepted=["self_pay", "caja_ñandú", "aetna"],
        ),
        therapist(
            "x-many",
            availability=list(range(0, 168, 3)),
            specialties=["anxiety", "depression", "trauma_ptsd", "grief_loss"],
            cultural_competencies=["lgbtqia_affirming", "faith_jewish"],
            session_fee=0.0,
            max_caseload=0,
            current_caseload=0,
            accepting_new_clients=False,
            crisis_trained=True,
        ),
        therapist("x-fraction", session_fee=99.99, bio=""),
        therapist("Y-Ärztin"),  # case and non-ASCII: collations disagree on their order
        therapist("a-lower"),
    ]
    return typed_frame(THERAPISTS, synthetic + edge, file="test")


def _validated(session: Any, ids: list[str] | None = None) -> pd.DataFrame:
    """The pool as the contract's validating path reads it (records → parse → check)."""
    records = sorted(therapist_records(session), key=lambda r: str(r["therapist_id"]))
    if ids is not None:
        records = [r for r in records if r["therapist_id"] in set(ids)]
    return typed_frame(THERAPISTS, records, file="database:therapists")


def _assert_same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    for col in THERAPISTS.columns:  # == would take 1 for 1.0 or "1" for 1 inside lists
        if col.kind.is_list:
            kinds = [[type(x) for x in xs] for xs in fast[col.name]]
            assert kinds == [[type(x) for x in xs] for xs in slow[col.name]], col.name
        else:
            assert [type(x) for x in fast[col.name]] == [type(x) for x in slow[col.name]]


def test_fast_read_equals_the_validated_frame(db: Database) -> None:
    seeded = _seeded()
    with db.session() as session:
        upsert_therapists(session, seeded)
        session.commit()
    with db.read_session() as session:
        fast = load_pool(session)
        slow = _validated(session)
    assert len(fast) == len(seeded)
    assert list(fast["therapist_id"]) == sorted(fast["therapist_id"])  # code point order
    _assert_same(fast, slow)
    assert fast.loc[fast["therapist_id"] == "x-nulls", "gender"].item() is None
    assert fast.loc[fast["therapist_id"] == "x-nulls", "session_fee"].isna().all()
    unicode = fast.set_index("therapist_id").loc["x-unicode"]
    assert unicode["display_name"] == "Zoë Ørsted-Nakamura 李小龍 🌱"
    assert unicode["payers_accepted"] == ["self_pay", "caja_ñandú", "aetna"]


def test_fast_read_of_changes_and_deletions(db: Database) -> None:
    seeded = _seeded()
    with db.session() as session:
        upsert_therapists(session, seeded)
        session.commit()
        since = counter(session, Topic.THERAPISTS)
    changed = seeded[seeded["therapist_id"].isin(["x-nulls", "x-unicode"])].copy()
    changed["current_caseload"] = pd.array([3, 4], dtype="Int64")
    gone = [str(t) for t in seeded["therapist_id"].iloc[:3]] + ["x-many"]
    with db.session() as session:
        upsert_therapists(session, changed)
        delete_therapists(session, gone)
        session.commit()
    with db.read_session() as session:
        pool = load_pool(session)
        delta = pool_changes(session, since)
        _assert_same(pool, _validated(session))
        # the change's own order is the database's: compare in id order
        changed_rows = delta.upserted.sort_values("therapist_id").reset_index(drop=True)
        _assert_same(changed_rows, _validated(session, ["x-nulls", "x-unicode"]))
    assert not set(gone) & set(pool["therapist_id"])
    assert sorted(delta.removed) == sorted(gone)
    assert list(delta.upserted["current_caseload"]) == [3, 4]


def test_fast_read_of_an_empty_pool(db: Database) -> None:
    with db.read_session() as session:
        _assert_same(load_pool(session), typed_frame(THERAPISTS, [], file="database:therapists"))
        delta = pool_changes(session, 0)
    assert not delta
    _assert_same(delta.upserted, typed_frame(THERAPISTS, [], file="database:therapists"))
