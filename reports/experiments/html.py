"""The experiment report as one self-contained HTML page (the fairness report's stylesheet, no
asset from another host) and as JSON."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from reports.experiments.model import ExperimentReport, Figure
from reports.fairness.templating import moment
from reports.templating import Environment, template_environment


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal (``–`` when undefined)."""
    return "–" if value is None else f"{100 * value:.1f}%"


def interval(figure: Figure | None, *, rate: bool = True, signed: bool = False) -> str:
    """``value [low, high]`` of a figure (``–`` when undefined)."""
    if figure is None or figure.value is None:
        return "–"

    def one(x: float | None) -> str:
        if x is None:
            return "?"
        text = f"{100 * x:.1f}" if rate else f"{x:.2f}"
        return ("+" if signed and x > 0 else "") + text

    unit = " pp" if rate and signed else ("%" if rate else "")
    return f"{one(figure.value)}{unit} [{one(figure.ci_low)}, {one(figure.ci_high)}]"


def excludes_zero(figure: Figure | None) -> str:
    """``better`` / ``worse`` when a difference's interval excludes 0, else ``''``."""
    if figure is None or figure.ci_low is None or figure.ci_high is None:
        return ""
    if figure.ci_low > 0:
        return "better"
    if figure.ci_high < 0:
        return "worse"
    return ""


@cache
def environment() -> Environment:
    """This package's templates, with the fairness report's stylesheet available to include."""
    env = template_environment("reports.experiments", "reports.fairness")
    env.filters.update(percent=percent, interval=interval, verdict=excludes_zero, moment=moment)
    return env


def render_html(report: ExperimentReport) -> str:
    """The report page."""
    return environment().get_template("experiment.html.j2").render(report=report)


def report_json(report: ExperimentReport) -> dict[str, Any]:
    """The report as a JSON-able dict (the API's response body)."""
    return dataclasses.asdict(report)


__all__ = ["environment", "excludes_zero", "interval", "percent", "render_html", "report_json"]
