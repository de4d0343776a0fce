"""What a group metric is: a statistic of per-group sums, with a direction and a display unit.

Every metric in the report is one of three statistics of the per-group sums S_g of unit-level
columns (units are intakes on the client side, therapists on the therapist side):

* ``mean``: value_g = S_g[num] / S_g[den] (a rate or a mean, or a ratio of sums);
* ``share``: value_g = S_g[num] / Σ_h S_h[num] (a group's share of a total);
* ``share_ratio``: value_g = (S_g[num] / Σ_h S_h[num]) / (S_g[den] / Σ_h S_h[den]).

The same code evaluates sample sums (shape (G, C)) and bootstrap replicates (shape (B, G, C)).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


class Kind(StrEnum):
    """Which statistic of group sums."""

    MEAN = "mean"
    SHARE = "share"
    SHARE_RATIO = "share_ratio"


class Unit(StrEnum):
    """How a value is shown: ``share`` as a percentage, ``score`` to 3 decimals, ``ratio`` to 2."""

    SHARE = "share"
    SCORE = "score"
    RATIO = "ratio"


class Direction(StrEnum):
    """Which way is better for the group; ``neutral`` metrics are context, never flagged."""

    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"
    NEUTRAL = "neutral"


class Side(StrEnum):
    """Whose fairness a metric speaks to."""

    CLIENT = "client"
    THERAPIST = "therapist"


@dataclass(frozen=True)
class MetricSpec:
    """One group metric of the report."""

    key: str
    label: str
    question: str
    """What it answers, in plain language."""
    formula: str
    side: Side
    kind: Kind
    numerator: str
    denominator: str
    """Unit column summed under the fraction (ignored by ``share``)."""
    count: str
    """0/1 unit column: which units the metric is about; its group sum is the group's n."""
    unit: Unit
    direction: Direction
    sentence: str = ""
    """Plain-language template of a disparity: ``{worst}``, ``{best}``, their values ``{wv}``,
    ``{bv}`` and the list depth ``{k}``."""

    @property
    def flagged(self) -> bool:
        """Whether disparities in this metric are judged (neutral metrics are context)."""
        return self.direction is not Direction.NEUTRAL

    @property
    def has_overall(self) -> bool:
        """Whether an all-units figure means something (a share of everything is always 1)."""
        return self.kind is Kind.MEAN


def _divide(a: F64, b: F64) -> F64:
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.where(b != 0, a / np.where(b != 0, b, 1.0), np.nan))


def group_values(sums: F64, spec: MetricSpec, columns: tuple[str, ...]) -> F64:
    """The metric per group from group sums ``(..., G, C)`` → ``(..., G)`` (NaN where 0/0)."""
    num = sums[..., columns.index(spec.numerator)]
    if spec.kind is Kind.SHARE:
        return _divide(num, num.sum(axis=-1, keepdims=True))
    den = sums[..., columns.index(spec.denominator)]
    if spec.kind is Kind.MEAN:
        return _divide(num, den)
    return _divide(
        _divide(num, num.sum(axis=-1, keepdims=True)), _divide(den, den.sum(axis=-1, keepdims=True))
    )


def favourable(values: F64, spec: MetricSpec) -> F64:
    """Values oriented so that higher is better: v, or 1 − v for a rate where lower is better."""
    if spec.direction is Direction.LOWER_BETTER:
        return 1.0 - values
    return values


__all__ = [
    "Direction",
    "Kind",
    "MetricSpec",
    "Side",
    "Unit",
    "favourable",
    "group_values",
]
