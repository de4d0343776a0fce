"""Clinical frequencies of the synthetic world: what clients bring, what therapists offer.

Arrays are indexed in enum order (:mod:`features.vocab`), so they line up with the encodings.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from features.vocab import AgeGroup, Approach, Concern, Cultural

F64 = npt.NDArray[np.float64]

CONCERNS: tuple[str, ...] = tuple(c.value for c in Concern)
APPROACHES: tuple[str, ...] = tuple(a.value for a in Approach)
CULTURAL: tuple[str, ...] = tuple(c.value for c in Cultural)
AGE_GROUPS: tuple[str, ...] = tuple(a.value for a in AgeGroup)

_ADULT_CONCERNS = {
    "anxiety": 0.20,
    "depression": 0.18,
    "trauma_ptsd": 0.07,
    "relationships": 0.08,
    "family_conflict": 0.04,
    "grief_loss": 0.04,
    "substance_use": 0.04,
    "eating_disorders": 0.02,
    "ocd": 0.03,
    "bipolar": 0.02,
    "adhd": 0.04,
    "stress_burnout": 0.08,
    "self_esteem": 0.04,
    "life_transitions": 0.04,
    "anger": 0.02,
    "sleep": 0.02,
    "chronic_illness_pain": 0.015,
    "identity_lgbtqia": 0.02,
    "perinatal": 0.01,
    "personality_disorders": 0.01,
}
_AGE_TILT = {
    # multiplicative tilts of the adult frequencies per age group
    "child": {"adhd": 5.0, "family_conflict": 3.0, "anger": 3.0, "perinatal": 0.0, "bipolar": 0.2,
              "substance_use": 0.0, "stress_burnout": 0.1, "relationships": 0.1,
              "personality_disorders": 0.0, "life_transitions": 0.5},
    "teen": {"adhd": 2.5, "family_conflict": 2.5, "self_esteem": 2.5, "eating_disorders": 2.5,
             "identity_lgbtqia": 2.0, "perinatal": 0.0, "stress_burnout": 0.3},
    "adult": {},
    "older_adult": {"grief_loss": 3.0, "chronic_illness_pain": 4.0, "sleep": 2.0, "perinatal": 0.0,
                    "adhd": 0.3, "eating_disorders": 0.3, "life_transitions": 1.5},
}  # fmt: skip


def concern_weights() -> F64:
    """``(age groups, concerns)`` probabilities of a concern being named, per client age group."""
    base = np.array([_ADULT_CONCERNS[c] for c in CONCERNS])
    rows = []
    for age in AGE_GROUPS:
        tilt = np.array([_AGE_TILT[age].get(c, 1.0) for c in CONCERNS])
        w = base * tilt
        rows.append(w / w.sum())
    return np.array(rows)


APPROACH_POPULARITY = {
    "cbt": 0.70,
    "dbt": 0.20,
    "act": 0.25,
    "emdr": 0.15,
    "psychodynamic": 0.25,
    "person_centered": 0.35,
    "solution_focused": 0.20,
    "mindfulness_based": 0.30,
    "family_systems": 0.15,
    "motivational_interviewing": 0.15,
    "ifs": 0.12,
    "exposure_response_prevention": 0.06,
    "trauma_focused_cbt": 0.12,
    "gottman": 0.06,
    "narrative": 0.08,
}
_AFFINITY = {
    # concern → approaches that tend to come with it (a therapist listing the concern)
    "anxiety": ("cbt", "act", "mindfulness_based"),
    "depression": ("cbt", "psychodynamic", "act"),
    "trauma_ptsd": ("emdr", "trauma_focused_cbt", "ifs"),
    "relationships": ("gottman", "family_systems", "psychodynamic"),
    "family_conflict": ("family_systems", "narrative"),
    "grief_loss": ("person_centered", "narrative"),
    "substance_use": ("motivational_interviewing", "cbt"),
    "eating_disorders": ("cbt", "dbt"),
    "ocd": ("exposure_response_prevention", "cbt"),
    "bipolar": ("cbt", "psychodynamic"),
    "adhd": ("cbt", "solution_focused"),
    "stress_burnout": ("mindfulness_based", "solution_focused", "act"),
    "self_esteem": ("person_centered", "cbt"),
    "life_transitions": ("solution_focused", "person_centered"),
    "anger": ("cbt", "dbt"),
    "sleep": ("cbt", "mindfulness_based"),
    "chronic_illness_pain": ("act", "mindfulness_based"),
    "identity_lgbtqia": ("person_centered", "narrative"),
    "perinatal": ("person_centered", "cbt"),
    "personality_disorders": ("dbt", "psychodynamic"),
}


def approach_affinity() -> F64:
    """``(concerns, approaches)`` 0/1 matrix: approaches that go with each concern."""
    out = np.zeros((len(CONCERNS), len(APPROACHES)))
    for c, approaches in _AFFINITY.items():
        for a in approaches:
            out[CONCERNS.index(c), APPROACHES.index(a)] = 1.0
    return out


def approach_base() -> F64:
    """Popularity of each approach among therapists (probability-like weights)."""
    return np.array([APPROACH_POPULARITY[a] for a in APPROACHES])


CULTURAL_BASE = {
    # share of therapists listing each competency before tilts
    "lgbtqia_affirming": 0.35,
    "bipoc_centered": 0.08,
    "faith_christian": 0.06,
    "faith_muslim": 0.02,
    "faith_jewish": 0.02,
    "faith_hindu": 0.01,
    "veterans_military": 0.05,
    "disability_affirming": 0.08,
    "neurodivergent_affirming": 0.12,
    "immigrant_refugee": 0.05,
    "deaf_hard_of_hearing": 0.01,
    "first_responders": 0.04,
}

__all__ = [
    "AGE_GROUPS",
    "APPROACHES",
    "APPROACH_POPULARITY",
    "CONCERNS",
    "CULTURAL",
    "CULTURAL_BASE",
    "approach_affinity",
    "approach_base",
    "concern_weights",
]
