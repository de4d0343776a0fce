"""The match log: intakes as received (with how they were answered) and every therapist shown
(impressions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from api.storage.models import ImpressionRow, IntakeRow
from api.storage.records import frame_records, plain, plain_features
from api.storage.types import utcnow
from api.storage.upsert import insert_for, upsert
from features.schemas import INTAKES


@dataclass(frozen=True)
class Impression:
    """One therapist shown at ``position`` in the answer to one request."""

    request_id: str
    intake_id: str
    therapist_id: str
    position: int
    score: float | None
    model_version: str
    features: dict[str, float] | None = None
    source: str = "match"
    propensity: float | None = None
    """μ(therapist, position | intake) under the serving policy (issue 8)."""
    shown_propensity: float | None = None
    policy: str | None = None
    arm: str | None = None
    """The experiment arm that served the list (None outside an experiment)."""


@dataclass(frozen=True)
class Answer:
    """How a match request was answered: the MatchResult's ``status`` and ``eligible`` count."""

    status: str
    """``matched``, ``no_eligible_match`` or ``crisis``."""
    n_eligible: int
    """Therapists who passed every hard constraint."""


def _same(stored: Any, sent: Any) -> bool:
    """Whether a stored intake field and a newly sent one say the same thing."""
    if isinstance(stored, list) or isinstance(sent, list):
        return list(stored or []) == list(sent or [])
    if isinstance(stored, datetime) and sent is not None:
        when = datetime.fromisoformat(sent) if isinstance(sent, str) else sent
        return bool(stored == when)
    if isinstance(stored, float) and isinstance(sent, (int, float)):
        return abs(stored - sent) < 1e-9
    return bool(stored == sent)


def conflicting_fields(
    session: Session, record: Mapping[str, Any], *, ignore: frozenset[str] = frozenset()
) -> list[str]:
    """Fields in which ``record`` differs from the stored intake with the same id ([] when there
    is none or it says the same). Free text is never compared (it may not have been stored)."""
    skip = ignore | {"intake_id", "free_text"}
    names = [name for name in INTAKES.names if name not in skip]
    row = session.execute(_stored_fields(tuple(names)), {"id": record["intake_id"]}).first()
    if row is None:
        return []
    return [
        name for name, stored in zip(names, row, strict=True) if not _same(stored, record.get(name))
    ]


@lru_cache(maxsize=8)
def _stored_fields(names: tuple[str, ...]) -> Select[Any]:
    """The stored intake's ``names`` by id (one Core select, built once per column set: no
    ORM object is loaded for a check every match request makes)."""
    table = IntakeRow.__table__
    return select(*(table.c[name] for name in names)).where(table.c.intake_id == bindparam("id"))


def save_intakes(
    session: Session,
    intakes: pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    store_free_text: bool,
    answers: Mapping[str, Answer] | None = None,
) -> dict[str, str | None]:
    """Upsert intakes — a typed frame, or contract records already checked by the request
    models — with ``free_text`` dropped unless allowed; no commit.

    With ``answers`` (intake id → :class:`Answer`, from ``POST /v1/matches``) each intake's
    ``status`` and ``n_eligible`` are stored too; without, they are left as they were (NULL for a
    new intake), so an allocation never overwrites how a match request was answered.

    Returns each intake's ``client_id`` (to stamp its impressions with).
    """
    if isinstance(intakes, pd.DataFrame):
        records = frame_records(intakes, INTAKES)
    else:
        records = [{name: record.get(name) for name in INTAKES.names} for record in intakes]
        for record in records:
            stamp = record["submitted_at"]
            if isinstance(stamp, str):
                record["submitted_at"] = datetime.fromisoformat(stamp)
    now = utcnow()
    for record in records:
        if not store_free_text:
            record["free_text"] = None
        record["received_at"] = now
        if answers is not None:
            answer = answers.get(record["intake_id"])
            record["status"] = None if answer is None else answer.status
            record["n_eligible"] = None if answer is None else int(answer.n_eligible)
    if records:
        upsert(session, IntakeRow, records, key="intake_id")
    return {r["intake_id"]: r["client_id"] for r in records}


def save_impressions(
    session: Session, impressions: Sequence[Impression], clients: dict[str, str | None]
) -> None:
    """Insert impressions; no commit. ``clients`` maps intake id → client id."""
    if not impressions:
        return
    now = utcnow()
    rows = [
        {
            "request_id": i.request_id,
            "intake_id": i.intake_id,
            "client_id": clients.get(i.intake_id),
            "therapist_id": i.therapist_id,
            "position": i.position,
            "score": plain(i.score),
            "model_version": i.model_version,
            "features": None if i.features is None else plain_features(i.features),
            "source": i.source,
            "shown_at": now,
            "propensity": plain(i.propensity),
            "shown_propensity": plain(i.shown_propensity),
            "policy": i.policy,
            "arm": i.arm,
        }
        for i in impressions
    ]
    session.execute(insert_for(session, ImpressionRow), rows)


__all__ = ["Answer", "Impression", "conflicting_fields", "save_impressions", "save_intakes"]
