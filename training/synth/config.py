"""Configuration of a synthetic world: sizes, seed, and the hidden model's effect sizes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class WorldConfig:
    """Sizes and effect sizes (logit scale unless said otherwise), calibrated to SPEC §5."""

    n_therapists: int = 300
    n_intakes: int = 5000
    seed: int = 0
    holdout_fraction: float = 0.2
    list_size: int = 8
    exploration: float = 0.2
    """Share of intakes whose logged list is in random order (the logging policy explores)."""
    days: int = 540
    therapist_sd: float = 0.40
    """SD of the therapist's general effect on improvement."""
    domain_sd: float = 0.35
    """SD of therapist × problem-domain skill."""
    poor_share: float = 0.045
    """Share of therapists reliably worse in one domain (Kraus et al. 2011)."""
    poor_effect: float = -1.2
    specialty_effect: float = 0.35
    preference_effect: float = 0.30
    """Outcome effect of accommodated preferences (d ≈ 0.28)."""
    preference_dropout: float = -0.60
    """Dropout log-odds when preferences are accommodated (OR ≈ 1/1.8)."""
    ethnicity_effect: float = 0.10
    severity_skill_gain: float = 0.8
    """Domain skill matters (1 + gain × severity) times more for severe clients."""
    base_improvement: float = 0.15
    base_dropout: float = -1.75
    video_dropout: float = 0.20
    low_bandwidth_video_dropout: float = 0.60

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return asdict(self)


__all__ = ["WorldConfig"]
