"""Typed configuration of the fairness report: cut-offs, group definitions, flag thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pydantic import with_config

from core.config import STRICT


@with_config(STRICT)
@dataclass(frozen=True)
class LevelThresholds:
    """Warn / fail cut-offs for a figure where larger is worse (e.g. a Gini coefficient).

    A figure fails when its whole bootstrap interval sits at or above ``fail`` (the lower bound
    ≥ ``fail``); it warns when its point estimate is at or above ``warn``; otherwise it passes.
    """

    warn: float
    fail: float

    def __post_init__(self) -> None:
        if self.warn > self.fail:
            raise ValueError(f"warn ({self.warn}) must not exceed fail ({self.fail})")


@with_config(STRICT)
@dataclass(frozen=True)
class Thresholds:
    """When a figure passes, warns or fails."""

    ratio: float = 0.8
    """Four-fifths rule: a worst/best group ratio below this is a candidate failure. It fails only
    when the bootstrap interval of the ratio also excludes ``parity``; otherwise it warns."""
    parity: float = 1.0
    gini: LevelThresholds = field(default_factory=lambda: LevelThresholds(0.6, 0.8))
    """Gini of exposure across eligible therapists."""
    exposure_disparity: LevelThresholds = field(default_factory=lambda: LevelThresholds(0.05, 0.1))
    """Total-variation distance between group exposure shares and group merit shares."""
    overload: LevelThresholds = field(default_factory=lambda: LevelThresholds(0.1, 0.25))
    """Share of therapists (with a caseload limit) at or over their limit."""


@with_config(STRICT)
@dataclass(frozen=True)
class GroupDefinitions:
    """How derived groups are cut."""

    experience_edges: tuple[int, ...] = (3, 6, 11, 21)
    """Lower edges (years) of the experience bands after the first: 0–2, 3–5, 6–10, 11–20, 21+."""
    english: str = "en"
    """Language code that splits clients into English-capable and not."""
    new_max_outcomes: int = 10
    """With an ``n_outcomes`` column: a therapist with fewer past outcomes than this is new."""
    new_window_days: int = 180
    """With a ``first_seen`` column: a therapist first seen within this many days of ``as_of``
    is new."""
    as_of: pd.Timestamp | None = None
    """Reference time for ``first_seen``; None = the latest ``first_seen`` in the data."""


@with_config(STRICT)
@dataclass(frozen=True)
class FairnessConfig:
    """Everything that shapes a fairness report."""

    top_k: int = 5
    """Depth of the match list judged by the client-side quality metrics."""
    min_group_size: int = 20
    """Groups with fewer units than this are suppressed: no figures, no flags."""
    n_bootstrap: int = 500
    """Bootstrap resamples for every interval."""
    ci_level: float = 0.95
    seed: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)
    groups: GroupDefinitions = field(default_factory=GroupDefinitions)
    max_listed_overloaded: int = 25
    """How many overloaded therapists the report lists by id (most overloaded first)."""
    max_headlines: int = 6
    """Plain-language disparities shown in the summary."""

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ValueError("top_k must be ≥ 1")
        if self.min_group_size < 1:
            raise ValueError("min_group_size must be ≥ 1")
        if self.n_bootstrap < 1:
            raise ValueError("n_bootstrap must be ≥ 1")
        if not 0 < self.ci_level < 1:
            raise ValueError("ci_level must be in (0, 1)")

    @property
    def suppressed_note(self) -> str:
        """What the report says in place of a suppressed group's figures."""
        return f"suppressed (n < {self.min_group_size})"


__all__ = ["FairnessConfig", "GroupDefinitions", "LevelThresholds", "Thresholds"]
