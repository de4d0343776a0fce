"""The experiment report: its data (``model``) and its HTML page (``html``)."""

from reports.experiments.html import render_html, report_json
from reports.experiments.model import (
    MIN_LISTS,
    MIN_OUTCOMES,
    ArmRow,
    ExperimentLog,
    ExperimentReport,
    Figure,
    MetricRow,
    OffPolicyRow,
)

__all__ = [
    "MIN_LISTS",
    "MIN_OUTCOMES",
    "ArmRow",
    "ExperimentLog",
    "ExperimentReport",
    "Figure",
    "MetricRow",
    "OffPolicyRow",
    "render_html",
    "report_json",
]
