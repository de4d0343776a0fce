"""The report's detail sections: per-metric chart and table, scalar tables, caseload, trade-off."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape

from matcher.fairness.figures import GroupMetricResult, Level, ScalarResult
from matcher.fairness.formatting import fmt, pretty, rounded
from matcher.fairness.report import FairnessReport, scope_label
from matcher.fairness.specs import Side, Unit
from reports.fairness.html_cells import badge, cell, figure_cells, result_key, span
from reports.fairness.svg import Dot, Panel, dot_plot, tradeoff_plot


def panels(results: Sequence[GroupMetricResult], note: str) -> list[Panel]:
    """One chart panel per attribute: shown groups as dots, suppressed ones named in a note."""
    out = []
    for r in results:
        d = r.disparity
        marked = {d.worst} if d is not None else set()
        dots = tuple(
            Dot(pretty(g.group), g.figure.value, g.figure.low, g.figure.high, g.group in marked)
            for g in r.groups
            if g.figure is not None
        )
        hidden = [pretty(g.group) for g in r.groups if g.figure is None]
        hidden_note = ""
        if hidden:
            names = ", ".join(hidden)
            names = names if len(names) <= 70 else names[:68].rsplit(",", 1)[0] + ", …"
            hidden_note = f"{note}: {names}"
        out.append(Panel(scope_label(r.attribute), r.verdict.level, dots, hidden_note))
    return out


def metric_table(results: Sequence[GroupMetricResult], note: str, level: float) -> str:
    """Group table of one metric: per attribute its verdict, disparity and group rows."""
    pct = f"{100 * level:.0f}% CI"
    rows = [
        '<tr><th>group</th><th class="num">n</th><th class="num">value</th>'
        f'<th class="num">{pct}</th></tr>'
    ]
    for r in results:
        unit, d = r.spec.unit, r.disparity
        gap = ""
        if d is not None:
            k = f"{result_key(r)}/disparity"
            if d.worst == d.best:
                names = "all groups shown are equal"
            else:
                names = (
                    f'worst <span data-key="{k}/worst" data-value="{escape(json.dumps(d.worst))}">'
                    f"{escape(pretty(d.worst))}</span> / best "
                    f'<span data-key="{k}/best" data-value="{escape(json.dumps(d.best))}">'
                    f"{escape(pretty(d.best))}</span>"
                )
            gap = (
                f'<div class="reason">{names}: ratio '
                f"{span(f'{k}/ratio/value', d.ratio.value, Unit.RATIO)} "
                f"({span(f'{k}/ratio/low', d.ratio.low, Unit.RATIO)}–"
                f"{span(f'{k}/ratio/high', d.ratio.high, Unit.RATIO)}), gap "
                f"{span(f'{k}/gap/value', d.gap.value, unit)} "
                f"({span(f'{k}/gap/low', d.gap.low, unit)}–"
                f"{span(f'{k}/gap/high', d.gap.high, unit)})"
                f" · {escape(r.verdict.reason)}</div>"
            )
        elif r.verdict.level is Level.NOT_ASSESSED:
            gap = f'<div class="reason">{escape(r.verdict.reason)}</div>'
        flag = badge(r.verdict.level, f"{result_key(r)}/flag") if r.spec.flagged else ""
        rows.append(
            f'<tr class="attr"><td colspan="4">{escape(scope_label(r.attribute))} {flag}'
            f"{gap}</td></tr>"
        )
        for g in r.groups:
            key = f"{result_key(r)}/{g.group}"
            if g.figure is None:
                rows.append(
                    f"<tr><td>{escape(pretty(g.group))}</td>"
                    + cell(f"{key}/note", note, note, "suppressed")
                    + "<td></td><td></td></tr>"
                )
            else:
                rows.append(
                    f"<tr><td>{escape(pretty(g.group))}</td>"
                    + cell(f"{key}/n", g.n, f"{g.n:,}")
                    + figure_cells(key, g.figure, unit)
                    + "</tr>"
                )
    return "<table>" + "".join(rows) + "</table>"


def metric_section(results: Sequence[GroupMetricResult], report: FairnessReport) -> str:
    """Chart, table and definitions of one metric across attributes."""
    spec = results[0].spec
    note = report.config.suppressed_note
    overall = next((r.overall for r in results if r.overall is not None), None)
    who = "clients" if spec.side is Side.CLIENT else "therapists"
    overall_html = ""
    if overall is not None:
        base = f"{spec.side.value}/{spec.key}/overall"
        overall_html = (
            f"<p>All {who}: {span(f'{base}/value', overall.value, spec.unit)} "
            f"({span(f'{base}/low', overall.low, spec.unit)}–"
            f"{span(f'{base}/high', overall.high, spec.unit)})</p>"
        )
    reference = overall.value if overall is not None else (1.0 if spec.unit is Unit.RATIO else None)
    ref_label = f"all {who}" if overall is not None else "parity"
    chart = dot_plot(
        panels(results, note),
        spec.unit,
        reference=reference,
        reference_label=ref_label,
        title=spec.label,
    )
    verdicts = (
        " ".join(badge(r.verdict.level) for r in results) if spec.flagged else badge(Level.INFO)
    )
    return (
        f'<article class="metric" id="{escape(spec.side.value)}-{escape(spec.key)}">'
        f"<h3>{escape(spec.label)}</h3><p>{escape(spec.question)}</p>"
        f'<p class="formula">{escape(spec.formula)}</p>{overall_html}'
        f'<div class="body"><div>{chart}</div><div>'
        f"{metric_table(results, note, report.config.ci_level)}</div></div>"
        f'<p class="small muted">verdicts by attribute: {verdicts}</p></article>'
    )


def by_metric(results: Iterable[GroupMetricResult]) -> list[list[GroupMetricResult]]:
    """Results grouped by metric, in report order."""
    grouped: dict[str, list[GroupMetricResult]] = {}
    for r in results:
        grouped.setdefault(r.spec.key, []).append(r)
    return list(grouped.values())


def scalar_table(
    section: str, results: Sequence[ScalarResult], report: FairnessReport, who: str
) -> str:
    """Table of single figures (overall or per attribute) with verdicts."""
    if not results:
        return ""
    note = report.config.suppressed_note
    pct = f"{100 * report.config.ci_level:.0f}% CI"
    rows = [
        f'<tr><th>figure</th><th>scope</th><th class="num">n</th><th class="num">value</th>'
        f'<th class="num">{pct}</th><th>verdict</th></tr>'
    ]
    for s in results:
        key = f"{section}/{s.key}/{s.scope}"
        head = f'<td>{escape(s.label)}<div class="reason">{escape(s.formula)}</div></td>'
        scope = f"all {who}" if s.scope == "overall" else scope_label(s.scope)
        head += f"<td>{escape(scope)}</td>"
        flag = f"<td>{badge(s.verdict.level, f'{key}/flag')}"
        flag += f'<div class="reason">{escape(s.verdict.reason)}</div></td>'
        if s.figure is None and s.verdict.level is Level.INFO:
            rows.append(
                f"<tr>{head}{cell(f'{key}/note', note, note, 'suppressed')}"
                f"<td></td><td></td>{flag}</tr>"
            )
        elif s.figure is None:
            rows.append(
                f"<tr>{head}{cell(f'{key}/n', s.n, str(s.n))}"
                f"{cell(f'{key}/value', None, '—')}<td></td>{flag}</tr>"
            )
        else:
            rows.append(
                f"<tr>{head}{cell(f'{key}/n', s.n, f'{s.n:,}')}"
                f"{figure_cells(key, s.figure, s.unit)}{flag}</tr>"
            )
    return "<table>" + "".join(rows) + "</table>"


def overloaded_section(report: FairnessReport) -> str:
    """How many therapists are at or over their limit, and the most over it by id."""
    rows = "".join(
        f"<tr><td>{escape(o.therapist_id)}</td>"
        + cell(
            f"overloaded/{o.therapist_id}/current_caseload",
            o.current_caseload,
            str(o.current_caseload),
        )
        + cell(f"overloaded/{o.therapist_id}/max_caseload", o.max_caseload, str(o.max_caseload))
        + "</tr>"
        for o in report.overloaded
    )
    shown = len(report.overloaded)
    more = f" (the {shown} most over their limit listed)" if shown < report.n_overloaded else ""
    table = (
        '<table style="max-width:460px"><tr><th>therapist</th><th class="num">current caseload</th>'
        f'<th class="num">max caseload</th></tr>{rows}</table>'
        if rows
        else ""
    )
    return (
        '<h3>Who is at or over their caseload limit</h3><p><b data-key="overloaded/count" '
        f'data-value="{report.n_overloaded}">{report.n_overloaded}</b> therapists{more}.</p>{table}'
    )


def tradeoff_section(report: FairnessReport) -> str:
    """The mitigation trade-off table and curve (empty without one)."""
    t = report.tradeoff
    if t is None:
        return ""
    has_truth = any(r.true_benefit is not None for r in t.rows)
    head = (
        '<tr><th class="num">strength</th><th class="num">predicted benefit</th>'
        '<th class="num">change</th>'
        + ('<th class="num">true benefit</th><th class="num">change</th>' if has_truth else "")
        + '<th class="num">Gini</th><th class="num">never shown</th>'
        + "".join(f'<th class="num">disparity: {escape(scope_label(a))}</th>' for a in t.attributes)
        + "</tr>"
    )
    rows = []
    for i, r in enumerate(t.rows):
        key = f"tradeoff/{i}"
        cells = cell(f"{key}/strength", r.strength, f"{r.strength:g}")
        cells += cell(f"{key}/benefit", rounded(r.benefit), fmt(r.benefit, Unit.SCORE))
        cells += cell(
            f"{key}/benefit_change", rounded(r.benefit_change), f"{100 * r.benefit_change:+.1f}%"
        )
        if has_truth:
            cells += cell(
                f"{key}/true_benefit", rounded(r.true_benefit), fmt(r.true_benefit, Unit.SCORE)
            )
            change = r.true_benefit_change
            cells += cell(
                f"{key}/true_benefit_change",
                rounded(change),
                "—" if change is None else f"{100 * change:+.1f}%",
            )
        cells += cell(f"{key}/gini", rounded(r.gini), fmt(r.gini, Unit.SCORE))
        cells += cell(f"{key}/never_shown", rounded(r.never_shown), fmt(r.never_shown, Unit.SHARE))
        for a in t.attributes:
            value = r.exposure_disparity.get(a)
            cells += cell(f"{key}/exposure_disparity/{a}", rounded(value), fmt(value, Unit.SHARE))
        rows.append(f"<tr>{cells}</tr>")
    chart = tradeoff_plot([(r.strength, r.benefit_change, r.gini) for r in t.rows])
    return (
        '<section id="mitigation"><h2>Mitigation: exposure-aware re-ranking, offline trade-off</h2>'
        "<p>Scores are multiplied by 1 + strength · d, d = (target − exposure) / (target + "
        "exposure) of each therapist's running totals, replayed over "
        f"{t.n_intakes:,} intakes in batches of {t.batch_size} (top {t.top_k}). Benefit lost is "
        "the change in mean benefit of the top k; exposure gained is the fall in Gini and in "
        "group disparity.</p>"
        f'<table class="wide">{head}{"".join(rows)}</table>'
        f'<div class="chart-small">{chart}</div></section>'
    )


__all__ = [
    "by_metric",
    "metric_section",
    "overloaded_section",
    "scalar_table",
    "tradeoff_section",
]
