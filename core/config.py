"""Typed configuration shared by several layers: how the serving engine ranks, and the strict
pydantic config every config dataclass is validated with.

Nested in :class:`core.settings.Settings` as ``serving`` (environment variables
``MATCHER_SERVING__<FIELD>``), and built directly by code that ranks offline (``matcher rank``,
the offline fairness report, benchmarks), so the API and every batch path apply the same rules.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
"""Pydantic config of every typed config (``with_config(STRICT)`` on dataclasses): an unknown
key in a config file is an error, never silently ignored."""


class MatcherConfig(BaseModel):
    """Serving knobs of :class:`matcher.engine.Matcher`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase_one_size: int = Field(
        default=300,
        ge=1,
        description="Candidates per intake that the full model scores (phase one keeps the best "
        "by a cheap proxy).",
    )
    load_penalty: float = Field(
        default=0.15, ge=0, description="Strength of the load-aware re-rank (0 = off)."
    )
    severe_in_person_boost: float = Field(
        default=0.1,
        ge=0,
        description="Relative boost for in-person-capable therapists when symptoms are severe.",
    )
    exposure_mitigation: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Strength s of exposure-aware re-ranking after the load-aware step (0 = off): "
        "adjusted · (1 + s · d_t), d_t = (target_t − exposure_t) / (target_t + exposure_t).",
    )
    exploration: bool = Field(
        default=False,
        description="Safe exploration: shuffle candidates whose scores are within "
        "`exploration_tolerance` of each other (never past a hard constraint or safety rule); "
        "off by default because it changes what clients see (matcher.exploration).",
    )
    exploration_tolerance: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="Relative score gap counted as equivalent when exploring.",
    )


CHAMPION_ARM = "champion"
"""The arm served by the champion (the configured model): every request no challenger takes."""
MAX_ARMS = 4
"""Challenger and shadow arms per experiment (each holds a model in every process)."""
MAX_SHADOW_ARMS = 2
"""Shadow arms per experiment: each costs up to one extra ranking per request."""

ArmName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", examples=["challenger"])]
ArmUri = Annotated[
    str,
    Field(
        pattern=r"^(rules|models:/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(/[0-9]{1,9}|@[A-Za-z0-9_-]{1,64}))$",
        description="`models:/name/version`, `models:/name@alias`, or `rules` (the rules "
        "baseline).",
        examples=["models:/therapist-matcher@challenger"],
    ),
]


class ArmConfig(BaseModel):
    """One challenger of an experiment: a model, its share of traffic, or shadow mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ArmName
    model_uri: ArmUri
    share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of clients shown this arm's lists (0 for a shadow arm).",
    )
    shadow: bool = Field(
        default=False,
        description="Scored on every request and logged as shadow impressions, never shown.",
    )

    @model_validator(mode="after")
    def _shadow_has_no_share(self) -> Self:
        if self.shadow and self.share > 0:
            raise ValueError(f"arm {self.name!r}: a shadow arm takes no share of traffic")
        return self


class ExperimentConfig(BaseModel):
    """Champion vs challengers: who sees which model, by a hash of the client (or intake).

    Clients are assigned by u = sha256(name ∥ unit) / 2⁶⁴ ∈ [0, 1): the live arms take
    consecutive intervals of their shares in list order, the champion (arm ``champion``) the
    rest. The salt ``name`` makes two experiments' assignments independent.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ArmName
    arms: list[ArmConfig] = Field(min_length=1, max_length=MAX_ARMS)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [a.name for a in self.arms]
        if CHAMPION_ARM in names:
            raise ValueError(f"arm name {CHAMPION_ARM!r} is the champion's own (implicit) arm")
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if sum(a.share for a in self.arms) > 1 + 1e-9:
            raise ValueError("the arms' shares add up to more than 1")
        if sum(a.shadow for a in self.arms) > MAX_SHADOW_ARMS:
            raise ValueError(f"at most {MAX_SHADOW_ARMS} shadow arms")
        return self

    @property
    def live(self) -> list[ArmConfig]:
        """Arms whose lists are shown (share > 0), in assignment order."""
        return [a for a in self.arms if not a.shadow and a.share > 0]

    @property
    def shadows(self) -> list[ArmConfig]:
        """Arms scored and logged but never shown."""
        return [a for a in self.arms if a.shadow]

    @property
    def champion_share(self) -> float:
        """Share of clients who see the champion: 1 − Σ live shares."""
        return max(0.0, 1.0 - sum(a.share for a in self.live))


__all__ = [
    "CHAMPION_ARM",
    "MAX_ARMS",
    "MAX_SHADOW_ARMS",
    "STRICT",
    "ArmConfig",
    "ExperimentConfig",
    "MatcherConfig",
]
