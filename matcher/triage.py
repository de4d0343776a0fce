"""Safety triage (SPEC §3), run before any ranking; vectorised over a batch of intakes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from features.encoding import IntakeBatch
from matcher.results import Flag


class Route(IntEnum):
    """How an intake is handled."""

    STANDARD = 0
    CRISIS_TRAINED_ONLY = 1
    """phq9_item9 = 1: only crisis-trained therapists, crisis resources included, review flag."""
    CRISIS = 2
    """crisis_now or phq9_item9 ≥ 2: no therapist list, crisis resources, clinical follow-up."""


@dataclass(frozen=True)
class Triage:
    """Per-intake route and severity."""

    route: npt.NDArray[np.int64]
    severe: npt.NDArray[np.bool_]
    """phq9 ≥ 20 or gad7 ≥ 15: suggest a higher level of care, favour in-person options."""

    def flags(self, i: int) -> list[Flag]:
        """The flags for intake ``i``."""
        flags = []
        if self.route[i] == Route.CRISIS:
            flags.append(Flag.CLINICAL_FOLLOW_UP)
        elif self.route[i] == Route.CRISIS_TRAINED_ONLY:
            flags.append(Flag.RISK_REVIEW)
        if self.severe[i] and self.route[i] != Route.CRISIS:
            flags.append(Flag.HIGHER_LEVEL_OF_CARE)
        return flags


def triage(batch: IntakeBatch) -> Triage:
    """Route each intake: crisis if crisis_now or phq9_item9 ≥ 2; crisis-trained only if = 1."""
    item9 = np.nan_to_num(batch.item9, nan=0.0)
    route = np.where(
        batch.crisis_now | (item9 >= 2),
        Route.CRISIS,
        np.where(item9 >= 1, Route.CRISIS_TRAINED_ONLY, Route.STANDARD),
    ).astype(np.int64)
    return Triage(route=route, severe=batch.severe)


__all__ = ["Route", "Triage", "triage"]
