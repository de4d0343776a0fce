"""Configuration of a synthetic world: sizes, seed, regions, logging policy and effect sizes.

Effect sizes are given in the units the literature reports (SPEC §5: odds ratios, Cohen's d,
variance shares, base rates); :mod:`synth.coefficients` turns them into the logit-scale
coefficients of the hidden outcome model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from core.errors import ConfigError
from synth.catalog import ALL_REGIONS, DEFAULT_REGIONS, region_country

STREAMS = ("therapists", "intakes", "traits", "policy", "choice", "outcomes")
"""Independent random streams, one per stage, so changing one stage leaves the others' draws."""


@dataclass(frozen=True)
class WorldConfig:
    """Everything that defines a world; the same config (and seed) gives the same world."""

    n_therapists: int = 300
    n_intakes: int = 5000
    seed: int = 0
    regions: tuple[str, ...] = DEFAULT_REGIONS
    """Licensing jurisdictions (US states, provinces, or country codes such as GB, IN)."""
    n_regions: int | None = None
    """If set, use the first ``n_regions`` of the catalog's region list instead of ``regions``."""
    days: int = 540
    """Intakes are submitted over this many days (≈ 18 months)."""
    start: str = "2024-07-01T00:00:00+00:00"
    holdout_fraction: float = 0.2

    # logging policy and choice
    list_min: int = 5
    list_max: int = 10
    exploration: float = 0.1
    """ε: share of intakes whose logged list is a uniformly random sample of eligible therapists."""
    policy_noise: float = 0.5
    position_decay: float = 0.8
    """Examination probability of position k is k^−decay."""
    no_choice_rate: float = 0.25
    """Share of shown lists where the client books nobody."""

    # base rates (SPEC §5)
    dropout_rate: float = 0.20
    improvement_rate: float = 0.45
    """Reliable improvement among clients who attended at least one session."""
    early_end_rate: float = 0.05
    """Share of retained clients who end by agreement before the 4th session."""

    # therapist effects
    therapist_share: float = 0.05
    """Share of latent improvement variance due to therapists (Wampold & Brown 2005)."""
    domain_share: float = 0.35
    """Of that, the share that is therapist × problem-domain skill (the rest is general)."""
    poor_share: float = 0.045
    """Share of therapists reliably worse in one of their advertised domains (Kraus et al. 2011)."""
    poor_effect: float = -1.0
    """Logit penalty of a therapist's poor domain."""
    severity_skill_gain: float = 1.5
    """Domain skill counts (1 + gain × severity) times: matching matters more for severe clients."""
    retention_sd: float = 0.2
    """SD of therapists' own dropout tendency (logit), beyond their general effect."""
    format_share: float = 0.10
    """Of the therapist variance, the share that is therapist × format warmth ("digital
    empathy", :mod:`synth.traits`): some connect better on video, by phone or in chat."""

    # preferences (Swift et al. 2018; Cabral & Smith 2011)
    preference_dropout_or: float = 1.8
    preference_outcome_d: float = 0.28
    same_ethnicity_outcome_d: float = 0.09
    same_ethnicity_choice_d: float = 0.63

    # formats (Lin et al. 2022): attrition only, no outcome difference
    video_dropout_or: float = 1.35
    low_bandwidth_video_dropout_or: float = 2.5

    # observable profile effects (logit)
    specialty_effect: float = 0.6
    language_effect: float = 0.3
    experience_effect: float = 0.15
    unstated_concern_effect: float = 0.3
    availability_dropout: float = 0.35
    load_dropout: float = 0.3
    severe_in_person_dropout: float = 0.3

    # alliance (Flückiger et al. 2018)
    alliance_slope: float = 0.10
    alliance_noise: float = 0.55

    def __post_init__(self) -> None:
        if self.n_therapists < 1 or self.n_intakes < 1:
            raise ConfigError("a world needs at least one therapist and one intake")
        if not 0 < self.holdout_fraction < 1:
            raise ConfigError("holdout_fraction must be in (0, 1)")
        if not 1 <= self.list_min <= self.list_max:
            raise ConfigError("need 1 ≤ list_min ≤ list_max")
        for name in ("exploration", "no_choice_rate", "dropout_rate", "improvement_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1)")
        if not 0 < self.therapist_share < 1 or not 0 <= self.domain_share <= 1:
            raise ConfigError("therapist_share must be in (0, 1), domain_share in [0, 1]")
        if not 0 <= self.format_share <= 1 - self.domain_share:
            raise ConfigError("format_share must be in [0, 1 − domain_share]")
        unknown = [r for r in self.region_list if region_country(r) is None]
        if unknown:
            raise ConfigError(f"unknown region(s): {', '.join(unknown)}")

    @property
    def region_list(self) -> tuple[str, ...]:
        """The jurisdictions of this world."""
        if self.n_regions is not None:
            if not 1 <= self.n_regions <= len(ALL_REGIONS):
                raise ConfigError(f"n_regions must be in [1, {len(ALL_REGIONS)}]")
            return ALL_REGIONS[: self.n_regions]
        return tuple(self.regions)

    def streams(self) -> dict[str, np.random.Generator]:
        """One independent generator per stage (see :data:`STREAMS`), derived from ``seed``."""
        children = np.random.SeedSequence(self.seed).spawn(len(STREAMS))
        return {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples as lists)."""
        out = asdict(self)
        out["regions"] = list(self.regions)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorldConfig:
        """Rebuild from :meth:`to_dict` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "regions" in kwargs:
            kwargs["regions"] = tuple(kwargs["regions"])
        return cls(**kwargs)


__all__ = ["STREAMS", "WorldConfig"]
