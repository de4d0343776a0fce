"""Fairness of matching: client- and therapist-side group metrics, bootstrap intervals, verdicts,
a report object with a JSON form, and exposure-aware re-ranking with its offline trade-off.

Pure: DataFrames in, a :class:`FairnessReport` out (no MLflow, no web, no database)::

    report = build_report(FairnessInputs(intakes, therapists, impressions, eligible))
    report.to_json()        # versioned, JSON-serialisable
    reports.render_html(report)  # rendering lives in the reports package
"""

from matcher.fairness.build import build_report
from matcher.fairness.client_metrics import CLIENT_METRICS, client_units
from matcher.fairness.config import FairnessConfig, GroupDefinitions, LevelThresholds, Thresholds
from matcher.fairness.exposure import (
    gini,
    position_weight,
    target_exposure,
    therapist_exposure,
    total_variation,
)
from matcher.fairness.figures import (
    Disparity,
    Figure,
    GroupFigure,
    GroupMetricResult,
    Level,
    ScalarResult,
    Verdict,
)
from matcher.fairness.groups import client_groups, therapist_groups
from matcher.fairness.inputs import FairnessInputs
from matcher.fairness.intervals import GroupedBootstrap, bootstrap_statistic
from matcher.fairness.mitigation import (
    ExposureReranker,
    exposure_adjusted,
    exposure_deficit,
    rerank,
    rerank_groups,
)
from matcher.fairness.provenance import Provenance, Source, data_window
from matcher.fairness.report import REPORT_VERSION, FairnessReport, Headline, OverloadedTherapist
from matcher.fairness.specs import MetricSpec
from matcher.fairness.therapist_metrics import THERAPIST_METRICS, therapist_units
from matcher.fairness.tradeoff import Tradeoff, TradeoffRow, evaluate_tradeoff

__all__ = [
    "CLIENT_METRICS",
    "REPORT_VERSION",
    "THERAPIST_METRICS",
    "Disparity",
    "ExposureReranker",
    "FairnessConfig",
    "FairnessInputs",
    "FairnessReport",
    "Figure",
    "GroupDefinitions",
    "GroupFigure",
    "GroupMetricResult",
    "GroupedBootstrap",
    "Headline",
    "Level",
    "LevelThresholds",
    "MetricSpec",
    "OverloadedTherapist",
    "Provenance",
    "ScalarResult",
    "Source",
    "Thresholds",
    "Tradeoff",
    "TradeoffRow",
    "Verdict",
    "bootstrap_statistic",
    "build_report",
    "client_groups",
    "client_units",
    "data_window",
    "evaluate_tradeoff",
    "exposure_adjusted",
    "exposure_deficit",
    "gini",
    "position_weight",
    "rerank",
    "rerank_groups",
    "target_exposure",
    "therapist_exposure",
    "therapist_groups",
    "therapist_units",
    "total_variation",
]
