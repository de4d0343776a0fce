"""Test support for the HTTP service: a deterministic fake engine, bodies, a started service."""

from __future__ import annotations

import os
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from api import create_api_key
from api.engine_port import MatchEngine
from api.storage.database import normalize_url
from core.errors import ModelNotFoundError
from features.encoding import Rows
from matcher.results import (
    CONSTRAINTS,
    AllocationResult,
    Assignment,
    CrisisResource,
    Flag,
    Match,
    MatchResult,
    RankedList,
    Status,
)

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

POSTGRES_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")
SCOPES = ("matches", "therapists", "events", "reports", "admin")


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """A URL of a new empty database: a SQLite file in ``folder``, or (kind ``postgres``) a new
    schema on the server of MATCHER_TEST_POSTGRES_URL, dropped afterwards (skips without it)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'matcher.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("MATCHER_TEST_POSTGRES_URL not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _score(intake_id: str, therapist_id: str) -> float:
    return zlib.crc32(f"{intake_id}|{therapist_id}".encode()) / 2**32


def _frame(rows: Rows) -> pd.DataFrame:
    """The fake reads rows with pandas; the real engine takes records as they come."""
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))


@dataclass(frozen=True)
class FakeEngine:
    """Deterministic stand-in for ``matcher.engine.Matcher``: region + language filter, hashed
    scores, crisis triage on ``crisis_now`` / ``phq9_item9 >= 2``."""

    model_version: str
    pool: pd.DataFrame
    delay: float = 0.0
    calls: list[str] = field(default_factory=list, compare=False)
    stale_from: str | None = None

    def _eligible(self, row: pd.Series) -> tuple[list[pd.Series], dict[str, int]]:
        excluded = dict.fromkeys(CONSTRAINTS, 0)
        eligible = []
        for _, t in self.pool.iterrows():
            if row["region"] not in t["licensed_regions"]:
                excluded["region"] += 1
            elif not set(row["languages"]) & set(t["languages"]):
                excluded["language"] += 1
            elif t["current_caseload"] >= t["max_caseload"] or not t["accepting_new_clients"]:
                excluded["capacity"] += 1
            else:
                eligible.append(t)
        return eligible, excluded

    def match(
        self,
        intake: Rows,
        *,
        top_k: int = 10,
        explain: bool = False,
        request_id: str | None = None,
    ) -> MatchResult:
        if self.delay:
            time.sleep(self.delay)
        intake = _frame(intake)
        assert len(intake) == 1
        row = intake.iloc[0]
        intake_id = str(row["intake_id"])
        item9 = row["phq9_item9"]
        if row["crisis_now"] is True or (not pd.isna(item9) and item9 >= 2):
            return MatchResult(
                intake_id,
                Status.CRISIS,
                self.model_version,
                crisis_resources=[CrisisResource("US", "988 Lifeline", phone="988")],
                flags=[Flag.CLINICAL_FOLLOW_UP],
                candidates=len(self.pool),
            )
        eligible, excluded = self._eligible(row)
        ranked = sorted(eligible, key=lambda t: -_score(intake_id, str(t["therapist_id"])))[:top_k]
        matches = []
        for rank, t in enumerate(ranked, start=1):
            score = _score(intake_id, str(t["therapist_id"]))
            matches.append(
                Match(
                    therapist_id=str(t["therapist_id"]),
                    rank=rank,
                    score=score,
                    display_name=str(t["display_name"]),
                    reasons=[f"Licensed in {row['region']}"],
                    contributions={"fit": score, "experience": 0.0} if explain else None,
                    features={"fit": score, "years_experience": float(t["years_experience"])},
                )
            )
        return MatchResult(
            intake_id,
            Status.MATCHED if matches else Status.NO_ELIGIBLE_MATCH,
            self.model_version,
            matches=matches,
            excluded=excluded,
            candidates=len(self.pool),
            eligible=len(eligible),
        )

    def ranked(self, intake: Rows, *, top_k: int = 10) -> RankedList:
        result = self.match(intake, top_k=top_k)
        return RankedList(
            result.intake_id,
            self.model_version,
            [m.therapist_id for m in result.matches],
            [m.score for m in result.matches],
        )

    def allocate(self, intakes: Rows) -> AllocationResult:
        intakes = _frame(intakes)
        slots = {
            str(t["therapist_id"]): int(t["max_caseload"] - t["current_caseload"])
            for _, t in self.pool.iterrows()
        }
        assignments = []
        for _, row in intakes.iterrows():
            intake_id = str(row["intake_id"])
            eligible, _ = self._eligible(row)
            open_ = [t for t in eligible if slots[str(t["therapist_id"])] > 0]
            if not open_:
                assignments.append(Assignment(intake_id, Status.NO_ELIGIBLE_MATCH, reason="full"))
                continue
            best = max(open_, key=lambda t: _score(intake_id, str(t["therapist_id"])))
            tid = str(best["therapist_id"])
            slots[tid] -= 1
            assignments.append(Assignment(intake_id, Status.MATCHED, tid, _score(intake_id, tid)))
        placed = [a for a in assignments if a.therapist_id is not None]
        return AllocationResult(
            self.model_version,
            assignments,
            total_score=sum(a.score or 0.0 for a in placed),
            placed=len(placed),
        )

    def with_therapists(self, therapists: pd.DataFrame) -> MatchEngine:
        return replace(self, pool=therapists)

    def with_changes(
        self, therapists: pd.DataFrame, upserted: pd.DataFrame | None, removed: Sequence[str]
    ) -> MatchEngine:
        return self.with_therapists(therapists)


class FakeLoader:
    """An engine loader whose next versions and failures the test controls."""

    def __init__(self, versions: list[str] | None = None, *, delay: float = 0.0) -> None:
        self.versions = list(versions or ["v1"])
        self.fail_with: Exception | None = None
        self.stale_from: str | None = None
        self.delay = delay
        self.calls = 0

    def __call__(self, pool: pd.DataFrame) -> MatchEngine:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        version = self.versions[min(self.calls - 1, len(self.versions) - 1)]
        return FakeEngine(version, pool, stale_from=self.stale_from)


class FakeArmLoader:
    """An experiment-arm loader: a fake engine versioned ``arm:<uri>``; URIs naming the model
    ``missing`` do not resolve."""

    def __init__(self) -> None:
        self.loaded: list[str] = []

    def __call__(self, uri: str, pool: pd.DataFrame) -> MatchEngine:
        if "missing" in uri:
            raise ModelNotFoundError(f"no model at {uri}")
        self.loaded.append(uri)
        return FakeEngine(f"arm:{uri}", pool)


def therapist(therapist_id: str = "t1", **changes: Any) -> dict[str, Any]:
    """A valid therapist profile (JSON body)."""
    body: dict[str, Any] = {
        "therapist_id": therapist_id,
        "display_name": f"Dr {therapist_id}",
        "license_type": "lcsw",
        "licensed_regions": ["US-CA"],
        "years_experience": 7,
        "specialties": ["anxiety", "depression"],
        "modalities": ["cbt"],
        "formats": ["video", "phone"],
        "languages": ["en"],
        "cultural_competencies": [],
        "gender": "woman",
        "ethnicity": None,
        "age_groups_served": ["adult"],
        "payers_accepted": ["self_pay"],
        "session_fee": 120.0,
        "availability": [10, 11, 12],
        "max_caseload": 20,
        "current_caseload": 5,
        "accepting_new_clients": True,
        "crisis_trained": False,
        "bio": "CBT for anxiety.",
    }
    body.update(changes)
    return body


def intake(**changes: Any) -> dict[str, Any]:
    """A valid intake (JSON body)."""
    body: dict[str, Any] = {
        "client_id": "c1",
        "submitted_at": "2025-03-01T12:00:00Z",
        "age_group": "adult",
        "region": "US-CA",
        "concerns": ["anxiety"],
        "phq9": 9,
        "gad7": 8,
        "phq9_item9": 0,
        "preferred_formats": ["video"],
        "languages": ["en"],
        "availability": [10, 11],
        "payment": "self_pay",
        "max_session_fee": 150.0,
        "free_text": "I can't sleep and worry all the time",
    }
    body.update(changes)
    return body


@dataclass
class Service:
    """A started app, its client, its loader and one key per scope (plus ``all``)."""

    client: TestClient
    loader: FakeLoader | None
    keys: dict[str, str]

    def auth(self, key: str = "all") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}

    @property
    def runtime(self) -> Any:
        return self.client.app.state.runtime  # type: ignore[attr-defined]


def add_keys(app: Any) -> dict[str, str]:
    """Keys named after their scope, plus ``all`` (admin), in a started app's database."""
    database = app.state.runtime.database
    keys = {}
    with database.session() as session:
        for scope in SCOPES:
            keys[scope] = create_api_key(session, f"key-{scope}", [scope])
        keys["all"] = create_api_key(session, "key-all", ["admin"])
    return keys
