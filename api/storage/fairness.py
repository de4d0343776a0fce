"""What the service logged over a date range, as fairness-report inputs (the online source).

* intakes: every intake whose last match request was received in ``[since, until)`` and whose
  answer is known (``status``, ``n_eligible``: stored since migration 0002), with its contract
  columns (never ``free_text``);
* impressions: the list of each intake's latest ``POST /v1/matches`` (position and the logged
  score, which is the predicted benefit), with ``chosen`` = a ``chosen`` or ``session_attended``
  event arrived for the pair;
* therapists: the pool of the range — profiles created before ``until`` and not deleted before
  ``since``, plus any therapist shown in range — with ``n_outcomes``, the number of clients who
  chose them (events up to ``until``), which splits new from established therapists.

Eligible pairs are not logged, so merit shares come from the shown lists, and the mitigation
trade-off (which needs every eligible pair) is offline only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session

from api.storage.events import EventType
from api.storage.models import EventRow, ImpressionRow, IntakeRow, TherapistRow
from api.storage.records import typed_frame
from features.schemas import INTAKES, THERAPISTS
from matcher.fairness import FairnessInputs

CHOICE_EVENTS = (EventType.CHOSEN.value, EventType.SESSION_ATTENDED.value)
"""Events that say the client picked the therapist (as :func:`api.storage.interaction_records`)."""


def _utc(moment: datetime | None) -> datetime | None:
    """Aware UTC (a naive time is taken as UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _active(record: dict[str, Any], since: datetime | None, until: datetime | None) -> bool:
    """Whether a profile existed at some time in ``[since, until)``."""
    created, deleted = record["created_at"], record["deleted_at"]
    if until is not None and created >= until:
        return False
    return deleted is None or (since is not None and deleted >= since)


def _window(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """``since ≤ received_at < until`` (open ends when None) for intakes with a known answer."""
    where: list[ColumnElement[bool]] = [IntakeRow.status.is_not(None)]
    if since is not None:
        where.append(IntakeRow.received_at >= since)
    if until is not None:
        where.append(IntakeRow.received_at < until)
    return where


def _intakes(session: Session, where: list[ColumnElement[bool]]) -> pd.DataFrame:
    columns = [IntakeRow.__table__.c[n] for n in INTAKES.names if n != "free_text"]
    query = (
        select(*columns, IntakeRow.status, IntakeRow.n_eligible)
        .where(*where)
        .order_by(IntakeRow.received_at, IntakeRow.intake_id)
    )
    records = [dict(r) for r in session.execute(query).mappings()]
    frame = typed_frame(INTAKES, records, file="database:intakes")
    return frame.assign(
        status=pd.array([r["status"] for r in records], dtype="string"),
        n_eligible=pd.array([r["n_eligible"] for r in records], dtype="Int64"),
    )


def _impressions(session: Session, in_range: Any) -> pd.DataFrame:
    """Rows of each intake's latest match list, with ``chosen`` from the events."""
    query = select(
        ImpressionRow.id,
        ImpressionRow.request_id,
        ImpressionRow.intake_id,
        ImpressionRow.therapist_id,
        ImpressionRow.position,
        ImpressionRow.score,
        ImpressionRow.shown_at,
    ).where(ImpressionRow.intake_id.in_(in_range), ImpressionRow.source == "match")
    columns = ["id", "request_id", "intake_id", "therapist_id", "position", "score", "shown_at"]
    shown = pd.DataFrame([tuple(r) for r in session.execute(query)], columns=columns)
    if not shown.empty:
        latest = shown.sort_values(["shown_at", "id"]).groupby("intake_id")["request_id"].last()
        shown = shown[shown["request_id"].to_numpy() == latest.reindex(shown["intake_id"]).values]
    picked = session.execute(
        select(EventRow.intake_id, EventRow.therapist_id)
        .where(EventRow.intake_id.in_(in_range), EventRow.type.in_(CHOICE_EVENTS))
        .distinct()
    )
    chosen = set(map(tuple, picked))
    pairs = zip(shown["intake_id"], shown["therapist_id"], strict=True)
    return pd.DataFrame(
        {
            "intake_id": shown["intake_id"].astype(str).to_numpy(),
            "therapist_id": shown["therapist_id"].astype(str).to_numpy(),
            "position": shown["position"].astype(np.int64).to_numpy(),
            "score": pd.to_numeric(shown["score"], errors="coerce").to_numpy(dtype=np.float64),
            "chosen": np.fromiter((p in chosen for p in pairs), bool, len(shown)),
        }
    ).sort_values(["intake_id", "position"], ignore_index=True)


def _therapists(
    session: Session, since: datetime | None, until: datetime | None, shown: set[str]
) -> pd.DataFrame:
    columns = [TherapistRow.__table__.c[n] for n in THERAPISTS.names]
    query = select(*columns, TherapistRow.created_at, TherapistRow.deleted_at).order_by(
        TherapistRow.therapist_id
    )
    records = [dict(r) for r in session.execute(query).mappings()]
    keep = [r for r in records if r["therapist_id"] in shown or _active(r, since, until)]
    frame = typed_frame(THERAPISTS, keep, file="database:therapists")
    outcomes = select(EventRow.therapist_id, func.count(distinct(EventRow.intake_id))).where(
        EventRow.type.in_(CHOICE_EVENTS)
    )
    if until is not None:
        outcomes = outcomes.where(EventRow.occurred_at < until)
    counts = {t: int(n) for t, n in session.execute(outcomes.group_by(EventRow.therapist_id))}
    return frame.assign(
        n_outcomes=frame["therapist_id"].map(lambda t: counts.get(t, 0)).astype(np.int64)
    )


def load_fairness_inputs(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> FairnessInputs:
    """The fairness-report inputs of the match requests received in ``[since, until)``.

    Naive datetimes are taken as UTC; ``None`` leaves that end open. Intakes without a stored
    answer (only allocated, or stored before migration 0002) are left out. See the module
    docstring for what each frame holds.
    """
    since, until = _utc(since), _utc(until)
    where = _window(since, until)
    intakes = _intakes(session, where)
    in_range = select(IntakeRow.intake_id).where(*where)
    impressions = _impressions(session, in_range)
    therapists = _therapists(session, since, until, set(impressions["therapist_id"]))
    return FairnessInputs(intakes=intakes, therapists=therapists, impressions=impressions)


__all__ = ["CHOICE_EVENTS", "load_fairness_inputs"]
