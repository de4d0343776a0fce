"""Baselines every model is compared with (issue: random, rules, pointwise LR, LambdaRank).

Each is an estimator: ``fit(rows, labels)`` returns self, ``score(x)`` returns one score per row
of a feature matrix built by :class:`features.pipeline.FeaturePipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from matcher.rules import rule_score

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass
class RandomBaseline:
    """Uniformly random order among eligible therapists."""

    seed: int = 0

    def fit(self, x: F32, y: npt.NDArray[np.int64], group: npt.NDArray[np.int64]) -> RandomBaseline:
        """Nothing to learn."""
        return self

    def score(self, x: F32) -> F64:
        """Independent uniform scores."""
        return np.random.default_rng(self.seed).random(len(x))


@dataclass
class RuleBaseline:
    """What a rules engine would do: specialty fit plus stated-preference fit.

    score = :func:`matcher.rules.rule_score` (concern_fit + 0.5·primary_concern_fit +
    Σ_p 0.25·fit_p over modality, cultural, gender, ethnicity, format; missing preferences count
    0; + 0.05·availability_share), the scorer serving uses before any model is registered.
    """

    def fit(self, x: F32, y: npt.NDArray[np.int64], group: npt.NDArray[np.int64]) -> RuleBaseline:
        """Nothing to learn."""
        return self

    def score(self, x: F32) -> F64:
        """The rule score."""
        return rule_score(x)


@dataclass
class LogisticBaseline:
    """Pointwise logistic regression of a good outcome (label 4) on every shown row."""

    c: float = 1.0

    def fit(
        self, x: F32, y: npt.NDArray[np.int64], group: npt.NDArray[np.int64]
    ) -> LogisticBaseline:
        """Fit on shown rows; y is the graded label."""
        self.model_: Pipeline = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=self.c, max_iter=500),
        )
        self.model_.fit(x, (y >= 4).astype(int))
        return self

    def score(self, x: F32) -> F64:
        """P(good outcome) as the LR sees it."""
        return np.asarray(self.model_.predict_proba(x)[:, 1], dtype=np.float64)


@dataclass
class LambdaRankBaseline:
    """LambdaRank on the raw logged lists and graded labels (no position correction).

    Within one list only the chosen row has a non-zero label, so this mostly learns what clients
    click — the trap the outcome-aware model avoids.
    """

    seed: int = 0
    rounds: int = 200

    def fit(
        self, x: F32, y: npt.NDArray[np.int64], group: npt.NDArray[np.int64]
    ) -> LambdaRankBaseline:
        """Fit on logged lists (rows must be grouped contiguously by ``group``)."""
        order = np.argsort(group, kind="stable")
        _, sizes = np.unique(group[order], return_counts=True)
        data = lgb.Dataset(x[order], label=y[order], group=sizes, free_raw_data=False)
        params = {
            "objective": "lambdarank",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_data_in_leaf": 40,
            "verbose": -1,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": 2,
        }
        self.booster_ = lgb.train(params, data, num_boost_round=self.rounds)
        return self

    def score(self, x: F32) -> F64:
        """LambdaRank scores."""
        return np.asarray(self.booster_.predict(x), dtype=np.float64)


Baseline = RandomBaseline | RuleBaseline | LogisticBaseline | LambdaRankBaseline


def default_baselines(seed: int = 0) -> dict[str, Baseline]:
    """The baselines of the evaluation table, by name."""
    return {
        "random": RandomBaseline(seed),
        "rules": RuleBaseline(),
        "logistic": LogisticBaseline(),
        "lambdarank_logged": LambdaRankBaseline(seed),
    }


__all__ = [
    "Baseline",
    "LambdaRankBaseline",
    "LogisticBaseline",
    "RandomBaseline",
    "RuleBaseline",
    "default_baselines",
]
