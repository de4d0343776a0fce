"""The controlled vocabularies of the data contract (SPEC §2), one source of truth.

Every enum's member order is fixed: it defines the bit position used by the packed encodings in
:mod:`features.encoding`, so new values are only ever appended.
"""

from __future__ import annotations

from enum import StrEnum


class Concern(StrEnum):
    """What brings a client to therapy; also a therapist's specialties."""

    ANXIETY = "anxiety"
    DEPRESSION = "depression"
    TRAUMA_PTSD = "trauma_ptsd"
    RELATIONSHIPS = "relationships"
    FAMILY_CONFLICT = "family_conflict"
    GRIEF_LOSS = "grief_loss"
    SUBSTANCE_USE = "substance_use"
    EATING_DISORDERS = "eating_disorders"
    OCD = "ocd"
    BIPOLAR = "bipolar"
    ADHD = "adhd"
    STRESS_BURNOUT = "stress_burnout"
    SELF_ESTEEM = "self_esteem"
    LIFE_TRANSITIONS = "life_transitions"
    ANGER = "anger"
    SLEEP = "sleep"
    CHRONIC_ILLNESS_PAIN = "chronic_illness_pain"
    IDENTITY_LGBTQIA = "identity_lgbtqia"
    PERINATAL = "perinatal"
    PERSONALITY_DISORDERS = "personality_disorders"


class Approach(StrEnum):
    """Therapeutic modalities."""

    CBT = "cbt"
    DBT = "dbt"
    ACT = "act"
    EMDR = "emdr"
    PSYCHODYNAMIC = "psychodynamic"
    PERSON_CENTERED = "person_centered"
    SOLUTION_FOCUSED = "solution_focused"
    MINDFULNESS_BASED = "mindfulness_based"
    FAMILY_SYSTEMS = "family_systems"
    MOTIVATIONAL_INTERVIEWING = "motivational_interviewing"
    IFS = "ifs"
    EXPOSURE_RESPONSE_PREVENTION = "exposure_response_prevention"
    TRAUMA_FOCUSED_CBT = "trauma_focused_cbt"
    GOTTMAN = "gottman"
    NARRATIVE = "narrative"


class Format(StrEnum):
    """How sessions happen."""

    VIDEO = "video"
    PHONE = "phone"
    CHAT = "chat"
    IN_PERSON = "in_person"


class Cultural(StrEnum):
    """Cultural competencies (therapist) and cultural preferences (client)."""

    LGBTQIA_AFFIRMING = "lgbtqia_affirming"
    BIPOC_CENTERED = "bipoc_centered"
    FAITH_CHRISTIAN = "faith_christian"
    FAITH_MUSLIM = "faith_muslim"
    FAITH_JEWISH = "faith_jewish"
    FAITH_HINDU = "faith_hindu"
    VETERANS_MILITARY = "veterans_military"
    DISABILITY_AFFIRMING = "disability_affirming"
    NEURODIVERGENT_AFFIRMING = "neurodivergent_affirming"
    IMMIGRANT_REFUGEE = "immigrant_refugee"
    DEAF_HARD_OF_HEARING = "deaf_hard_of_hearing"
    FIRST_RESPONDERS = "first_responders"


class Gender(StrEnum):
    """Self-reported gender."""

    WOMAN = "woman"
    MAN = "man"
    NONBINARY = "nonbinary"
    UNDISCLOSED = "undisclosed"


class Ethnicity(StrEnum):
    """Self-reported race/ethnicity."""

    ASIAN = "asian"
    BLACK = "black"
    HISPANIC_LATINO = "hispanic_latino"
    MIDDLE_EASTERN_NORTH_AFRICAN = "middle_eastern_north_african"
    INDIGENOUS = "indigenous"
    PACIFIC_ISLANDER = "pacific_islander"
    WHITE = "white"
    MULTIRACIAL = "multiracial"
    UNDISCLOSED = "undisclosed"


class AgeGroup(StrEnum):
    """Client age groups a therapist serves."""

    CHILD = "child"
    TEEN = "teen"
    ADULT = "adult"
    OLDER_ADULT = "older_adult"


class License(StrEnum):
    """License types."""

    PSYCHOLOGIST = "psychologist"
    PSYCHIATRIST = "psychiatrist"
    LCSW = "lcsw"
    LPC = "lpc"
    LMFT = "lmft"
    ASSOCIATE = "associate"


class Domain(StrEnum):
    """Problem domains over which therapist track records are pooled (Constantino et al. 2021).

    Concerns are grouped so that each therapist × domain cell gathers enough outcomes to say
    something; :data:`CONCERN_DOMAIN` is the mapping.
    """

    MOOD = "mood"
    ANXIETY = "anxiety"
    TRAUMA = "trauma"
    RELATIONAL = "relational"
    SUBSTANCE = "substance"
    EATING = "eating"
    NEURODEVELOPMENTAL = "neurodevelopmental"
    STRESS_LIFE = "stress_life"
    HEALTH = "health"
    IDENTITY = "identity"
    SEVERE = "severe"


CONCERN_DOMAIN: dict[Concern, Domain] = {
    Concern.ANXIETY: Domain.ANXIETY,
    Concern.DEPRESSION: Domain.MOOD,
    Concern.TRAUMA_PTSD: Domain.TRAUMA,
    Concern.RELATIONSHIPS: Domain.RELATIONAL,
    Concern.FAMILY_CONFLICT: Domain.RELATIONAL,
    Concern.GRIEF_LOSS: Domain.TRAUMA,
    Concern.SUBSTANCE_USE: Domain.SUBSTANCE,
    Concern.EATING_DISORDERS: Domain.EATING,
    Concern.OCD: Domain.ANXIETY,
    Concern.BIPOLAR: Domain.SEVERE,
    Concern.ADHD: Domain.NEURODEVELOPMENTAL,
    Concern.STRESS_BURNOUT: Domain.STRESS_LIFE,
    Concern.SELF_ESTEEM: Domain.MOOD,
    Concern.LIFE_TRANSITIONS: Domain.STRESS_LIFE,
    Concern.ANGER: Domain.STRESS_LIFE,
    Concern.SLEEP: Domain.HEALTH,
    Concern.CHRONIC_ILLNESS_PAIN: Domain.HEALTH,
    Concern.IDENTITY_LGBTQIA: Domain.IDENTITY,
    Concern.PERINATAL: Domain.HEALTH,
    Concern.PERSONALITY_DISORDERS: Domain.SEVERE,
}

SELF_PAY = "self_pay"
"""The payer code for clients paying out of pocket."""

HOURS_PER_WEEK = 168
"""Availability is a set of UTC hours of the week, 0 = Monday 00:00."""


def values(enum: type[StrEnum]) -> list[str]:
    """The allowed string values of a vocabulary, in bit order."""
    return [member.value for member in enum]


__all__ = [
    "CONCERN_DOMAIN",
    "HOURS_PER_WEEK",
    "SELF_PAY",
    "AgeGroup",
    "Approach",
    "Concern",
    "Cultural",
    "Domain",
    "Ethnicity",
    "Format",
    "Gender",
    "License",
    "values",
]
