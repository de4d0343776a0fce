"""Response models of ``/v1/experiments`` (its request body is
:class:`core.config.ExperimentConfig`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.config import ExperimentConfig


class ArmOut(BaseModel):
    """One arm of the served experiment, as this process serves it."""

    name: str
    model_uri: str
    share: float = Field(description="Share of clients shown this arm's lists.")
    shadow: bool
    loaded: bool = Field(description="Whether this process has the arm's model loaded.")
    model_version: str | None = None


class ExperimentStatus(BaseModel):
    """The experiment this process serves (``experiment`` None: everyone gets the champion)."""

    experiment: str | None
    source: Literal["database", "settings"] | None = Field(
        default=None,
        description="`database` (set by PUT /v1/experiments) or `settings` (MATCHER_EXPERIMENT).",
    )
    champion_share: float | None = None
    arms: list[ArmOut] = Field(default_factory=list)
    problem: str | None = Field(default=None, description="Arms that did not load here.")


class StoredExperimentOut(BaseModel):
    """An experiment as stored in the database."""

    definition: ExperimentConfig
    active: bool
    started_at: datetime
    ended_at: datetime | None


class ExperimentList(BaseModel):
    """The served experiment and every stored one, the newest first."""

    current: ExperimentStatus
    stored: list[StoredExperimentOut]


__all__ = ["ArmOut", "ExperimentList", "ExperimentStatus", "StoredExperimentOut"]
