"""Logit-scale coefficients of the hidden outcome model, derived from :class:`WorldConfig`.

Effect sizes in literature units become logits: a standardised difference d is d·π/√3 on the
logit scale (the logistic distribution's SD is π/√3) and an odds ratio OR is ln OR. Intercepts and
therapist-effect SDs are then solved on the realised caseloads so the world hits its base rates
and therapist variance share whatever its size or regions (:func:`solve_level`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from synth.config import WorldConfig

F64 = npt.NDArray[np.float64]
LOGIT_PER_D = math.pi / math.sqrt(3)
"""A standardised mean difference d is ≈ d·π/√3 on the logit scale."""
LOGISTIC_VARIANCE = math.pi**2 / 3
DROPOUT_SESSIONS_P = (0.15, 0.40, 0.30, 0.15)
"""Sessions attended (0, 1, 2, 3) by clients who drop out."""
DROPOUT_IMPROVEMENT_SHIFT = 1.5
"""Dropouts improve reliably only if their latent improvement clears this extra margin."""
GENERAL_RETENTION = 0.5
"""A therapist's general effect also lowers dropout: δ −= 0.5·u_t."""
SEVERITY_DROPOUT = 0.3
ALLIANCE_MEAN = 3.9
ALLIANCE_DROPOUT = -0.3
PREFERENCE_NONCOLLAPSIBILITY = 1.3
"""Conditional log-OR inflation so the marginal (population) dropout OR lands on the target."""


@dataclass(frozen=True)
class Coefficients:
    """Every number of the outcome model (see :mod:`synth.outcomes` for the formulas)."""

    improvement_intercept: float
    dropout_intercept: float
    general_sd: float
    domain_sd: float
    format_sd: float
    poor_effect: float
    severity_skill_gain: float
    specialty: float
    preference_improvement: float
    preference_dropout: float
    ethnicity_improvement: float
    language: float
    experience: float
    unstated_concern: float
    general_retention: float
    severity_dropout: float
    video_dropout: float
    low_bandwidth_video_dropout: float
    availability_dropout: float
    load_dropout: float
    severe_in_person_dropout: float
    early_end_rate: float
    alliance_slope: float
    alliance_noise: float

    @classmethod
    def from_config(cls, config: WorldConfig) -> Coefficients:
        """Literature units → logits; intercepts 0 and therapist SDs 0 until solved."""
        return cls(
            improvement_intercept=0.0,
            dropout_intercept=0.0,
            general_sd=0.0,
            domain_sd=0.0,
            format_sd=0.0,
            poor_effect=config.poor_effect,
            severity_skill_gain=config.severity_skill_gain,
            specialty=config.specialty_effect,
            preference_improvement=config.preference_outcome_d * LOGIT_PER_D,
            preference_dropout=math.log(config.preference_dropout_or)
            * PREFERENCE_NONCOLLAPSIBILITY,
            ethnicity_improvement=config.same_ethnicity_outcome_d * LOGIT_PER_D,
            language=config.language_effect,
            experience=config.experience_effect,
            unstated_concern=config.unstated_concern_effect,
            general_retention=GENERAL_RETENTION,
            severity_dropout=SEVERITY_DROPOUT,
            video_dropout=math.log(config.video_dropout_or),
            low_bandwidth_video_dropout=math.log(config.low_bandwidth_video_dropout_or)
            - math.log(config.video_dropout_or),
            availability_dropout=config.availability_dropout,
            load_dropout=config.load_dropout,
            severe_in_person_dropout=config.severe_in_person_dropout,
            early_end_rate=config.early_end_rate,
            alliance_slope=config.alliance_slope,
            alliance_noise=config.alliance_noise,
        )

    def with_(self, **changes: float) -> Coefficients:
        """A copy with some coefficients changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float]:
        """JSON-able."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Coefficients:
        """Inverse of :meth:`to_dict` (worlds written before ``format_sd`` existed have none)."""
        values = {"format_sd": 0.0} | dict(data)
        return cls(**{f.name: float(values[f.name]) for f in fields(cls)})


def therapist_sds(
    config: WorldConfig, client_variance: float, domain_spread: float
) -> tuple[float, float, float]:
    """SDs of the general, domain and format therapist effects giving ``config.therapist_share``.

    With V_c the variance of the client-side improvement logit over realised caseloads, the
    therapist variance is V_t = s/(1 − s)·(V_c + π²/3), split as σ_u² = (1 − q − f)·V_t,
    σ_v²·spread = q·V_t and σ_w² = f·V_t, where q is ``domain_share``, f ``format_share`` (each
    course uses one format, so a unit format variance reaches η whole) and
    spread = E[(1 + g·sev)²·Σ_d π_d²] is how much of a unit domain variance reaches a client
    whose concerns span several domains.
    """
    share = config.therapist_share
    total = share / (1 - share) * (client_variance + LOGISTIC_VARIANCE)
    general = math.sqrt((1 - config.domain_share - config.format_share) * total)
    domain = math.sqrt(config.domain_share * total / max(domain_spread, 1e-9))
    return general, domain, math.sqrt(config.format_share * total)


def solve_level(
    mean_at: Callable[[float], float], target: float, lo: float = -12.0, hi: float = 12.0
) -> float:
    """The shift b with ``mean_at(b) = target`` for a mean increasing in b (bisection)."""
    for _ in range(60):
        mid = (lo + hi) / 2
        if mean_at(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def sigmoid(x: F64) -> F64:
    """σ(x) = 1 / (1 + e^−x)."""
    return 1.0 / (1.0 + np.exp(-x))


__all__ = [
    "DROPOUT_IMPROVEMENT_SHIFT",
    "DROPOUT_SESSIONS_P",
    "LOGIT_PER_D",
    "Coefficients",
    "sigmoid",
    "solve_level",
    "therapist_sds",
]
