"""The rules scorer: what a rules engine would rank by, and the cold-start model of serving.

One formula over the feature matrix of :class:`features.pipeline.FeaturePipeline` (the training
baseline ``training.baselines.RuleBaseline`` scores with the same function)::

    rule = concern_fit + 0.5·primary_concern_fit
           + 0.25·(modality_fit + cultural_fit + gender_fit + ethnicity_fit + format_fit)
           + 0.05·availability_share                     (a missing value counts 0)

Before any model is registered the service serves :class:`RulesModel` (version ``"rules"``):
the same engine, safety routing, hard constraints and capacity rules, only the score differs, so
a new platform logs impressions and outcomes from its first day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from features.pipeline import FEATURE_NAMES, FeaturePipeline
from features.schemas import INTAKES, INTERACTIONS, THERAPISTS

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

RULES_VERSION = "rules"
"""``model_version`` (and logged ``policy``) of lists ranked by the rules scorer."""

RULE_WEIGHTS: dict[str, float] = {
    "concern_fit": 1.0,
    "primary_concern_fit": 0.5,
    "modality_fit": 0.25,
    "cultural_fit": 0.25,
    "gender_fit": 0.25,
    "ethnicity_fit": 0.25,
    "format_fit": 0.25,
    "availability_share": 0.05,
}
"""Weight of each feature in the rule (every other feature has weight 0)."""

RULE_MAX = float(sum(RULE_WEIGHTS.values()))
"""The largest rule score (every term at 1): :class:`RulesModel` scores ``rule / RULE_MAX``."""

_WEIGHTS = np.array([RULE_WEIGHTS.get(name, 0.0) for name in FEATURE_NAMES], dtype=np.float64)


def rule_terms(x: F32) -> F64:
    """Each feature's term of the rule, ``(n, F)``: weight × value, missing values 0."""
    return np.nan_to_num(x.astype(np.float64)) * _WEIGHTS


def rule_score(x: F32) -> F64:
    """The rule score of each row of a feature matrix (module docstring)."""
    return np.asarray(np.nan_to_num(x.astype(np.float64)) @ _WEIGHTS, dtype=np.float64)


def empty_pipeline() -> FeaturePipeline:
    """A feature pipeline fitted on no history: no text vocabulary, no track records (every
    therapist at the prior), a flat case mix. What the rules read does not depend on it."""
    empty = Dataset(
        therapists=pd.DataFrame(columns=THERAPISTS.names),
        intakes=pd.DataFrame(columns=INTAKES.names),
        interactions=pd.DataFrame(columns=INTERACTIONS.names),
    )
    with np.errstate(invalid="ignore", divide="ignore"):  # SVD of no text: variance 0/0
        return FeaturePipeline().fit(empty)


@dataclass
class RulesModel:
    """The rules scorer in the shape :class:`matcher.engine.Matcher` serves.

    ``score`` = ``benefit`` = rule / RULE_MAX ∈ [0, 1] (an ordering, not a probability);
    ``contributions`` are the rule's own terms (scaled the same way, bias 0), so explanations
    name the fits that ranked a therapist, as SHAP values do for a model.
    """

    pipeline: FeaturePipeline = field(default_factory=empty_pipeline)
    version: str = RULES_VERSION
    prefilter: None = None
    """Scoring the whole pool with the rule is cheap: no phase one."""
    stale_from: str | None = None
    metadata: dict[str, Any] = field(default_factory=lambda: {"kind": "rules", "cold_start": True})

    @property
    def feature_names(self) -> list[str]:
        """Columns the rule reads from, in order."""
        return list(FEATURE_NAMES)

    def benefit(self, x: F32, *, num_threads: int = 1) -> F64:
        """rule / RULE_MAX."""
        return rule_score(x) / RULE_MAX

    def score(self, x: F32) -> F64:
        """The ranking score: rule / RULE_MAX."""
        return self.benefit(x)

    def contributions(self, x: F32) -> F64:
        """Each term of the rule / RULE_MAX, ``(n, F + 1)`` (last column: bias 0)."""
        terms = rule_terms(x) / RULE_MAX
        return np.hstack([terms, np.zeros((len(x), 1))])


__all__ = [
    "RULES_VERSION",
    "RULE_MAX",
    "RULE_WEIGHTS",
    "RulesModel",
    "empty_pipeline",
    "rule_score",
    "rule_terms",
]
