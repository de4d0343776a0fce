"""The three tables of the data contract (SPEC §2) as column specifications.

:data:`TABLES` is the single source of truth for column names, types, requiredness, ranges and
vocabularies. The pandera schemas (:func:`pandera_schema`), the loader, the synthetic world and the
API's request models are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from features.codes import CodeSet
from features.vocab import (
    HOURS_PER_WEEK,
    AgeGroup,
    Approach,
    Concern,
    Cultural,
    Ethnicity,
    Format,
    Gender,
    License,
)

MIN_PROPENSITY = 1e-9
"""Smallest propensity the contract accepts: propensities live in (0, 1]."""


class Kind(StrEnum):
    """The value type of a column once parsed."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATETIME = "datetime"
    LIST_STR = "list[str]"
    LIST_INT = "list[int]"

    @property
    def is_list(self) -> bool:
        """Whether cells hold lists (``;``-joined in CSV)."""
        return self in (Kind.LIST_STR, Kind.LIST_INT)


@dataclass(frozen=True)
class Column:
    """One column of a table: its type, whether it is required, and what values it allows.

    For list kinds ``minimum``/``maximum`` bound every item and ``min_items``/``max_items`` the
    length; for ``str`` ``max_len`` bounds the length. A required column must be present and
    every cell non-empty (an empty list counts as empty).
    """

    name: str
    kind: Kind
    required: bool
    doc: str = ""
    vocab: type[StrEnum] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_len: int | None = None
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False
    codes: CodeSet | None = None
    """ISO code list the values (or list items) must come from; normalised when parsed."""

    @property
    def allowed(self) -> list[str] | None:
        """The allowed values when the column has a vocabulary."""
        return None if self.vocab is None else [m.value for m in self.vocab]


@dataclass(frozen=True)
class Table:
    """A table of the contract: its file stem, its key, its columns."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None

    def column(self, name: str) -> Column:
        """The column spec called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]


LAST_HOUR = HOURS_PER_WEEK - 1

THERAPISTS = Table(
    name="therapists",
    key="therapist_id",
    columns=(
        Column("therapist_id", Kind.STR, True, "Unique id.", max_len=64, unique=True),
        Column("display_name", Kind.STR, True, "Name shown to clients.", max_len=200),
        Column("license_type", Kind.STR, True, "License.", vocab=License),
        Column(
            "licensed_regions",
            Kind.LIST_STR,
            True,
            "ISO 3166-2 (US-CA) or country code (IN) where they may practise.",
            min_items=1,
            codes=CodeSet.REGION,
        ),
        Column("years_experience", Kind.INT, True, "Years in practice.", minimum=0, maximum=60),
        Column("specialties", Kind.LIST_STR, True, "Concerns they treat.", Concern, min_items=1),
        Column("modalities", Kind.LIST_STR, True, "Approaches.", Approach, min_items=1),
        Column("formats", Kind.LIST_STR, True, "Formats offered.", Format, min_items=1),
        Column(
            "languages",
            Kind.LIST_STR,
            True,
            "ISO 639-1 codes.",
            min_items=1,
            codes=CodeSet.LANGUAGE,
        ),
        Column("cultural_competencies", Kind.LIST_STR, False, "Competencies.", Cultural),
        Column("gender", Kind.STR, False, "Self-reported.", vocab=Gender),
        Column("ethnicity", Kind.STR, False, "Self-reported.", vocab=Ethnicity),
        Column("age_groups_served", Kind.LIST_STR, True, "Ages.", AgeGroup, min_items=1),
        Column("payers_accepted", Kind.LIST_STR, True, "Payer codes or self_pay.", min_items=1),
        Column("session_fee", Kind.FLOAT, False, "Self-pay fee.", minimum=0),
        Column(
            "availability",
            Kind.LIST_INT,
            True,
            "Open UTC hours of the week for new clients.",
            min_items=1,
            minimum=0,
            maximum=LAST_HOUR,
        ),
        Column("max_caseload", Kind.INT, True, "Most clients at once.", minimum=0),
        Column("current_caseload", Kind.INT, True, "Clients now.", minimum=0),
        Column("accepting_new_clients", Kind.BOOL, True, "Open to new clients."),
        Column("crisis_trained", Kind.BOOL, False, "Trained for elevated risk (default false)."),
        Column("bio", Kind.STR, False, "Free-text profile.", max_len=4000),
    ),
)

