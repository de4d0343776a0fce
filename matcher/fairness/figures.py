"""The report's building blocks: figures with intervals, group tables, disparities, verdicts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from matcher.fairness.specs import MetricSpec, Unit


class Level(StrEnum):
    """A verdict: ``fail``/``warn``/``pass`` are judged; ``info`` is context; ``n/a`` could not be
    judged (fewer than two groups large enough)."""

    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"
    INFO = "info"
    NOT_ASSESSED = "n/a"


LEVEL_ORDER = {Level.FAIL: 0, Level.WARN: 1, Level.PASS: 2, Level.NOT_ASSESSED: 3, Level.INFO: 4}


@dataclass(frozen=True)
class Figure:
    """A point estimate and its bootstrap percentile interval (NaN when undefined)."""

    value: float
    low: float
    high: float

    @property
    def defined(self) -> bool:
        """Whether the point estimate is a number."""
        return math.isfinite(self.value)


@dataclass(frozen=True)
class GroupFigure:
    """One group's figure; ``n`` and ``figure`` are None when the group is suppressed."""

    group: str
    n: int | None = None
    figure: Figure | None = None

    @property
    def suppressed(self) -> bool:
        """Too few units to show."""
        return self.figure is None


@dataclass(frozen=True)
class Disparity:
    """Worst vs best group (by the metric's favourable orientation) among shown groups.

    ``ratio`` = f(worst) / f(best) and ``gap`` = f(best) − f(worst), f = value, or 1 − value for a
    rate where lower is better. The pair is fixed on the sample; the intervals come from the same
    pair in every resample, so they can straddle parity.
    """

    worst: str
    best: str
    ratio: Figure
    gap: Figure


@dataclass(frozen=True)
class Verdict:
    """A level and why."""

    level: Level
    reason: str
    severity: float = 1.0
    """Orders verdicts of one level, lower = worse (ratio / threshold, or warn level / value)."""


@dataclass(frozen=True)
class GroupMetricResult:
    """One metric for one attribute: every group's figure, the disparity, the verdict."""

    spec: MetricSpec
    attribute: str
    overall: Figure | None
    groups: tuple[GroupFigure, ...]
    disparity: Disparity | None
    verdict: Verdict

    def group(self, name: str) -> GroupFigure:
        """The figure of group ``name``."""
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(name)


@dataclass(frozen=True)
class ScalarResult:
    """A single figure with a verdict (overall, or one per attribute)."""

    key: str
    label: str
    question: str
    formula: str
    scope: str
    """``overall`` or the attribute it summarises."""
    unit: Unit
    n: int | None
    figure: Figure | None
    """None when suppressed (n below the minimum) or not computable."""
    verdict: Verdict


__all__ = [
    "LEVEL_ORDER",
    "Disparity",
    "Figure",
    "GroupFigure",
    "GroupMetricResult",
    "Level",
    "ScalarResult",
    "Verdict",
]
