"""Impressions carry propensity, shown propensity and policy (migration 0003), and the export for
``matcher train --from-db`` writes them as the contract's interactions columns (issue 8)."""

from __future__ import annotations

import pandas as pd
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_support import intake, therapist

from api.storage import (
    Database,
    Impression,
    TherapistRow,
    export_dataset,
    save_impressions,
    save_intakes,
    upsert_therapists,
)
from api.storage.records import typed_frame
from features.schemas import INTAKES, THERAPISTS


def test_migration_0003_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, TherapistRow.metadata) == []


def test_export_writes_propensity_and_policy(db: Database) -> None:
    with db.session() as session:
        upsert_therapists(
            session, typed_frame(THERAPISTS, [therapist(i) for i in ("t1", "t2")], file="t")
        )
        clients = save_intakes(
            session,
            typed_frame(INTAKES, [intake(intake_id="i1"), intake(intake_id="i2")], file="t"),
            store_free_text=False,
        )
        save_impressions(
            session,
            [
                Impression("r1", "i1", "t1", 1, 0.9, "v1", None, "match", 0.5, 0.75, "explore:v1"),
                Impression("r1", "i1", "t2", 2, 0.8, "v1", None, "match", 0.5, 0.75, "explore:v1"),
                Impression("r2", "i2", "t1", 1, 0.7, "v1"),  # logged before propensities
            ],
            clients,
        )
        session.commit()
    with db.session() as session:
        rows = export_dataset(session).interactions.set_index(["intake_id", "therapist_id"])
    assert rows.loc[("i1", "t1"), "propensity"] == 0.5
    assert rows.loc[("i1", "t2"), "shown_propensity"] == 0.75
    assert rows.loc[("i1", "t2"), "policy"] == "explore:v1"
    assert pd.isna(rows.loc[("i2", "t1"), "propensity"])
    assert pd.isna(rows.loc[("i2", "t1"), "policy"])
