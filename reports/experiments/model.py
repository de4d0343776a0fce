"""The experiment report's input (the logs of one experiment, as frames) and its result (per arm
figures with 95% intervals), as plain data: computed by ``training.experiment_report``, rendered
by :mod:`reports.experiments.html`, served by the API as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

MIN_LISTS = 30
"""An arm with fewer lists shown (or, for a shadow arm, ranked) is reported as too little data."""
MIN_OUTCOMES = 10
"""An arm with fewer intakes with any outcome event is reported as too little data."""


@dataclass(frozen=True)
class ExperimentLog:
    """What the service logged for one experiment."""

    experiment: str
    arms: list[tuple[str, bool]]
    """(arm name, is shadow) as defined, the champion first."""
    requests: pd.DataFrame
    """One row per match request: ``request_id, intake_id, arm, status, model_version``."""
    interactions: pd.DataFrame
    """The shown lists of those requests as contract interactions rows (outcomes joined), with
    ``arm``: ``intake_id, therapist_id, position, chosen, sessions_attended, dropped_out,
    alliance, reliable_improvement, propensity, arm``."""
    shadow: pd.DataFrame
    """Shadow arms' lists: ``intake_id, arm, therapist_id, position, model_version``."""


@dataclass(frozen=True)
class Figure:
    """A value with its 95% interval over ``n`` units (None where undefined)."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


@dataclass(frozen=True)
class MetricRow:
    """One outcome of one arm, and its difference to the champion."""

    metric: str
    label: str
    estimate: Figure | None
    difference: Figure | None
    """This arm − the champion (None for the champion, or without enough data on either side)."""
    interval: str
    """How the intervals are computed."""


@dataclass(frozen=True)
class OffPolicyRow:
    """A shadow arm's estimated rate of good outcomes from the live arms' logs."""

    estimator: str
    estimate: Figure
    logged: Figure
    """The observed rate of good outcomes of the lists actually shown, on the same intakes."""
    agreement: float
    """Share of shown (therapist, position) rows the shadow list puts at the same position."""
    note: str


@dataclass(frozen=True)
class ArmRow:
    """Everything the report says about one arm."""

    arm: str
    shadow: bool
    model_versions: list[str]
    requests: int
    lists: int
    """Lists shown (live arms) or ranked (shadow arms)."""
    outcomes: int
    """Intakes with any outcome event (choice, session, alliance, improvement, dropout)."""
    enough_data: bool
    note: str | None
    metrics: list[MetricRow] = field(default_factory=list)
    off_policy: OffPolicyRow | None = None


@dataclass(frozen=True)
class ExperimentReport:
    """The report of one experiment."""

    experiment: str | None
    generated_at: str
    level: float
    min_lists: int
    min_outcomes: int
    arms: list[ArmRow]
    caveats: list[str]


__all__ = [
    "MIN_LISTS",
    "MIN_OUTCOMES",
    "ArmRow",
    "ExperimentLog",
    "ExperimentReport",
    "Figure",
    "MetricRow",
    "OffPolicyRow",
]
