"""Experiments in the database: their definitions (one active at a time), the arm each match
request was served by, and the lists shadow arms would have shown.

Shadow lists live in their own table (``shadow_impressions``), never in ``impressions``: the
fairness report, exposure totals and training exports read only what clients were shown.
The route that sets or ends an experiment then bumps the ``experiments`` change counter, so every
process serves the same definition within ``Settings.sync_interval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, Float, Integer, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.storage.export import (
    EVENT_COLUMNS,
    IMPRESSION_COLUMNS,
    interaction_records,
    query_frame,
)
from api.storage.models import Base, EventRow, ImpressionRow
from api.storage.types import BigId, JSONValue, UTCDateTime, utcnow
from core.config import CHAMPION_ARM, ExperimentConfig
from reports.experiments.model import ExperimentLog

_INTERACTIONS = [
    "intake_id",
    "therapist_id",
    "position",
    "chosen",
    "sessions_attended",
    "dropped_out",
    "alliance",
    "reliable_improvement",
    "propensity",
    "shown_propensity",
    "policy",
]


class ExperimentRow(Base):
    """One experiment definition; at most one row is ``active``."""

    __tablename__ = "experiments"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ExperimentRequestRow(Base):
    """Which arm served one match request of an experiment (every request, listed or not)."""

    __tablename__ = "experiment_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    intake_id: Mapped[str] = mapped_column(String(64), index=True)
    experiment: Mapped[str] = mapped_column(String(64), index=True)
    arm: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShadowImpressionRow(Base):
    """One therapist a shadow arm would have shown (never shown, never a training row)."""

    __tablename__ = "shadow_impressions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    intake_id: Mapped[str] = mapped_column(String(64), index=True)
    experiment: Mapped[str] = mapped_column(String(64), index=True)
    arm: Mapped[str] = mapped_column(String(64))
    therapist_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_version: Mapped[str] = mapped_column(String(128))
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class StoredExperiment:
    """An experiment as stored."""

    config: ExperimentConfig
    active: bool
    started_at: datetime
    ended_at: datetime | None


def _stored(row: ExperimentRow) -> StoredExperiment:
    return StoredExperiment(
        ExperimentConfig.model_validate(row.definition), row.active, row.started_at, row.ended_at
    )


def stored_experiments(session: Session) -> list[StoredExperiment]:
    """Every experiment ever stored, the newest first."""
    rows = session.scalars(select(ExperimentRow).order_by(ExperimentRow.started_at.desc()))
    return [_stored(r) for r in rows]


def active_experiment(session: Session) -> tuple[ExperimentConfig | None, bool]:
    """(the active stored experiment or None, whether the database has any experiment row).

    Once any row exists the database decides (no active row: no experiment); before that an
    experiment from the settings applies.
    """
    row = session.scalar(select(ExperimentRow).where(ExperimentRow.active.is_(True)).limit(1))
    if row is not None:
        return ExperimentConfig.model_validate(row.definition), True
    return None, session.scalar(select(ExperimentRow.name).limit(1)) is not None


def start_experiment(session: Session, config: ExperimentConfig) -> None:
    """Store ``config`` as the one active experiment (ending any other); no commit."""
    now = utcnow()
    session.execute(
        update(ExperimentRow)
        .where(ExperimentRow.active.is_(True), ExperimentRow.name != config.name)
        .values(active=False, ended_at=now)
    )
    row = session.get(ExperimentRow, config.name)
    definition = config.model_dump(mode="json")
    if row is None:
        session.add(ExperimentRow(name=config.name, definition=definition, active=True))
    else:
        row.definition, row.active, row.ended_at = definition, True, None


def end_experiment(session: Session, current: ExperimentConfig | None) -> bool:
    """End the active experiment (``current``, which may come from the settings: it is then
    stored as ended so the database decides from now on); no commit. False: nothing to end."""
    if current is None:
        return False
    now = utcnow()
    row = session.get(ExperimentRow, current.name)
    if row is None:
        session.add(
            ExperimentRow(
                name=current.name,
                definition=current.model_dump(mode="json"),
                active=False,
                ended_at=now,
            )
        )
    else:
        row.active, row.ended_at = False, now
    return True


@dataclass(frozen=True)
class ArmServed:
    """The arm that served one request."""

    request_id: str
    intake_id: str
    experiment: str
    arm: str
    status: str
    model_version: str


@dataclass(frozen=True)
class ShadowShown:
    """One therapist of a shadow arm's list."""

    request_id: str
    intake_id: str
    experiment: str
    arm: str
    therapist_id: str
    position: int
    score: float | None
    model_version: str


