"""Small typed tables for tests: one valid row per table, tweakable, plus hypothesis strategies."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import strategies as st

from features.dataset import parse_and_check
from features.parsing import records_frame
from features.schemas import INTAKES, INTERACTIONS, THERAPISTS, Table
from features.vocab import AgeGroup, Approach, Concern, Cultural, Ethnicity, Format, Gender, License


def therapist(**over: Any) -> dict[str, Any]:
    """A valid therapist record (JSON-like), with overrides."""
    row = {
        "therapist_id": "t1",
        "display_name": "Dr. Test",
        "license_type": "psychologist",
        "licensed_regions": ["US-CA"],
        "years_experience": 10,
        "specialties": ["anxiety", "depression"],
        "modalities": ["cbt"],
        "formats": ["video", "phone"],
        "languages": ["en"],
        "cultural_competencies": [],
        "gender": "woman",
        "ethnicity": "white",
        "age_groups_served": ["adult"],
        "payers_accepted": ["self_pay", "aetna"],
        "session_fee": 120.0,
        "availability": [18, 19, 20],
        "max_caseload": 20,
        "current_caseload": 5,
        "accepting_new_clients": True,
        "crisis_trained": False,
        "bio": "I help adults with anxiety and depression using CBT.",
    }
    return row | over


def intake(**over: Any) -> dict[str, Any]:
    """A valid intake record (JSON-like), with overrides."""
    row = {
        "intake_id": "i1",
        "client_id": "c1",
        "submitted_at": "2026-01-05T10:00:00Z",
        "age_group": "adult",
        "region": "US-CA",
        "concerns": ["anxiety"],
        "phq9": 8,
        "gad7": 10,
        "phq9_item9": 0,
        "crisis_now": False,
        "preferred_formats": ["video"],
        "languages": ["en"],
        "availability": [19],
        "payment": "aetna",
        "free_text": "I feel anxious at work",
    }
    return row | over


def typed(table: Table, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Parse and check records; fails the test on any problem."""
    frame, problems = parse_and_check(table.name, table, records_frame(table, records))
    assert not problems, problems
    return frame


def therapists_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Typed therapists."""
    return typed(THERAPISTS, records)


def intakes_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Typed intakes."""
    return typed(INTAKES, records)


def interactions_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Typed interactions."""
    return typed(INTERACTIONS, records)


def _subset(
    values: list[str], min_size: int = 1, max_size: int = 3
) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=min_size, max_size=max_size, unique=True)


REGIONS = ["US-CA", "US-NY", "US", "GB", "IN"]
LANGS = ["en", "es", "hi"]
PAYERS = ["self_pay", "aetna", "nhs"]
HOURS = st.lists(st.integers(0, 167), min_size=1, max_size=6, unique=True)


@st.composite
def therapist_records(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    """``n`` random valid therapists."""
    out = []
    for k in range(n):
        max_case = draw(st.integers(0, 5))
        out.append(
            therapist(
                therapist_id=f"t{k}",
                license_type=draw(st.sampled_from([m.value for m in License])),
                licensed_regions=draw(_subset(REGIONS)),
                specialties=draw(_subset([m.value for m in Concern])),
                modalities=draw(_subset([m.value for m in Approach])),
                formats=draw(_subset([m.value for m in Format])),
                languages=draw(_subset(LANGS)),
                cultural_competencies=draw(_subset([m.value for m in Cultural], 0)),
                gender=draw(st.sampled_from([m.value for m in Gender])),
                ethnicity=draw(st.sampled_from([m.value for m in Ethnicity])),
                age_groups_served=draw(_subset([m.value for m in AgeGroup])),
                payers_accepted=draw(_subset(PAYERS)),
                session_fee=draw(st.one_of(st.none(), st.floats(0, 300))),
                availability=draw(HOURS),
                max_caseload=max_case,
                current_caseload=draw(st.integers(0, 5)),
                accepting_new_clients=draw(st.booleans()),
                crisis_trained=draw(st.booleans()),
                bio=draw(st.sampled_from(["", "anxiety and panic", "grief work", "couples"])),
            )
        )
    return out


@st.composite
def intake_records(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    """``n`` random valid intakes."""
    out = []
    for k in range(n):
        out.append(
            intake(
                intake_id=f"i{k}",
                age_group=draw(st.sampled_from([m.value for m in AgeGroup])),
                region=draw(st.sampled_from([*REGIONS, "US-TX", "IN-MH"])),
                concerns=draw(_subset([m.value for m in Concern], 1, 5)),
                phq9=draw(st.one_of(st.none(), st.integers(0, 27))),
                gad7=draw(st.one_of(st.none(), st.integers(0, 21))),
                phq9_item9=draw(st.sampled_from([None, 0, 0, 1, 2])),
                preferred_formats=draw(_subset([m.value for m in Format])),
                languages=draw(_subset(LANGS)),
                preferred_therapist_genders=draw(_subset([m.value for m in Gender], 0, 2)),
                cultural_preferences=draw(_subset([m.value for m in Cultural], 0, 2)),
                preferred_modalities=draw(_subset([m.value for m in Approach], 0, 2)),
                client_ethnicity=draw(st.sampled_from([m.value for m in Ethnicity])),
                prefers_same_ethnicity=draw(st.booleans()),
                availability=draw(HOURS),
                payment=draw(st.sampled_from([*PAYERS, "cigna"])),
                max_session_fee=draw(st.one_of(st.none(), st.floats(0, 300))),
                low_bandwidth=draw(st.booleans()),
                free_text=draw(st.sampled_from(["", "panic attacks", "lost my father"])),
            )
        )
    return out