INTAKES = Table(
    name="intakes",
    key="intake_id",
    columns=(
        Column("intake_id", Kind.STR, True, "Unique id.", max_len=64, unique=True),
        Column("client_id", Kind.STR, False, "Pseudonymous client id.", max_len=64),
        Column("submitted_at", Kind.DATETIME, True, "ISO-8601; naive times are UTC."),
        Column("age_group", Kind.STR, True, "Client age group.", vocab=AgeGroup),
        Column(
            "region",
            Kind.STR,
            True,
            "ISO 3166-2 or country code.",
            max_len=16,
            codes=CodeSet.REGION,
        ),
        Column(
            "concerns",
            Kind.LIST_STR,
            True,
            "Most important first.",
            Concern,
            min_items=1,
            max_items=5,
        ),
        Column("phq9", Kind.INT, False, "Depression severity.", minimum=0, maximum=27),
        Column("gad7", Kind.INT, False, "Anxiety severity.", minimum=0, maximum=21),
        Column("phq9_item9", Kind.INT, False, "Thoughts of self-harm.", minimum=0, maximum=3),
        Column("crisis_now", Kind.BOOL, False, "Client says they are in crisis now."),
        Column("preferred_formats", Kind.LIST_STR, True, "Accepted formats.", Format, min_items=1),
        Column(
            "languages",
            Kind.LIST_STR,
            True,
            "ISO 639-1 codes.",
            min_items=1,
            codes=CodeSet.LANGUAGE,
        ),
        Column("preferred_therapist_genders", Kind.LIST_STR, False, "Empty = any.", Gender),
        Column("cultural_preferences", Kind.LIST_STR, False, "Wanted competencies.", Cultural),
        Column("preferred_modalities", Kind.LIST_STR, False, "Wanted approaches.", Approach),
        Column("client_gender", Kind.STR, False, "Self-reported.", vocab=Gender),
        Column("client_ethnicity", Kind.STR, False, "Self-reported.", vocab=Ethnicity),
        Column(
            "prefers_same_ethnicity",
            Kind.BOOL,
            False,
            "Extension: client asked for a therapist of their own background.",
        ),
        Column(
            "availability",
            Kind.LIST_INT,
            True,
            "UTC hours the client can attend.",
            min_items=1,
            minimum=0,
            maximum=LAST_HOUR,
        ),
        Column("payment", Kind.STR, True, "Payer code or self_pay.", max_len=64),
        Column("max_session_fee", Kind.FLOAT, False, "For self_pay.", minimum=0),
        Column("low_bandwidth", Kind.BOOL, False, "Unreliable connection."),
        Column("free_text", Kind.STR, False, "Own words; never logged.", max_len=2000),
    ),
)

INTERACTIONS = Table(
    name="interactions",
    columns=(
        Column("intake_id", Kind.STR, True, "-> intakes.", max_len=64),
        Column("therapist_id", Kind.STR, True, "-> therapists.", max_len=64),
        Column("position", Kind.INT, True, "Rank shown at (1 = top).", minimum=1),
        Column("chosen", Kind.BOOL, True, "Client booked this therapist."),
        Column("sessions_attended", Kind.INT, False, "Chosen rows.", minimum=0),
        Column("dropped_out", Kind.BOOL, False, "Ended before 4 sessions without agreement."),
        Column("alliance", Kind.FLOAT, False, "WAI-SR 1-5.", minimum=1, maximum=5),
        Column("reliable_improvement", Kind.BOOL, False, "Reliable change on PHQ-9/GAD-7."),
        Column(
            "propensity",
            Kind.FLOAT,
            False,
            "(0, 1]: P(the logging policy showed this therapist at this position for this intake).",
            minimum=MIN_PROPENSITY,
            maximum=1,
        ),
        Column(
            "policy",
            Kind.STR,
            False,
            "Policy or experiment arm that produced the list (e.g. therapist-matcher/7, explore).",
            max_len=64,
        ),
        Column(
            "shown_propensity",
            Kind.FLOAT,
            False,
            "(0, 1]: P(the logging policy showed this therapist anywhere on this intake's list).",
            minimum=MIN_PROPENSITY,
            maximum=1,
        ),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (THERAPISTS, INTAKES, INTERACTIONS)}

__all__ = [
    "INTAKES",
    "INTERACTIONS",
    "MIN_PROPENSITY",
    "TABLES",
    "THERAPISTS",
    "Column",
    "Kind",
    "Table",
]
