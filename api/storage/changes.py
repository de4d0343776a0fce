"""Change counters: how every service process learns what another one changed.

One row per topic (``therapists``, ``keys``, ``model``, ``experiments``). A change bumps its
topic's counter in the same transaction as the change itself (or, for a model reload or an
experiment, right after it), so a process that sees the new counter also sees the change. Each
process polls the counters every ``Settings.sync_interval`` seconds (one
primary-key read of three rows) and reloads what moved.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.storage.models import Base
from api.storage.types import UTCDateTime, utcnow


class Topic(StrEnum):
    """What a counter tracks."""

    THERAPISTS = "therapists"
    KEYS = "keys"
    MODEL = "model"
    EXPERIMENTS = "experiments"


class ChangeRow(Base):
    """The change counter of one topic (rows are created by migration 0004)."""

    __tablename__ = "serve_changes"

    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def bump(session: Session, topic: Topic) -> int:
    """Count one change of ``topic`` in the session's transaction (no commit); returns the new
    counter. The update holds the counter row's lock until the transaction ends, so concurrent
    changes of one topic get consecutive counters in commit order."""
    result = session.execute(
        update(ChangeRow)
        .where(ChangeRow.topic == topic.value)
        .values(counter=ChangeRow.counter + 1, changed_at=utcnow())
    )
    if not getattr(result, "rowcount", 0):
        session.add(ChangeRow(topic=topic.value, counter=1, changed_at=utcnow()))
        session.flush()
        return 1
    return counter(session, topic)


def counter(session: Session, topic: Topic) -> int:
    """One topic's counter (0 when never changed)."""
    found = session.scalar(select(ChangeRow.counter).where(ChangeRow.topic == topic.value))
    return int(found or 0)


def counters(session: Session) -> dict[str, int]:
    """Every topic's counter (0 for a topic never changed)."""
    found = {t: n for t, n in session.execute(select(ChangeRow.topic, ChangeRow.counter))}
    return {t.value: int(found.get(t.value, 0)) for t in Topic}


__all__ = ["ChangeRow", "Topic", "bump", "counter", "counters"]