def record_arm(session: Session, served: ArmServed) -> None:
    """Log the arm of one request; no commit."""
    session.add(ExperimentRequestRow(**vars(served), at=utcnow()))


def save_shadow(session: Session, rows: Sequence[ShadowShown]) -> None:
    """Log shadow lists; no commit."""
    now = utcnow()
    session.add_all(ShadowImpressionRow(**vars(r), shown_at=now) for r in rows)


def experiment_log(session: Session, name: str | None = None) -> ExperimentLog | None:
    """The logs of experiment ``name`` (default: the active one, else the newest stored) as
    report input; None when there is no such experiment."""
    query = select(ExperimentRow)
    query = (
        query.where(ExperimentRow.name == name)
        if name is not None
        else query.order_by(ExperimentRow.active.desc(), ExperimentRow.started_at.desc())
    )
    row = session.scalars(query.limit(1)).first()
    if row is None:
        return None
    config = ExperimentConfig.model_validate(row.definition)
    served = [
        ExperimentRequestRow.request_id,
        ExperimentRequestRow.intake_id,
        ExperimentRequestRow.arm,
        ExperimentRequestRow.status,
        ExperimentRequestRow.model_version,
    ]
    requests = query_frame(
        session, served, ExperimentRequestRow.experiment == config.name, ExperimentRequestRow.id
    )
    ids = select(ExperimentRequestRow.request_id).where(
        ExperimentRequestRow.experiment == config.name
    )
    impressions = query_frame(
        session,
        IMPRESSION_COLUMNS,
        ImpressionRow.request_id.in_(ids) & (ImpressionRow.source == "match"),
        ImpressionRow.id,
    )
    events = query_frame(
        session,
        EVENT_COLUMNS,
        EventRow.intake_id.in_(
            select(ImpressionRow.intake_id).where(ImpressionRow.request_id.in_(ids))
        ),
        EventRow.id,
    )
    interactions = pd.DataFrame(interaction_records(impressions, events), columns=_INTERACTIONS)
    arm = requests.drop_duplicates("intake_id").set_index("intake_id")["arm"]
    interactions["arm"] = interactions["intake_id"].map(arm)
    shadow = query_frame(
        session,
        [
            ShadowImpressionRow.intake_id,
            ShadowImpressionRow.arm,
            ShadowImpressionRow.therapist_id,
            ShadowImpressionRow.position,
            ShadowImpressionRow.model_version,
        ],
        ShadowImpressionRow.experiment == config.name,
        ShadowImpressionRow.id,
    )
    return ExperimentLog(
        experiment=config.name,
        arms=[(CHAMPION_ARM, False), *((a.name, a.shadow) for a in config.arms)],
        requests=requests,
        interactions=interactions,
        shadow=shadow.drop_duplicates(["intake_id", "arm", "therapist_id"]),
    )


def erase_intakes(session: Session, intake_ids: Any) -> int:
    """Delete the experiment log rows of these intakes (a subquery or a list); no commit."""
    shadow = session.execute(
        delete(ShadowImpressionRow).where(ShadowImpressionRow.intake_id.in_(intake_ids))
    )
    served = session.execute(
        delete(ExperimentRequestRow).where(ExperimentRequestRow.intake_id.in_(intake_ids))
    )
    return int(getattr(shadow, "rowcount", 0) or 0) + int(getattr(served, "rowcount", 0) or 0)


__all__ = [
    "ArmServed",
    "ExperimentRequestRow",
    "ExperimentRow",
    "ShadowImpressionRow",
    "ShadowShown",
    "StoredExperiment",
    "active_experiment",
    "end_experiment",
    "erase_intakes",
    "experiment_log",
    "record_arm",
    "save_shadow",
    "start_experiment",
    "stored_experiments",
]
