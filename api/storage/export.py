"""What the service logged, as the contract's three tables (for ``matcher train --from-db``)."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.database import open_database
from api.storage.events import EventType
from api.storage.models import EventRow, ImpressionRow, IntakeRow
from api.storage.records import typed_frame
from api.storage.therapists import therapist_records
from features.dataset import Dataset
from features.schemas import INTAKES, INTERACTIONS, THERAPISTS

_PAIR = ["intake_id", "therapist_id"]
_PROPENSITY = ["propensity", "shown_propensity", "policy"]
"""Impression columns exported as is (issue 8; NULL for showings logged before them)."""


IMPRESSION_COLUMNS = [
    ImpressionRow.id,
    ImpressionRow.intake_id,
    ImpressionRow.therapist_id,
    ImpressionRow.position,
    ImpressionRow.shown_at,
    ImpressionRow.propensity,
    ImpressionRow.shown_propensity,
    ImpressionRow.policy,
]
"""What :func:`interaction_records` reads of each logged showing."""
EVENT_COLUMNS = [
    EventRow.id,
    EventRow.intake_id,
    EventRow.therapist_id,
    EventRow.type,
    EventRow.value,
    EventRow.occurred_at,
]
"""What :func:`interaction_records` reads of each event."""


def query_frame(
    session: Session, columns: list[Any], where: Any = None, order: Any = None
) -> pd.DataFrame:
    """``columns`` of the rows matching ``where`` (all rows when None), ordered by ``order``."""
    query = select(*columns)
    if where is not None:
        query = query.where(where)
    if order is not None:
        query = query.order_by(order)
    rows = [tuple(r) for r in session.execute(query).all()]
    return pd.DataFrame(rows, columns=[c.key for c in columns])


def _latest(events: pd.DataFrame, kind: EventType) -> pd.Series:
    """The most recent ``value`` of one event type per (intake, therapist) pair."""
    chosen = events[events["type"] == kind.value].sort_values(["occurred_at", "id"])
    return chosen.groupby(_PAIR)["value"].last()


def interaction_records(impressions: pd.DataFrame, events: pd.DataFrame) -> list[dict[str, Any]]:
    """One interactions row per (intake, therapist) ever shown, with its outcomes.

    A pair shown in several responses keeps the position of its first showing. ``chosen`` is true
    once a ``chosen`` or ``session_attended`` event arrived; ``sessions_attended`` counts
    ``session_attended`` events (0 for chosen rows without any); ``dropped_out``, ``alliance``
    and ``reliable_improvement`` take the latest value of their event. Events about pairs never
    shown are left out (the contract's interactions are showings).
    """
    if impressions.empty:
        return []
    shown = (
        impressions.sort_values(["shown_at", "id"])
        .drop_duplicates(_PAIR, keep="first")
        .set_index(_PAIR)[["position", *_PROPENSITY]]
    )
    sessions = (
        events[events["type"] == EventType.SESSION_ATTENDED.value].groupby(_PAIR).size()
        if not events.empty
        else pd.Series(dtype="int64")
    )
    picked = (
        set(map(tuple, events.loc[events["type"] == EventType.CHOSEN.value, _PAIR].to_numpy()))
        if not events.empty
        else set()
    )
    latest = {
        kind: _latest(events, kind) if not events.empty else pd.Series(dtype="float64")
        for kind in (EventType.DROPOUT, EventType.ALLIANCE, EventType.IMPROVEMENT)
    }
    records = []
    columns = [*_PAIR, "position", *_PROPENSITY]
    for intake_id, therapist_id, position, mu, rho, policy in (
        shown.reset_index().reindex(columns=columns).itertuples(index=False, name=None)
    ):
        pair = (intake_id, therapist_id)
        count = int(sessions.get(pair, 0))
        chosen = pair in picked or count > 0
        dropout = latest[EventType.DROPOUT].get(pair)
        alliance = latest[EventType.ALLIANCE].get(pair)
        improved = latest[EventType.IMPROVEMENT].get(pair)
        records.append(
            {
                "intake_id": intake_id,
                "therapist_id": therapist_id,
                "position": int(position),
                "chosen": chosen,
                "sessions_attended": count if chosen else None,
                "dropped_out": None if dropout is None else bool(pd.isna(dropout) or dropout != 0),
                "alliance": None if alliance is None or pd.isna(alliance) else float(alliance),
                "reliable_improvement": None
                if improved is None or pd.isna(improved)
                else bool(improved != 0),
                "propensity": None if mu is None or pd.isna(mu) else float(mu),
                "shown_propensity": None if rho is None or pd.isna(rho) else float(rho),
                "policy": None if policy is None or pd.isna(policy) else str(policy),
            }
        )
    return records


def export_dataset(session: Session) -> Dataset:
    """The logged world as a typed :class:`~features.dataset.Dataset`.

    ``therapists`` holds every profile ever stored (deleted ones too: history refers to them),
    ``intakes`` every stored intake (``free_text`` only if it was stored), and ``interactions``
    the impressions joined with their outcome events (see :func:`interaction_records`).
    """
    therapists = typed_frame(
        THERAPISTS, therapist_records(session, include_deleted=True), file="database:therapists"
    )
    intake_rows = [
        dict(r)
        for r in session.execute(
            select(*[IntakeRow.__table__.c[n] for n in INTAKES.names]).order_by(
                IntakeRow.received_at, IntakeRow.intake_id
            )
        ).mappings()
    ]
    intakes = typed_frame(INTAKES, intake_rows, file="database:intakes")
    impressions = query_frame(session, IMPRESSION_COLUMNS)
    events = query_frame(session, EVENT_COLUMNS)
    records = interaction_records(impressions, events)
    known_intakes = set(intakes["intake_id"])
    known_therapists = set(therapists["therapist_id"])
    kept = [
        r
        for r in records
        if r["intake_id"] in known_intakes and r["therapist_id"] in known_therapists
    ]
    if len(kept) < len(records):
        warnings.warn(
            f"{len(records) - len(kept)} logged showing(s) refer to unknown intakes or "
            "therapists and were left out",
            stacklevel=2,
        )
    interactions = typed_frame(INTERACTIONS, kept, file="database:interactions")
    return Dataset(therapists, intakes, interactions)


def export_database(url: str) -> Dataset:
    """Open the service database at ``url`` (migrating it) and export it, for
    ``matcher train --from-db``."""
    database = open_database(url)
    try:
        with database.session() as session:
            return export_dataset(session)
    finally:
        database.dispose()


__all__ = ["export_database", "export_dataset", "interaction_records"]
