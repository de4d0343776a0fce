"""Ranking primitives: ranks within query groups, phased candidate cuts, load-aware re-ranking."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from core.config import MatcherConfig
from core.ranking import rank_within_groups, top_ranks_within_groups
from features.encoding import TherapistPool
from features.vocab import Format

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

IN_PERSON = np.uint64(1 << list(Format).index(Format.IN_PERSON))
"""Bit of ``in_person`` in the packed format masks."""


def top_per_group(group: I64, score: F64, k: int) -> npt.NDArray[np.bool_]:
    """Mask of each group's ``k`` best rows by score (ties by row order)."""
    return top_ranks_within_groups(group, score, k) < k


def load_aware(score: F64, load: npt.NDArray[np.float32], strength: float) -> F64:
    """Damp nearly full caseloads so they are not offered to everyone.

    adjusted = score · (1 − strength · load²), load = current/max caseload ∈ [0, 1]: an empty
    caseload keeps its score, a full one loses ``strength`` of it.
    """
    return score * (1.0 - strength * np.clip(load, 0.0, 1.0).astype(np.float64) ** 2)


def serving_order(
    score: F64, therapist: I64, severe: B, pool: TherapistPool, config: MatcherConfig
) -> F64:
    """The score that orders a served list: load-aware damping, then the severe-symptoms boost
    for therapists who also see clients in person::

        adjusted = load_aware(score) · (1 + severe_in_person_boost · [severe ∧ offers in_person])

    ``therapist`` is each pair's row in ``pool``, ``severe`` each pair's intake severity.
    """
    adjusted = load_aware(score, pool.load[therapist], config.load_penalty)
    in_person = (pool.formats[therapist] & IN_PERSON) != 0
    return adjusted * (1 + config.severe_in_person_boost * (severe & in_person))


__all__ = [
    "IN_PERSON",
    "load_aware",
    "rank_within_groups",
    "serving_order",
    "top_per_group",
    "top_ranks_within_groups",
]
