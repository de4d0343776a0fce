"""Typed configuration shared by several layers: how the serving engine ranks, and the strict
pydantic config every config dataclass is validated with.

Nested in :class:`core.settings.Settings` as ``serving`` (environment variables
``MATCHER_SERVING__<FIELD>``), and built directly by code that ranks offline (``matcher rank``,
the offline fairness report, benchmarks), so the API and every batch path apply the same rules.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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


__all__ = ["STRICT", "MatcherConfig"]
