"""One self-contained HTML page for ops: what needs attention first, the detail folded below.

Rendered from Jinja2 templates (``templates/``, autoescape on) with inline CSS and SVG: no
external assets and no script, readable offline and printable (print opens every fold). Every
figure shown carries ``data-key``/``data-value`` (the JSON value, as JSON), so a test can check
that the page and :meth:`FairnessReport.to_json` carry the same figures. Keys:
``{side}/{metric}/{attribute}/{group}/{n|value|low|high|note|exact/low|exact/high}``,
``{side}/{metric}/overall/{value|low|high}``,
``{side}/{metric}/{attribute}/disparity/{worst|best|ratio/…|gap/…}``,
``{side}/{metric}/{attribute}/flag``, ``scalars|preferences/{metric}/{scope}/{…}``,
``counts/{name}``, ``provenance/{field}``, ``summary/{level}``, ``summary/headline/{i}``,
``overloaded/count``, ``overloaded/{id}/{field}``, ``tradeoff/{row}/{field}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from matcher.fairness.figures import Figure, GroupMetricResult, Level, ScalarResult
from matcher.fairness.formatting import fmt, pretty
from matcher.fairness.report import FairnessReport, exact_interval, scope_label
from matcher.fairness.specs import MetricSpec, Side, Unit
from reports.fairness.svg import Dot, Panel, dot_plot, tradeoff_plot
from reports.fairness.templating import environment


@dataclass(frozen=True)
class MetricView:
    """One metric across attributes: its results, overall figure, chart and anchor."""

    spec: MetricSpec
    results: tuple[GroupMetricResult, ...]
    overall: Figure | None
    chart: Markup
    anchor: str
    exact: dict[tuple[str, str], Figure] = field(default_factory=dict)
    """(attribute, group) → the exact interval shown instead of a zero-width bootstrap one."""

    @property
    def worst_level(self) -> Level:
        """The most severe verdict of the metric (info for context metrics)."""
        order = [Level.FAIL, Level.WARN, Level.NOT_ASSESSED, Level.PASS, Level.INFO]
        levels = {r.verdict.level for r in self.results} if self.spec.flagged else {Level.INFO}
        return min(levels, key=order.index)


@dataclass(frozen=True)
class MatrixRow:
    """One metric's verdicts by attribute, for the attention screen."""

    label: str
    anchor: str
    cells: dict[str, tuple[Level, str, str]]
    """attribute → (level, data-key of the flag, the figure judged, as text)."""


def by_metric(results: Iterable[GroupMetricResult]) -> list[list[GroupMetricResult]]:
    """Results grouped by metric, in report order."""
    grouped: dict[str, list[GroupMetricResult]] = {}
    for r in results:
        grouped.setdefault(r.spec.key, []).append(r)
    return list(grouped.values())


def _key(result: GroupMetricResult) -> str:
    return f"{result.spec.side.value}/{result.spec.key}/{result.attribute}"


def _panels(
    results: Sequence[GroupMetricResult], note: str, exact: dict[tuple[str, str], Figure]
) -> list[Panel]:
    """One chart panel per attribute: shown groups as dots, suppressed ones named in a note."""
    out = []
    for r in results:
        d = r.disparity
        marked = {d.worst} if d is not None else set()
        dots = []
        for g in r.groups:
            if g.figure is None:
                continue
            shown = exact.get((r.attribute, g.group), g.figure)
            dots.append(
                Dot(
                    pretty(g.group),
                    shown.value,
                    shown.low,
                    shown.high,
                    g.group in marked,
                    (r.attribute, g.group) in exact,
                )
            )
        hidden = [pretty(g.group) for g in r.groups if g.figure is None]
        hidden_note = ""
        if hidden:
            names = ", ".join(hidden)
            names = names if len(names) <= 70 else names[:68].rsplit(",", 1)[0] + ", …"
            hidden_note = f"{note}: {names}"
        out.append(Panel(scope_label(r.attribute), r.verdict.level, tuple(dots), hidden_note))
    return out


def metric_view(results: Sequence[GroupMetricResult], report: FairnessReport) -> MetricView:
    """Chart and exact intervals of one metric across attributes."""
    spec = results[0].spec
    level = report.config.ci_level
    exact = {
        (r.attribute, g.group): e
        for r in results
        for g in r.groups
        if (e := exact_interval(spec, g.n, g.figure, level)) is not None
    }
    overall = next((r.overall for r in results if r.overall is not None), None)
    who = "clients" if spec.side is Side.CLIENT else "therapists"
    reference = overall.value if overall is not None else (1.0 if spec.unit is Unit.RATIO else None)
    chart = dot_plot(
        _panels(results, report.config.suppressed_note, exact),
        spec.unit,
        reference=reference,
        reference_label=f"all {who}" if overall is not None else "parity",
        title=spec.label,
    )
    return MetricView(
        spec,
        tuple(results),
        overall,
        Markup(chart),  # svg.py escapes every text it draws
        f"{spec.side.value}-{spec.key}",
        exact,
    )


def _matrix(
    results: Sequence[GroupMetricResult], scalars: Sequence[ScalarResult] = ()
) -> tuple[list[str], list[MatrixRow]]:
    """Attributes (columns) and one row per judged metric, with the ratio (or value) judged."""
    judged = [r for r in results if r.spec.flagged]
    attributes = list(dict.fromkeys(r.attribute for r in judged))
    attributes += [s.scope for s in scalars if s.scope not in attributes]
    rows: dict[str, MatrixRow] = {}
    for r in judged:
        row = rows.setdefault(
            r.spec.key, MatrixRow(r.spec.label, f"{r.spec.side.value}-{r.spec.key}", {})
        )
        text = "" if r.disparity is None else fmt(r.disparity.ratio.value, Unit.RATIO)
        row.cells[r.attribute] = (r.verdict.level, f"{_key(r)}/flag", text)
    for s in scalars:
        row = rows.setdefault(s.key, MatrixRow(s.label, "scalars", {}))
        text = "" if s.figure is None else fmt(s.figure.value, s.unit)
        row.cells[s.scope] = (s.verdict.level, f"scalars/{s.key}/{s.scope}/flag", text)
    return attributes, list(rows.values())


def render_html(report: FairnessReport) -> str:
    """The report as one self-contained HTML document."""
    per_attribute = [s for s in report.scalars if s.scope != "overall"]
    client_matrix = _matrix(report.client)
    therapist_matrix = _matrix(report.therapist, per_attribute)
    t = report.tradeoff
    tradeoff_chart = (
        Markup(tradeoff_plot([(r.strength, r.benefit_change, r.gini) for r in t.rows]))
        if t is not None
        else Markup("")
    )
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        config=report.config,
        provenance=report.provenance,
        levels=report.level_counts(),
        headlines=report.headlines(),
        client_matrix=client_matrix,
        therapist_matrix=therapist_matrix,
        overall_scalars=[s for s in report.scalars if s.scope == "overall"],
        client_metrics=[metric_view(rs, report) for rs in by_metric(report.client)],
        therapist_metrics=[metric_view(rs, report) for rs in by_metric(report.therapist)],
        tradeoff_chart=tradeoff_chart,
        result_key=_key,
    )


__all__ = ["MatrixRow", "MetricView", "by_metric", "metric_view", "render_html"]
